package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
)

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	iris = source.Model{
		Name: "iris", Versions: []string{"v1", "v2"},
		Features:   []source.Feature{{Name: "x", Type: source.Numeric}, {Name: "color", Type: source.Categorical}},
		Prediction: source.Output{Type: source.Categorical},
	}
)

// byLabels indexes a response's frames by the label set of their value field.
func byLabels(t *testing.T, fs data.Frames) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, f := range fs {
		if len(f.Fields) == 0 {
			continue
		}
		v, err := frames.Values(f)
		require.NoError(t, err)
		out[f.Fields[len(f.Fields)-1].Labels.String()] = v
	}
	return out
}

func requireOK(t *testing.T, r backend.DataResponse) {
	t.Helper()
	require.NoError(t, r.Error)
	require.NoError(t, frames.CheckAlertReady(r.Frames))
}

func notices(fs data.Frames) string {
	var s []string
	for _, f := range fs {
		if f.Meta != nil {
			for _, n := range f.Meta.Notices {
				s = append(s, n.Text)
			}
		}
	}
	return strings.Join(s, "\n")
}

// TestWindowBoundaries checks that the point at t counts the records with t − window < ts <= t.
func TestWindowBoundaries(t *testing.T) {
	recs := []rec{
		{ts: t0.Add(-time.Minute)},                             // on the left edge of t0's window: excluded
		{ts: t0.Add(-time.Minute + time.Millisecond)},          // t0
		{ts: t0, err: true},                                    // t0 (right edge included)
		{ts: t0.Add(time.Minute)},                              // t0+1m
		{ts: t0.Add(time.Minute + time.Nanosecond), err: true}, // t0+2m
		{ts: t0.Add(2 * time.Minute)},                          // t0+2m
		{ts: t0.Add(3*time.Minute + time.Nanosecond)},          // after the range
	}
	for i := range recs {
		recs[i].version = "v1"
	}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}})
	r := run(h, map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"count", "rate", "errorCount", "errorRatio", "errors"}},
		t0, t0.Add(3*time.Minute), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, []float64{2, 1, 2, 0}, got[`metric=count, model=iris`])
	require.Equal(t, []float64{2.0 / 60, 1.0 / 60, 2.0 / 60, 0}, got[`metric=rate, model=iris`])
	require.Equal(t, []float64{1, 0, 1, 0}, got[`metric=errorCount, model=iris`])
	require.Equal(t, []float64{1.0 / 60, 0, 1.0 / 60, 0}, got[`metric=errors, model=iris`])
	ratio := got[`metric=errorRatio, model=iris`]
	require.Equal(t, []float64{0.5, 0, 0.5}, ratio[:3])
	require.True(t, math.IsNaN(ratio[3]), "errorRatio of an empty window is NaN")
	f := r.Frames[0]
	times := f.Fields[0]
	require.Equal(t, 4, times.Len())
	require.Equal(t, t0, times.At(0).(time.Time))
	require.Equal(t, frames.Custom{Source: SourcePredictionLog}, f.Meta.Custom)

	// latest: one number per series, the window ending at To (default: the whole range, From
	// excluded as every window's left edge): t0+1m, t0+1m+1ns and t0+2m.
	r = run(h, map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"count"}, "output": "latest"},
		t0, t0.Add(3*time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, data.FrameTypeNumericMulti, r.Frames[0].Meta.Type)
	require.Equal(t, []float64{3}, byLabels(t, r.Frames)[`metric=count, model=iris`])
	// latest with a window: (To − 2m, To]
	r = run(h, map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"count"}, "output": "latest", "window": "2m"},
		t0, t0.Add(3*time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, []float64{2}, byLabels(t, r.Frames)[`metric=count, model=iris`])
}

// TestOneFetchPerModel checks that records are fetched once for (first point − window, last point].
func TestOneFetchPerModel(t *testing.T) {
	fl := &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": {{ts: t0, latency: 1}}}}
	h := New(Deps{PredictionLog: fl, MaxSamples: 123})
	requireOK(t, run(h, map[string]any{"queryType": "latency", "model": "iris", "window": "5m"}, t0, t0.Add(time.Hour), time.Minute))
	require.Len(t, fl.requests, 1)
	// Latency reads no feature or output column (Variables empty, not nil).
	require.Equal(t, source.RecordsRequest{Model: "iris", Start: t0.Add(-5 * time.Minute), End: t0.Add(time.Hour), Limit: 123, Variables: []string{}}, fl.requests[0])
}

