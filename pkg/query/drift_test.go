package query

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// driftFixture: reference x = 1..20 and colours a×10, b×8, c×2; current (in the hour after t0)
// x = 5.5, 7, 9, 11, 12.5, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24 and colours a×3, b×9, d×3.
func driftFixture() *fakeLog {
	var ref, cur []rec
	for i := 1; i <= 20; i++ {
		c := "a"
		switch {
		case i > 18:
			c = "c"
		case i > 10:
			c = "b"
		}
		ref = append(ref, rec{version: "v1", features: map[string]any{"x": float64(i), "color": c}})
	}
	xs := []float64{5.5, 7, 9, 11, 12.5, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24}
	for i, x := range xs {
		c := "b"
		switch {
		case i < 3:
			c = "a"
		case i >= 12:
			c = "d"
		}
		cur = append(cur, rec{ts: t0.Add(time.Duration(i+1) * time.Minute), version: "v1", latency: 1, features: map[string]any{"x": x, "color": c}})
	}
	// A record without features: skipped by drift (nulls are for data quality).
	cur = append(cur, rec{ts: t0.Add(30 * time.Minute), version: "v1", latency: 1, features: map[string]any{}})
	return &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": cur}, refs: map[string][]rec{"iris": ref}}
}

func latest(t *testing.T, h *Handler, q map[string]any) map[string]float64 {
	t.Helper()
	q["output"] = "latest"
	r := run(h, q, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	out := map[string]float64{}
	for k, v := range byLabels(t, r.Frames) {
		out[k] = v[0]
	}
	return out
}

func TestDriftNumericAgainstScipy(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	got := latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "binning": map[string]any{"bins": 4},
		"methods": []string{"ks", "ks_pvalue", "wasserstein", "wasserstein_norm", "psi", "js", "chi2", "chi2_pvalue", "status"}})
	k := func(m string) float64 { return got[fmt.Sprintf("feature=x, method=%s, model=iris", m)] }
	// ref = [1..20]; cur as in driftFixture; scipy 1.10.1:
	// ks_2samp(ref, cur).statistic = 0.3333333333333333 (exact: tolerance 1e-12)
	require.InDelta(t, 0.3333333333333333, k("ks"), 1e-12)
	// ks_2samp(ref, cur, method='asymp').pvalue = 0.21557667539880698 (DESIGN §5: within 1% relative)
	require.InEpsilon(t, 0.21557667539880698, k("ks_pvalue"), 0.01)
	// wasserstein_distance(ref, cur) = 5.1; / max(numpy.std(ref), 0.001) = 0.8844521689146023
	require.InDelta(t, 5.1, k("wasserstein"), 1e-12)
	require.InDelta(t, 0.8844521689146023, k("wasserstein_norm"), 1e-12)
	// Quantile bins: edges numpy.quantile(ref, [.25, .5, .75]) = [5.75, 10.5, 15.25];
	// counts ref [5 5 5 5], cur [1 2 4 8]; p, q proportions (zeros → 1e-4):
	// psi = Σ (q−p)·ln(q/p) = 0.5314128384292914; jensenshannon(p, q) = 0.2522416791942294;
	// chi2_contingency([rc, cc], correction=False)[:2] = (4.125712250712252, 0.24820553946267632).
	require.InDelta(t, 0.5314128384292914, k("psi"), 1e-12)
	require.InDelta(t, 0.2522416791942294, k("js"), 1e-12)
	require.InDelta(t, 4.125712250712252, k("chi2"), 1e-9)
	require.InDelta(t, 0.24820553946267632, k("chi2_pvalue"), 1e-9)
	// status: worst of the asked methods with thresholds: psi 0.53 ≥ 0.25 → drift (2).
	require.Equal(t, 2.0, k("status"))
}

func TestDriftCategoricalAgainstScipy(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	got := latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"color"},
		"methods": []string{"psi", "js", "linf", "chi2", "chi2_pvalue"}})
	k := func(m string) float64 { return got[fmt.Sprintf("feature=color, method=%s, model=iris", m)] }
	// Bins a, b, c, d: ref [10 8 2 0], cur [3 9 0 3] (zeros → 1e-4 for psi):
	// psi = 2.5654853952166574; jensenshannon = 0.38372775642436535; linf = 0.3;
	// chi2_contingency([ref, cur], correction=False)[:2] = (8.282805429864252, 0.040514629968967784).
	require.InDelta(t, 2.5654853952166574, k("psi"), 1e-12)
	require.InDelta(t, 0.38372775642436535, k("js"), 1e-12)
	require.InDelta(t, 0.3, k("linf"), 1e-12)
	require.InDelta(t, 8.282805429864252, k("chi2"), 1e-9)
	require.InDelta(t, 0.040514629968967784, k("chi2_pvalue"), 1e-9)
}

