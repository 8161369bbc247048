package query

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// fakeFeastStore is a FeatureStore answering a fixed registry of project "demo".
type fakeFeastStore struct{ reg *feast.Registry }

func (f fakeFeastStore) Project() string                                   { return "demo" }
func (f fakeFeastStore) Registry(context.Context) (*feast.Registry, error) { return f.reg, nil }
func (f fakeFeastStore) FeatureView(_ context.Context, name string) (*feast.Registry, *feast.FeatureView, error) {
	if v, ok := f.reg.FeatureView("demo", name); ok {
		return f.reg, v, nil
	}
	return nil, nil, fmt.Errorf("%w: %q is not a feature view of project \"demo\"", feast.ErrUnknownFeatureView, name)
}

// testRegistry: project "demo"; entity driver (driver_id, INT64 from the view's entity columns);
// view driver_stats (conv_rate DOUBLE, trips INT64, tier STRING; ttl 2h) with a PostgreSQL batch
// source driver_stats_source whose column "conv" holds conv_rate; view zip_stats (zipcode STRING).
func testRegistry() *feast.Registry {
	return &feast.Registry{
		Entities: []feast.Entity{{Name: "driver", Project: "demo", JoinKey: "driver_id"}, {Name: "zip", Project: "demo", JoinKey: "zipcode", ValueType: feast.ValueString}},
		FeatureViews: []feast.FeatureView{
			{Name: "driver_stats", Project: "demo", Entities: []string{"driver"}, Online: true, TTL: 2 * time.Hour,
				EntityColumns: []feast.Field{{Name: "driver_id", ValueType: feast.ValueInt64}},
				Features:      []feast.Field{{Name: "conv_rate", ValueType: feast.ValueDouble}, {Name: "trips", ValueType: feast.ValueInt64}, {Name: "tier", ValueType: feast.ValueString}},
				BatchSource: feast.DataSource{Name: "driver_stats_source", Table: "driver_stats_source", TimestampField: "event_timestamp",
					CreatedTimestampColumn: "created", FieldMapping: map[string]string{"conv": "conv_rate"}}},
			{Name: "zip_stats", Project: "demo", Entities: []string{"zip"}, Online: true,
				Features: []feast.Field{{Name: "income", ValueType: feast.ValueDouble}}},
			{Name: "other_project_view", Project: "elsewhere", Online: true},
		},
	}
}

func drv(id int64) online.EntityKey {
	return online.EntityKey{JoinKeys: []string{"driver_id"}, Values: []online.Value{online.Int64(id)}}
}

// numbersByLabels maps a response's numbers by "k=v,..." of their labels.
func numbersByLabels(t *testing.T, resp backend.DataResponse, keys ...string) map[string]float64 {
	t.Helper()
	require.NoError(t, resp.Error)
	out := map[string]float64{}
	for _, f := range resp.Frames {
		for _, fld := range f.Fields {
			if fld.Type() != data.FieldTypeFloat64 {
				continue
			}
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+fld.Labels[k])
			}
			out[strings.Join(parts, ",")] = fld.At(fld.Len() - 1).(float64)
		}
	}
	return out
}

var lookupNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func TestLookupsRedis(t *testing.T) {
	srv := testdb.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	rows := []online.WriteRow{
		{Key: drv(1001), EventTime: lookupNow.Add(-10 * time.Minute), Values: map[string]online.Value{"conv_rate": online.Double(0.5), "trips": online.Int64(3), "tier": online.String("gold")}},
		{Key: drv(1002), EventTime: lookupNow.Add(-3 * time.Hour), Values: map[string]online.Value{"conv_rate": online.Double(0.4), "trips": online.Int64(1), "tier": online.String("gold")}},
		{Key: drv(1003), EventTime: lookupNow.Add(-time.Hour), Values: map[string]online.Value{"conv_rate": online.Double(0.1), "trips": online.Int64(9), "tier": online.Null()}},
	}
	require.NoError(t, online.WriteRedis(ctx, c, "demo", online.KeyV3, "driver_stats", rows, 0))
	store := online.NewRedisFromClient(c, "demo", online.KeyV3)
	log := &fakeLog{models: []source.Model{{Name: "eta", Features: []source.Feature{{Name: "driver_id", Type: source.Numeric}, {Name: "conv_rate", Type: source.Numeric}}}},
		recs: map[string][]rec{"eta": {
			{ts: lookupNow.Add(-50 * time.Minute), features: map[string]any{"driver_id": 1001.0}},
			{ts: lookupNow.Add(-40 * time.Minute), features: map[string]any{"driver_id": 1004.0}},
			{ts: lookupNow.Add(-30 * time.Minute), features: map[string]any{"driver_id": 1001.0}},
			{ts: lookupNow.Add(-20 * time.Minute), features: map[string]any{"driver_id": nil}},
		}}}
	h := New(Deps{PredictionLog: log, Feast: fakeFeastStore{testRegistry()}, FeastLookups: store, FeastNow: func() time.Time { return lookupNow }})
	from, to := lookupNow.Add(-time.Hour), lookupNow

	// 4 entities × 3 features: 1001 all PRESENT, 1002 all OUTSIDE_MAX_AGE (3 h > ttl 2 h), 1003 two
	// PRESENT and a null tier, 1004 NOT_FOUND.
	q := map[string]any{"queryType": "lookups", "featureView": "driver_stats", "output": "latest",
		"entities": []any{map[string]any{"driver_id": 1001}, map[string]any{"driver_id": 1002}, map[string]any{"driver_id": 1003}, map[string]any{"driver_id": "1004"}}}
	got := numbersByLabels(t, run(h, q, from, to, time.Minute), "featureView", "status")
	require.Equal(t, map[string]float64{
		"featureView=driver_stats,status=PRESENT":         5.0 / 12,
		"featureView=driver_stats,status=NOT_FOUND":       3.0 / 12,
		"featureView=driver_stats,status=NULL_VALUE":      1.0 / 12,
		"featureView=driver_stats,status=OUTSIDE_MAX_AGE": 3.0 / 12,
	}, got)

	// Default probe set: the distinct driver_ids of the model's records (1001, 1004).
	q = map[string]any{"queryType": "lookups", "model": "eta", "featureView": "driver_stats"}
	resp := run(h, q, from, to, time.Minute)
	got = numbersByLabels(t, resp, "status")
	require.Equal(t, map[string]float64{"status=PRESENT": 0.5, "status=NOT_FOUND": 0.5, "status=NULL_VALUE": 0, "status=OUTSIDE_MAX_AGE": 0}, got)
	require.Equal(t, data.FrameTypeTimeSeriesMulti, resp.Frames[0].Meta.Type)
	require.Contains(t, fmt.Sprint(resp.Frames[0].Meta.Notices), "probe set: 2 entities")

	// All online views: zip_stats gets no probe (no zipcode), with a notice.
	q = map[string]any{"queryType": "lookups", "output": "latest", "entities": []any{map[string]any{"driver_id": 1001}}}
	resp = run(h, q, from, to, time.Minute)
	got = numbersByLabels(t, resp, "featureView", "status")
	require.Len(t, got, 4)
	require.Contains(t, fmt.Sprint(resp.Frames[0].Meta.Notices), "zip_stats: no probed entity has its join keys")

	// A huge probe set is capped with a notice.
	many := make([]any, 10_050)
	for i := range many {
		many[i] = map[string]any{"driver_id": 5000 + i}
	}
	resp = run(h, map[string]any{"queryType": "lookups", "featureView": "driver_stats", "output": "latest", "entities": many}, from, to, time.Minute)
	require.NoError(t, resp.Error)
	require.Contains(t, fmt.Sprint(resp.Frames[0].Meta.Notices), "only the first 10000 are probed")

	// Bad input: an unknown view, a nested entity value, no entities and no model.
	for q, want := range map[string]string{
		`{"queryType":"lookups","featureView":"nope","entities":[{"driver_id":1}]}`: `"nope" is not a feature view of project "demo"`,
		`{"queryType":"lookups","entities":[{"driver_id":{"x":1}}]}`:                "must be a number or a string",
		`{"queryType":"lookups","entities":[{}]}`:                                   "entities[0] is empty",
		`{"queryType":"lookups"}`:                                                   "need entities",
		`{"queryType":"traffic","entities":[{"a":1}]}`:                              "entities apply only to lookups and skew",
	} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(q), &m))
		resp := run(h, m, from, to, time.Minute)
		require.Error(t, resp.Error, q)
		require.Contains(t, resp.Error.Error(), want, q)
		require.Equal(t, backend.ErrorSourceDownstream, resp.ErrorSource, q)
	}

	// Keys written with version 2 while the settings say 3: named.
	srv2 := testdb.StartRedis(t)
	c2 := srv2.Client(t)
	require.NoError(t, online.WriteRedis(ctx, c2, "demo", online.KeyV2, "driver_stats", rows, 0))
	h2 := New(Deps{Feast: fakeFeastStore{testRegistry()}, FeastLookups: online.NewRedisFromClient(c2, "demo", online.KeyV3)})
	resp = run(h2, map[string]any{"queryType": "lookups", "featureView": "driver_stats", "entities": []any{map[string]any{"driver_id": 1001}}}, from, to, time.Minute)
	require.Error(t, resp.Error)
	require.Contains(t, resp.Error.Error(), "serialized with version 2 but feast.onlineStore.keySerializationVersion is 3")

	// An unreachable Redis: a per-query downstream error.
	dead, err := online.NewRedis(online.RedisOptions{Address: fmt.Sprintf("127.0.0.1:%d", testdb.FreePort(t)), Project: "demo", Timeout: time.Second})
	require.NoError(t, err)
	defer dead.Close()
	h3 := New(Deps{Feast: fakeFeastStore{testRegistry()}, FeastLookups: dead})
	resp = run(h3, map[string]any{"queryType": "lookups", "featureView": "driver_stats", "entities": []any{map[string]any{"driver_id": 1001}}}, from, to, time.Minute)
	require.Error(t, resp.Error)
	require.Equal(t, backend.ErrorSourceDownstream, resp.ErrorSource)

	// No Feast configured.
	resp = run(New(Deps{}), map[string]any{"queryType": "lookups"}, from, to, time.Minute)
	require.ErrorContains(t, resp.Error, "no Feast feature store is configured")
}

