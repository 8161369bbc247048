package sql_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

var (
	sampleStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sampleEnd   = sampleStart.Add(2 * time.Hour)
)

// sampleRows is the number of records of the sampling fixture: record i (0-based) is at
// sampleStart + (i+1)·360 ms, with latency_ms = i and features.x = i, so that a value tells the
// time of its record.
const sampleRows = 20_000

// sampleDB holds sampleRows records of model "m" over two hours, and a reference of 2,000 rows.
func sampleDB(t *testing.T) *testdb.Postgres {
	t.Helper()
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	require.NoError(t, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	_, err := conn.Exec(ctx, `INSERT INTO predictions (ts, model, version, latency_ms, status, prediction, features)
		SELECT $1::timestamptz + (i + 1) * interval '360 milliseconds', 'm', 'v1', i, 'ok', to_jsonb(i % 7), jsonb_build_object('x', i)
		FROM generate_series(0, $2::int - 1) i`, sampleStart, sampleRows)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO reference (model, prediction, features)
		SELECT 'm', to_jsonb(i % 7), jsonb_build_object('x', (i * 7919) % $1::int) FROM generate_series(0, 1999) i`, sampleRows)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "ANALYZE")
	require.NoError(t, err)
	return pg
}

func sampleSource(t *testing.T, pg *testdb.Postgres) *sqlsource.Source {
	t.Helper()
	s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"}}`), map[string]string{"sqlPassword": pg.Password})
	require.NoError(t, err)
	src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	return src
}

// TestSampleRecords: above the limit the source reads a deterministic sample of exactly Limit
// records, spread over the whole range (each quarter of it holds about its share), ascending by
// time, with only the named columns and SampledFrom = the range's count; within the limit every
// record.
func TestSampleRecords(t *testing.T) {
	pg := sampleDB(t)
	src := sampleSource(t, pg)
	ctx := context.Background()
	req := source.RecordsRequest{Model: "m", Start: sampleStart, End: sampleEnd, Limit: 1000, Variables: []string{"x"}}
	b, err := src.SampleRecords(ctx, req)
	require.NoError(t, err)
	require.Equal(t, 1000, b.Len())
	require.EqualValues(t, sampleRows, b.SampledFrom)
	x := b.Features["x"]
	require.NotNil(t, x)
	quarters := make([]int, 4)
	for i := 0; i < b.Len(); i++ {
		if i > 0 {
			require.Greater(t, b.TS[i], b.TS[i-1], "ascending time, no record twice")
		}
		// The value is the record's index: its time must match (the columns stay aligned).
		k := int64(x.Num[i])
		require.Equal(t, sampleStart.Add(time.Duration(k+1)*360*time.Millisecond).UnixNano(), b.TS[i], "record %d", k)
		require.True(t, math.IsNaN(b.LatencyMs[i]), "latency not asked for, not read")
		require.Equal(t, "v1", b.Versions[b.Version[i]])
		quarters[k*4/sampleRows]++
	}
	// A uniform sample of 1,000 puts Binomial(1000, 1/4) records in each quarter: mean 250, sd 13.7;
	// the newest 1,000 records would all be in the last quarter.
	for q, n := range quarters {
		require.InDelta(t, 250, n, 70, "quarter %d of the range: %v", q, quarters)
	}
	again, err := src.SampleRecords(ctx, req)
	require.NoError(t, err)
	require.Equal(t, b.TS, again.TS, "the same request samples the same records")
	require.Equal(t, x.Num, again.Features["x"].Num)

	// Another column, the same rule: latency only, at most the limit.
	lat, err := src.SampleRecords(ctx, source.RecordsRequest{Model: "m", Start: sampleStart, End: sampleEnd, Limit: 500, Variables: []string{"latency"}})
	require.NoError(t, err)
	require.Equal(t, 500, lat.Len())
	require.Empty(t, lat.FeatureNames)
	for i := range lat.TS {
		require.Equal(t, sampleStart.Add(time.Duration(lat.LatencyMs[i]+1)*360*time.Millisecond).UnixNano(), lat.TS[i])
	}

	// Within the limit: every record of the range, in time order, not marked sampled.
	part, err := src.SampleRecords(ctx, source.RecordsRequest{Model: "m", Start: sampleStart, End: sampleStart.Add(6 * time.Minute), Limit: 1000, Variables: []string{"x"}})
	require.NoError(t, err)
	require.Equal(t, 1000, part.Len()) // 6 min / 360 ms
	require.Zero(t, part.SampledFrom)
	for i := range part.TS {
		require.Equal(t, float64(i), part.Features["x"].Num[i])
	}
}

