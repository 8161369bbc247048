package sql_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// mixedValues are JSON values of a numeric feature x (and of a categorical feature c): numbers,
// strings that hold a number, strings that do not, booleans, objects, arrays, null.
var mixedX = []string{`1.5`, `"3.25"`, `"abc"`, `true`, `{"a":1}`, `null`, `"-0.25e-2"`, `[1]`, `"1e400"`, `"  7"`, `"+12."`, `4`, `""`, `"1e-400"`}
var mixedC = []string{`"a"`, `5`, `true`, `[1]`, `null`, `"b"`, `"a"`, `2.5`, `{}`, `"c"`, `false`, `"a"`, `"b"`, `"a"`}

// TestTypeMismatchParity: records whose feature values have the wrong JSON type read the same from
// PostgreSQL (jsonb) as from the Prediction Log API: the same values (a string holding a number
// is that number) and the same type mismatches (source.Column.Mismatch); dataQuality's
// typeMismatch and drift (push-down and raw rows) agree exactly.
func TestTypeMismatchParity(t *testing.T) {
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	start := end.Add(-time.Hour)
	var lines, refLines []string
	for rep := 0; rep < 20; rep++ {
		for i := range mixedX {
			k := rep*len(mixedX) + i
			ts := start.Add(time.Duration(k+1) * 10 * time.Second)
			lines = append(lines, fmt.Sprintf(`{"ts":%q,"model":"m","version":"v1","latency_ms":%d,"status":"ok","prediction":%d,"features":{"x":%s,"c":%s}}`,
				ts.Format(time.RFC3339Nano), k, k%3, mixedX[i], mixedC[i]))
		}
	}
	for i := 0; i < 200; i++ {
		refLines = append(refLines, fmt.Sprintf(`{"model":"m","prediction":%d,"features":{"x":%g,"c":%q}}`, i%3, float64(i%17)/4, []string{"a", "b", "c"}[i%3]))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/models":
			_, _ = w.Write([]byte(`{"models":[{"name":"m","versions":["v1"],"features":[{"name":"c","type":"categorical"},{"name":"x","type":"numeric"}],"prediction":{"type":"numeric"}}]}`))
		case "/api/v1/records":
			_, _ = w.Write([]byte(strings.Join(lines, "\n") + "\n"))
		case "/api/v1/reference":
			_, _ = w.Write([]byte(strings.Join(refLines, "\n") + "\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	pl, err := predlog.New(srv.Client(), predlog.Options{BaseURL: srv.URL + "/api/v1"})
	require.NoError(t, err)

	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	require.NoError(t, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	for _, table := range []struct {
		name  string
		lines []string
	}{{"predictions", lines}, {"reference", refLines}} {
		for _, l := range table.lines {
			// The same JSON record, unpacked by PostgreSQL.
			_, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (ts, model, version, latency_ms, status, prediction, features)
				SELECT (r->>'ts')::timestamptz, r->>'model', r->>'version', (r->>'latency_ms')::float8, r->>'status', r->'prediction', r->'features'
				FROM (SELECT $1::jsonb AS r) x`, table.name), l)
			require.NoError(t, err)
		}
	}
	s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"}}`), map[string]string{"sqlPassword": pg.Password})
	require.NoError(t, err)
	src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: 30 * time.Second})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	// The batches: the same values and mismatches, record by record (newest first, then reversed).
	req := source.RecordsRequest{Model: "m", Start: start, End: end, Limit: 1000}
	want, err := pl.Records(ctx, req)
	require.NoError(t, err)
	got, err := src.Records(ctx, req)
	require.NoError(t, err)
	require.Equal(t, want.Len(), got.Len())
	mismatches := 0
	for _, name := range []string{"x", "c"} {
		wc, gc := want.Features[name], got.Features[name]
		require.NotNil(t, gc, name)
		require.Equal(t, wc.Kind, gc.Kind, name)
		for i := 0; i < want.Len(); i++ {
			raw := mixedX[i%len(mixedX)]
			if name == "c" {
				raw = mixedC[i%len(mixedC)]
			}
			require.Equal(t, wc.MismatchAt(i), gc.MismatchAt(i), "%s = %s: mismatch", name, raw)
			if wc.MismatchAt(i) {
				mismatches++
			}
			if wc.Kind == source.Numeric {
				a, b := wc.Num[i], gc.Num[i]
				require.True(t, a == b || (math.IsNaN(a) && math.IsNaN(b)), "%s = %s: prediction log %v, sql %v", name, raw, a, b)
			} else {
				str := func(c *source.Column) string {
					if c.Cat[i] < 0 {
						return "<null>"
					}
					return c.Dict[c.Cat[i]]
				}
				require.Equal(t, str(wc), str(gc), "%s = %s", name, raw)
			}
		}
	}
	require.Positive(t, mismatches)

	// Queries: typeMismatch, and drift through push-down and through raw rows.
	deps := query.Deps{MaxSamples: settings.DefaultMaxSamples, Timeout: time.Minute}
	ld, sd, rd := deps, deps, deps
	ld.PredictionLog, sd.SQL, rd.SQL, rd.NoPushdown = pl, src, src, true
	hl, hs, hr := query.New(ld), query.New(sd), query.New(rd)
	for _, q := range []map[string]any{
		{"queryType": "dataQuality", "model": "m", "metrics": []string{"nullRatio", "typeMismatch"}, "window": "30m"},
		{"queryType": "drift", "model": "m", "methods": []string{"psi", "ks", "wasserstein"}, "window": "30m"},
		{"queryType": "distribution", "model": "m", "window": "1h"},
		// Binned methods only: push-down counts the bins in PostgreSQL (jsonNumExpr).
		{"queryType": "drift", "model": "m", "methods": []string{"psi", "js"}, "window": "30m"},
	} {
		w := answer(hl, query.SourcePredictionLog, q, start.Add(30*time.Minute), end, 30*time.Minute)
		name := fmt.Sprint(q["queryType"])
		require.Positive(t, sameResponses(t, name, w, answer(hs, query.SourceSQL, q, start.Add(30*time.Minute), end, 30*time.Minute)), name)
		require.Positive(t, sameResponses(t, name+" (raw rows)", w, answer(hr, query.SourceSQL, q, start.Add(30*time.Minute), end, 30*time.Minute)), name)
	}
}
