package query

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

var qualityModel0 = source.Model{
	Name:       "m",
	Versions:   []string{"v1"},
	Features:   []source.Feature{{Name: "x", Type: source.Numeric}, {Name: "c", Type: source.Categorical}},
	Prediction: source.Output{Type: source.Numeric},
}

// qualityFixture: a reference with x in [1, 10] and categories a, b; ten records in (t0−10m, t0]
// with, for x, one null, two values out of range (11 and 0) and two of the wrong type (a numeric
// string read as 3, a non-numeric string read as null); for c, one null, a new category z and a
// number 7 (the wrong type, and a category the reference never had).
func qualityFixture() *fakeLog {
	var refs []rec
	for i := 1; i <= 10; i++ {
		c := "a"
		if i%2 == 0 {
			c = "b"
		}
		refs = append(refs, rec{version: "v1", features: map[string]any{"x": float64(i), "c": c}})
	}
	xs := []any{1.0, 2.0, nil, 11.0, 0.0, 5.0, wrongType{3.0}, wrongType{nil}, 5.0, 5.0}
	cs := []any{"a", "b", "z", nil, "a", "a", "a", "a", "a", wrongType{"7"}}
	var recs []rec
	for i := range xs {
		recs = append(recs, rec{ts: t0.Add(-time.Duration(10-i) * 50 * time.Second), version: "v1",
			features: map[string]any{"x": xs[i], "c": cs[i]}})
	}
	return &fakeLog{models: []source.Model{qualityModel0}, recs: map[string][]rec{"m": recs}, refs: map[string][]rec{"m": refs}}
}