// TestSampleTies: records that share a time share the sample's hash; they are kept or dropped
// together except at the threshold, where the sample still holds exactly Limit records, chosen the
// same way on every run — also when every record of the range has the same time.
func TestSampleTies(t *testing.T) {
	pg := sampleDB(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	// Model "tied": 2,000 times with 10 records each; model "one": 3,000 records at one time.
	_, err := conn.Exec(ctx, `INSERT INTO predictions (ts, model, version, latency_ms, status, prediction, features)
		SELECT $1::timestamptz + (i / 10 + 1) * interval '3 seconds', 'tied', 'v1', 1, 'ok', to_jsonb(0), jsonb_build_object('x', i)
		FROM generate_series(0, 19999) i
		UNION ALL SELECT $1::timestamptz + interval '1 hour', 'one', 'v1', 1, 'ok', to_jsonb(0), jsonb_build_object('x', i)
		FROM generate_series(0, 2999) i`, sampleStart)
	require.NoError(t, err)
	src := sampleSource(t, pg)
	for _, c := range []struct {
		model string
		limit int
		total int64
	}{{"tied", 1005, 20_000}, {"one", 1000, 3000}} {
		t.Run(c.model, func(t *testing.T) {
			req := source.RecordsRequest{Model: c.model, Start: sampleStart, End: sampleEnd, Limit: c.limit, Variables: []string{"x"}}
			b, err := src.SampleRecords(ctx, req)
			require.NoError(t, err)
			require.Equal(t, c.limit, b.Len())
			require.Equal(t, c.total, b.SampledFrom)
			perTime := map[int64]int{}
			seen := map[float64]bool{}
			for i := 0; i < b.Len(); i++ {
				if i > 0 {
					require.GreaterOrEqual(t, b.TS[i], b.TS[i-1], "ascending time")
				}
				x := b.Features["x"].Num[i]
				require.False(t, seen[x], "record %v twice", x)
				seen[x] = true
				if c.model == "tied" {
					require.Equal(t, sampleStart.Add(time.Duration(int(x)/10+1)*3*time.Second).UnixNano(), b.TS[i], "record %v", x)
				}
				perTime[b.TS[i]]++
			}
			if c.model == "tied" {
				partial := 0
				for _, n := range perTime {
					if n != 10 {
						partial++
					}
				}
				require.Equal(t, 1, partial, "one time cut at the threshold, every other whole: %v", perTime)
			}
			again, err := src.SampleRecords(ctx, req)
			require.NoError(t, err)
			require.Equal(t, b.Features["x"].Num, again.Features["x"].Num, "the same records on every run")
		})
	}
}

// TestSampledQueries: above maxSamples, ks drift and latency percentiles over overlapping
// windows answer every window from the sample (not only the newest ones), the same numbers on
// every run, with a notice giving the sample's size and the range's count.
func TestSampledQueries(t *testing.T) {
	pg := sampleDB(t)
	src := sampleSource(t, pg)
	h := query.New(query.Deps{SQL: src, MaxSamples: 2000, Timeout: time.Minute})
	for _, c := range []struct {
		name     string
		q        map[string]any
		interval time.Duration
	}{
		{"ks", map[string]any{"queryType": "drift", "model": "m", "features": []string{"x"}, "methods": []string{"ks", "wasserstein"}, "window": "30m"}, 30 * time.Minute},
		{"latency overlapping", map[string]any{"queryType": "latency", "model": "m", "percentiles": []float64{50}, "window": "30m"}, 10 * time.Minute},
		{"predictions overlapping", map[string]any{"queryType": "predictions", "model": "m", "percentiles": []float64{50}, "window": "30m"}, 10 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func() backend.DataResponse {
				return answer(h, query.SourceSQL, c.q, sampleStart.Add(30*time.Minute), sampleEnd, c.interval)
			}
			r := run()
			require.NoError(t, r.Error)
			require.NotEmpty(t, r.Frames)
			notice := ""
			for _, f := range r.Frames {
				if f.Meta == nil {
					continue
				}
				for _, n := range f.Meta.Notices {
					if strings.Contains(n.Text, "sampled") {
						notice = n.Text
					}
				}
			}
			// The windows read cover (sampleStart, sampleEnd]: all 20,000 records.
			require.Contains(t, notice, "m: sampled 2,000 of 20,000 records (maxSamples)")
			points := 0
			for _, f := range r.Frames {
				for _, fd := range f.Fields {
					if fd.Type() != data.FieldTypeFloat64 && fd.Type() != data.FieldTypeNullableFloat64 {
						continue
					}
					for i := 0; i < fd.Len(); i++ {
						v, _ := asFloat(fd.At(i))
						require.False(t, math.IsNaN(v), "%s: window %d has a value", f.Name, i)
						points++
					}
				}
			}
			require.GreaterOrEqual(t, points, 4)
			again := run()
			a, _ := json.Marshal(r.Frames)
			b, _ := json.Marshal(again.Frames)
			require.JSONEq(t, string(a), string(b), "deterministic")
		})
	}
}
