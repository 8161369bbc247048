package query

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// histFake is a source.Metrics whose feature histograms are fixed: each series answers every step
// of a request, step i with counts[min(i, len(counts)-1)].
type histFake struct {
	series []fakeHist

	mu       sync.Mutex
	requests []source.MetricsRequest
}

type fakeHist struct {
	labels map[string]string
	edges  []float64
	counts [][]float64
}

func (f *histFake) Models(context.Context) ([]source.Model, error) {
	seen := map[string]bool{}
	var out []source.Model
	for _, s := range f.series {
		if m := s.labels["model"]; !seen[m] {
			seen[m] = true
			out = append(out, source.Model{Name: m})
		}
	}
	return out, nil
}

func (f *histFake) Latency(context.Context, source.MetricsRequest, []float64) (*source.SeriesResult, error) {
	return &source.SeriesResult{}, nil
}

func (f *histFake) Traffic(context.Context, source.MetricsRequest, []string) (*source.SeriesResult, error) {
	return &source.SeriesResult{}, nil
}

func (f *histFake) Targets(context.Context) ([]source.Target, error) { return nil, nil }

func (f *histFake) FeatureHistograms(_ context.Context, req source.MetricsRequest, features []string) ([]source.HistogramSeries, []string, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	var out []source.HistogramSeries
	for _, s := range f.series {
		if !allModels(req.Model) && s.labels["model"] != req.Model {
			continue
		}
		if len(features) > 0 && !contains(features, s.labels["feature"]) {
			continue
		}
		hs := source.HistogramSeries{Labels: map[string]string{}, Edges: s.edges}
		for k, v := range s.labels {
			if k != "version" || req.Version != "" {
				hs.Labels[k] = v
			}
		}
		for t, i := req.Start, 0; !t.After(req.End); t, i = t.Add(req.Step), i+1 {
			hs.Times = append(hs.Times, t)
			hs.Counts = append(hs.Counts, s.counts[min(i, len(s.counts)-1)])
			if req.Step <= 0 {
				break
			}
		}
		out = append(out, hs)
	}
	return out, []string{"feature histograms from the fake store"}, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// leCountsByHand counts each value into the Prometheus bucket that holds it: bucket i when
// edges[i-1] < v <= edges[i] (bucket 0 below or on edges[0], the last one above the last edge).
func leCountsByHand(edges, values []float64) []float64 {
	out := make([]float64, len(edges)+1)
	for _, v := range values {
		i := 0
		for i < len(edges) && v > edges[i] {
			i++
		}
		out[i]++
	}
	return out
}

func propsByHand(c []float64) []float64 {
	s := 0.0
	for _, x := range c {
		s += x
	}
	out := make([]float64, len(c))
	for i, x := range c {
		out[i] = x / s
	}
	return out
}

// psiByHand is DESIGN §5 psi: Σ (q−p)·ln(q/p) with zero proportions replaced by 1e-4.
func psiByHand(p, q []float64) float64 {
	s := 0.0
	for i := range p {
		a, b := p[i], q[i]
		if a == 0 {
			a = 1e-4
		}
		if b == 0 {
			b = 1e-4
		}
		s += (b - a) * math.Log(b/a)
	}
	return s
}

// tvdByHand is ½ Σ |p−q|.
func tvdByHand(p, q []float64) float64 {
	s := 0.0
	for i := range p {
		s += math.Abs(p[i] - q[i])
	}
	return s / 2
}

// ksByHand is the largest gap of the cumulative proportions at the bucket bounds.
func ksByHand(p, q []float64) float64 {
	d, cp, cq := 0.0, 0.0, 0.0
	for i := 0; i < len(p)-1; i++ {
		cp += p[i]
		cq += q[i]
		d = math.Max(d, math.Abs(cp-cq))
	}
	return d
}

// demoReference returns the sorted values of a numeric feature of the demo fleet's reference.
func demoReference(t *testing.T, fleet *demo.Fleet, model, version, feature string) []float64 {
	t.Helper()
	b, err := fleet.Reference(context.Background(), model, version)
	require.NoError(t, err)
	col := b.Column(feature)
	require.NotNil(t, col)
	var out []float64
	for _, v := range col.Num {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	require.Greater(t, len(out), 1000)
	return out
}

// TestDriftFromMetricsDemoReference compares fake Prometheus histograms of fraud-detector/amount
// with the demo fleet's reference sample counted on the histogram's bounds with `le` semantics.
// The expected values are computed here from the raw reference values, one value at a time.
func TestDriftFromMetricsDemoReference(t *testing.T) {
	fleet := demo.NewFleet(demo.DefaultSeed)
	ref := demoReference(t, fleet, "fraud-detector", "", "amount")
	// Bounds that are reference values themselves, so that `le` and [a, b) counts differ.
	edges := []float64{ref[len(ref)/10], ref[len(ref)/4], ref[len(ref)/2], ref[3*len(ref)/4], ref[9*len(ref)/10]}
	rc := leCountsByHand(edges, ref)
	require.NotEqual(t, rc, stats.CountsSorted(edges, ref, nil), "the bounds must hold reference values")
	cur := [][]float64{
		{50, 75, 125, 125, 75, 50},
		{10, 30, 90, 150, 170, 50},
		{0, 0, 100, 100, 100, 100}, // empty buckets: psi's 1e-4 floor
	}
	hf := &histFake{series: []fakeHist{{labels: map[string]string{"model": "fraud-detector", "feature": "amount"}, edges: edges, counts: cur}}}
	h := New(Deps{Metrics: hf, Demo: fleet})
	r := run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector",
		"methods": []string{"psi", "tvd", "hellinger", "ks", "status"}}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	p := propsByHand(rc)
	for i, c := range cur {
		q := propsByHand(c)
		hel := 0.0
		for j := range p {
			hel += math.Sqrt(p[j] * q[j])
		}
		// Tolerance 1e-12: the same formulas on the same counts, summed in another order.
		require.InDelta(t, psiByHand(p, q), got[`feature=amount, method=psi, model=fraud-detector`][i], 1e-12, "psi at step %d", i)
		require.InDelta(t, tvdByHand(p, q), got[`feature=amount, method=tvd, model=fraud-detector`][i], 1e-12, "tvd at step %d", i)
		require.InDelta(t, math.Sqrt(math.Max(0, 1-hel)), got[`feature=amount, method=hellinger, model=fraud-detector`][i], 1e-12, "hellinger at step %d", i)
		require.InDelta(t, ksByHand(p, q), got[`feature=amount, method=ks, model=fraud-detector`][i], 1e-12, "ks at step %d", i)
	}
	// Step 2 has no values below the median bound: psi is far above its drift threshold 0.25.
	require.Greater(t, got[`feature=amount, method=psi, model=fraud-detector`][2], 0.25)
	require.Equal(t, 2.0, got[`feature=amount, method=status, model=fraud-detector`][2])
	n := notices(r.Frames)
	require.Contains(t, n, NoticeBinnedKS)
	require.Contains(t, n, "reference: dataset of model fraud-detector (demo), 5000 rows, counted on the histogram buckets")
	require.Contains(t, n, "feature histograms from the fake store")
	// One histogram request, over the query's grid: no reference window is asked for.
	require.Len(t, hf.requests, 1)
	require.Equal(t, source.MetricsRequest{Model: "fraud-detector", Start: t0, End: t0.Add(2 * time.Minute), Step: time.Minute, Window: time.Minute}, hf.requests[0])

	// Defaults (psi, js) as a latest value.
	r = run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector", "output": "latest"}, t0, t0.Add(2*time.Minute), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.Len(t, got, 2)
	require.InDelta(t, psiByHand(p, propsByHand(cur[0])), got[`feature=amount, method=psi, model=fraud-detector`][0], 1e-12)
	require.Contains(t, notices(r.Frames), "ks_pvalue and wasserstein_norm are not computed")
	require.NotContains(t, notices(r.Frames), NoticeBinnedKS)

	// The distribution table: reference counts are the le counts of the raw reference values.
	r = run(h, map[string]any{"queryType": "distribution", "source": "prometheus", "model": "fraud-detector"}, t0, t0.Add(2*time.Minute), time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 1)
	f := r.Frames[0]
	rcf, _ := f.FieldByName("reference count")
	require.Equal(t, rc, floatsOf(rcf))
	ccf, _ := f.FieldByName("current count")
	require.Equal(t, cur[0], floatsOf(ccf)) // one point: the window ending at the end of the range
	bins, _ := f.FieldByName("bin")
	require.True(t, strings.HasSuffix(stringsOf(bins)[1], "]"), "Prometheus buckets include their upper bound: %v", stringsOf(bins))
}

// TestDriftFromMetricsBinnedKS checks ks from buckets against a prediction-log reference by hand.
func TestDriftFromMetricsBinnedKS(t *testing.T) {
	var refs []rec
	for _, x := range []float64{0.5, 1, 1, 1.5, 2, 2, 3, 3.5, 4, 5} {
		refs = append(refs, rec{ts: t0.Add(-48 * time.Hour), features: map[string]any{"x": x}})
	}
	pl := &fakeLog{models: []source.Model{iris}, refs: map[string][]rec{"iris": refs}}
	hf := &histFake{series: []fakeHist{{labels: map[string]string{"model": "iris", "feature": "x"}, edges: []float64{1, 2, 3, 4},
		counts: [][]float64{{1, 2, 3, 2, 2}}}}}
	// The demo fleet is on too: the prediction log knows iris, so its reference is used.
	h := New(Deps{Metrics: hf, PredictionLog: pl, Demo: demo.NewFleet(demo.DefaultSeed)})
	r := run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "iris", "methods": []string{"ks", "psi"}, "output": "latest"},
		t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	// By hand: le buckets (-inf,1] (1,2] (2,3] (3,4] (4,+inf) hold 0.5 1 1 | 1.5 2 2 | 3 | 3.5 4 | 5,
	// so the reference counts are [3 3 1 2 1]; the current ones are [1 2 3 2 2]. Cumulative
	// proportions at the bounds 1, 2, 3, 4: reference .3 .6 .7 .9, current .1 .3 .6 .8; the gaps
	// are .2 .3 .1 .1, so ks = 0.3 (tolerance 1e-15: one division per side). With [a, b) bins the
	// reference counts would be [1 3 2 2 2] and ks 0.1.
	require.InDelta(t, 0.3, got[`feature=x, method=ks, model=iris`][0], 1e-15)
	// psi on p = [.3 .3 .1 .2 .1], q = [.1 .2 .3 .2 .2]:
	// .2·ln(1/3)·(−1) + .1·ln(2/3)·(−1) + .2·ln 3 + 0 + .1·ln 2 = .4·ln 3 + .1·ln 3 = 0.5·ln 3.
	require.InDelta(t, 0.5*math.Log(3), got[`feature=x, method=psi, model=iris`][0], 1e-15)
	require.Contains(t, notices(r.Frames), "reference: dataset of model iris (predictionLog), 10 rows")
	require.Contains(t, notices(r.Frames), NoticeBinnedKS)

	// ks on a reference window of the same store: on the shared bounds.
	r = run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "iris", "methods": []string{"ks"}, "output": "latest",
		"reference": map[string]any{"kind": "window", "from": "now-7d", "to": "now-6d"}}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, []float64{0}, byLabels(t, r.Frames)[`feature=x, method=ks, model=iris`]) // the fake answers the same counts
}

