package query

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// day0 is a demo day: healthy from 00:00 to 06:00 UTC (demo.DriftStart), amount drifted after.
var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func demoHandler() *Handler {
	return New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour), MaxSamples: 1_000_000})
}

// series returns the values of the series whose label string contains every part.
func seriesOf(t *testing.T, got map[string][]float64, parts ...string) []float64 {
	t.Helper()
	var found []string
	for k := range got {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(k, p)
		}
		if ok {
			found = append(found, k)
		}
	}
	require.Len(t, found, 1, "series with %v among %v", parts, seriesKeys(got))
	return got[found[0]]
}

func seriesKeys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSignificanceAgainstDirectSimulation runs psi, js and wasserstein_norm significance on the
// demo fleet's fraud-detector amount over a day in 30-minute windows and checks, in windows
// before and after the drift onset, the p-value and the critical value against a direct
// simulation written here: draw the window's n (on the grid) values from the reference sample,
// bin them on the reference quantile edges, compute the measure; another stream, 2,000 resamples.
// Tolerance: 4 Monte-Carlo standard errors of the difference (stats.mcTolerance's formula).
func TestSignificanceAgainstDirectSimulation(t *testing.T) {
	h := demoHandler()
	fleet := demo.NewFleet(demo.DefaultSeed)
	r := run(h, map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"},
		"methods": []string{"psi", "js", "wasserstein_norm", "status"}, "significance": true, "window": "30m"},
		day0.Add(30*time.Minute), day0.Add(12*time.Hour), 30*time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Len(t, got, 1+3*3, seriesKeys(got))
	ref := demoReference(t, fleet, "fraud-detector", "", "amount")
	edges := stats.QuantileEdges(ref, 10)
	p := stats.Proportions(stats.CountsSorted(edges, ref, nil), nil)
	_, std := stats.MeanStd(ref)
	tf := r.Frames[0].Fields[0]
	times := make([]time.Time, tf.Len())
	for i := range times {
		times[i] = tf.At(i).(time.Time)
	}
	batch, err := fleet.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: day0, End: day0.Add(12 * time.Hour)})
	require.NoError(t, err)
	col := batch.Column("amount")
	checked := 0
	for i, end := range times {
		if i%6 != 1 {
			continue
		}
		var cur []float64
		for k, ts := range batch.TS {
			if ts > end.Add(-30*time.Minute).UnixNano() && ts <= end.UnixNano() && !math.IsNaN(col.Num[k]) {
				cur = append(cur, col.Num[k])
			}
		}
		slices.Sort(cur)
		n := refstats.SignificanceN(len(cur))
		rnd := rand.New(rand.NewPCG(uint64(i), 2026))
		draw := make([]float64, n)
		for name, measure := range map[string]func([]float64) float64{
			"psi": func(x []float64) float64 { return stats.PSI(p, stats.Proportions(stats.Counts(edges, x, nil), nil)) },
			"js": func(x []float64) float64 {
				return stats.JensenShannon(p, stats.Proportions(stats.Counts(edges, x, nil), nil))
			},
			"wasserstein_norm": func(x []float64) float64 {
				slices.Sort(x)
				return stats.WassersteinNormalize(stats.Wasserstein(ref, x), std)
			},
		} {
			const B = 2000
			null := make([]float64, B)
			for b := range null {
				for j := range draw {
					draw[j] = ref[rnd.IntN(len(ref))]
				}
				null[b] = measure(draw)
			}
			slices.Sort(null)
			value := seriesOf(t, got, "method="+name+",")[i]
			pv := seriesOf(t, got, "method="+name+"_pvalue")[i]
			want := stats.BootstrapPValue(null, value)
			tol := 4*math.Sqrt(want*(1-want)*(1.0/999+1.0/B)) + 2e-3
			require.InDelta(t, want, pv, tol, "%s p-value at %s (n %d)", name, end, len(cur))
			crit := seriesOf(t, got, "method="+name+"_critical")[i]
			// The critical value: the direct simulation's p-value there is about 0.05.
			pc := stats.BootstrapPValue(null, crit)
			require.InDelta(t, 0.05, pc, 4*math.Sqrt(0.05*0.95*(1.0/999+1.0/B))+2e-3, "%s critical %v at %s", name, crit, end)
			if end.Sub(day0) > demo.DriftStart+30*time.Minute {
				require.Less(t, pv, 0.01, "%s after the drift onset", name)
			}
			checked++
		}
	}
	require.GreaterOrEqual(t, checked, 12)
	// Status: drift needs the value's and the p-value's status.
	st := seriesOf(t, got, "method=status")
	require.Equal(t, 2.0, st[len(st)-1])
}

