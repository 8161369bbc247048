package offline

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
)

func openStore(t *testing.T, pg *testdb.Postgres) *Store {
	t.Helper()
	s, err := New(Options{URL: pg.URLWithoutPassword(), Password: pg.Password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func day(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }

func TestFeatureMetrics(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	s := openStore(t, pg)
	_, _, err := s.FeatureMetrics(ctx, MetricsQuery{Project: "demo"})
	if !errors.Is(err, ErrNoMonitoring) || !strings.Contains(err.Error(), "not set up") {
		t.Fatalf("missing tables: %v", err)
	}
	conn := pg.Conn(t)
	if err := EnsureMonitoringTables(ctx, conn); err != nil {
		t.Fatal(err)
	}
	hist := json.RawMessage(`{"bins":[0,0.5,1],"counts":[3,7],"bin_width":0.5}`)
	var rows []MetricRow
	for d := 1; d <= 5; d++ {
		rows = append(rows, MetricRow{View: "driver_stats", Feature: "conv_rate", Date: day(d), DataSourceType: SourceBatch,
			FeatureType: "numeric", RowCount: 100, NullCount: float64(d), NullRate: float64(d) / 100, Mean: 0.5, Stddev: 0.1,
			Min: 0, Max: 1, P50: 0.5, P75: 0.6, P90: 0.7, P95: 0.8, P99: 0.9, Histogram: hist, IsBaseline: d == 1})
		rows = append(rows, MetricRow{View: "driver_stats", Feature: "conv_rate", Date: day(d), DataSourceType: SourceLog,
			FeatureType: "numeric", RowCount: 50, NullCount: 0, NullRate: 0, Mean: 0.6, Stddev: math.NaN(), Min: math.NaN(),
			Max: math.NaN(), P50: math.NaN(), P75: math.NaN(), P90: math.NaN(), P95: math.NaN(), P99: math.NaN()})
		rows = append(rows, MetricRow{View: "driver_stats", Feature: "tier", Date: day(d), FeatureType: "categorical",
			RowCount: 100, NullCount: 0, NullRate: 0, Mean: math.NaN(), Stddev: math.NaN(), Min: math.NaN(), Max: math.NaN(),
			P50: math.NaN(), P75: math.NaN(), P90: math.NaN(), P95: math.NaN(), P99: math.NaN(),
			Histogram: json.RawMessage(`{"values":[{"value":"gold","count":60},{"value":"silver","count":30}],"other_count":10,"unique_count":5}`)})
	}
	rows = append(rows, MetricRow{View: "other_view", Feature: "x", Date: day(3), FeatureType: "numeric", RowCount: 1,
		NullCount: 0, NullRate: 0, Mean: 1, Stddev: 0, Min: 1, Max: 1, P50: 1, P75: 1, P90: 1, P95: 1, P99: 1})
	if err := WriteFeatureMetrics(ctx, conn, "demo", rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteFeatureMetrics(ctx, conn, "elsewhere", rows[:1]); err != nil {
		t.Fatal(err)
	}
	got, trunc, err := s.FeatureMetrics(ctx, MetricsQuery{Project: "demo", View: "driver_stats", Start: day(2), End: day(4)})
	if err != nil || trunc {
		t.Fatal(err, trunc)
	}
	if len(got) != 9 {
		t.Fatalf("%d rows", len(got))
	}
	// Ordered by view, feature, source type, date.
	r := got[0]
	if r.Feature != "conv_rate" || r.DataSourceType != SourceBatch || !r.Date.Equal(day(2)) || r.NullRate != 0.02 ||
		r.RowCount != 100 || r.P99 != 0.9 || r.IsBaseline || r.Granularity != "daily" {
		t.Fatalf("first row %+v", r)
	}
	if l := got[3]; l.DataSourceType != SourceLog || !math.IsNaN(l.Stddev) || l.Mean != 0.6 || l.Histogram != nil {
		t.Fatalf("log row %+v", l)
	}
	h, err := ParseHistogram(got[0].Histogram)
	if err != nil || !h.Numeric() || len(h.Edges) != 3 || h.Counts[1] != 7 {
		t.Fatalf("histogram %+v %v", h, err)
	}
	h, err = ParseHistogram(got[6].Histogram)
	if err != nil || h.Numeric() || h.Categories[0] != "gold" || h.CatCounts[1] != 30 || h.Other != 10 {
		t.Fatalf("categorical %+v %v", h, err)
	}
	// Baselines whatever their date, one feature, one source type.
	got, _, err = s.FeatureMetrics(ctx, MetricsQuery{Project: "demo", Features: []string{"conv_rate"}, DataSourceType: SourceBatch, Baseline: true})
	if err != nil || len(got) != 1 || !got[0].IsBaseline || !got[0].Date.Equal(day(1)) {
		t.Fatalf("baseline %+v %v", got, err)
	}
	// The row cap.
	got, trunc, err = s.FeatureMetrics(ctx, MetricsQuery{Project: "demo", Limit: 4})
	if err != nil || !trunc || len(got) != 4 {
		t.Fatalf("cap: %d %v %v", len(got), trunc, err)
	}
	// A canceled context is an error, not a hang.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.FeatureMetrics(cctx, MetricsQuery{Project: "demo"}); err == nil {
		t.Fatal("canceled query answered")
	}
}

func TestParseHistogram(t *testing.T) {
	for _, bad := range []string{``, `{}`, `[]`, `{"bins":[0,1],"counts":[1,2]}`, `{"bins":[1,0],"counts":[1]}`,
		`{"bins":[0,1],"counts":[-1]}`, `{"values":[{"value":"a","count":-1}]}`, `{"bins":"x"}`} {
		if _, err := ParseHistogram(json.RawMessage(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
	// Left edges plus bin_width.
	h, err := ParseHistogram(json.RawMessage(`{"bins":[0,2],"counts":[1,2],"bin_width":2}`))
	if err != nil || len(h.Edges) != 3 || h.Edges[2] != 4 {
		t.Fatalf("%+v %v", h, err)
	}
	// Non-string categories keep their JSON text.
	h, err = ParseHistogram(json.RawMessage(`{"values":[{"value":3,"count":2}],"other_count":0,"unique_count":1}`))
	if err != nil || h.Categories[0] != "3" {
		t.Fatalf("%+v %v", h, err)
	}
}

func TestSourceRelation(t *testing.T) {
	for in, want := range map[string]string{"driver_stats": `"driver_stats"`, "Public.Driver_Stats": `"public"."driver_stats"`,
		`"MixedCase"`: `"MixedCase"`, `s."T"`: `"s"."T"`} {
		got, err := SourceRelation(in, "")
		if err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	for _, bad := range []string{"a;drop table x", "a b", `"a"b"`, "a.b.c.d", ""} {
		if _, err := SourceRelation(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if r, err := SourceRelation("", "SELECT * FROM t;"); err != nil || r != "(SELECT * FROM t)" {
		t.Fatal(r, err)
	}
	if _, err := SourceRelation("", "SELECT 1; DROP TABLE t"); err == nil {
		t.Fatal("two statements accepted")
	}
}

func TestAsOf(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	// A batch source in Feast's PostgreSQLSource layout; event_timestamp without a time zone (read as UTC).
	if _, err := conn.Exec(ctx, `CREATE TABLE driver_stats_source (driver_id BIGINT, event_timestamp TIMESTAMP, created TIMESTAMPTZ,
		conv_rate DOUBLE PRECISION, trips INTEGER, tier TEXT, score NUMERIC);
	INSERT INTO driver_stats_source VALUES
		(1001, '2026-12-01 10:00', '2026-12-01 10:05', 0.10, 1, 'bronze', 1.5),
		(1001, '2026-12-01 12:00', '2026-12-01 12:05', 0.20, 2, 'silver', 2.5),
		(1001, '2026-12-01 12:00', '2026-12-01 12:06', 0.25, 3, 'gold', NULL),
		(1001, '2026-12-01 14:00', '2026-12-01 14:05', 0.30, 4, NULL, 3.5),
		(1002, '2026-12-01 09:00', '2026-12-01 09:05', 0.90, 9, 'gold', 9);
	CREATE TABLE "Zip Codes" (zip TEXT, ts TIMESTAMPTZ, "median income" DOUBLE PRECISION);
	INSERT INTO "Zip Codes" VALUES ('10001', '2026-12-01 00:00Z', 50000), ('10002', '2026-12-01 00:00Z', 60000);`); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, pg)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	rel, _ := SourceRelation("driver_stats_source", "")
	q := AsOfQuery{Relation: rel, TimestampField: "event_timestamp", CreatedField: "created", JoinKeys: []string{"driver_id"},
		KeyTypes: []string{KeyBigint}, Columns: []string{"conv_rate", "trips", "tier", "score"}, TTL: 3 * time.Hour,
		Probes: []Probe{
			{At: at(11, 0), Keys: []any{int64(1001)}},  // the 10:00 row
			{At: at(12, 0), Keys: []any{int64(1001)}},  // 12:00 exactly: the later-created of the two 12:00 rows
			{At: at(16, 59), Keys: []any{int64(1001)}}, // 14:00 row, within ttl
			{At: at(9, 30), Keys: []any{int64(1001)}},  // before any row
			{At: at(13, 0), Keys: []any{int64(1002)}},  // 1002's row is 4 h old: outside the ttl
			{At: at(13, 0), Keys: []any{int64(4242)}},  // unknown entity
			{At: at(13, 0), Keys: []any{"1001"}},       // a key of the wrong type finds nothing
		}}
	rows, err := s.AsOf(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	wantFound := []bool{true, true, true, false, false, false, false}
	for i, r := range rows {
		if r.Found != wantFound[i] {
			t.Fatalf("probe %d found=%v", i, r.Found)
		}
	}
	if c := rows[0].Cells; c[0].Num != 0.10 || c[1].Num != 1 || c[2].Str != "bronze" || c[3].Num != 1.5 || !rows[0].EventTime.Equal(at(10, 0)) {
		t.Fatalf("probe 0 %+v", rows[0])
	}
	if c := rows[1].Cells; c[0].Num != 0.25 || c[2].Str != "gold" || !c[3].Null {
		t.Fatalf("probe 1 %+v", rows[1])
	}
	if c := rows[2].Cells; c[0].Num != 0.30 || !c[2].Null || !c[0].IsNum {
		t.Fatalf("probe 2 %+v", rows[2])
	}
	// Without a ttl, 1002's old row is found.
	q.TTL = 0
	rows, err = s.AsOf(ctx, q)
	if err != nil || !rows[4].Found || rows[4].Cells[0].Num != 0.9 {
		t.Fatalf("no ttl: %+v %v", rows[4], err)
	}
	// Text keys and identifiers that need quoting.
	rel2, _ := SourceRelation(`"Zip Codes"`, "")
	rows, err = s.AsOf(ctx, AsOfQuery{Relation: rel2, TimestampField: "ts", JoinKeys: []string{"zip"}, KeyTypes: []string{KeyText},
		Columns: []string{"median income"}, Probes: []Probe{{At: at(1, 0), Keys: []any{"10002"}}, {At: at(1, 0), Keys: []any{"x'; --"}}}})
	if err != nil || !rows[0].Found || rows[0].Cells[0].Num != 60000 || rows[1].Found {
		t.Fatalf("text keys: %+v %v", rows, err)
	}
	// A missing table or column is named.
	rel3, _ := SourceRelation("nope", "")
	if _, err := s.AsOf(ctx, AsOfQuery{Relation: rel3, TimestampField: "ts", JoinKeys: []string{"k"}, KeyTypes: []string{KeyText},
		Probes: []Probe{{At: at(1, 0), Keys: []any{"a"}}}}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing table: %v", err)
	}
	q.Columns = []string{"no_such_column"}
	if _, err := s.AsOf(ctx, q); err == nil || !strings.Contains(err.Error(), "lacks a column") {
		t.Fatalf("missing column: %v", err)
	}
	// Many probes go in several statements.
	q.Columns = []string{"conv_rate"}
	q.Probes = make([]Probe, 2*asOfBatch+7)
	for i := range q.Probes {
		q.Probes[i] = Probe{At: at(12, 30), Keys: []any{int64(1001 + i%2)}}
	}
	rows, err = s.AsOf(ctx, q)
	if err != nil || len(rows) != len(q.Probes) || rows[len(rows)-1].Cells[0].Num != 0.25 || rows[len(rows)-2].Cells[0].Num != 0.9 {
		t.Fatalf("batches: %v", err)
	}
}