func TestDriftDefaultsAndStatus(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	got := latest(t, h, map[string]any{"queryType": "drift", "model": "iris"})
	// Defaults per kind (DESIGN §4).
	want := []string{}
	for _, m := range DefaultNumericMethods {
		want = append(want, fmt.Sprintf("feature=x, method=%s, model=iris", m))
	}
	for _, m := range DefaultCategoricalMethods {
		want = append(want, fmt.Sprintf("feature=color, method=%s, model=iris", m))
	}
	require.ElementsMatch(t, want, keys(got))
	// status only: the worst of the default methods.
	got = latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"status"}})
	require.Equal(t, map[string]float64{"feature=x, method=status, model=iris": 2}, got)
	// Raised thresholds make the same data ok.
	// With 4 bins psi = 0.5314128384292914 (see TestDriftNumericAgainstScipy).
	got = latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"psi", "status"},
		"binning": map[string]any{"bins": 4}, "thresholds": map[string]any{"psi": map[string]any{"warning": 0.6, "drift": 0.9}}})
	require.Equal(t, 0.0, got["feature=x, method=status, model=iris"])
	got = latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"psi", "status"},
		"binning": map[string]any{"bins": 4}, "thresholds": map[string]any{"psi": map[string]any{"warning": 0.5, "drift": 0.9}}})
	require.Equal(t, 1.0, got["feature=x, method=status, model=iris"])
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDriftErrors(t *testing.T) {
	fl := driftFixture()
	h := New(Deps{PredictionLog: fl})
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"color"}, "methods": []string{"ks", "psi"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, `method ks does not apply to categorical feature "color"`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	// Default features: inapplicable methods are skipped for categorical features, with a notice.
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "methods": []string{"ks"}, "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Len(t, r.Frames, 1)
	require.Contains(t, notices(r.Frames), "iris/color is categorical: ks skipped")

	fl.refs["iris"] = fl.refs["iris"][:1]
	r = run(h, map[string]any{"queryType": "drift", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, `the reference sample of model "iris" has 1 rows; drift needs at least 2`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	delete(fl.refs, "iris")
	r = run(h, map[string]any{"queryType": "drift", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorIs(t, r.Error, source.ErrNoReference)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	// Over every model, a model without a reference is skipped with a notice.
	other := source.Model{Name: "alpha", Features: []source.Feature{{Name: "x", Type: source.Numeric}}}
	fl.models = append(fl.models, other)
	fl.recs["alpha"] = fl.recs["iris"]
	fl.refs["alpha"] = driftFixture().refs["iris"]
	h = New(Deps{PredictionLog: fl})
	r = run(h, map[string]any{"queryType": "drift", "model": "*", "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, []string{"feature=x, method=ks, model=alpha"}, byLabelsKeys(t, r.Frames))
	require.Contains(t, notices(r.Frames), "iris skipped")

	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "reference": map[string]any{"kind": "window", "from": "now-10d", "to": "now-9d"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, "has 0 rows")
}

// TestDriftWindowReference compares the second half of the range with its first half.
func TestDriftWindowReference(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	// Reference: records in (t0, t0+8m] → x = 5.5..18 (first 8); current: (t0+30m, t0+1h] → none
	// with x, so the value is NaN with a notice.
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest", "window": "30m",
		"reference": map[string]any{"kind": "window", "from": "now-60m", "to": "now-52m"}}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	v := byLabels(t, r.Frames)["feature=x, method=ks, model=iris"]
	require.True(t, math.IsNaN(v[0]))
	require.Contains(t, notices(r.Frames), "had no values")
	require.Contains(t, notices(r.Frames), "8 records")
	// Current (t0+30m−31m, t0+30m] has all 15 values: ks(ref 8 values, cur 15 values).
	// scipy.stats.ks_2samp([5.5,7,9,11,12.5,14,15,16], [5.5,7,9,11,12.5,14,15,16,17,18,19,21,22,23,24]).statistic = 0.4666666666666667
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest", "window": "31m",
		"reference": map[string]any{"kind": "window", "from": "now-30m", "to": "now-22m"}}, t0, t0.Add(30*time.Minute), time.Minute)
	requireOK(t, r)
	require.InDelta(t, 0.4666666666666667, byLabels(t, r.Frames)["feature=x, method=ks, model=iris"][0], 1e-12)
}

func TestDriftTimeSeriesShape(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x", "prediction"}, "methods": []string{"psi", "status"}, "window": "20m"},
		t0, t0.Add(time.Hour), 10*time.Minute)
	requireOK(t, r)
	require.Len(t, r.Frames, 4)
	for _, f := range r.Frames {
		require.Equal(t, data.FrameTypeTimeSeriesMulti, f.Meta.Type)
		require.Equal(t, 7, f.Rows())
	}
}

func TestDriftTable(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "output": "table", "binning": map[string]any{"bins": 4}}, t0, t0.Add(time.Hour), time.Minute)
	require.NoError(t, r.Error)
	f := r.Frames[0]
	require.Equal(t, data.FrameTypeTable, f.Meta.Type)
	require.Equal(t, 4, f.Rows()) // x, color, sum, mean
	col := func(name string) *data.Field {
		fl, _ := f.FieldByName(name)
		require.NotNil(t, fl, name)
		return fl
	}
	require.Equal(t, "x", col("feature").At(0))
	require.Equal(t, "numeric", col("type").At(0))
	require.Equal(t, "drift", col("status").At(0))
	require.Equal(t, 20.0, col("reference count").At(0))
	require.Equal(t, 15.0, col("current count").At(0))
	require.Equal(t, 1.0, col("reference min").At(0))
	require.Equal(t, 10.5, col("reference mean").At(0))
	require.Equal(t, 24.0, col("current max").At(0))
	require.InDelta(t, 0.5314128384292914, col("psi").At(0).(float64), 1e-12)
	require.Equal(t, "(sum over features)", col("feature").At(2))
	tvd := col("tvd")
	require.InDelta(t, tvd.At(0).(float64)+tvd.At(1).(float64), tvd.At(2).(float64), 1e-12)
	require.InDelta(t, (tvd.At(0).(float64)+tvd.At(1).(float64))/2, tvd.At(3).(float64), 1e-12)
	require.Error(t, frames.CheckAlertReady(r.Frames), "tables are not alert frames")
}

