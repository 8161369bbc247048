package prometheus_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
)

// checkDatasetDrift runs a drift query through the query handler with Prometheus as the source and
// the demo server's Prediction Log API as the reference (reference.kind dataset, the default), and
// compares psi and ks of each window with values computed here from Prometheus' own answer to
//
//	sum by (le) (increase(ml_feature_value_bucket{model_name="fraud-detector",feature="amount"}[10s]))
//
// and the demo fleet's reference sample for the server's seed, generated in-process and counted one
// value at a time into `le` buckets. It returns the number of values compared.
func checkDatasetDrift(t *testing.T, s source.Metrics, promURL, demoAddr string, seed int64, req source.MetricsRequest) int {
	t.Helper()
	const model, feature = "fraud-detector", "amount"
	ctx := context.Background()
	pl, err := predlog.New(&http.Client{Timeout: 20 * time.Second}, predlog.Options{BaseURL: "http://" + demoAddr + "/api/v1"})
	if err != nil {
		t.Fatal(err)
	}
	h := query.New(query.Deps{Metrics: s, PredictionLog: pl})
	q, _ := json.Marshal(map[string]any{"queryType": "drift", "source": "prometheus", "model": model, "features": []string{feature},
		"methods": []string{"psi", "ks"}, "window": strconv.Itoa(int(req.Window.Seconds())) + "s"})
	r := h.One(ctx, backend.PluginContext{}, backend.DataQuery{RefID: "A", JSON: q, Interval: req.Step, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: req.Start, To: req.End}}, false)
	if r.Error != nil {
		t.Fatalf("drift query: %v", r.Error)
	}
	got := map[string][]float64{}
	var times []time.Time
	for _, f := range r.Frames {
		v, err := frames.Values(f)
		if err != nil || len(f.Fields) < 2 {
			t.Fatalf("drift frame %q: %v", f.Name, err)
		}
		got[f.Fields[len(f.Fields)-1].Labels["method"]] = v
		times = times[:0]
		for i := 0; i < f.Fields[0].Len(); i++ {
			times = append(times, f.Fields[0].At(i).(time.Time))
		}
	}
	if len(got["psi"]) == 0 || len(got["ks"]) != len(got["psi"]) || len(times) != len(got["psi"]) {
		t.Fatalf("drift: want psi and ks series of equal length, got %v at %v", got, times)
	}

	// The reference, counted into Prometheus' buckets by hand.
	b, err := demo.NewFleet(seed).Reference(ctx, model, "")
	if err != nil {
		t.Fatal(err)
	}
	var ref []float64
	for _, v := range b.Column(feature).Num {
		if !math.IsNaN(v) {
			ref = append(ref, v)
		}
	}

	// Prometheus' bucket increases at the query's times.
	u := promURL + "/api/v1/query_range?" + url.Values{
		"query": {`sum by (le) (increase(ml_feature_value_bucket{model_name="` + model + `",feature="` + feature + `"}[` + strconv.Itoa(int(req.Window.Seconds())) + `s]))`},
		"start": {strconv.FormatInt(times[0].Unix(), 10)}, "end": {strconv.FormatInt(times[len(times)-1].Unix(), 10)},
		"step": {strconv.Itoa(int(req.Step.Seconds()))}}.Encode()
	type bucket struct{ le, cum float64 }
	at := map[int64][]bucket{}
	for _, s := range promGet(t, u).Data.Result {
		le, err := strconv.ParseFloat(s.Metric["le"], 64)
		if err != nil {
			t.Fatalf("bucket le %q", s.Metric["le"])
		}
		for _, p := range s.Values {
			pt := parsePair(t, p)
			at[pt.t] = append(at[pt.t], bucket{le, pt.v})
		}
	}
	n := 0
	for i, ts := range times {
		bs := at[ts.UnixMilli()]
		sort.Slice(bs, func(a, b int) bool { return bs[a].le < bs[b].le })
		if len(bs) < 2 || !math.IsInf(bs[len(bs)-1].le, 1) {
			t.Fatalf("at %v: Prometheus buckets %v", ts, bs)
		}
		// Per-bucket counts from the cumulative ones (made monotonic, as histogram_quantile does).
		edges := make([]float64, 0, len(bs)-1)
		cur := make([]float64, len(bs))
		prev := 0.0
		for j, x := range bs {
			c := math.Max(prev, x.cum)
			cur[j] = c - prev
			prev = c
			if j < len(bs)-1 {
				edges = append(edges, x.le)
			}
		}
		rc := make([]float64, len(edges)+1)
		for _, v := range ref {
			j := 0
			for j < len(edges) && v > edges[j] {
				j++
			}
			rc[j]++
		}
		var wantPSI, wantKS float64
		if prev == 0 {
			wantPSI, wantKS = math.NaN(), math.NaN() // no observations in the window
		} else {
			cp, cq := 0.0, 0.0
			for j := range rc {
				p, q := rc[j]/float64(len(ref)), cur[j]/prev
				if j < len(rc)-1 {
					cp += p
					cq += q
					wantKS = math.Max(wantKS, math.Abs(cp-cq))
				}
				p, q = math.Max(p, 0), math.Max(q, 0)
				if p == 0 {
					p = 1e-4
				}
				if q == 0 {
					q = 1e-4
				}
				wantPSI += (q - p) * math.Log(q/p)
			}
		}
		// Tolerance 1e-9 relative, as for the other comparisons (sums in another order); ks also
		// absolutely, as a difference of cumulative proportions can be near 0.
		if !closeRel(got["psi"][i], wantPSI, tol) {
			t.Errorf("psi at %v: %v, want %v", ts, got["psi"][i], wantPSI)
		}
		if !(closeRel(got["ks"][i], wantKS, tol) || math.Abs(got["ks"][i]-wantKS) <= 1e-12) {
			t.Errorf("ks at %v: %v, want %v", ts, got["ks"][i], wantKS)
		}
		n += 2
	}
	return n
}