func TestGridStepWidening(t *testing.T) {
	g, err := newGrid(backend.DataQuery{Interval: time.Second, MaxDataPoints: 10,
		TimeRange: backend.TimeRange{From: t0, To: t0.Add(100 * time.Second)}}, "", false)
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, g.step)
	require.Len(t, g.times, 11)
	require.Equal(t, 10*time.Second, g.window)
	// Unaligned range: points on multiples of the step inside the range.
	g, err = newGrid(backend.DataQuery{Interval: time.Minute, TimeRange: backend.TimeRange{From: t0.Add(30 * time.Second), To: t0.Add(150 * time.Second)}}, "", false)
	require.NoError(t, err)
	require.Equal(t, []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute)}, g.times)
	_, err = newGrid(backend.DataQuery{TimeRange: backend.TimeRange{From: t0, To: t0}}, "", false)
	require.Error(t, err)
}

func TestLatencyPercentiles(t *testing.T) {
	var recs []rec
	for i, v := range []float64{1, 2, 3, 4, 10} {
		recs = append(recs, rec{ts: t0.Add(time.Duration(i+1) * time.Second), latency: v, err: i == 4})
	}
	recs = append(recs, rec{ts: t0.Add(10 * time.Second), latency: nan}) // no latency: skipped
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}})
	r := run(h, map[string]any{"queryType": "latency", "model": "iris", "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	// numpy.percentile([1, 2, 3, 4, 10], [50, 95, 99]) = [3, 8.8, 9.76]; tolerance 1e-12 (float rounding).
	require.InDelta(t, 3, got[`model=iris, quantile=0.5`][0], 1e-12)
	require.InDelta(t, 8.8, got[`model=iris, quantile=0.95`][0], 1e-12)
	require.InDelta(t, 9.76, got[`model=iris, quantile=0.99`][0], 1e-12)
	require.Equal(t, "ms", r.Frames[0].Fields[0].Config.Unit)

	// An empty window gives NaN and a notice.
	r = run(h, map[string]any{"queryType": "latency", "model": "iris", "percentiles": []float64{50}}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	v := byLabels(t, r.Frames)[`model=iris, quantile=0.5`]
	require.True(t, math.IsNaN(v[0]))
	require.InDelta(t, 3, v[1], 1e-12)
	require.Contains(t, notices(r.Frames), "no records with a latency")
}

func TestVersionSplitting(t *testing.T) {
	recs := []rec{
		{ts: t0.Add(time.Second), version: "v1"},
		{ts: t0.Add(2 * time.Second), version: "v2"},
		{ts: t0.Add(3 * time.Second), version: "v2"},
	}
	fl := &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}
	h := New(Deps{PredictionLog: fl})
	q := map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"count"}, "output": "latest", "version": "*"}
	r := run(h, q, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, map[string][]float64{
		`metric=count, model=iris, version=v1`: {1},
		`metric=count, model=iris, version=v2`: {2},
	}, got)
	q["version"] = "v2"
	r = run(h, q, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`metric=count, model=iris, version=v2`: {2}}, byLabels(t, r.Frames))
	require.Equal(t, "v2", fl.requests[len(fl.requests)-1].Version)
	q["version"] = ""
	r = run(h, q, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`metric=count, model=iris`: {3}}, byLabels(t, r.Frames))
	q["version"] = "v9"
	r = run(h, q, t0, t0.Add(time.Minute), time.Minute)
	require.ErrorContains(t, r.Error, `no version "v9"`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
}