func TestDistribution(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	r := run(h, map[string]any{"queryType": "distribution", "model": "iris", "features": []string{"x", "color"}, "binning": map[string]any{"bins": 4}}, t0, t0.Add(time.Hour), time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 2)
	x := r.Frames[0]
	require.Equal(t, "x", x.Name)
	bins, _ := x.FieldByName("bin")
	require.Equal(t, []string{"(-inf, 5.75)", "[5.75, 10.5)", "[10.5, 15.25)", "[15.25, +inf)"}, stringsOf(bins))
	cur, _ := x.FieldByName("current count")
	require.Equal(t, []float64{1, 2, 4, 8}, floatsOf(cur))
	p, _ := x.FieldByName("reference")
	require.Equal(t, []float64{0.25, 0.25, 0.25, 0.25}, floatsOf(p))
	c := r.Frames[1]
	bins, _ = c.FieldByName("bin")
	require.Equal(t, []string{"a", "b", "c", "d"}, stringsOf(bins))
	cur, _ = c.FieldByName("current count")
	require.Equal(t, []float64{3, 9, 0, 3}, floatsOf(cur))
	ref, _ := c.FieldByName("reference count")
	require.Equal(t, []float64{10, 8, 2, 0}, floatsOf(ref))
}

func stringsOf(f *data.Field) []string {
	out := make([]string, f.Len())
	for i := range out {
		out[i] = f.At(i).(string)
	}
	return out
}

func floatsOf(f *data.Field) []float64 {
	out := make([]float64, f.Len())
	for i := range out {
		out[i] = f.At(i).(float64)
	}
	return out
}