// TestSignificanceCachedAcrossQueries: a second identical query simulates nothing.
func TestSignificanceCachedAcrossQueries(t *testing.T) {
	cache := refstats.New(time.Hour)
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: cache})
	q := map[string]any{"queryType": "drift", "model": "price-regressor", "features": []string{"sqft", "neighborhood"},
		"methods": []string{"psi", "tvd", "hellinger"}, "significance": true, "window": "1h"}
	r1 := run(h, q, day0, day0.Add(6*time.Hour), time.Hour)
	requireOK(t, r1)
	p, err := cache.Get(context.Background(), SourceDemo+"\x00"+refstats.Key("price-regressor", ""), nil)
	require.NoError(t, err)
	kept := p.NullLen()
	require.Greater(t, kept, 0)
	r2 := run(h, q, day0, day0.Add(6*time.Hour), time.Hour)
	requireOK(t, r2)
	require.Equal(t, kept, p.NullLen())
	require.Equal(t, byLabels(t, r1.Frames), byLabels(t, r2.Frames))
	// Categorical neighborhood has p-values too.
	seriesOf(t, byLabels(t, r2.Frames), "feature=neighborhood", "method=psi_pvalue")
}

// TestCorrectionAdjustsAcrossFeaturesAndWindows: with correction the p-value series are the
// stats.AdjustBH / AdjustBonferroni of the raw ones over every feature and window of the query.
func TestCorrectionAdjustsAcrossFeaturesAndWindows(t *testing.T) {
	h := demoHandler()
	base := map[string]any{"queryType": "drift", "model": "churn-classifier",
		"methods": []string{"ks_pvalue", "chi2_pvalue", "psi", "status"}, "significance": true, "window": "20m"}
	from, to := day0.Add(4*time.Hour), day0.Add(8*time.Hour)
	raw := run(h, base, from, to, 20*time.Minute)
	requireOK(t, raw)
	rawS := byLabels(t, raw.Frames)
	for _, c := range []string{"bh", "bonferroni"} {
		q := map[string]any{}
		for k, v := range base {
			q[k] = v
		}
		q["correction"] = c
		r := run(h, q, from, to, 20*time.Minute)
		requireOK(t, r)
		adj := byLabels(t, r.Frames)
		require.Contains(t, notices(r.Frames), "p-values adjusted by")
		for _, m := range []string{"ks_pvalue", "chi2_pvalue", "psi_pvalue"} {
			var names []string
			var all []float64
			for k := range rawS {
				if strings.Contains(k, "method="+m) {
					names = append(names, k)
				}
			}
			require.NotEmpty(t, names, m)
			slices.Sort(names)
			for _, k := range names {
				all = append(all, rawS[k]...)
			}
			want := stats.AdjustBonferroni(all)
			if c == "bh" {
				want = stats.AdjustBH(all)
			}
			var gotAll []float64
			for _, k := range names {
				feature := k[strings.Index(k, "feature="):]
				feature = feature[:strings.Index(feature, ",")]
				gotAll = append(gotAll, seriesOf(t, adj, "correction="+c, feature+",", "method="+m)...)
			}
			require.Equal(t, len(want), len(gotAll))
			for i := range want {
				if math.IsNaN(want[i]) {
					require.True(t, math.IsNaN(gotAll[i]))
					continue
				}
				require.InDelta(t, want[i], gotAll[i], 1e-15, "%s %s[%d]", c, m, i)
			}
		}
		// The status uses the adjusted values: never worse than without correction.
		for _, f := range []string{"tenure_months", "monthly_charges", "contract"} {
			a, b := seriesOf(t, adj, "feature="+f+",", "method=status"), seriesOf(t, rawS, "feature="+f+",", "method=status")
			for i := range a {
				require.LessOrEqual(t, a[i], b[i], "%s status[%d]", f, i)
			}
		}
	}
}

