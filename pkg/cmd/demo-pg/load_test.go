package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// fleetBatch returns a model's records with start < ts <= end.
func fleetBatch(t *testing.T, f *demo.Fleet, model string, start, end time.Time) *source.Batch {
	t.Helper()
	b, err := f.Records(context.Background(), source.RecordsRequest{Model: model, Start: start, End: end})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ceilMicro rounds Unix nanoseconds up to the microsecond, as the loader stores times.
func ceilMicro(ns int64) time.Time {
	return time.Unix(0, ns).Add(999 * time.Nanosecond).Truncate(time.Microsecond).UTC()
}

// TestLoadIsTheFleet loads 30 minutes of the demo fleet (fraud-detector v2's 09:00 error burst,
// inside the daily drift) and checks the tables against the fleet's own records: counts per model
// and version, every record's time, status and latency, a few exact values, the reference samples
// and the index; then that loading again is idempotent and leaves other models' rows alone, and
// that a follow step appends and prunes.
func TestLoadIsTheFleet(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	f := demo.NewFleet(demo.DefaultSeed)
	end := time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)
	start := end.Add(-30 * time.Minute)

	nrec, nref, err := load(ctx, conn, f, "predictions", "reference", start, end)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := f.Models(ctx)
	var total, refRows int64
	errorRecords := 0
	for _, m := range ms {
		b := fleetBatch(t, f, m.Name, start, end)
		total += int64(b.Len())
		for _, v := range m.Versions {
			want := 0
			for i := range b.Version {
				if b.Versions[b.Version[i]] == v {
					want++
				}
			}
			if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model = $1 AND version = $2", m.Name, v); got != int64(want) || want == 0 {
				t.Errorf("%s %s: %d rows, the fleet has %d records", m.Name, v, got, want)
			}
		}
		rows, err := conn.Query(ctx, "SELECT ts, status, latency_ms FROM predictions WHERE model = $1 ORDER BY ts", m.Name)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rows.Next() {
			var ts time.Time
			var status string
			var latency float64
			if err := rows.Scan(&ts, &status, &latency); err != nil {
				t.Fatal(err)
			}
			wantStatus := demo.StatusOK
			if b.Error[i] {
				wantStatus = demo.StatusError
				errorRecords++
			}
			if !ts.Equal(ceilMicro(b.TS[i])) || status != wantStatus || latency != b.LatencyMs[i] {
				t.Fatalf("%s record %d: %s %s %v, want %s %s %v", m.Name, i, ts, status, latency, ceilMicro(b.TS[i]), wantStatus, b.LatencyMs[i])
			}
			i++
		}
		if rows.Err() != nil || i != b.Len() {
			t.Fatalf("%s: %d rows, %d records, %v", m.Name, i, b.Len(), rows.Err())
		}
		// The pooled reference sample (NULL version) and one per version.
		if got := count(t, conn, "SELECT count(*) FROM reference WHERE model = $1 AND version IS NULL", m.Name); got != demo.ReferenceSize {
			t.Errorf("%s pooled reference: %d rows", m.Name, got)
		}
		for _, v := range m.Versions {
			if got := count(t, conn, "SELECT count(*) FROM reference WHERE model = $1 AND version = $2", m.Name, v); got != demo.ReferenceSize {
				t.Errorf("%s reference %s: %d rows", m.Name, v, got)
			}
		}
		refRows += int64(demo.ReferenceSize * (1 + len(m.Versions)))
	}
	if nrec != total || nref != refRows {
		t.Errorf("wrote %d records and %d reference rows, want %d and %d", nrec, nref, total, refRows)
	}
	if errorRecords < 10 {
		t.Errorf("%d error records: the range misses the error burst", errorRecords)
	}
	// Exact values: jsonb keeps the fleet's float64 bit for bit, classes as strings.
	pb := fleetBatch(t, f, "price-regressor", start, end)
	var pred, sqft float64
	if err := conn.QueryRow(ctx, "SELECT (prediction)::float8, (features->>'sqft')::float8 FROM predictions WHERE model = 'price-regressor' ORDER BY ts LIMIT 1").Scan(&pred, &sqft); err != nil {
		t.Fatal(err)
	}
	if pred != pb.Prediction.Num[0] || sqft != pb.Features["sqft"].Num[0] {
		t.Errorf("price-regressor first record: prediction %v sqft %v, want %v %v", pred, sqft, pb.Prediction.Num[0], pb.Features["sqft"].Num[0])
	}
	fb := fleetBatch(t, f, "fraud-detector", start, end)
	last := fb.Len() - 1
	var class, channel *string
	if err := conn.QueryRow(ctx, "SELECT prediction #>> '{}', features->>'channel' FROM predictions WHERE model = 'fraud-detector' ORDER BY ts DESC LIMIT 1").Scan(&class, &channel); err != nil {
		t.Fatal(err)
	}
	wantClass := ""
	if c := fb.Prediction.Cat[last]; c >= 0 {
		wantClass = fb.Prediction.Dict[c]
	}
	if (class == nil) != (wantClass == "") || (class != nil && *class != wantClass) {
		t.Errorf("fraud-detector last prediction %v, want %q", class, wantClass)
	}
	if ch := fb.Features["channel"]; (channel == nil) != (ch.Cat[last] < 0) || (channel != nil && *channel != ch.Dict[ch.Cat[last]]) {
		t.Errorf("fraud-detector last channel %v", channel)
	}

	// The recommended index exists.
	var def string
	if err := conn.QueryRow(ctx, "SELECT indexdef FROM pg_indexes WHERE tablename = 'predictions' AND indexdef LIKE '%(model, ts)%'").Scan(&def); err != nil {
		t.Fatalf("no (model, ts) index on predictions: %v", err)
	}

	// Loading again replaces the fleet's rows and keeps a row of another model.
	if _, err := conn.Exec(ctx, "INSERT INTO predictions (ts, model, version, status) VALUES (now(), 'my-model', 'v1', 'ok')"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := load(ctx, conn, f, "predictions", "reference", start, end); err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model'"); got != total {
		t.Errorf("after a second load: %d records, want %d", got, total)
	}
	if got := count(t, conn, "SELECT count(*) FROM reference"); got != refRows {
		t.Errorf("after a second load: %d reference rows, want %d", got, refRows)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model = 'my-model'"); got != 1 {
		t.Errorf("the other model's row: %d", got)
	}

	// A follow step adds the next records and prunes old ones.
	next := end.Add(5 * time.Minute)
	prune := start.Add(10 * time.Minute)
	added, err := appendRecords(ctx, conn, f, "predictions", end, next, prune)
	if err != nil {
		t.Fatal(err)
	}
	var want, wantAdded int64
	for _, m := range ms {
		want += int64(fleetBatch(t, f, m.Name, prune, next).Len())
		wantAdded += int64(fleetBatch(t, f, m.Name, end, next).Len())
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model'"); got != want || added != wantAdded {
		t.Errorf("after a follow step: %d records (added %d), want %d (added %d)", got, added, want, wantAdded)
	}
	if got := count(t, conn, "SELECT count(*) FROM predictions WHERE model <> 'my-model' AND ts <= $1", prune); got != 0 {
		t.Errorf("%d records left at or before the prune time", got)
	}
}

// TestLoadQuotesTableNames loads into tables whose names need quoting.
func TestLoadQuotesTableNames(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	f := demo.NewFleet(demo.DefaultSeed)
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	nrec, nref, err := load(ctx, conn, f, `pred"s; DROP`, "réf", end.Add(-2*time.Minute), end)
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, `SELECT count(*) FROM "pred""s; DROP"`); got != nrec || got == 0 {
		t.Errorf("records: %d, wrote %d", got, nrec)
	}
	if got := count(t, conn, `SELECT count(*) FROM "réf"`); got != nref || got == 0 {
		t.Errorf("reference: %d, wrote %d", got, nref)
	}
}
