package pgload

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
)

// loadedRow is one row read back from a table.
type loadedRow struct {
	ts         *time.Time
	model      string
	version    *string
	latency    *float64
	status     *string
	prediction any
	score      *float64
	label      any
	labelTS    *time.Time
	features   map[string]any
}

func readRows(t *testing.T, conn *pgx.Conn, table, model string) []loadedRow {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT "+strings.Join(Columns, ", ")+" FROM "+table+
		" WHERE model = $1 ORDER BY ts", model)
	if err != nil {
		t.Fatal(err)
	}
	var out []loadedRow
	for rows.Next() {
		var r loadedRow
		if err := rows.Scan(&r.ts, &r.model, &r.version, &r.latency, &r.status, &r.prediction, &r.score, &r.label, &r.labelTS, &r.features); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// same reports how a row read back differs from the fleet's record ("" = equal). PostgreSQL keeps
// microseconds, so ts is the record's time truncated to the microsecond; every number is exact.
func same(got loadedRow, want demo.Record, reference bool) string {
	switch {
	case got.ts == nil || !got.ts.Equal(want.TS.Truncate(time.Microsecond)):
		return "ts"
	case got.model != want.Model, got.version == nil || *got.version != want.Version:
		return "model/version"
	case got.status == nil || *got.status != want.Status:
		return "status"
	case reference && got.latency != nil, !reference && (got.latency == nil || *got.latency != want.LatencyMs):
		return "latency_ms"
	case (got.score == nil) != (want.Score == nil), got.score != nil && *got.score != *want.Score:
		return "score"
	case got.prediction != want.Prediction:
		return "prediction"
	case got.label != want.Label:
		return "label"
	case got.labelTS != nil:
		return "label_ts"
	case len(got.features) != len(want.Features):
		return "features"
	}
	for k, v := range want.Features {
		if g, ok := got.features[k]; !ok || g != v {
			return "feature " + k
		}
	}
	return ""
}

// fleetRecords returns the records of a model with start < ts <= end.
func fleetRecords(t *testing.T, f *demo.Fleet, model string, start, end time.Time) []demo.Record {
	t.Helper()
	var out []demo.Record
	if err := f.Each(context.Background(), model, "", start, end, func(r demo.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestLoadIsTheFleet loads 30 minutes of the demo fleet (fraud-detector v2's 09:00 error burst,
// inside the daily drift) and checks every row of both tables against the fleet's own records,
// then that loading again is idempotent and leaves other models' rows alone.
func TestLoadIsTheFleet(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	f := demo.NewFleet(demo.DefaultSeed)
	end := time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)
	start := end.Add(-30 * time.Minute)

	n, err := Load(ctx, conn, f, start, end, Options{})
	if err != nil {
		t.Fatal(err)
	}
	models, _ := modelNames(ctx, f)
	var total int64
	errorsSeen := 0
	for _, m := range models {
		want := fleetRecords(t, f, m, start, end)
		total += int64(len(want))
		got := readRows(t, conn, "predictions", m)
		if len(got) != len(want) || len(want) < 1000 {
			t.Fatalf("%s: %d rows, the fleet has %d records", m, len(got), len(want))
		}
		for i := range want {
			if d := same(got[i], want[i], false); d != "" {
				t.Fatalf("%s record %d differs in %s: got %+v, want %+v", m, i, d, got[i], want[i])
			}
			if want[i].Status == demo.StatusError {
				errorsSeen++
			}
		}
		var ref []demo.Record
		if err := f.EachReference(ctx, m, "", func(r demo.Record) error { ref = append(ref, r); return nil }); err != nil {
			t.Fatal(err)
		}
		gotRef := readRows(t, conn, "reference", m)
		if len(gotRef) != demo.ReferenceSize || len(ref) != demo.ReferenceSize {
			t.Fatalf("%s reference: %d rows, want %d", m, len(gotRef), demo.ReferenceSize)
		}
		for i := range ref {
			if d := same(gotRef[i], ref[i], true); d != "" {
				t.Fatalf("%s reference row %d differs in %s: got %+v, want %+v", m, i, d, gotRef[i], ref[i])
			}
		}
	}
	if n.Records != total || n.Reference != int64(len(models)*demo.ReferenceSize) {
		t.Errorf("counts %+v, want %d records and %d reference rows", n, total, len(models)*demo.ReferenceSize)
	}
	if errorsSeen == 0 {
		t.Error("no error records in the range: the range misses the error burst")
	}
	// A few exact values: jsonb keeps the fleet's float64 bit for bit, per version counts agree.
	first := fleetRecords(t, f, "price-regressor", start, end)[0]
	var pred float64
	var sqft float64
	if err := conn.QueryRow(ctx, "SELECT (prediction)::float8, (features->>'sqft')::float8 FROM predictions WHERE model = 'price-regressor' ORDER BY ts LIMIT 1").Scan(&pred, &sqft); err != nil {
		t.Fatal(err)
	}
	if math.Float64bits(pred) != math.Float64bits(first.Prediction.(float64)) || sqft != first.Features["sqft"] {
		t.Errorf("price-regressor first record: prediction %v sqft %v, want %v %v", pred, sqft, first.Prediction, first.Features["sqft"])
	}
	v2 := 0
	for _, r := range fleetRecords(t, f, "fraud-detector", start, end) {
		if r.Version == "v2" {
			v2++
		}
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model = 'fraud-detector' AND version = 'v2'"); got != int64(v2) {
		t.Errorf("fraud-detector v2: %d rows, want %d", got, v2)
	}

	// The recommended index exists.
	var def string
	if err := conn.QueryRow(ctx, "SELECT indexdef FROM pg_indexes WHERE tablename = 'predictions' AND indexname = 'predictions_model_ts'").Scan(&def); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "(model, ts)") {
		t.Errorf("index: %s", def)
	}

	// Loading again replaces the fleet's rows and keeps a row of another model.
	if _, err := conn.Exec(ctx, "INSERT INTO predictions (ts, model, version, status) VALUES (now(), 'my-model', 'v1', 'ok')"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, conn, f, start, end, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model'"); got != total {
		t.Errorf("after a second load: %d records, want %d", got, total)
	}
	if got := count(t, conn, "SELECT count(*) FROM reference"); got != int64(len(models)*demo.ReferenceSize) {
		t.Errorf("after a second load: %d reference rows", got)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model = 'my-model'"); got != 1 {
		t.Errorf("the other model's row: %d", got)
	}

	// Append adds the next records and prunes old ones.
	next := end.Add(5 * time.Minute)
	prune := start.Add(10 * time.Minute)
	added, err := Append(ctx, conn, f, end, next, prune, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, m := range models {
		want += int64(len(fleetRecords(t, f, m, prune, next)))
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model'"); got != want || added == 0 {
		t.Errorf("after append and prune: %d records (added %d), want %d", got, added, want)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model' AND ts <= $1", prune); got != 0 {
		t.Errorf("%d records left before the prune time", got)
	}
}

// TestLoadNamedTables loads into schema-qualified tables whose names need quoting.
func TestLoadNamedTables(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA "ml ops"`); err != nil {
		t.Fatal(err)
	}
	f := demo.NewFleet(demo.DefaultSeed)
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	o := Options{RecordsTable: `ml ops.pred"s`, ReferenceTable: `ml ops.ref;s`}
	n, err := Load(ctx, conn, f, end.Add(-2*time.Minute), end, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, `SELECT count(*) FROM "ml ops"."pred""s"`); got != n.Records || got == 0 {
		t.Errorf("records: %d, loaded %d", got, n.Records)
	}
	if got := count(t, conn, `SELECT count(*) FROM "ml ops"."ref;s"`); got != n.Reference {
		t.Errorf("reference: %d, loaded %d", got, n.Reference)
	}
	for _, bad := range []Options{{RecordsTable: "a.b.c"}, {RecordsTable: ".x"}, {RecordsTable: "same", ReferenceTable: "same"}} {
		if _, err := Load(ctx, conn, f, end.Add(-time.Minute), end, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := Load(ctx, conn, f, end, end.Add(-time.Minute), Options{}); err == nil {
		t.Error("end before start accepted")
	}
}

func TestRowValues(t *testing.T) {
	s := 0.25
	row, err := Row(demo.Record{TS: time.Unix(1, 0), Model: "m", Version: "v", LatencyMs: math.NaN(), Status: "ok",
		Prediction: "a\"b", Score: &s, Label: 1e-7, Features: map[string]any{"x": 1e21, "c": "é", "n": nil, "nan": math.NaN()}})
	if err != nil {
		t.Fatal(err)
	}
	if row[3] != nil || string(row[5].([]byte)) != `"a\"b"` || row[6] != 0.25 || string(row[7].([]byte)) != "1e-07" || row[8] != nil {
		t.Errorf("row %v", row)
	}
	if got := string(row[9].([]byte)); got != `{"c":"é","n":null,"nan":null,"x":1e+21}` {
		t.Errorf("features %s", got)
	}
	if _, err := Row(demo.Record{Features: map[string]any{"x": []int{1}}}); err == nil {
		t.Error("a slice feature accepted")
	}
}
