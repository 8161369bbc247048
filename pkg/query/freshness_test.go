package query

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

type fakeStore struct{ reg *feast.Registry }

func (f *fakeStore) Project() string { return "rides" }
func (f *fakeStore) Registry(context.Context) (*feast.Registry, error) {
	return f.reg, nil
}
func (f *fakeStore) FeatureView(_ context.Context, name string) (*feast.Registry, *feast.FeatureView, error) {
	if v, ok := f.reg.FeatureView("", name); ok {
		return f.reg, v, nil
	}
	return nil, nil, userError("%v: %q", feast.ErrUnknownFeatureView, name)
}

type fakeOnline struct {
	newest map[string]time.Time
	err    map[string]error
	capped map[string]int
}

func (f *fakeOnline) NewestEventTime(_ context.Context, v *feast.FeatureView) (feast.NewestEvent, error) {
	if err := f.err[v.Name]; err != nil {
		return feast.NewestEvent{}, err
	}
	return feast.NewestEvent{Time: f.newest[v.Name], ScanCapped: f.capped[v.Name]}, nil
}

var freshNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func freshRegistry() *feast.Registry {
	mat := func(end time.Time) []feast.Interval {
		return []feast.Interval{{Start: end.Add(-24 * time.Hour), End: end}, {Start: end.Add(-48 * time.Hour), End: end.Add(-24 * time.Hour)}}
	}
	return &feast.Registry{FeatureViews: []feast.FeatureView{
		// fresh: materialized 1h ago, newest event 30 min ago, ttl 2h
		{Name: "fresh", Project: "rides", Online: true, TTL: 2 * time.Hour, MaterializationIntervals: mat(freshNow.Add(-time.Hour))},
		// warning: newest event 90 min ago, past half the 2h ttl
		{Name: "aging", Project: "rides", Online: true, TTL: 2 * time.Hour, MaterializationIntervals: mat(freshNow.Add(-time.Hour))},
		// stale: newest event 3h ago
		{Name: "stale", Project: "rides", Online: true, TTL: 2 * time.Hour, MaterializationIntervals: mat(freshNow.Add(-3 * time.Hour))},
		// never expires, never materialized, not online
		{Name: "static", Project: "rides"},
		// the online store cannot be read for it
		{Name: "broken", Project: "rides", Online: true, TTL: time.Hour},
		// online, but the store has none of its rows
		{Name: "empty", Project: "rides", Online: true, TTL: time.Hour, MaterializationIntervals: mat(freshNow.Add(-time.Minute))},
	}}
}

func freshHandler(online feast.OnlineStore) *Handler {
	deps := Deps{Feast: &fakeStore{reg: freshRegistry()}, Now: func() time.Time { return freshNow }}
	if online != nil {
		deps.FeastOnline = online
	}
	return New(deps)
}

