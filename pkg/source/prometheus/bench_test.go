package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Benchmarks of the Go-side work for a 24 h range at 15 s steps (5,761 points) over 10 models with
// 12-bucket latency histograms: decoding Prometheus' JSON answers and computing the percentiles,
// bounds and means (Latency), or the rates from raw counter samples (Traffic). The answers are
// synthetic and served from memory by a loopback HTTP server.

const (
	benchModels  = 10
	benchStep    = 15 * time.Second
	benchRange   = 24 * time.Hour
	benchWindow  = 5 * time.Minute
	benchStartMs = int64(1795219200000)
)

var benchLes = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}

func benchMatrix(series func(func(labels string, value func(i int) float64)), times []int64) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	first := true
	series(func(labels string, value func(i int) float64) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`{"metric":{` + labels + `},"values":[`)
		for i, t := range times {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `[%s,"%g"]`, model.Time(t).String(), value(i))
		}
		b.WriteString("]}")
	})
	b.WriteString("]}}")
	return b.Bytes()
}

func benchServer(b *testing.B) (*httptest.Server, source.MetricsRequest) {
	var steps, raw []int64
	for t := benchStartMs; t <= benchStartMs+benchRange.Milliseconds(); t += benchStep.Milliseconds() {
		steps = append(steps, t)
	}
	for t := benchStartMs - benchWindow.Milliseconds(); t <= benchStartMs+benchRange.Milliseconds(); t += benchStep.Milliseconds() {
		raw = append(raw, t)
	}
	buckets := benchMatrix(func(emit func(string, func(int) float64)) {
		for m := 0; m < benchModels; m++ {
			for j, le := range benchLes {
				emit(fmt.Sprintf(`"le":%q,"model_name":"model-%d"`, le, m), func(i int) float64 { return float64((j + 1) * (100 + (i+m)%37)) })
			}
		}
	}, steps)
	perModel := benchMatrix(func(emit func(string, func(int) float64)) {
		for m := 0; m < benchModels; m++ {
			emit(fmt.Sprintf(`"model_name":"model-%d"`, m), func(i int) float64 { return float64(1200 + i%50) })
		}
	}, steps)
	counters := benchMatrix(func(emit func(string, func(int) float64)) {
		for m := 0; m < benchModels; m++ {
			for _, st := range []string{"ok", "error"} {
				emit(fmt.Sprintf(`"__name__":"ml_prediction_requests_total","model_name":"model-%d","status":%q`, m, st), func(i int) float64 { return float64(i * (3 + m)) })
			}
		}
	}, raw)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		q := r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/status/buildinfo":
			io.WriteString(w, `{"status":"success","data":{"version":"2.42.0"}}`)
		case strings.Contains(q, "_bucket"):
			w.Write(buckets)
		case r.URL.Path == "/api/v1/query":
			w.Write(counters)
		default:
			w.Write(perModel)
		}
	}))
	b.Cleanup(srv.Close)
	req := source.MetricsRequest{Start: time.UnixMilli(benchStartMs), End: time.UnixMilli(benchStartMs).Add(benchRange), Step: benchStep, Window: benchWindow}
	return srv, req
}

func BenchmarkLatency24h(b *testing.B) {
	srv, req := benchServer(b)
	s, err := New(&http.Client{}, settings.Prometheus{URL: srv.URL}, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Latency(context.Background(), req, nil)
		if err != nil || len(res.Series) != benchModels*4 || len(res.Series[0].Values) != 5761 {
			b.Fatalf("%v %d", err, len(res.Series))
		}
	}
}

func BenchmarkTraffic24h(b *testing.B) {
	srv, req := benchServer(b)
	s, err := New(&http.Client{}, settings.Prometheus{URL: srv.URL}, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Traffic(context.Background(), req, []string{MetricRate, MetricErrorRatio})
		if err != nil || len(res.Series) != benchModels*2 || len(res.Series[0].Values) != 5761 || !s.goRates {
			b.Fatalf("%v %d", err, len(res.Series))
		}
	}
}

// BenchmarkQuantileSeries24h is the percentile computation alone, on an already decoded answer.
func BenchmarkQuantileSeries24h(b *testing.B) {
	w := window{start: benchStartMs, end: benchStartMs + benchRange.Milliseconds(), step: benchStep.Milliseconds(), width: benchWindow.Milliseconds()}
	var m model.Matrix
	for k := 0; k < benchModels; k++ {
		for j, le := range benchLes {
			ss := &model.SampleStream{Metric: model.Metric{"le": model.LabelValue(le), "model_name": model.LabelValue(fmt.Sprintf("model-%d", k))}}
			for t := w.start; t <= w.end; t += w.step {
				ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.Time(t), Value: model.SampleValue((j + 1) * (100 + int(t/w.step)%37))})
			}
			m = append(m, ss)
		}
	}
	g := grouping{modelLabel: "model_name"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		series, _ := quantileSeries(m, g, w, DefaultPercentiles, 1000)
		if len(series) != benchModels*3 {
			b.Fatal(len(series))
		}
	}
}