func TestPredictionsClassShares(t *testing.T) {
	recs := []rec{
		{ts: t0.Add(time.Second), pred: "cat", score: 0.9},
		{ts: t0.Add(2 * time.Second), pred: "dog", score: 0.7},
		{ts: t0.Add(3 * time.Second), pred: "cat", score: 0.5},
		{ts: t0.Add(4 * time.Second), pred: nil, score: nan},
	}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}})
	got := latest(t, h, map[string]any{"queryType": "predictions", "model": "iris", "percentiles": []float64{50}})
	require.Equal(t, map[string]float64{
		"class=cat, model=iris, output=prediction": 2.0 / 3,
		"class=dog, model=iris, output=prediction": 1.0 / 3,
		// numpy.percentile([0.9, 0.7, 0.5], 50) = 0.7
		"model=iris, output=score, quantile=0.5": 0.7,
	}, got)
	got = latest(t, h, map[string]any{"queryType": "predictions", "model": "iris", "percentiles": []float64{50}, "features": []string{"score"}})
	require.Equal(t, map[string]float64{"model=iris, output=score, quantile=0.5": 0.7}, got)
	got = latest(t, h, map[string]any{"queryType": "predictions", "model": "iris", "features": []string{"prediction"}})
	require.Len(t, got, 2)
	r := run(h, map[string]any{"queryType": "predictions", "model": "iris", "features": []string{"x"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, `predictions queries take features "prediction" and "score" only, not "x"`)
}

func TestEndpointsTable(t *testing.T) {
	fl := driftFixture()
	fl.ready = map[string]bool{"iris": true}
	h := New(Deps{PredictionLog: fl, Endpoints: []Endpoint{{Name: "iris", Client: &fakeEndpoint{ready: map[string]bool{"iris": true}}}}})
	r := run(h, map[string]any{"queryType": "endpoints"}, t0, t0.Add(20*time.Minute), time.Minute)
	require.NoError(t, r.Error)
	f := r.Frames[0]
	require.Equal(t, 1, f.Rows())
	get := func(name string) any {
		fl, _ := f.FieldByName(name)
		require.NotNil(t, fl, name)
		return fl.At(0)
	}
	require.Equal(t, t0.Add(time.Minute), *get("first request").(*time.Time))
	require.Equal(t, t0.Add(15*time.Minute), *get("last request").(*time.Time))
	// Records in (t0+15m, t0+20m]: none → 0/s.
	require.Equal(t, 0.0, get("predictions/s (5m)"))
	require.Equal(t, 1.0, get("mean latency (1h)"))
	require.Equal(t, 0.0, get("error ratio"))
	require.Equal(t, healthReady, get("health"))
	require.NotEmpty(t, get("drift status"))
	require.False(t, math.IsNaN(get("drift score").(float64)))
}

// BenchmarkDriftQuery runs a drift query of 20 numeric features over 60 windows of 2,000 records
// each against a 5,000-row reference, through the handler with a fake source.
func BenchmarkDriftQuery(b *testing.B) {
	m := source.Model{Name: "wide", Versions: []string{"v1"}, Prediction: source.Output{Type: source.Numeric}}
	for i := 0; i < 20; i++ {
		m.Features = append(m.Features, source.Feature{Name: fmt.Sprintf("f%02d", i), Type: source.Numeric})
	}
	r := newRNG(1)
	mk := func(n int, start time.Time, step time.Duration, shift float64) []rec {
		out := make([]rec, n)
		for i := range out {
			fs := map[string]any{}
			for _, f := range m.Features {
				fs[f.Name] = r.norm() + shift
			}
			out[i] = rec{ts: start.Add(time.Duration(i) * step), version: "v1", features: fs}
		}
		return out
	}
	fl := &fakeLog{models: []source.Model{m},
		recs: map[string][]rec{"wide": mk(120_000, t0.Add(time.Millisecond), 30*time.Millisecond, 0.1)},
		refs: map[string][]rec{"wide": mk(5000, t0, 0, 0)}}
	// Pre-build batches once so that the benchmark measures the query, not the fake.
	cur, _ := fl.Records(context.Background(), source.RecordsRequest{Model: "wide", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)})
	ref, _ := fl.Reference(context.Background(), "wide", "")
	h := New(Deps{PredictionLog: &fixedLog{models: fl.models, batch: cur, ref: ref}})
	q := []byte(`{"queryType":"drift","model":"wide","methods":["psi","ks_pvalue","js","wasserstein_norm","status"]}`)
	dq := backend.DataQuery{RefID: "A", JSON: q, Interval: time.Minute, MaxDataPoints: 1000, TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Hour)}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := h.One(context.Background(), backend.PluginContext{}, dq, false)
		if res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

// fixedLog answers the same prepared batches to every request.
type fixedLog struct {
	models     []source.Model
	batch, ref *source.Batch
}

func (f *fixedLog) Models(context.Context) ([]source.Model, error) { return f.models, nil }
func (f *fixedLog) Records(context.Context, source.RecordsRequest) (*source.Batch, error) {
	return f.batch, nil
}
func (f *fixedLog) Reference(context.Context, string, string) (*source.Batch, error) {
	return f.ref, nil
}

// rng is a small deterministic normal generator for benchmarks (xorshift + Box–Muller).
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed*2654435761 + 1} }

func (r *rng) u() float64 {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return (float64(r.s>>11) + 0.5) / (1 << 53)
}

func (r *rng) norm() float64 {
	return math.Sqrt(-2*math.Log(r.u())) * math.Cos(2*math.Pi*r.u())
}

// TestReferenceCached checks that the reference sample is fetched once across queries when a
// reference cache is configured, and on every query without one.
func TestReferenceCached(t *testing.T) {
	fl := driftFixture()
	h := New(Deps{PredictionLog: fl, References: refstats.New(time.Minute)})
	for i := 0; i < 3; i++ {
		latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}})
	}
	require.Equal(t, 1, fl.refCalls)
	fl = driftFixture()
	h = New(Deps{PredictionLog: fl})
	for i := 0; i < 2; i++ {
		latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}})
	}
	require.Equal(t, 2, fl.refCalls)
}