func TestEveryModel(t *testing.T) {
	other := source.Model{Name: "alpha", Features: []source.Feature{{Name: "x", Type: source.Numeric}}}
	fl := &fakeLog{models: []source.Model{iris, other}, recs: map[string][]rec{
		"iris":  {{ts: t0.Add(time.Second)}},
		"alpha": {{ts: t0.Add(time.Second)}, {ts: t0.Add(2 * time.Second)}},
	}}
	h := New(Deps{PredictionLog: fl})
	for _, m := range []string{"", "*"} {
		r := run(h, map[string]any{"queryType": "traffic", "model": m, "metrics": []string{"count"}, "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
		requireOK(t, r)
		require.Equal(t, map[string][]float64{`metric=count, model=alpha`: {2}, `metric=count, model=iris`: {1}}, byLabels(t, r.Frames))
	}
}

func TestTruncationNotice(t *testing.T) {
	var recs []rec
	for i := 0; i < 10; i++ {
		recs = append(recs, rec{ts: t0.Add(time.Duration(i+1) * time.Second)})
	}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}, MaxSamples: 4})
	r := run(h, map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"count"}, "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	// The connectors read in time order: the notice says how far the records go.
	require.Contains(t, notices(r.Frames), "iris: maxSamples reached: only the first 4 records (up to 2026-01-01T00:00:04Z) were read; records after that were dropped: later windows are incomplete or empty")
	require.Equal(t, data.NoticeSeverityWarning, r.Frames[0].Meta.Notices[0].Severity)
}

func TestUnknownModelAndFeature(t *testing.T) {
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{}, refs: map[string][]rec{"iris": nil}}})
	r := run(h, map[string]any{"queryType": "traffic", "model": "nope"}, t0, t0.Add(time.Minute), time.Minute)
	require.EqualError(t, r.Error, `model "nope" not found (known: iris): unknown model`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"petal"}}, t0, t0.Add(time.Minute), time.Minute)
	require.ErrorContains(t, r.Error, `model "iris" has no feature "petal" (known: x, color, prediction, score)`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	r = run(h, map[string]any{"queryType": "distribution", "model": "iris", "features": []string{"latency"}}, t0, t0.Add(time.Minute), time.Minute)
	require.ErrorContains(t, r.Error, `reference sample of model "iris" has 0 rows`)
}

func TestBadQueryIsPerQuery(t *testing.T) {
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": {{ts: t0.Add(time.Second)}}}}})
	req := &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "A", QueryType: "traffic", JSON: []byte(`{"model":"iris","output":"latest"}`), TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Minute)}},
		{RefID: "B", JSON: []byte(`{"queryType":"latency","percentiles":[200]}`), TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Minute)}},
		{RefID: "C", JSON: []byte(`{"queryType":"traffic","model":"iris"}`), TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Minute)}},
	}, Headers: map[string]string{backend.FromAlertHeaderName: "true"}}
	resp, err := h.Mux().QueryData(context.Background(), req)
	require.NoError(t, err)
	requireOK(t, resp.Responses["A"])
	require.ErrorContains(t, resp.Responses["B"].Error, "percentile 200 is outside (0, 100]")
	require.Equal(t, backend.ErrorSourceDownstream, resp.Responses["B"].ErrorSource)
	require.Equal(t, backend.StatusBadRequest, resp.Responses["B"].Status)
	requireOK(t, resp.Responses["C"])
}

func TestPanicIsPluginError(t *testing.T) {
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, panics: true}})
	r := run(h, map[string]any{"queryType": "traffic", "model": "iris"}, t0, t0.Add(time.Minute), time.Minute)
	require.Error(t, r.Error)
	require.Equal(t, backend.ErrorSourcePlugin, r.ErrorSource)
	require.Equal(t, backend.StatusInternal, r.Status)
}