func TestLookupStatus(t *testing.T) {
	now := lookupNow
	cell := func(v online.Value, age time.Duration) online.Cell {
		return online.Cell{Stored: true, Value: v, EventTime: now.Add(-age)}
	}
	for _, c := range []struct {
		found bool
		cell  online.Cell
		ttl   time.Duration
		want  string
	}{
		{false, online.Cell{}, time.Hour, StatusNotFound},
		{true, online.Cell{}, time.Hour, StatusNotFound},
		{true, cell(online.Null(), 5*time.Hour), time.Hour, StatusNullValue},
		{true, cell(online.Value{}, 0), time.Hour, StatusNullValue},
		{true, cell(online.Double(1), time.Hour+time.Nanosecond), time.Hour, StatusOutsideMaxAge},
		{true, cell(online.Double(1), time.Hour), time.Hour, StatusPresent}, // now − ts > ttl, strictly
		{true, cell(online.Double(1), 1000*time.Hour), 0, StatusPresent},    // ttl 0 never expires
	} {
		require.Equal(t, c.want, lookupStatus(c.found, c.cell, c.ttl, now), "%+v", c)
	}
}

func TestFeatureStatsPostgres(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	off, err := offline.New(offline.Options{URL: pg.URLWithoutPassword(), Password: pg.Password})
	require.NoError(t, err)
	defer off.Close()
	h := New(Deps{Feast: fakeFeastStore{testRegistry()}, FeastOffline: off})
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	from, to := day(10), day(13).Add(12*time.Hour)

	resp := run(h, map[string]any{"queryType": "featureStats"}, from, to, time.Hour)
	require.Error(t, resp.Error)
	require.Contains(t, resp.Error.Error(), "monitoring is not set up")
	require.Equal(t, backend.ErrorSourceDownstream, resp.ErrorSource)

	conn := pg.Conn(t)
	require.NoError(t, offline.EnsureMonitoringTables(ctx, conn))
	var rows []offline.MetricRow
	n := math.NaN()
	for d := 1; d <= 20; d++ {
		rows = append(rows,
			offline.MetricRow{View: "driver_stats", Feature: "conv_rate", Date: day(d), DataSourceType: "batch", FeatureType: "numeric",
				RowCount: float64(100 * d), NullCount: float64(d), NullRate: float64(d) / 100, Mean: 0.5, Stddev: 0.1, Min: 0, Max: 1,
				P50: 0.5, P75: 0.6, P90: 0.7, P95: 0.8, P99: 0.9, IsBaseline: d == 1},
			offline.MetricRow{View: "driver_stats", Feature: "conv_rate", Date: day(d), DataSourceType: "log", FeatureType: "numeric",
				RowCount: 10, NullCount: 0, NullRate: 0, Mean: 0.6, Stddev: n, Min: n, Max: n, P50: n, P75: n, P90: n, P95: n, P99: n},
			offline.MetricRow{View: "driver_stats", Feature: "tier", Date: day(d), FeatureType: "categorical", RowCount: 100, NullCount: 0,
				NullRate: 0.5, Mean: n, Stddev: n, Min: n, Max: n, P50: n, P75: n, P90: n, P95: n, P99: n},
			offline.MetricRow{View: "driver_stats", Feature: "conv_rate", Date: day(d), Granularity: "weekly", DataSourceType: "batch",
				FeatureType: "numeric", RowCount: 7, NullCount: 0, NullRate: 0.99, Mean: n, Stddev: n, Min: n, Max: n, P50: n, P75: n, P90: n, P95: n, P99: n})
	}
	require.NoError(t, offline.WriteFeatureMetrics(ctx, conn, "demo", rows))

	resp = run(h, map[string]any{"queryType": "featureStats", "featureView": "driver_stats", "metrics": []string{"nullRate", "rowCount", "mean"}}, from, to, time.Hour)
	require.NoError(t, resp.Error)
	type series struct {
		times []time.Time
		vals  []float64
	}
	got := map[string]series{}
	for _, f := range resp.Frames {
		v := f.Fields[1]
		var s series
		for i := 0; i < f.Rows(); i++ {
			s.times = append(s.times, f.Fields[0].At(i).(time.Time))
			s.vals = append(s.vals, v.At(i).(float64))
		}
		got[fmt.Sprintf("%s/%s/%s/%s/%s", v.Labels["feature"], v.Labels["dataSourceType"], v.Labels["metric"], v.Labels["baseline"], v.Labels["featureView"])] = s
	}
	// Daily rows of 10..13 November: batch conv_rate nullRate, rowCount, mean (+ baselines from 1 November),
	// log conv_rate (nullRate, rowCount, mean: no baseline), tier (nullRate, rowCount; mean all null).
	require.Len(t, got, 6+3+2, "%v", mapKeys(got))
	s := got["conv_rate/batch/nullRate//driver_stats"]
	require.Equal(t, []time.Time{day(10), day(11), day(12), day(13)}, s.times)
	require.Equal(t, []float64{0.10, 0.11, 0.12, 0.13}, s.vals)
	require.Equal(t, []float64{0.01, 0.01}, got["conv_rate/batch/nullRate/true/driver_stats"].vals)
	require.Equal(t, []float64{100, 100}, got["conv_rate/batch/rowCount/true/driver_stats"].vals)
	require.Equal(t, []float64{0.6, 0.6, 0.6, 0.6}, got["conv_rate/log/mean//driver_stats"].vals)
	require.NotContains(t, got, "tier/batch/mean//driver_stats")
	require.Equal(t, "percentunit", resp.Frames[0].Fields[1].Config.Unit)

	// latest: the newest date's value; weekly granularity through window 7d.
	resp = run(h, map[string]any{"queryType": "featureStats", "output": "latest", "window": "7d", "features": []string{"conv_rate"}, "metrics": []string{"nullRate"}}, from, to, time.Hour)
	nums := numbersByLabels(t, resp, "dataSourceType", "metric", "baseline")
	require.Equal(t, map[string]float64{"dataSourceType=batch,metric=nullRate,baseline=": 0.99}, nums)

	for q, want := range map[string]string{
		`{"queryType":"featureStats","metrics":["rate"]}`:  "unknown featureStats metric",
		`{"queryType":"featureStats","window":"5m"}`:       "monitoring granularities",
		`{"queryType":"featureStats","featureView":"zzz"}`: "is not a feature view of project",
		`{"queryType":"skew","metrics":["nullRate"]}`:      "unknown skew metric",
	} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(q), &m))
		resp := run(h, m, from, to, time.Hour)
		require.ErrorContains(t, resp.Error, want, q)
	}
	resp = run(New(Deps{Feast: fakeFeastStore{testRegistry()}}), map[string]any{"queryType": "featureStats"}, from, to, time.Hour)
	require.ErrorContains(t, resp.Error, "set feast.offlineStore.url")
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSkewPostgres(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	// Batch source: every driver's features each hour of 4 December; conv = 0.01·driver + hour/100.
	_, err := conn.Exec(ctx, `CREATE TABLE driver_stats_source (driver_id BIGINT, event_timestamp TIMESTAMPTZ, created TIMESTAMPTZ,
		conv DOUBLE PRECISION, trips BIGINT, tier TEXT);
	INSERT INTO driver_stats_source
	SELECT d, '2026-12-04 00:00Z'::timestamptz + h * interval '1 hour', '2026-12-04 00:00Z'::timestamptz + h * interval '1 hour',
		0.01 * (d - 1000) + h / 100.0, d + h, CASE WHEN d % 2 = 0 THEN 'gold' ELSE 'silver' END
	FROM generate_series(1001, 1010) d, generate_series(0, 23) h;`)
	require.NoError(t, err)
	off, err := offline.New(offline.Options{URL: pg.URLWithoutPassword(), Password: pg.Password})
	require.NoError(t, err)
	defer off.Close()

	// Records every 6 minutes from 10:00 to 12:00 for drivers 1001..1010 in turn, served with the
	// point-in-time values, except: every 4th record's conv_rate is 0.1 too high (a known skew); tier
	// is always right; every 10th record (i = 9, 19, ...) is of a driver without rows.
	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var recs []rec
	for i := 1; i <= 40; i++ {
		ts := base.Add(time.Duration(i) * 3 * time.Minute)
		d := 1001 + (i % 10)
		if i%10 == 9 {
			d = 1011 + i // unknown driver: notFound
		}
		h := float64(ts.Hour())
		conv := 0.01*float64(d-1000) + h/100
		if i%4 == 0 {
			conv += 0.1
		}
		tier := "silver"
		if d%2 == 0 {
			tier = "gold"
		}
		recs = append(recs, rec{ts: ts, features: map[string]any{"driver_id": float64(d), "conv_rate": conv, "tier": tier, "other": 1.0}})
	}
	log := &fakeLog{models: []source.Model{{Name: "eta", Features: []source.Feature{{Name: "driver_id", Type: source.Numeric},
		{Name: "conv_rate", Type: source.Numeric}, {Name: "tier", Type: source.Categorical}, {Name: "other", Type: source.Numeric}}}},
		recs: map[string][]rec{"eta": recs}}
	h := New(Deps{PredictionLog: log, Feast: fakeFeastStore{testRegistry()}, FeastOffline: off})
	from, to := base, base.Add(2*time.Hour)

	resp := run(h, map[string]any{"queryType": "skew", "model": "eta", "output": "latest", "metrics": []string{"mismatch", "meanAbsDiff", "notFound", "compared"}}, from, to, time.Minute)
	got := numbersByLabels(t, resp, "featureView", "feature", "metric")
	// 40 records, 4 of unknown drivers (i = 9, 19, 29, 39): 36 compared. conv_rate: records i%4 == 0
	// with a known driver: 10 of 36 skewed by 0.1 → mismatch 10/36, mean |diff| 1/36.
	require.Equal(t, 36.0, got["featureView=driver_stats,feature=conv_rate,metric=compared"])
	require.InDelta(t, 10.0/36, got["featureView=driver_stats,feature=conv_rate,metric=mismatch"], 1e-12)
	require.InDelta(t, 1.0/36, got["featureView=driver_stats,feature=conv_rate,metric=meanAbsDiff"], 1e-9) // float sums of 0.1 steps
	require.InDelta(t, 4.0/40, got["featureView=driver_stats,feature=conv_rate,metric=notFound"], 1e-12)
	require.Equal(t, 0.0, got["featureView=driver_stats,feature=tier,metric=mismatch"])
	require.True(t, math.IsNaN(got["featureView=driver_stats,feature=tier,metric=meanAbsDiff"]))
	require.Len(t, got, 8, "%v", mapKeys(got)) // trips is not a model feature; zip_stats has no batch source

	// Time series: 30-minute windows; the first window (10:00, 10:30] holds records i = 1..10.
	resp = run(h, map[string]any{"queryType": "skew", "model": "eta", "featureView": "driver_stats", "window": "30m", "metrics": []string{"mismatch"}}, from, to, 30*time.Minute)
	require.NoError(t, resp.Error)
	var conv *data.Frame
	for _, f := range resp.Frames {
		if f.Fields[1].Labels["feature"] == "conv_rate" {
			conv = f
		}
	}
	require.NotNil(t, conv)
	require.Equal(t, base.Add(30*time.Minute), conv.Fields[0].At(1).(time.Time))
	// (10:00, 10:30]: i = 1..10, unknown i = 9, skewed i = 4, 8 → 2/9.
	require.InDelta(t, 2.0/9, conv.Fields[1].At(1).(float64), 1e-12)

	// The ttl (2 h) bounds the point-in-time row: records at 10:xx find rows; none exist before 00:00.
	// entities restrict the records; an unknown driver only: nothing compared, a notice.
	resp = run(h, map[string]any{"queryType": "skew", "model": "eta", "output": "latest", "featureView": "driver_stats",
		"entities": []any{map[string]any{"driver_id": 1020}}, "metrics": []string{"compared", "notFound"}}, from, to, time.Minute)
	got = numbersByLabels(t, resp, "feature", "metric")
	require.Equal(t, 0.0, got["feature=conv_rate,metric=compared"])
	require.Equal(t, 1.0, got["feature=conv_rate,metric=notFound"])
	require.Contains(t, fmt.Sprint(resp.Frames[0].Meta.Notices), "no record has a point-in-time row")

	// Errors: no model; a view whose batch source table is missing.
	resp = run(h, map[string]any{"queryType": "skew"}, from, to, time.Minute)
	require.ErrorContains(t, resp.Error, "name a model")
	reg := testRegistry()
	reg.FeatureViews[0].BatchSource.Table = "missing_table"
	h2 := New(Deps{PredictionLog: log, Feast: fakeFeastStore{reg}, FeastOffline: off})
	resp = run(h2, map[string]any{"queryType": "skew", "model": "eta"}, from, to, time.Minute)
	require.ErrorContains(t, resp.Error, "does not exist in the offline store")
	require.Equal(t, backend.ErrorSourceDownstream, resp.ErrorSource)
}

