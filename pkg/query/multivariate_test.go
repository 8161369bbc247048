package query

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// TestPCAReconstructionCatchesCorrelationBreak: the demo fleet's price-regressor draws age_years
// and lot_size_sqft dependently except from demo.CorrelationBreakStart (02:00) to
// demo.CorrelationBreakEnd (04:00) UTC, with unchanged marginals. Hourly points over a day (each
// the hour ending there; point 0 is 23:00–24:00 of the day before):
//   - univariate psi and ks_pvalue of both features never reach drift (psi < 0.1 everywhere;
//     measured ≤ 0.01; ks p-values 0.06–1, chance alone);
//   - pca_reconstruction over the numeric features is within its bounds at night (points 1, 2,
//     5, 6), above them in the break (points 3, 4: 1.25 against an upper bound of 0.99) and in
//     the daily sqft drift (points 0 and 7–24), which is real drift too.
func TestPCAReconstructionCatchesCorrelationBreak(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: refstats.New(time.Hour), MaxSamples: 2_000_000})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 2*time.Hour, demo.CorrelationBreakStart)
	require.Equal(t, 4*time.Hour, demo.CorrelationBreakEnd)
	q := map[string]any{"queryType": "drift", "model": "price-regressor", "window": "1h",
		"methods": []string{"pca_reconstruction", "psi", "ks_pvalue", "status"}}
	r := run(h, q, day, day.Add(24*time.Hour), time.Hour)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	for _, f := range demo.CorrelationBreakFeatures {
		for i, v := range got["feature="+f+", method=psi, model=price-regressor"] {
			require.Less(t, v, 0.1, "%s psi at point %d", f, i)
		}
		for i, v := range got["feature="+f+", method=status, model=price-regressor"] {
			require.Less(t, v, 2.0, "%s status at point %d", f, i)
		}
	}
	errs := got["feature=*, method=pca_reconstruction, model=price-regressor"]
	upper := got["feature=*, method=pca_reconstruction_upper, model=price-regressor"]
	lower := got["feature=*, method=pca_reconstruction_lower, model=price-regressor"]
	status := got["feature=*, method=status, model=price-regressor"]
	require.Len(t, errs, 25)
	want := make([]float64, 25)
	for i := range want {
		if i == 0 || i == 3 || i == 4 || i >= 7 {
			want[i] = 2
		}
	}
	require.Equal(t, want, status)
	for i, e := range errs {
		if status[i] == 0 {
			require.True(t, e >= lower[i] && e <= upper[i], "point %d: %v outside [%v, %v]", i, e, lower[i], upper[i])
		} else {
			require.Greater(t, e, upper[i], "point %d", i)
		}
	}
	require.Contains(t, notices(r.Frames), "pca_reconstruction keeps 3 of 5 components")
	require.Contains(t, notices(r.Frames), "over 10 reference chunks of 500 rows")
	require.Contains(t, notices(r.Frames), "neighborhood, condition left out")

	// Only the multivariate series when only it (and status) is asked; latest works too.
	q["methods"] = []string{"pca_reconstruction"}
	q["output"] = "latest"
	r = run(h, q, day.Add(3*time.Hour), day.Add(4*time.Hour), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.ElementsMatch(t, []string{"feature=*, method=pca_reconstruction, model=price-regressor",
		"feature=*, method=pca_reconstruction_lower, model=price-regressor", "feature=*, method=pca_reconstruction_upper, model=price-regressor"}, byLabelsKeys(t, r.Frames))
	require.InDelta(t, errs[4], got["feature=*, method=pca_reconstruction, model=price-regressor"][0], 1e-12)
}

// TestPCAFitCached: the fitted PCA is kept with the cached prepared reference.
func TestPCAFitCached(t *testing.T) {
	cache := refstats.New(time.Hour)
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), References: cache})
	day := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	q := map[string]any{"queryType": "drift", "model": "price-regressor", "methods": []string{"pca_reconstruction"}, "output": "latest"}
	requireOK(t, run(h, q, day, day.Add(time.Hour), time.Minute))
	ref, err := h.datasetReference(t.Context(), h.cat.byName(SourceDemo), "price-regressor", "")
	require.NoError(t, err)
	vars := []string{"sqft", "bedrooms", "bathrooms", "age_years", "lot_size_sqft"}
	first := fitPCA(ref, vars)
	requireOK(t, run(h, q, day, day.Add(time.Hour), time.Minute))
	require.Same(t, first, fitPCA(ref, vars))
}

func TestPCAReconstructionErrors(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	day := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		q    map[string]any
		want string
	}{
		{map[string]any{"output": "table"}, "not a table row"},
		{map[string]any{"reference": map[string]any{"kind": "offset", "offset": "1d"}}, "compares with one fitted reference"},
		{map[string]any{"features": []string{"age_years", "neighborhood"}}, "needs at least 2 numeric features"},
		{map[string]any{"thresholds": map[string]any{"pca_reconstruction": map[string]any{"warning": 1, "drift": 2}}}, "thresholds for unknown method"},
	} {
		q := map[string]any{"queryType": "drift", "model": "price-regressor", "methods": []string{"pca_reconstruction"}}
		for k, v := range c.q {
			q[k] = v
		}
		r := run(h, q, day, day.Add(time.Hour), time.Minute)
		require.Error(t, r.Error, c.want)
		require.True(t, strings.Contains(r.Error.Error(), c.want), "%v: %v", c.q, r.Error)
	}
}