func TestFreshness(t *testing.T) {
	online := &fakeOnline{
		newest: map[string]time.Time{"fresh": freshNow.Add(-30 * time.Minute), "aging": freshNow.Add(-90 * time.Minute), "stale": freshNow.Add(-3 * time.Hour)},
		err:    map[string]error{"broken": errors.New("connection refused")},
	}
	h := freshHandler(online)
	// The range ends in the future: values are taken at now.
	r := run(h, map[string]any{"queryType": "freshness", "output": "latest"}, freshNow.Add(-time.Hour), freshNow.Add(time.Hour), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	want := map[string][]float64{
		`featureView=fresh, metric=sinceMaterialized`: {3600}, `featureView=fresh, metric=sinceNewestEvent`: {1800},
		`featureView=fresh, metric=ttl`: {7200}, `featureView=fresh, metric=status`: {0},
		`featureView=aging, metric=sinceMaterialized`: {3600}, `featureView=aging, metric=sinceNewestEvent`: {5400},
		`featureView=aging, metric=ttl`: {7200}, `featureView=aging, metric=status`: {1},
		`featureView=stale, metric=sinceMaterialized`: {10800}, `featureView=stale, metric=sinceNewestEvent`: {10800},
		`featureView=stale, metric=ttl`: {7200}, `featureView=stale, metric=status`: {2},
		// not online: status from sinceMaterialized, absent here (never materialized)
		`featureView=static, metric=ttl`: {0},
		// unreadable or empty online store: no sinceNewestEvent and no status
		`featureView=broken, metric=ttl`:              {3600},
		`featureView=empty, metric=sinceMaterialized`: {60}, `featureView=empty, metric=ttl`: {3600},
	}
	require.Equal(t, want, got)
	n := notices(r.Frames)
	require.Contains(t, n, "feature view static has no materialization interval in the registry")
	require.Contains(t, n, "feature view broken: the online store cannot be read: connection refused")
	require.Contains(t, n, "feature view empty: the online store holds none of its rows")

	// Thresholds override half the ttl and the ttl.
	r = run(h, map[string]any{"queryType": "freshness", "output": "latest", "featureView": "fresh",
		"thresholds": map[string]any{"sinceNewestEvent": map[string]any{"warning": 600, "drift": 1200}}}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, []float64{2}, byLabels(t, r.Frames)[`featureView=fresh, metric=status`])

	// A range that ended an hour ago: ages at its end.
	r = run(h, map[string]any{"queryType": "freshness", "featureView": "aging"}, freshNow.Add(-2*time.Hour), freshNow.Add(-time.Hour), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.Equal(t, []float64{0}, got[`featureView=aging, metric=sinceMaterialized`])
	require.Equal(t, []float64{1800}, got[`featureView=aging, metric=sinceNewestEvent`])

	// Two hours ago: the latest interval had not ended; the newest event is later than that.
	r = run(h, map[string]any{"queryType": "freshness", "featureView": "fresh"}, freshNow.Add(-3*time.Hour), freshNow.Add(-2*time.Hour), time.Minute)
	requireOK(t, r)
	got = byLabels(t, r.Frames)
	require.Equal(t, []float64{23 * 3600}, got[`featureView=fresh, metric=sinceMaterialized`])
	require.NotContains(t, got, `featureView=fresh, metric=sinceNewestEvent`)
	require.NotContains(t, got, `featureView=fresh, metric=status`)
	require.Contains(t, notices(r.Frames), "sinceNewestEvent is only known for now")
}

// TestFreshnessScanCapped: a Redis scan cut at its cap gives the age of the newest event among
// the keys scanned, an upper bound of the true age, and says so; a cut scan that found no row of
// the view reports no age and no status (an unread view must not look fresh or stale).
func TestFreshnessScanCapped(t *testing.T) {
	online := &fakeOnline{
		newest: map[string]time.Time{"aging": freshNow.Add(-90 * time.Minute)},
		capped: map[string]int{"aging": 200000, "empty": 200000},
	}
	h := freshHandler(online)
	r := run(h, map[string]any{"queryType": "freshness", "output": "latest"}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, []float64{5400}, got[`featureView=aging, metric=sinceNewestEvent`])
	require.Equal(t, []float64{1}, got[`featureView=aging, metric=status`])
	require.NotContains(t, got, `featureView=empty, metric=sinceNewestEvent`)
	require.NotContains(t, got, `featureView=empty, metric=status`)
	n := notices(r.Frames)
	require.Contains(t, n, "feature view aging: the online store's scan for the newest event stopped at 200000 keys (limits.FeastScanKeys); "+
		"sinceNewestEvent (5400 s) is the age of the newest event among them, an upper bound of the true age, and its status may be too severe")
	require.Contains(t, n, "feature view empty: the online store's scan for the newest event stopped at 200000 keys (limits.FeastScanKeys) "+
		"without finding a row of the view; sinceNewestEvent is unknown")
	require.NotContains(t, n, "feature view empty: the online store holds none of its rows")
	require.NotContains(t, n, "feature view fresh: the online store's scan")
}

func TestFreshnessWithoutOnlineStore(t *testing.T) {
	h := freshHandler(nil)
	r := run(h, map[string]any{"queryType": "freshness", "output": "latest", "featureView": "stale"}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{
		`featureView=stale, metric=sinceMaterialized`: {10800}, `featureView=stale, metric=ttl`: {7200}, `featureView=stale, metric=status`: {2},
	}, byLabels(t, r.Frames), "status from sinceMaterialized; no made-up sinceNewestEvent")
	require.Contains(t, notices(r.Frames), "no Feast online store is configured (feast.onlineStore)")

	r = run(h, map[string]any{"queryType": "freshness", "featureView": "stale",
		"thresholds": map[string]any{"sinceMaterialized": map[string]any{"drift": 20000}}}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, []float64{1}, byLabels(t, r.Frames)[`featureView=stale, metric=status`], "past half the ttl, below the stale threshold")
}

func TestFreshnessErrors(t *testing.T) {
	h := freshHandler(nil)
	for q, want := range map[string]map[string]any{
		`feature view not in the Feast registry: "nope"`:                 {"featureView": "nope"},
		`thresholds for unknown freshness measure "psi"`:                 {"thresholds": map[string]any{"psi": map[string]any{"warning": 1}}},
		`thresholds.sinceNewestEvent: warning (10) must be <= drift (5)`: {"thresholds": map[string]any{"sinceNewestEvent": map[string]any{"warning": 10, "drift": 5}}},
		`thresholds.sinceMaterialized: -1 is not a finite number`:        {"thresholds": map[string]any{"sinceMaterialized": map[string]any{"warning": -1}}},
		`output "table" does not apply to freshness queries`:             {"output": "table"},
	} {
		want["queryType"] = "freshness"
		r := run(h, want, freshNow.Add(-time.Hour), freshNow, time.Minute)
		require.ErrorContains(t, r.Error, q)
	}
	r := run(New(Deps{}), map[string]any{"queryType": "freshness"}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	require.ErrorContains(t, r.Error, "no Feast feature store is configured")
}

// TestFreshnessFeastRegistry answers freshness from Feast's own registry file
// (../shared/fixtures/feast/registry.db): its views were never materialized and have ttls of 9000
// and 3650 days.
func TestFreshnessFeastRegistry(t *testing.T) {
	dir := os.Getenv("MODELLENS_SHARED_DIR")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(t), "..", "shared")
	}
	path := filepath.Join(dir, "fixtures", "feast", "registry.db")
	_, err := os.Stat(path)
	require.NoError(t, err, "Feast's registry fixture (set MODELLENS_SHARED_DIR for another location)")
	reader, err := feast.New(feast.Options{Settings: settings.FeastSettings{Project: "credit_scoring_aws", RegistryPath: path}})
	require.NoError(t, err)
	h := New(Deps{Feast: reader, Now: func() time.Time { return freshNow }})
	r := run(h, map[string]any{"queryType": "freshness", "output": "latest"}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, map[string][]float64{
		`featureView=credit_history, metric=ttl`:         {777600000},
		`featureView=zipcode_features, metric=ttl`:       {315360000},
		`featureView=zipcode_money_features, metric=ttl`: {315360000},
	}, byLabels(t, r.Frames))
	require.Contains(t, notices(r.Frames), "feature view credit_history has no materialization interval in the registry")
}

type fakeFreshMetrics struct {
	fakeMetrics
	view string
}

func (f *fakeFreshMetrics) Freshness(_ context.Context, req source.MetricsRequest, view string) (*source.SeriesResult, error) {
	f.view = view
	return &source.SeriesResult{Query: "max by (feature_view, project) (feast_feature_freshness_seconds)", Series: []source.Series{
		{Labels: map[string]string{"feature_view": "driver_hourly_stats", "project": "rides"}, Times: []time.Time{req.Start, req.End}, Values: []float64{60, 120}},
	}}, nil
}

func TestFreshnessFromPrometheus(t *testing.T) {
	fm := &fakeFreshMetrics{}
	h := New(Deps{Metrics: fm, Now: func() time.Time { return freshNow }})
	r := run(h, map[string]any{"queryType": "freshness", "featureView": "*"}, freshNow.Add(-time.Minute), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, "", fm.view)
	require.Equal(t, map[string][]float64{`featureView=driver_hourly_stats, metric=sinceMaterialized, project=rides`: {60, 120}}, byLabels(t, r.Frames))
	require.Contains(t, notices(r.Frames), "feast_feature_freshness_seconds gauge: sinceMaterialized only")

	// With a registry too, auto reads the registry; source prometheus the gauge.
	h = New(Deps{Metrics: fm, Feast: &fakeStore{reg: freshRegistry()}, Now: func() time.Time { return freshNow }})
	r = run(h, map[string]any{"queryType": "freshness", "source": "prometheus", "featureView": "stale", "output": "latest"}, freshNow.Add(-time.Minute), freshNow, time.Minute)
	requireOK(t, r)
	require.Equal(t, "stale", fm.view)
	r = run(h, map[string]any{"queryType": "freshness", "source": "demo"}, freshNow.Add(-time.Minute), freshNow, time.Minute)
	require.ErrorContains(t, r.Error, `freshness reads the Feast registry (source "feast") or the Feast feature server's metrics in Prometheus (source "prometheus"), not "demo"`)
}

// TestFreshnessMetricsFilter: `metrics` keeps only the named freshness metrics (an alert on status
// alone), and names outside the vocabulary are refused.
func TestFreshnessMetricsFilter(t *testing.T) {
	online := &fakeOnline{newest: map[string]time.Time{"fresh": freshNow.Add(-30 * time.Minute), "stale": freshNow.Add(-3 * time.Hour)}}
	h := freshHandler(online)
	r := run(h, map[string]any{"queryType": "freshness", "output": "latest", "metrics": []string{"status"}}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, []float64{0}, got[`featureView=fresh, metric=status`])
	require.Equal(t, []float64{2}, got[`featureView=stale, metric=status`])
	for k := range got {
		require.Contains(t, k, "metric=status")
	}
	r = run(h, map[string]any{"queryType": "freshness", "metrics": []string{"rate"}}, freshNow.Add(-time.Hour), freshNow, time.Minute)
	require.Error(t, r.Error)
	require.Contains(t, r.Error.Error(), "unknown freshness metric")
}