// BenchmarkLatencyQuery runs a latency query (p50, p95, p99) over 60 one-minute windows of 2,000
// records each through the handler with a fake source.
func BenchmarkLatencyQuery(b *testing.B) {
	r := newRNG(2)
	recs := make([]rec, 120_000)
	for i := range recs {
		recs[i] = rec{ts: t0.Add(time.Millisecond + time.Duration(i)*30*time.Millisecond), version: "v1", latency: math.Exp(r.norm())}
	}
	fl := &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}
	cur, _ := fl.Records(context.Background(), source.RecordsRequest{Model: "iris", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour)})
	h := New(Deps{PredictionLog: &fixedLog{models: fl.models, batch: cur}})
	dq := backend.DataQuery{RefID: "A", JSON: []byte(`{"queryType":"latency","model":"iris"}`), Interval: time.Minute, MaxDataPoints: 1000,
		TimeRange: backend.TimeRange{From: t0, To: t0.Add(time.Hour)}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := h.One(context.Background(), backend.PluginContext{}, dq, false); res.Error != nil {
			b.Fatal(res.Error)
		}
	}
}

func byLabelsKeys(t *testing.T, fs data.Frames) []string {
	t.Helper()
	var out []string
	for k := range byLabels(t, fs) {
		out = append(out, k)
	}
	return out
}

// TestDriftEveryModelFeatureSubset checks that over every model a named feature is compared in the
// models that have it (the others are left out with a notice), while a feature no model has, or one
// a named model lacks, is an error.
func TestDriftEveryModelFeatureSubset(t *testing.T) {
	fl := driftFixture()
	alpha := source.Model{Name: "alpha", Features: []source.Feature{{Name: "x", Type: source.Numeric}}}
	fl.models = append(fl.models, alpha)
	fl.recs["alpha"] = fl.recs["iris"]
	fl.refs["alpha"] = fl.refs["iris"]
	h := New(Deps{PredictionLog: fl})
	for _, qt := range []string{"drift", "distribution"} {
		q := map[string]any{"queryType": qt, "features": []string{"color"}}
		if qt == "drift" {
			q["methods"] = []string{"psi"}
			q["output"] = "latest"
		}
		r := run(h, q, t0, t0.Add(time.Hour), time.Minute)
		require.NoError(t, r.Error, qt)
		require.Contains(t, notices(r.Frames), "alpha has no feature color: not compared there", qt)
		if qt == "drift" {
			requireOK(t, r)
			require.Equal(t, []string{"feature=color, method=psi, model=iris"}, byLabelsKeys(t, r.Frames))
		} else {
			require.Len(t, r.Frames, 1)
			require.Equal(t, "color", r.Frames[0].Name)
		}
	}
	r := run(h, map[string]any{"queryType": "drift", "features": []string{"nope"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, `has no feature "nope"`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	r = run(h, map[string]any{"queryType": "drift", "model": "alpha", "features": []string{"color"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, `model "alpha" has no feature "color"`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
}

// TestDriftStatusNeedsThresholds checks that a status over methods without thresholds (it would be
// NaN at every point) is a user error saying what to add, and that a threshold override makes it
// defined.
func TestDriftStatusNeedsThresholds(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	for _, ms := range [][]string{{"ks", "status"}, {"wasserstein", "tvd", "status"}} {
		r := run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": ms}, t0, t0.Add(time.Hour), time.Minute)
		require.ErrorContains(t, r.Error, "method status needs thresholds for at least one of "+ms[0], ms)
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	}
	// ks = 1/3 here (TestDriftNumericAgainstScipy): below warning 0.4 → ok; above 0.3 → warning.
	st := latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks", "status"},
		"thresholds": map[string]any{"ks": map[string]any{"warning": 0.4, "drift": 0.5}}})
	require.Equal(t, 0.0, st["feature=x, method=status, model=iris"])
	st = latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks", "status"},
		"thresholds": map[string]any{"ks": map[string]any{"warning": 0.3, "drift": 0.5}}})
	require.Equal(t, 1.0, st["feature=x, method=status, model=iris"])
	// Over all features, a categorical feature skips ks and takes its default methods' status.
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "methods": []string{"ks", "status"}}, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorContains(t, r.Error, "method status needs thresholds")
}

// TestDistributionNotices checks that the response's notices are on the first table only and each
// table keeps its own.
func TestDistributionNotices(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	// The window (t0+50m, t0+1h] has no record with features.
	r := run(h, map[string]any{"queryType": "distribution", "model": "iris", "features": []string{"x", "color"}, "window": "10m"}, t0, t0.Add(time.Hour), time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 2)
	texts := func(f *data.Frame) []string {
		var s []string
		for _, n := range f.Meta.Notices {
			s = append(s, n.Text)
		}
		return s
	}
	require.Equal(t, []string{"iris: no records after 2026-01-01T00:50:00Z up to 2026-01-01T01:00:00Z",
		"reference: dataset of model iris, 20 rows", "iris/x: no values in the current window"}, texts(r.Frames[0]))
	require.Equal(t, []string{"iris/color: no values in the current window"}, texts(r.Frames[1]))
}

// TestEmptyWindowNotices checks that a model without records in the range, and a drift table whose
// window has no values, say so in a notice (DESIGN §5: NaN or absent value plus a notice).
func TestEmptyWindowNotices(t *testing.T) {
	fl := driftFixture()
	h := New(Deps{PredictionLog: fl})
	from, to := t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	// The grid's first point (2h) covers (1h30m, 2h]; endpoints and the single-point outputs cover (2h, 3h].
	none := regexp.MustCompile(`iris: no records after 2026-01-01T0(1:30|2:00):00Z up to 2026-01-01T03:00:00Z`)
	for _, qt := range []string{"traffic", "latency", "predictions", "endpoints"} {
		r := run(h, map[string]any{"queryType": qt, "version": "*"}, from, to, 30*time.Minute)
		require.NoError(t, r.Error, qt)
		require.Regexp(t, none, notices(r.Frames), qt)
	}
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "version": "*", "output": "latest"}, from, to, 30*time.Minute)
	requireOK(t, r)
	require.Regexp(t, none, notices(r.Frames))
	r = run(h, map[string]any{"queryType": "drift", "model": "iris", "output": "table"}, from, to, 30*time.Minute)
	require.NoError(t, r.Error)
	require.Contains(t, notices(r.Frames), "2 feature(s) had no values in the window: drift is not defined there")
}