func TestDataQualityShares(t *testing.T) {
	h := New(Deps{PredictionLog: qualityFixture()})
	r := run(h, map[string]any{"queryType": "dataQuality", "model": "m", "output": "latest", "window": "10m"}, t0.Add(-time.Hour), t0, time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	want := map[string]float64{
		`feature=x, metric=nullRatio, model=m`:    0.1,
		`feature=x, metric=outOfRange, model=m`:   0.2,
		`feature=x, metric=typeMismatch, model=m`: 0.2,
		`feature=x, metric=status, model=m`:       2,
		`feature=c, metric=nullRatio, model=m`:    0.1,
		`feature=c, metric=newCategory, model=m`:  0.2,
		`feature=c, metric=typeMismatch, model=m`: 0.1,
		`feature=c, metric=status, model=m`:       2,
	}
	require.Len(t, got, len(want), "outOfRange applies to numeric features only, newCategory to categorical ones: %v", got)
	for k, v := range want {
		require.Contains(t, got, k)
		require.InDelta(t, v, got[k][0], 1e-12, k)
	}

	// Thresholds override the defaults of DESIGN §5; a default fills the one not given.
	r = run(h, map[string]any{"queryType": "dataQuality", "model": "m", "output": "latest", "window": "10m", "metrics": []string{"status"},
		"thresholds": map[string]any{"nullRatio": map[string]any{"warning": 0.5, "drift": 0.6}, "outOfRange": map[string]any{"warning": 0.3, "drift": 0.4},
			"typeMismatch": map[string]any{"warning": 0.25, "drift": 0.5}, "newCategory": map[string]any{"drift": 0.15}}}, t0.Add(-time.Hour), t0, time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.Equal(t, map[string][]float64{`feature=x, metric=status, model=m`: {0}, `feature=c, metric=status, model=m`: {2}}, got)
}

func TestDataQualityTimeSeriesAndTable(t *testing.T) {
	h := New(Deps{PredictionLog: qualityFixture()})
	// Two 5-minute windows: the first (t0−10m, t0−5m] holds records 0–4, the second 5–9.
	r := run(h, map[string]any{"queryType": "dataQuality", "model": "m", "features": []string{"x"}, "metrics": []string{"nullRatio", "typeMismatch"}, "window": "5m"},
		t0.Add(-5*time.Minute), t0, 5*time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, []float64{0.2, 0}, got[`feature=x, metric=nullRatio, model=m`])
	require.Equal(t, []float64{0, 0.4}, got[`feature=x, metric=typeMismatch, model=m`])

	r = run(h, map[string]any{"queryType": "dataQuality", "model": "m", "output": "table", "window": "10m"}, t0.Add(-time.Hour), t0, time.Minute)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 1)
	f := r.Frames[0]
	require.Equal(t, data.FrameTypeTable, f.Meta.Type)
	col := func(name string) *data.Field {
		fl, _ := f.FieldByName(name)
		require.NotNil(t, fl, name)
		return fl
	}
	require.Equal(t, 2, f.Rows())
	require.Equal(t, "x", col("feature").At(0))
	require.Equal(t, 10.0, col("records").At(0))
	require.InDelta(t, 0.2, col("outOfRange").At(0).(float64), 1e-12)
	require.True(t, math.IsNaN(col("newCategory").At(0).(float64)))
	require.Equal(t, "drift", col("status").At(0))
	require.Equal(t, 1.0, col("reference min").At(0))
	require.Equal(t, 10.0, col("reference max").At(0))
	require.Equal(t, 2.0, col("reference categories").At(1))
	require.InDelta(t, 0.2, col("newCategory").At(1).(float64), 1e-12)
}

// TestDataQualityEmptyWindowAndNoReference: an empty window has no values (NaN, with a notice),
// and a model without a reference sample is a clear error.
func TestDataQualityEmptyWindowAndNoReference(t *testing.T) {
	fl := qualityFixture()
	h := New(Deps{PredictionLog: fl})
	r := run(h, map[string]any{"queryType": "dataQuality", "model": "m", "output": "latest", "window": "1m"}, t0.Add(5*time.Hour), t0.Add(6*time.Hour), time.Minute)
	requireOK(t, r)
	for k, v := range byLabels(t, r.Frames) {
		require.True(t, math.IsNaN(v[0]), k)
	}
	require.Contains(t, notices(r.Frames), "had no records")

	delete(fl.refs, "m")
	r = run(h, map[string]any{"queryType": "dataQuality", "model": "m", "output": "latest"}, t0.Add(-time.Hour), t0, time.Minute)
	require.Error(t, r.Error)
	require.Contains(t, r.Error.Error(), "reference")
}

func TestDataQualityBadQueries(t *testing.T) {
	for q, want := range map[string]string{
		`{"queryType":"dataQuality","metrics":["psi"]}`:                                      `unknown data-quality metric "psi"`,
		`{"queryType":"dataQuality","thresholds":{"psi":{"warning":0.1}}}`:                   `unknown data-quality metric "psi"`,
		`{"queryType":"dataQuality","thresholds":{"status":{"warning":0.1}}}`:                `unknown data-quality metric "status"`,
		`{"queryType":"dataQuality","thresholds":{"nullRatio":{"warning":1.5}}}`:             `must be a share in [0, 1]`,
		`{"queryType":"dataQuality","thresholds":{"nullRatio":{"warning":0.5,"drift":0.1}}}`: `warning (0.5) must be <= drift (0.1)`,
		`{"queryType":"dataQuality","thresholds":{"newCategory":{"warning":0.3}}}`:           `warning (0.3) must be <= drift (0.05)`,
		`{"queryType":"dataQuality","thresholds":{"nullRatio":{}}}`:                          `needs warning, drift or both`,
		`{"queryType":"traffic","metrics":["nullRatio"]}`:                                    `unknown traffic metric "nullRatio"`,
		`{"queryType":"dataQuality","model":"m","features":["nope"]}`:                        `has no feature "nope"`,
	} {
		r := run(New(Deps{PredictionLog: qualityFixture()}), mustJSON(t, q), t0.Add(-time.Hour), t0, time.Minute)
		require.Error(t, r.Error, q)
		require.Contains(t, r.Error.Error(), want, q)
	}
}

func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

// TestDataQualitySeesTheDemoIncidents: on the demo fleet, the latest 10-minute window inside the
// null hour has nullRatio 1 (status 2) for fraud-detector's distance_km and the one just before it
// 0; inside the new-category hour churn-classifier's payment_method has newCategory ≈ 0.1 (status
// 2) and 0 just before it.
func TestDataQualitySeesTheDemoIncidents(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	latest := func(model, feature, metric string, at time.Time) float64 {
		r := run(h, map[string]any{"queryType": "dataQuality", "model": model, "features": []string{feature}, "metrics": []string{metric},
			"output": "latest", "window": "10m"}, at.Add(-time.Hour), at, time.Minute)
		requireOK(t, r)
		got := byLabels(t, r.Frames)
		require.Len(t, got, 1)
		for _, v := range got {
			return v[0]
		}
		return nan
	}
	n := demo.NullIncident
	start := day.Add(n.Start)
	require.Equal(t, 0.0, latest(n.Model, n.Feature, "nullRatio", start))
	require.Equal(t, 0.0, latest(n.Model, n.Feature, "status", start))
	require.Equal(t, 1.0, latest(n.Model, n.Feature, "nullRatio", start.Add(30*time.Minute)))
	require.Equal(t, 2.0, latest(n.Model, n.Feature, "status", start.Add(30*time.Minute)))
	require.Equal(t, 0.0, latest(n.Model, n.Feature, "nullRatio", start.Add(n.Duration+10*time.Minute)))

	c := demo.NewCategoryIncident
	start = day.Add(c.Start)
	require.Equal(t, 0.0, latest(c.Model, c.Feature, "newCategory", start))
	// About 1,000 records per 10 minutes: 0.1 within ±0.045 (5 binomial standard deviations).
	require.InDelta(t, 0.1, latest(c.Model, c.Feature, "newCategory", start.Add(30*time.Minute)), 0.045)
	require.Equal(t, 2.0, latest(c.Model, c.Feature, "status", start.Add(30*time.Minute)))
	require.Equal(t, 0.0, latest(c.Model, c.Feature, "newCategory", start.Add(c.Duration+10*time.Minute)))
}