// TestDriftFromMetricsVersions uses each version's reference when the query splits by version and
// falls back to the pooled reference, with a notice, for a version without one.
func TestDriftFromMetricsVersions(t *testing.T) {
	fleet := demo.NewFleet(demo.DefaultSeed)
	pooled := demoReference(t, fleet, "fraud-detector", "", "amount")
	v1 := demoReference(t, fleet, "fraud-detector", "v1", "amount")
	edges := []float64{pooled[1000], pooled[2500], pooled[4000]}
	counts := [][]float64{{10, 40, 40, 10}}
	hf := &histFake{series: []fakeHist{
		{labels: map[string]string{"model": "fraud-detector", "version": "v1", "feature": "amount"}, edges: edges, counts: counts},
		{labels: map[string]string{"model": "fraud-detector", "version": "v9", "feature": "amount"}, edges: edges, counts: counts},
	}}
	cache := refstats.New(time.Hour)
	h := New(Deps{Metrics: hf, Demo: fleet, References: cache})
	q := map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector", "version": "*", "methods": []string{"psi"}, "output": "latest"}
	r := run(h, q, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	qv := propsByHand(counts[0])
	wantV1 := psiByHand(propsByHand(leCountsByHand(edges, v1)), qv)
	wantPooled := psiByHand(propsByHand(leCountsByHand(edges, pooled)), qv)
	require.NotEqual(t, wantV1, wantPooled)
	require.InDelta(t, wantV1, got[`feature=amount, method=psi, model=fraud-detector, version=v1`][0], 1e-12)
	require.InDelta(t, wantPooled, got[`feature=amount, method=psi, model=fraud-detector, version=v9`][0], 1e-12)
	n := notices(r.Frames)
	require.Contains(t, n, "model fraud-detector has no reference sample for version v9: compared with the reference of all its versions (the reference sample of version v9 has 0 rows)")
	require.Contains(t, n, "reference: dataset of model fraud-detector version v1 (demo)")
	// Both references are kept in the cache under the keys the other drift queries use.
	require.Equal(t, 2, cache.Len())
	r = run(h, q, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	require.Equal(t, 2, cache.Len())
}

// TestDriftFromMetricsNoReference: without a reference sample the error says to use a reference
// window; over every model, a model without one is skipped with a notice.
func TestDriftFromMetricsNoReference(t *testing.T) {
	hf := &histFake{series: []fakeHist{
		{labels: map[string]string{"model": "iris", "feature": "x"}, edges: []float64{1, 2}, counts: [][]float64{{1, 2, 3}}},
		{labels: map[string]string{"model": "fraud-detector", "feature": "amount"}, edges: []float64{50, 100}, counts: [][]float64{{1, 2, 3}}},
	}}
	cases := []struct {
		name string
		deps Deps
		want string
	}{
		{"no sample source", Deps{Metrics: hf}, "neither the prediction log nor the demo fleet is configured"},
		{"prediction log without a reference", Deps{Metrics: hf, PredictionLog: &fakeLog{models: []source.Model{iris}}},
			`in the predictionLog the reference sample of model "iris" has 0 rows`},
		{"model unknown to the demo fleet", Deps{Metrics: hf, Demo: demo.NewFleet(demo.DefaultSeed)},
			`no configured prediction log or demo fleet knows model "iris"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(c.deps)
			for _, qt := range []string{"drift", "distribution"} {
				r := run(h, map[string]any{"queryType": qt, "source": "prometheus", "model": "iris"}, t0, t0.Add(time.Hour), time.Minute)
				require.ErrorContains(t, r.Error, c.want)
				require.ErrorContains(t, r.Error, `set reference.kind to "window" with reference.from and reference.to`)
				require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
				require.Equal(t, backend.StatusBadRequest, r.Status)
			}
		})
	}
	// Over every model: iris has no reference in the demo fleet and is skipped; fraud-detector answers.
	h := New(Deps{Metrics: hf, Demo: demo.NewFleet(demo.DefaultSeed)})
	r := run(h, map[string]any{"queryType": "drift", "source": "prometheus", "methods": []string{"tvd"}, "output": "latest"}, t0, t0.Add(time.Hour), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Len(t, got, 1)
	require.Contains(t, got, `feature=amount, method=tvd, model=fraud-detector`)
	require.Contains(t, notices(r.Frames), `iris skipped: with Prometheus, drift compares feature histograms`)
}

// TestDriftFromMetricsRawOnlyMethods: the methods that need raw samples stay errors that say why.
func TestDriftFromMetricsRawOnlyMethods(t *testing.T) {
	h := New(Deps{Metrics: &histFake{}, Demo: demo.NewFleet(demo.DefaultSeed)})
	for m, why := range map[string]string{
		MethodKSPValue:        "a p-value computed from it would understate drift",
		MethodWasserstein:     "where the values lie inside each bucket",
		MethodWassersteinNorm: "where the values lie inside each bucket",
	} {
		r := run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector", "methods": []string{m}}, t0, t0.Add(time.Hour), time.Minute)
		require.ErrorContains(t, r.Error, "method "+m+" needs raw samples")
		require.ErrorContains(t, r.Error, why)
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	}
}

// BenchmarkDriftFromMetricsDataset is one drift query from Prometheus-style histograms (four
// features of fraud-detector on the demo server's decile buckets, 60 points, psi, js, ks and
// status) against the demo reference sample held in the reference cache, as a dashboard refresh or
// an alert evaluation runs it after the first.
func BenchmarkDriftFromMetricsDataset(b *testing.B) {
	fleet := demo.NewFleet(demo.DefaultSeed)
	hf := &histFake{}
	for _, f := range []string{"amount", "account_age_days", "distance_km", "txn_count_24h"} {
		edges, err := fleet.FeatureBuckets("fraud-detector", f)
		if err != nil {
			b.Fatal(err)
		}
		counts := make([]float64, len(edges)+1)
		for i := range counts {
			counts[i] = float64(10 + 3*i)
		}
		hf.series = append(hf.series, fakeHist{labels: map[string]string{"model": "fraud-detector", "feature": f}, edges: edges, counts: [][]float64{counts}})
	}
	h := New(Deps{Metrics: hf, Demo: fleet, References: refstats.New(time.Hour)})
	q := map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector", "methods": []string{"psi", "js", "ks", "status"}}
	if r := run(h, q, t0, t0.Add(59*time.Minute), time.Minute); r.Error != nil {
		b.Fatal(r.Error)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hf.requests = hf.requests[:0]
		if r := run(h, q, t0, t0.Add(59*time.Minute), time.Minute); r.Error != nil {
			b.Fatal(r.Error)
		}
	}
}

func (f *histFake) Saturation(context.Context, source.MetricsRequest, []string) (*source.SeriesResult, error) {
	return &source.SeriesResult{}, nil
}