// TestPredictionsWithoutScoreNotice checks that a regressor without scores gets no score series
// and no notice of windows without values when every window has a prediction.
func TestPredictionsWithoutScoreNotice(t *testing.T) {
	reg := source.Model{Name: "reg", Prediction: source.Output{Type: source.Numeric}}
	recs := []rec{{ts: t0.Add(time.Second), pred: 1.0, score: nan}, {ts: t0.Add(2 * time.Second), pred: 3.0, score: nan}}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{reg}, recs: map[string][]rec{"reg": recs}}})
	r := run(h, map[string]any{"queryType": "predictions", "model": "reg", "percentiles": []float64{50}, "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
	requireOK(t, r)
	// numpy.percentile([1, 3], 50) = 2.0
	require.Equal(t, map[string][]float64{"model=reg, output=prediction, quantile=0.5": {2}}, byLabels(t, r.Frames))
	require.Empty(t, notices(r.Frames))
	// A window without predictions is still reported.
	r = run(h, map[string]any{"queryType": "predictions", "model": "reg", "percentiles": []float64{50}}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	require.Contains(t, notices(r.Frames), "2 window(s) had no prediction or score: no value there")
}

// TestThresholdOverrides checks warning-only and drift-only overrides against the defaults of
// DESIGN §5 (psi 0.1 / 0.25, ks_pvalue 0.15 / 0.05), and that a one-sided override that crosses the
// other default says which default it crosses.
func TestThresholdOverrides(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	q := func(th map[string]any, ms ...string) map[string]any {
		return map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": append(ms, "status"), "thresholds": th}
	}
	// psi of x on this fixture is above 0.25 and below 2 (TestDriftNumericAgainstScipy pins it).
	st := latest(t, h, q(map[string]any{"psi": map[string]any{"drift": 2.0}}, "psi"))
	require.Equal(t, 1.0, st["feature=x, method=status, model=iris"], "drift raised to 2: warning")
	st = latest(t, h, q(map[string]any{"psi": map[string]any{"warning": 0.2}}, "psi"))
	require.Equal(t, 2.0, st["feature=x, method=status, model=iris"], "warning 0.2, default drift 0.25")
	for _, c := range []struct {
		th   map[string]any
		want string
	}{
		{map[string]any{"psi": map[string]any{"warning": 0.5}}, "thresholds.psi: warning (0.5) must be <= the default drift threshold (0.25); give drift as well"},
		{map[string]any{"psi": map[string]any{"drift": 0.05}}, "thresholds.psi: drift (0.05) must be >= the default warning threshold (0.1); give warning as well"},
		{map[string]any{"ks_pvalue": map[string]any{"warning": 0.01}}, "thresholds.ks_pvalue: warning (0.01) must be >= the default drift threshold (0.05) for a p-value; give drift as well"},
		{map[string]any{"ks_pvalue": map[string]any{"drift": 0.2}}, "thresholds.ks_pvalue: drift (0.2) must be <= the default warning threshold (0.15) for a p-value; give warning as well"},
	} {
		r := run(h, q(c.th, "psi"), t0, t0.Add(time.Hour), time.Minute)
		require.EqualError(t, r.Error, c.want)
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	}
}

// TestDriftConstantReference checks a feature whose reference is one value: no panic, finite values
// by the definitions of DESIGN §5, and a notice saying why they read as large drift.
func TestDriftConstantReference(t *testing.T) {
	fl := driftFixture()
	for i := range fl.refs["iris"] {
		fl.refs["iris"][i].features["x"] = 3.0
	}
	h := New(Deps{PredictionLog: fl})
	for _, out := range []string{"latest", "table"} {
		r := run(h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"psi", "ks", "wasserstein_norm"}, "output": out},
			t0, t0.Add(time.Hour), time.Minute)
		require.NoError(t, r.Error, out)
		require.Contains(t, notices(r.Frames), "iris/x: the reference is constant (3): the bins are below it and from it up, and wasserstein_norm divides by 0.001", out)
	}
	got := latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks", "wasserstein"}})
	// Every current value (5.5 … 24) is above 3: scipy.stats.ks_2samp([3]*20, cur).statistic = 1.0;
	// scipy.stats.wasserstein_distance([3]*20, cur) = mean(cur) − 3 = 15.6 − 3 = 12.6 (tolerance 1e-12).
	require.InDelta(t, 1.0, got["feature=x, method=ks, model=iris"], 1e-12)
	require.InDelta(t, 12.6, got["feature=x, method=wasserstein, model=iris"], 1e-12)
}