func TestDriftFeastBaseline(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	require.NoError(t, offline.EnsureMonitoringTables(ctx, conn))
	n := math.NaN()
	base := func(feature, ftype, dst string, hist string) offline.MetricRow {
		return offline.MetricRow{View: "driver_stats", Feature: feature, Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), DataSourceType: dst,
			FeatureType: ftype, IsBaseline: true, RowCount: 100, NullCount: 0, NullRate: 0, Mean: n, Stddev: n, Min: n, Max: n,
			P50: n, P75: n, P90: n, P95: n, P99: n, Histogram: json.RawMessage(hist)}
	}
	require.NoError(t, offline.WriteFeatureMetrics(ctx, conn, "demo", []offline.MetricRow{
		base("conv_rate", "numeric", "batch", `{"bins":[0,0.25,0.5,0.75,1],"counts":[25,25,25,25],"bin_width":0.25}`),
		// The serving log's baseline is not the one used when the batch source has one.
		base("conv_rate", "numeric", "log", `{"bins":[0,1],"counts":[1],"bin_width":1}`),
		base("tier", "categorical", "batch", `{"values":[{"value":"gold","count":60},{"value":"silver","count":30}],"other_count":10,"unique_count":4}`),
	}))
	off, err := offline.New(offline.Options{URL: pg.URLWithoutPassword(), Password: pg.Password})
	require.NoError(t, err)
	defer off.Close()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var recs []rec
	for i := 1; i <= 4; i++ {
		tier := "gold"
		if i%2 == 0 {
			tier = "bronze" // not in the baseline's top categories: "other"
		}
		// conv_rate in [0.75, 1], the last edge included as numpy.histogram does.
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Minute), features: map[string]any{"conv_rate": 0.75 + float64(i-1)/12, "tier": tier, "driver_id": 1.0}})
	}
	log := &fakeLog{models: []source.Model{{Name: "eta", Features: []source.Feature{{Name: "conv_rate", Type: source.Numeric},
		{Name: "tier", Type: source.Categorical}, {Name: "driver_id", Type: source.Numeric}}}}, recs: map[string][]rec{"eta": recs}}
	h := New(Deps{PredictionLog: log, Feast: fakeFeastStore{testRegistry()}, FeastOffline: off})
	resp := run(h, map[string]any{"queryType": "drift", "model": "eta", "output": "latest", "reference": map[string]any{"kind": "feast"},
		"methods": []string{"psi", "tvd", "status"}}, t0, t0.Add(10*time.Minute), time.Minute)
	got := numbersByLabels(t, resp, "feature", "method")
	// conv_rate: p = (0, .25, .25, .25, .25, 0) over the baseline's bins and the open outer ones,
	// q = (0, 0, 0, 0, 1, 0). DESIGN §5: psi = Σ (q−p)·ln(q/p) with zero proportions as 1e-4;
	// tvd = ½ Σ |p−q|.
	wantPSI := 3*(1e-4-0.25)*math.Log(1e-4/0.25) + 0.75*math.Log(1/0.25)
	require.InDelta(t, wantPSI, got["feature=conv_rate,method=psi"], 1e-12)
	require.InDelta(t, 0.75, got["feature=conv_rate,method=tvd"], 1e-12)
	require.Equal(t, 2.0, got["feature=conv_rate,method=status"])
	// tier: p = (.6, .3, .1) for gold, silver, other; q = (.5, 0, .5).
	require.InDelta(t, 0.4, got["feature=tier,method=tvd"], 1e-12)
	require.NotContains(t, got, "feature=driver_id,method=psi")
	notices := fmt.Sprint(resp.Frames[0].Meta.Notices)
	require.Contains(t, notices, "reference is Feast's data-quality baseline of driver_stats:conv_rate (batch of 2026-11-01, 6 bins)")
	require.Contains(t, notices, `no Feast data-quality baseline for "driver_id"`)

	for q, want := range map[string]string{
		`{"queryType":"drift","model":"eta","reference":{"kind":"feast"},"methods":["wasserstein"]}`: "needs raw reference samples",
		`{"queryType":"drift","model":"eta","reference":{"kind":"feast","from":"now-1d"}}`:           "apply only to reference.kind",
		`{"queryType":"drift","model":"eta","reference":{"kind":"feast"},"features":["nope"]}`:       `has no feature "nope"`,
		`{"queryType":"drift","model":"eta","reference":{"kind":"feast"},"output":"table"}`:          "not a table",
	} {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(q), &m))
		resp := run(h, m, t0, t0.Add(10*time.Minute), time.Minute)
		require.ErrorContains(t, resp.Error, want, q)
	}
	resp = run(New(Deps{PredictionLog: log, Feast: fakeFeastStore{testRegistry()}}), map[string]any{"queryType": "drift", "model": "eta",
		"reference": map[string]any{"kind": "feast"}}, t0, t0.Add(10*time.Minute), time.Minute)
	require.ErrorContains(t, resp.Error, "set feast.offlineStore.url")
}