func TestPersist(t *testing.T) {
	x := []float64{1, 3, 2, nan, 5, 6, 7}
	require.Equal(t, x, persist(x, 1, false))
	eqNaN := func(want, got []float64) {
		t.Helper()
		require.Equal(t, len(want), len(got))
		for i := range want {
			if math.IsNaN(want[i]) {
				require.True(t, math.IsNaN(got[i]), "[%d] = %v", i, got[i])
			} else {
				require.Equal(t, want[i], got[i], "[%d]", i)
			}
		}
	}
	eqNaN([]float64{nan, 1, 2, nan, nan, 5, 6}, persist(x, 2, false))
	eqNaN([]float64{nan, 3, 3, nan, nan, 6, 7}, persist(x, 2, true))
	eqNaN([]float64{nan, nan, 1, nan, nan, nan, 5}, persist(x, 3, false))
}

func TestActionableParseErrors(t *testing.T) {
	for _, c := range []struct {
		q    string
		want string
	}{
		{`{"queryType":"drift","correction":"holm"}`, `unknown correction "holm"`},
		{`{"queryType":"latency","significance":true}`, "apply to drift queries only"},
		{`{"queryType":"drift","output":"table","correction":"bh"}`, "not the table"},
		{`{"queryType":"drift","persistence":{"windows":0}}`, "persistence.windows 0 is outside [1, 100]"},
		{`{"queryType":"drift","persistence":{"windows":101}}`, "persistence.windows 101"},
		{`{"queryType":"drift","persistence":{"windows":"3"}}`, `"persistence.windows" must be a whole number`},
		{`{"queryType":"drift","significance":"yes"}`, `"significance" must be true or false`},
		{`{"queryType":"drift","significance":true,"methods":["ks_pvalue"]}`, "significance needs at least one of the methods psi"},
		{`{"queryType":"drift","thresholds":{"psi_pvalue":{"drift":1.5}}}`, "must be a p-value in [0, 1]"},
		{`{"queryType":"drift","thresholds":{"psi_pvalue":{"warning":0.01,"drift":0.05}}}`, "must be >= drift"},
		{`{"queryType":"drift","thresholds":{"kld_pvalue":{"warning":0.1,"drift":0.05}}}`, "unknown method"},
	} {
		_, err := Parse([]byte(c.q))
		require.Error(t, err, c.q)
		require.Contains(t, err.Error(), c.want, c.q)
	}
	for _, ok := range []string{
		`{"queryType":"drift","significance":true,"correction":"bh","persistence":{"windows":3},"output":"latest"}`,
		`{"queryType":"drift","correction":"none","output":"table"}`,
		`{"queryType":"drift","thresholds":{"psi_pvalue":{"drift":0.01}}}`,
	} {
		_, err := Parse([]byte(ok))
		require.NoError(t, err, ok)
	}
}

func TestPersistentGrid(t *testing.T) {
	to := day0.Add(time.Hour)
	g := grid{times: []time.Time{to}, step: time.Hour, window: time.Hour, latest: true}
	p := persistentGrid(g, 4, "")
	require.Equal(t, []time.Time{to.Add(-45 * time.Minute), to.Add(-30 * time.Minute), to.Add(-15 * time.Minute), to}, p.times)
	require.Equal(t, 15*time.Minute, p.window)
	require.True(t, p.latest)
	from, _ := p.fetchRange()
	require.Equal(t, day0, from)
	g.window = 5 * time.Minute
	p = persistentGrid(g, 3, "5m")
	require.Equal(t, []time.Time{to.Add(-10 * time.Minute), to.Add(-5 * time.Minute), to}, p.times)
	require.Equal(t, g, persistentGrid(g, 1, "5m"))
	ts := grid{times: []time.Time{day0, to}, step: time.Hour, window: time.Hour}
	require.Equal(t, ts, persistentGrid(ts, 3, ""), "a time series keeps its grid")
}