// TestReferenceWindowMixedTimes checks a reference window with one absolute and one relative
// bound: ordered against the end of the query's range, not rejected (or accepted) at parse time.
func TestReferenceWindowMixedTimes(t *testing.T) {
	h := New(Deps{PredictionLog: driftFixture()})
	q := func(from, to string) map[string]any {
		return map[string]any{"queryType": "drift", "model": "iris", "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest", "window": "31m",
			"reference": map[string]any{"kind": "window", "from": from, "to": to}}
	}
	// Range ends at t0+30m: now-22m = t0+8m, as in TestDriftWindowReference (ks = 0.4666666666666667,
	// scipy.stats.ks_2samp([5.5,7,9,11,12.5,14,15,16], [5.5,…,24]).statistic).
	r := run(h, q("2026-01-01T00:00:00Z", "now-22m"), t0, t0.Add(30*time.Minute), time.Minute)
	requireOK(t, r)
	require.InDelta(t, 0.4666666666666667, byLabels(t, r.Frames)["feature=x, method=ks, model=iris"][0], 1e-12)
	r = run(h, q("now-30m", "2026-01-01T00:08:00Z"), t0, t0.Add(30*time.Minute), time.Minute)
	requireOK(t, r)
	require.InDelta(t, 0.4666666666666667, byLabels(t, r.Frames)["feature=x, method=ks, model=iris"][0], 1e-12)
	// Out of order once resolved.
	r = run(h, q("2026-01-01T00:20:00Z", "now-22m"), t0, t0.Add(30*time.Minute), time.Minute)
	require.ErrorContains(t, r.Error, `reference.from ("2026-01-01T00:20:00Z" = 2026-01-01T00:20:00Z) must be before reference.to ("now-22m" = 2026-01-01T00:08:00Z)`)
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
}

// TestEndpointsShortRange checks that the endpoints table's 5-minute rate and 1-hour latency cover
// their whole windows when the range is shorter, while first/last request and errors keep to the
// range.
func TestEndpointsShortRange(t *testing.T) {
	var recs []rec
	for i := 1; i <= 60; i++ { // one record a minute in (t0, t0+1h], latency i ms, every 10th an error
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Minute), latency: float64(i), err: i%10 == 0})
	}
	h := New(Deps{PredictionLog: &fakeLog{models: []source.Model{{Name: "m"}}, recs: map[string][]rec{"m": recs}}})
	end := t0.Add(time.Hour)
	r := run(h, map[string]any{"queryType": "endpoints"}, end.Add(-2*time.Minute), end, time.Minute)
	require.NoError(t, r.Error)
	f := r.Frames[0]
	get := func(name string) any {
		fl, _ := f.FieldByName(name)
		require.NotNil(t, fl, name)
		return fl.At(0)
	}
	require.Equal(t, 5.0/300, get("predictions/s (5m)"), "records at 56..60 min")
	require.Equal(t, 30.5, get("mean latency (1h)"), "mean of 1..60")
	require.Equal(t, end.Add(-time.Minute), *get("first request").(*time.Time))
	require.Equal(t, end, *get("last request").(*time.Time))
	require.Equal(t, 1.0, get("errors"), "the record at 60 min; not the one at 50")
	require.Equal(t, 0.5, get("error ratio"))
}