func TestSourceResolution(t *testing.T) {
	pl := &fakeLog{models: []source.Model{iris}}
	demo := &fakeLog{models: []source.Model{{Name: "demo-model"}}}
	fm := &fakeMetrics{}
	ctx := context.Background()
	c := newCatalog(Deps{PredictionLog: pl, Demo: demo, Metrics: fm})
	for _, tc := range []struct{ src, model, want string }{
		{"", "iris", SourcePredictionLog},
		{"auto", "*", SourcePredictionLog},
		{"", "demo-model", SourceDemo},
		{"", "only-in-prometheus", SourcePrometheus},
		{"demo", "iris", SourceDemo},
		{"prometheus", "iris", SourcePrometheus},
	} {
		r, err := c.Resolve(ctx, tc.src, tc.model)
		require.NoError(t, err, tc)
		require.Equal(t, tc.want, r.Name, tc)
	}
	c = newCatalog(Deps{PredictionLog: pl})
	_, err := c.Resolve(ctx, SourcePrometheus, "iris")
	require.ErrorContains(t, err, `source "prometheus" is not configured on this data source (configured: predictionLog)`)
	_, err = c.Resolve(ctx, "", "nope")
	require.ErrorIs(t, err, source.ErrUnknownModel)
	c = newCatalog(Deps{})
	_, err = c.Resolve(ctx, "", "iris")
	require.ErrorContains(t, err, "no source is configured")
	// A Prediction Log that fails is reported, never replaced by the demo fleet's synthetic data
	// for a model of the same name; Prometheus (real data of the same model) may still answer.
	down := &fakeLog{err: backend.DownstreamError(errors.New("prediction log: GET /models: connection refused"))}
	c = newCatalog(Deps{PredictionLog: down, Demo: demo})
	_, err = c.Resolve(ctx, "", "demo-model")
	require.ErrorContains(t, err, "connection refused")
	c = newCatalog(Deps{PredictionLog: down, Demo: demo, Metrics: fm})
	r, err := c.Resolve(ctx, "", "demo-model")
	require.NoError(t, err)
	require.Equal(t, SourcePrometheus, r.Name)
	// Demo only: auto picks it.
	c = newCatalog(Deps{Demo: demo})
	r, err = c.Resolve(ctx, "", "demo-model")
	require.NoError(t, err)
	require.Equal(t, SourceDemo, r.Name)
}

// TestPrometheusSeam checks that traffic and latency go through source.Metrics when Prometheus
// answers, with the grid's times, step and window, and that error bars become their own series.
func TestPrometheusSeam(t *testing.T) {
	fm := &fakeMetrics{targets: []source.Target{{Model: "iris", Instance: "10.0.0.1:8080", Up: true}, {Model: "iris", Instance: "10.0.0.2:8080"}}}
	h := New(Deps{Metrics: fm})
	r := run(h, map[string]any{"queryType": "latency", "model": "iris", "percentiles": []float64{95}, "window": "5m"}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, source.MetricsRequest{Model: "iris", Start: t0, End: t0.Add(2 * time.Minute), Step: time.Minute, Window: 5 * time.Minute}, fm.requests[0])
	got := byLabels(t, r.Frames)
	require.Equal(t, []float64{95, 96, 97}, got[`model=iris, quantile=0.95`])
	require.Equal(t, []float64{94, 95, 96}, got[`bound=lower, model=iris, quantile=0.95`])
	require.Equal(t, []float64{96, 97, 98}, got[`bound=upper, model=iris, quantile=0.95`])
	require.Equal(t, []float64{7, 8, 9}, got[`model=iris, stat=mean`])
	require.Contains(t, notices(r.Frames), "estimated from histogram buckets")
	require.Equal(t, "histogram_quantile(...)", r.Frames[0].Meta.ExecutedQueryString)
	require.Equal(t, frames.Custom{Source: SourcePrometheus}, r.Frames[0].Meta.Custom)

	r = run(h, map[string]any{"queryType": "traffic", "model": "iris", "metrics": []string{"rate", "errorRatio"}, "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, source.MetricsRequest{Model: "iris", Start: t0.Add(time.Hour), End: t0.Add(time.Hour), Step: time.Hour, Window: time.Hour}, fm.requests[1])
	require.Equal(t, map[string][]float64{`metric=rate, model=iris`: {0}, `metric=errorRatio, model=iris`: {10}}, byLabels(t, r.Frames))

	r = run(h, map[string]any{"queryType": "health"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`endpoint=10.0.0.1:8080, model=iris`: {1}, `endpoint=10.0.0.2:8080, model=iris`: {0}}, byLabels(t, r.Frames))

	r = run(h, map[string]any{"queryType": "endpoints"}, t0, t0.Add(time.Hour), time.Minute)
	require.NoError(t, r.Error)
	tf := r.Frames[0]
	require.Equal(t, data.FrameTypeTable, tf.Meta.Type)
	require.Equal(t, "iris", tf.Fields[0].At(0))
	health, _ := tf.FieldByName("health")
	require.Equal(t, healthReady, health.At(0))

	// Drift from feature histograms against a reference window.
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "reference": map[string]any{"kind": "window", "from": "now-7d", "to": "now-6d"},
		"methods": []string{"psi", "js", "status"}}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	// p = [10 10 10 10]/40 (reference [10 10 10 5 5] coarsened to the common edges [1, 2, 3]),
	// q = [5 10 10 15]/40: psi = Σ (q−p)·ln(q/p) = 0.1373265360835137 and
	// scipy.spatial.distance.jensenshannon(p, q) = 0.1300424460870473 (tolerance 1e-12).
	psi := got[`feature=x, method=psi, model=iris`]
	require.Len(t, psi, 3)
	require.InDelta(t, 0, psi[0], 1e-12)
	require.InDelta(t, 0.1373265360835137, psi[1], 1e-12)
	require.InDelta(t, 0.1300424460870473, got[`feature=x, method=js, model=iris`][2], 1e-12)
	require.Equal(t, []float64{0, 2, 2}, got[`feature=x, method=status, model=iris`]) // psi 0.137: warning; js 0.130 >= 0.1: drift
	last := fm.requests[len(fm.requests)-1]
	require.Equal(t, t0.Add(2*time.Minute).Add(-6*24*time.Hour), last.End)
	require.Equal(t, 24*time.Hour, last.Window)

	r = run(h, map[string]any{"queryType": "drift", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, "reference window")
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "methods": []string{"ks_pvalue"}, "reference": map[string]any{"kind": "window", "from": "now-7d", "to": "now-6d"}},
		t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, "method ks_pvalue needs raw samples")
}

