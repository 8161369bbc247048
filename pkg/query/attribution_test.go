package query

import (
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

func TestAttribute(t *testing.T) {
	nan := math.NaN()
	a := attribute([]float64{0.1, 0.3, nan, 0.1, 0.5}, []float64{1, 2, 3, nan, 1})
	require.Equal(t, []float64{3, 2, nan, 4, 1}[:2], a.rank[:2])
	require.True(t, math.IsNaN(a.rank[2]))
	require.Equal(t, []float64{4, 1}, a.rank[3:])
	require.InDeltaSlice(t, []float64{0.1, 0.3}, a.share[:2], 1e-15)
	require.InDeltaSlice(t, []float64{0.1, 0.5}, a.share[3:], 1e-15)
	// Weights over the features with an importance: 1+2+3+1 = 7.
	require.InDelta(t, 0.1/7, a.impact[0], 1e-15)
	require.InDelta(t, 0.6/7, a.impact[1], 1e-15)
	require.True(t, math.IsNaN(a.impact[2])) // no drift value
	require.True(t, math.IsNaN(a.impact[3])) // no importance
	require.InDelta(t, (0.1+0.6+0.5)/7, a.impactSum, 1e-15)
	require.Equal(t, 1.0, a.shareSum)
	// No importances: no impact; all zero: shares 0.
	a = attribute([]float64{0, 0}, []float64{nan, nan})
	require.True(t, math.IsNaN(a.impactSum))
	require.Equal(t, []float64{0, 0}, a.share)
	require.Equal(t, []float64{1, 2}, a.rank)
}

func fieldByName(t *testing.T, f *data.Frame, name string, labels data.Labels) *data.Field {
	t.Helper()
	for _, fl := range f.Fields {
		if fl.Name == name && (labels == nil || fl.Labels.Equals(labels)) {
			return fl
		}
	}
	t.Fatalf("frame %s has no field %s %v", f.Name, name, labels)
	return nil
}

// TestDistributionContributionsSumToDrift: each bin's contribution to psi and js, summed over the
// bins of the distribution table, is the drift query's psi and js of the same window.
func TestDistributionContributionsSumToDrift(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour)})
	to := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	features := []string{"amount", "merchant_category"}
	q := map[string]any{"queryType": "drift", "model": "fraud-detector", "features": features, "methods": []string{"psi", "js"}, "output": "latest"}
	r := run(h, q, to.Add(-time.Hour), to, time.Minute)
	requireOK(t, r)
	drift := byLabels(t, r.Frames)
	r = run(h, map[string]any{"queryType": "distribution", "model": "fraud-detector", "features": features}, to.Add(-time.Hour), to, time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 2)
	for i, f := range r.Frames {
		for _, m := range []string{"psi", "js"} {
			c := fieldByName(t, f, m+" contribution", data.Labels{"method": m + "_contribution"})
			require.Equal(t, m+" contribution", c.Config.DisplayNameFromDS)
			sum, top := 0.0, 0.0
			for _, x := range floatsOf(c) {
				require.GreaterOrEqual(t, x, 0.0)
				sum += x
				top = math.Max(top, x)
			}
			want := drift["feature="+features[i]+", method="+m+", model=fraud-detector"][0]
			require.Greater(t, want, 0.1, "the window drifts") // 06:00–09:00 is in the daily drift
			require.InDelta(t, want, sum, 1e-9*want, "%s %s", features[i], m)
			require.Less(t, top, sum, "the drift is spread over several bins")
		}
	}
}

// TestDriftTableAttribution: in the drifting hours the features that drift (amount,
// merchant_category) rank first and carry most of fraud-detector's drift; the shares sum to 1; the
// impact weighs the drift by the demo fleet's declared importances.
func TestDriftTableAttribution(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour)})
	to := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	r := run(h, map[string]any{"queryType": "drift", "model": "fraud-detector", "output": "table"}, to.Add(-time.Hour), to, time.Minute)
	require.NoError(t, r.Error)
	f := r.Frames[0]
	names := stringsOf(fieldByName(t, f, "feature", nil))
	rank := floatsOf(fieldByName(t, f, "rank", nil))
	share := floatsOf(fieldByName(t, f, "drift share", nil))
	hel := floatsOf(fieldByName(t, f, "hellinger", nil))
	imp := floatsOf(fieldByName(t, f, "importance", nil))
	impact := floatsOf(fieldByName(t, f, "impact", nil))
	require.Len(t, names, 9) // 7 features, sum and mean
	byName := map[string]int{}
	total, shares, wsum, impacts := 0.0, 0.0, 0.0, 0.0
	for i, n := range names[:7] {
		byName[n] = i
		total += hel[i]
		shares += share[i]
		wsum += imp[i]
		impacts += impact[i]
	}
	require.ElementsMatch(t, []float64{1, 2}, []float64{rank[byName["amount"]], rank[byName["merchant_category"]]})
	require.Greater(t, share[byName["amount"]]+share[byName["merchant_category"]], 0.7)
	require.InDelta(t, 1, shares, 1e-12)
	require.Equal(t, 1.0, share[7])    // sum row
	require.InDelta(t, 1, wsum, 1e-12) // the demo's importances sum to 1
	require.InDelta(t, impacts, impact[7], 1e-12)
	for i := range names[:7] {
		require.InDelta(t, hel[i]/total, share[i], 1e-12)
		require.InDelta(t, imp[i]*hel[i], impact[i], 1e-12)
	}
	require.InDelta(t, 0.35, imp[byName["amount"]], 0)
	require.True(t, math.IsNaN(rank[7]) && math.IsNaN(rank[8]))
}