// TestDriftVersionWithoutReference checks that a version without a reference sample of its own is
// compared with the model's reference (all versions), with a notice, as the Prometheus path does.
func TestDriftVersionWithoutReference(t *testing.T) {
	fl := driftFixture() // reference rows are all v1
	for i := range fl.recs["iris"] {
		fl.recs["iris"][i].version = "v2"
	}
	h := New(Deps{PredictionLog: fl})
	for _, v := range []string{"v2", "*"} {
		got := latest(t, h, map[string]any{"queryType": "drift", "model": "iris", "version": v, "features": []string{"x"}, "methods": []string{"ks"}})
		// The same samples as TestDriftNumericAgainstScipy: scipy.stats.ks_2samp(ref, cur).statistic = 0.3333333333333333.
		require.InDelta(t, 0.3333333333333333, got["feature=x, method=ks, model=iris, version=v2"], 1e-12, v)
		r := run(h, map[string]any{"queryType": "drift", "model": "iris", "version": v, "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
		require.Contains(t, notices(r.Frames), "model iris has no reference sample for version v2: compared with the reference of all its versions")
	}
}

// TestDriftNewVersionReferenceWindow checks that with version "*" a version without records in the
// reference window is compared with the window's records of every version, with a notice.
func TestDriftNewVersionReferenceWindow(t *testing.T) {
	fl := driftFixture()
	recs := fl.recs["iris"]
	for i := range recs {
		if recs[i].ts.After(t0.Add(8 * time.Minute)) {
			recs[i].version = "v2" // v2 starts after the reference window (t0, t0+8m]
		}
	}
	h := New(Deps{PredictionLog: fl})
	r := run(h, map[string]any{"queryType": "drift", "model": "iris", "version": "*", "features": []string{"x"}, "methods": []string{"ks"}, "output": "latest", "window": "31m",
		"reference": map[string]any{"kind": "window", "from": "now-30m", "to": "now-22m"}}, t0, t0.Add(30*time.Minute), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	// v1 = the first 8 values against themselves: ks 0. v2 = the other 7 against the 8:
	// scipy.stats.ks_2samp([5.5,7,9,11,12.5,14,15,16], [17,18,19,21,22,23,24]).statistic = 1.0
	require.InDelta(t, 0, got["feature=x, method=ks, model=iris, version=v1"][0], 1e-12)
	require.InDelta(t, 1, got["feature=x, method=ks, model=iris, version=v2"][0], 1e-12)
	require.Contains(t, notices(r.Frames), "model iris has no reference sample for version v2: compared with the reference of all its versions (the reference window 2026-01-01T00:00:00Z – 2026-01-01T00:08:00Z of version v2 has 0 rows)")
}

// TestDriftTableOverallSkipsFeaturesWithoutReference checks that a feature with current values but
// no reference values leaves the table's sum and mean rows defined (over the other features).
func TestDriftTableOverallSkipsFeaturesWithoutReference(t *testing.T) {
	fl := driftFixture()
	m := iris
	m.Features = append(append([]source.Feature{}, iris.Features...), source.Feature{Name: "z", Type: source.Numeric})
	fl.models = []source.Model{m}
	for i := range fl.recs["iris"] {
		fl.recs["iris"][i].features["z"] = float64(i) // current values; the reference has none
	}
	h := New(Deps{PredictionLog: fl})
	one := func(features ...string) (sum, mean float64) {
		r := run(h, map[string]any{"queryType": "drift", "model": "iris", "output": "table", "features": features}, t0, t0.Add(time.Hour), time.Minute)
		require.NoError(t, r.Error)
		f := r.Frames[0]
		feat, _ := f.FieldByName("feature")
		tvd, _ := f.FieldByName("tvd")
		for i, name := range stringsOf(feat) {
			switch name {
			case "(sum over features)":
				sum = tvd.At(i).(float64)
			case "(mean over features)":
				mean = tvd.At(i).(float64)
			}
		}
		return sum, mean
	}
	wantSum, wantMean := one("x")
	require.False(t, math.IsNaN(wantSum))
	sum, mean := one("x", "z")
	require.Equal(t, wantSum, sum)
	require.Equal(t, wantMean, mean)
}