func TestDistributionFromMetrics(t *testing.T) {
	h := New(Deps{Metrics: &fakeMetrics{}})
	r := run(h, map[string]any{"queryType": "distribution", "model": "iris", "reference": map[string]any{"kind": "window", "from": "now-7d", "to": "now-6d"}},
		t0, t0.Add(2*time.Minute), time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 1)
	f := r.Frames[0]
	require.Equal(t, "x", f.Name)
	bins, _ := f.FieldByName("bin")
	require.Equal(t, []string{"(-inf, 1]", "(1, 2]", "(2, 3]", "(3, +inf)"}, stringsOf(bins)) // Prometheus le buckets
	rc, _ := f.FieldByName("reference count")
	require.Equal(t, []float64{10, 10, 10, 10}, floatsOf(rc)) // [10 10 10 5 5] on edges [1 2 3 4], coarsened
	// The current window is one point (the fake's first point: [10 10 10 10]).
	cc, _ := f.FieldByName("current")
	require.Equal(t, []float64{0.25, 0.25, 0.25, 0.25}, floatsOf(cc))
	r = run(h, map[string]any{"queryType": "distribution", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, "reference window")
}

func TestCoarsen(t *testing.T) {
	require.Equal(t, []float64{1, 5, 9}, coarsen([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4, 5}, []float64{1, 3}))
	require.Equal(t, []float64{15}, coarsen([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4, 5}, nil))
	require.Equal(t, []float64{1, 2, 3, 4, 5}, coarsen([]float64{1, 2, 3, 4}, []float64{1, 2, 3, 4, 5}, []float64{1, 2, 3, 4}))
	require.Equal(t, []float64{1, 3}, commonEdges([]float64{1, 2, 3}, []float64{0, 1, 3}))
}

func TestHealthEndpoints(t *testing.T) {
	h := New(Deps{Endpoints: []Endpoint{
		{Name: "kserve", Client: &fakeEndpoint{models: []string{"iris", "wine"}, ready: map[string]bool{"iris": true}}},
		{Name: "down", Client: &fakeEndpoint{err: errors.New("connection refused")}},
		{Name: "other", Client: &fakeEndpoint{models: []string{"wine"}, ready: map[string]bool{"wine": true}}},
	}})
	r := run(h, map[string]any{"queryType": "health"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{
		`endpoint=kserve, model=iris`: {1},
		`endpoint=kserve, model=wine`: {0},
		`endpoint=down, model=*`:      {0},
		`endpoint=other, model=wine`:  {1},
	}, byLabels(t, r.Frames))
	require.Contains(t, notices(r.Frames), "endpoint down: connection refused")
	// An endpoint without a model index: its server readiness under model "*".
	h2 := New(Deps{Endpoints: []Endpoint{{Name: "kserve", Client: &fakeEndpoint{}}}})
	r2 := run(h2, map[string]any{"queryType": "health"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r2)
	require.Equal(t, map[string][]float64{`endpoint=kserve, model=*`: {1}}, byLabels(t, r2.Frames))
	require.Contains(t, notices(r2.Frames), "server readiness")
	r = run(h, map[string]any{"queryType": "health", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	// A named model: the endpoints serving it, and those that cannot say; not "other", which
	// serves wine only.
	require.Equal(t, map[string][]float64{`endpoint=kserve, model=iris`: {1}, `endpoint=down, model=iris`: {0}}, byLabels(t, r.Frames))
	r = run(h, map[string]any{"queryType": "health", "model": "nope", "source": "endpoint"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`endpoint=down, model=nope`: {0}}, byLabels(t, r.Frames))
	h3 := New(Deps{Endpoints: []Endpoint{{Name: "kserve", Client: &fakeEndpoint{models: []string{"iris"}}}}})
	r = run(h3, map[string]any{"queryType": "health", "model": "nope"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Empty(t, byLabels(t, r.Frames))
	require.Contains(t, notices(r.Frames), `no endpoint reports model "nope"`)
}

func TestHealthDemo(t *testing.T) {
	demo := &fakeLog{models: []source.Model{iris, {Name: "wine"}}, ready: map[string]bool{"iris": true}}
	h := New(Deps{Demo: demo})
	r := run(h, map[string]any{"queryType": "health"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`endpoint=demo, model=iris`: {1}, `endpoint=demo, model=wine`: {0}}, byLabels(t, r.Frames))
}

// TestUpstreamFailures runs queries against a Prediction Log API that fails: a 500 and a server
// slower than the query's deadline give that query a downstream error.
func TestUpstreamFailures(t *testing.T) {
	models := `{"models":[{"name":"iris","versions":["v1"],"features":[{"name":"x","type":"numeric"}],"prediction":{"type":"numeric"}}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/models"):
			_, _ = w.Write([]byte(models))
		case r.URL.Query().Get("model") == "slow":
			time.Sleep(2 * time.Second)
		default:
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	pl, err := predlog.New(srv.Client(), predlog.Options{BaseURL: srv.URL, Token: "s3cret-token"})
	require.NoError(t, err)
	h := New(Deps{PredictionLog: pl})
	r := run(h, map[string]any{"queryType": "traffic", "model": "iris"}, t0, t0.Add(time.Minute), time.Minute)
	require.Error(t, r.Error)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	require.Equal(t, backend.StatusBadGateway, r.Status)
	require.NotContains(t, r.Error.Error(), "s3cret-token")

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b := []byte(`{"queryType":"traffic","model":"iris","source":"predictionLog"}`)
	srvSlow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/models") {
			_, _ = w.Write([]byte(models))
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srvSlow.Close()
	pl2, err := predlog.New(srvSlow.Client(), predlog.Options{BaseURL: srvSlow.URL})
	require.NoError(t, err)
	h2 := New(Deps{PredictionLog: pl2})
	r = h2.One(ctx, backend.PluginContext{}, backend.DataQuery{RefID: "A", JSON: b, Interval: time.Minute,
		TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Minute)}}, false)
	require.Error(t, r.Error)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, fmt.Sprint(r.Error))
}

func TestGridPointCap(t *testing.T) {
	g, err := newGrid(backend.DataQuery{Interval: time.Second, TimeRange: backend.TimeRange{From: t0, To: t0.Add(30 * 24 * time.Hour)}}, "", false)
	require.NoError(t, err)
	require.LessOrEqual(t, len(g.times), limits.MaxPoints+1)
	require.Equal(t, 130*time.Second, g.step) // ceil(30 d / 20,000) = 129.6 s, rounded up to whole seconds
}

func TestEveryModelOneVersion(t *testing.T) {
	other := source.Model{Name: "alpha", Versions: []string{"a1"}}
	fl := &fakeLog{models: []source.Model{iris, other}, recs: map[string][]rec{
		"iris":  {{ts: t0.Add(time.Second), version: "v2"}},
		"alpha": {{ts: t0.Add(time.Second), version: "a1"}},
	}}
	h := New(Deps{PredictionLog: fl})
	r := run(h, map[string]any{"queryType": "traffic", "model": "*", "version": "v2", "metrics": []string{"count"}, "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{`metric=count, model=iris, version=v2`: {1}}, byLabels(t, r.Frames))
}

// TestUnversionedRecordsLabel checks that with version "*" records without a version form their
// own series with a non-empty version label, in every query type that splits versions.
func TestUnversionedRecordsLabel(t *testing.T) {
	fl := driftFixture()
	for i := range fl.recs["iris"] {
		if i%2 == 0 {
			fl.recs["iris"][i].version = ""
		}
	}
	for i := range fl.refs["iris"] {
		if i%2 == 0 {
			fl.refs["iris"][i].version = ""
		}
	}
	h := New(Deps{PredictionLog: fl})
	for _, q := range []map[string]any{
		{"queryType": "traffic", "metrics": []string{"count"}},
		{"queryType": "latency", "percentiles": []float64{50}},
		{"queryType": "predictions", "features": []string{"score"}, "percentiles": []float64{50}},
		{"queryType": "drift", "features": []string{"x"}, "methods": []string{"psi"}},
	} {
		q["model"], q["version"], q["output"] = "iris", "*", "latest"
		r := run(h, q, t0, t0.Add(time.Hour), time.Minute)
		requireOK(t, r)
		var versions []string
		for _, f := range r.Frames {
			versions = append(versions, f.Fields[0].Labels["version"])
		}
		require.ElementsMatch(t, []string{"(none)", "v1"}, versions, q["queryType"])
	}
}

// unlabelledMetrics answers traffic with one series that lacks the model label and one that lacks
// the version label (a metric exported without them).
type unlabelledMetrics struct{ fakeMetrics }

func (f *unlabelledMetrics) Traffic(_ context.Context, req source.MetricsRequest, _ []string) (*source.SeriesResult, error) {
	return &source.SeriesResult{Series: []source.Series{
		{Labels: map[string]string{"model": "", "version": "v1", "metric": "rate"}, Times: []time.Time{req.End}, Values: []float64{1}},
		{Labels: map[string]string{"model": "iris", "version": "", "metric": "rate"}, Times: []time.Time{req.End}, Values: []float64{2}},
	}}, nil
}

func TestEmptyUpstreamLabels(t *testing.T) {
	h := New(Deps{Metrics: &unlabelledMetrics{}})
	r := run(h, map[string]any{"queryType": "traffic", "version": "*", "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{
		"metric=rate, model=(none), version=v1":   {1},
		"metric=rate, model=iris, version=(none)": {2},
	}, byLabels(t, r.Frames))
}

// TestPercentilesWithTheSameLabel checks that percentiles whose quantile labels coincide give one
// series, not two with the same label set.
func TestPercentilesWithTheSameLabel(t *testing.T) {
	recs := []rec{{ts: t0.Add(time.Second), latency: 1, score: 0.5, pred: "a"}, {ts: t0.Add(2 * time.Second), latency: 3, score: 0.7, pred: "a"}}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}})
	for _, qt := range []string{"latency", "predictions"} {
		r := run(h, map[string]any{"queryType": qt, "model": "iris", "percentiles": []float64{95, 95.0000000000001}, "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
		requireOK(t, r)
	}
}

// TestComputeTimeoutNamed: a query whose computation outlives timeoutSeconds says so and what to
// do, rather than the bare "context deadline exceeded", and stays a 504.
func TestComputeTimeoutNamed(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), Timeout: 50 * time.Millisecond})
	h.types[TypeDrift] = func(ctx context.Context, _ *request) (data.Frames, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	res := h.One(context.Background(), backend.PluginContext{}, backend.DataQuery{RefID: "A", JSON: []byte(`{"queryType":"drift","model":"*"}`),
		TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Hour)}}, false)
	require.Error(t, res.Error)
	require.Equal(t, "timed out after 50ms (timeoutSeconds) before the answer was computed; narrow the time range or the models, or raise timeoutSeconds: context deadline exceeded", res.Error.Error())
	require.Equal(t, backend.StatusTimeout, res.Status)
}
