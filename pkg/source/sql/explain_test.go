package sql_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// statements records the statements a source issues, with their arguments.
type statements struct {
	mu  sync.Mutex
	all []pgx.TraceQueryStartData
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	s.all = append(s.all, d)
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) take() []pgx.TraceQueryStartData {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.all
	s.all = nil
	return out
}

// loadSynthetic writes n records of three models over 24 h (and 1,000 reference rows per model)
// with SQL alone, creates the recommended indexes and analyzes.
func loadSynthetic(t testing.TB, conn *pgx.Conn, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	_, err := conn.Exec(ctx, `INSERT INTO predictions (ts, model, version, latency_ms, status, prediction, score, features)
SELECT '2026-03-02T00:00:00Z'::timestamptz + i * (interval '86400 seconds' / $1::int),
       'model-' || (i % 3), 'v' || (i % 2 + 1), 5 + 50 * random(), CASE WHEN i % 50 = 0 THEN 'error' ELSE 'ok' END,
       to_jsonb(random()), random(),
       jsonb_build_object('f1', random(), 'f2', 10 * random(), 'color', (ARRAY['red', 'green', 'blue'])[1 + i % 3])
FROM generate_series(1, $1::int) i`, n)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO reference (model, version, prediction, score, features)
SELECT 'model-' || (i % 3), NULL, to_jsonb(random()), random(),
       jsonb_build_object('f1', random(), 'f2', 10 * random(), 'color', (ARRAY['red', 'green', 'blue'])[1 + i % 4 % 3])
FROM generate_series(1, 3000) i`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "ANALYZE")
	require.NoError(t, err)
}

// plan is EXPLAIN (FORMAT JSON) of a statement with its arguments, as text.
func plan(t *testing.T, conn *pgx.Conn, d pgx.TraceQueryStartData) string {
	t.Helper()
	var out []byte
	err := conn.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+d.SQL, d.Args...).Scan(&out)
	require.NoError(t, err, d.SQL)
	var v any
	require.NoError(t, json.Unmarshal(out, &v))
	b, _ := json.Marshal(v)
	return string(b)
}

// TestExplainUsesModelTSIndex loads 1M records and requires every statement that reads records
// for a query — raw records, window counts, percentiles, bin and category counts, the sample
// above maxSamples and its threshold — and the model
// listing to go through the (model, ts) index, never a sequential scan of the table; the version
// listing uses the (model, version) index, and the model listing either (both lead with model).
func TestExplainUsesModelTSIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 1M rows")
	}
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	loadSynthetic(t, conn, 1_000_000)

	tr := &statements{}
	s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"}}`), map[string]string{"sqlPassword": pg.Password})
	require.NoError(t, err)
	src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: time.Minute, Tracer: tr})
	require.NoError(t, err)
	defer src.Close()
	h := query.New(query.Deps{SQL: src, MaxSamples: 1_000_000, Timeout: time.Minute})

	from := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	for _, q := range []map[string]any{
		{"queryType": "traffic", "model": "model-1", "version": "*", "metrics": []string{"count", "errorRatio"}},
		{"queryType": "traffic", "model": "model-1", "window": "15m"},
		{"queryType": "latency", "model": "model-1"},
		{"queryType": "latency", "model": "model-1", "window": "15m"},
		{"queryType": "drift", "model": "model-1", "methods": []string{"psi", "js"}},
		{"queryType": "drift", "model": "model-1", "version": "v1", "methods": []string{"ks"}, "features": []string{"f1"}},
		{"queryType": "predictions", "model": "model-1"},
	} {
		r := answer(h, query.SourceSQL, q, from, to, 5*time.Minute)
		require.NoError(t, r.Error, "%v", q)
	}
	// Above maxSamples: the sample's threshold and its rows.
	hs := query.New(query.Deps{SQL: src, MaxSamples: 1000, Timeout: time.Minute})
	r := answer(hs, query.SourceSQL, map[string]any{"queryType": "drift", "model": "model-1", "methods": []string{"ks"}, "features": []string{"f1"}}, from, to, 5*time.Minute)
	require.NoError(t, r.Error)
	stmts := tr.take()
	checked := map[string]int{}
	for _, d := range stmts {
		sql := d.SQL
		if !strings.Contains(sql, `"predictions"`) || strings.HasPrefix(sql, "SET ") {
			continue
		}
		p := plan(t, conn, d)
		require.NotRegexp(t, `"Seq Scan"[^}]*"Relation Name":"predictions"`, p, sql)
		switch {
		case strings.Contains(sql, "WITH RECURSIVE v"):
			require.Contains(t, p, `"Index Name":"predictions_model_version"`, sql)
			checked["versions"]++
		case strings.Contains(sql, "WITH RECURSIVE m"):
			// Either index leads with model; the planner takes the smaller.
			require.Regexp(t, `"Index Name":"predictions_model_(ts|version)"`, p, sql)
			checked["models"]++
		case strings.Contains(sql, "jsonb_each"):
			checked["feature types"]++ // newest records: ORDER BY ts DESC LIMIT through the index
			require.Contains(t, p, `"Index Name":"predictions_model_ts"`, sql)
		default:
			require.Contains(t, p, `"Index Name":"predictions_model_ts"`, sql)
			switch {
			case strings.Contains(sql, "percentile_cont"):
				checked["percentiles"]++
			case strings.Contains(sql, "ORDINALITY AS u("): // WindowBins
				checked["bin counts"]++
			case strings.Contains(sql, "unnest"):
				checked["counts (overlapping windows)"]++
			case strings.Contains(sql, "AS MATERIALIZED"):
				checked["sample threshold"]++
			case strings.Contains(sql, "UNION ALL"):
				checked["sample"]++
			case strings.Contains(sql, "cardinality"):
				checked["counts"]++
			default:
				checked["records"]++
			}
		}
	}
	t.Logf("statements checked: %v", checked)
	for _, k := range []string{"models", "versions", "records", "counts", "counts (overlapping windows)", "percentiles", "bin counts", "sample threshold", "sample"} {
		require.Positive(t, checked[k], "no %s statement was checked", k)
	}
}
