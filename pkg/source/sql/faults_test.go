package sql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/plugin"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

var (
	faultEnd   = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	faultStart = faultEnd.Add(-20 * time.Minute)
)

// faultDB is a PostgreSQL server holding twenty minutes of the demo fleet in the default tables.
func faultDB(t *testing.T) *testdb.Postgres {
	t.Helper()
	pg := testdb.StartPostgres(t)
	_, _, err := sqlsource.LoadFleet(context.Background(), pg.Conn(t), demo.NewFleet(demo.DefaultSeed), "predictions", "reference", faultStart, faultEnd)
	require.NoError(t, err)
	return pg
}

// sqlHandler is a query handler over a PostgreSQL source with the given sql settings (the url is
// filled in unless set) and timeout.
func sqlHandler(t *testing.T, pg *testdb.Postgres, sqlJSON string, timeout time.Duration) (*query.Handler, *sqlsource.Source) {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(sqlJSON), &m))
	if _, ok := m["url"]; !ok {
		m["url"] = pg.URLWithoutPassword()
	}
	b, _ := json.Marshal(m)
	sqlJSON = string(b)
	s, err := settings.Parse([]byte(`{"sql": `+sqlJSON+`}`), map[string]string{"sqlPassword": pg.Password})
	require.NoError(t, err, sqlJSON)
	src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: timeout})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	return query.New(query.Deps{SQL: src, MaxSamples: 100_000, Timeout: timeout}), src
}

// queryErr runs a query and returns its error (nil when it answered).
func queryErr(h *query.Handler, q map[string]any) backend.DataResponse {
	return answer(h, query.SourceSQL, q, faultStart.Add(10*time.Minute), faultEnd, time.Minute)
}

// TestFaultsNamed: a missing table, a missing or mistyped column and a missing feature give a
// per-query error that names the table, column or feature and the setting to fix; the password
// never appears.
func TestFaultsNamed(t *testing.T) {
	pg := faultDB(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE TABLE texty AS SELECT ts, model, version, latency_ms::text AS latency_ms, status, prediction, score, label, label_ts, features FROM predictions`)
	require.NoError(t, err)
	traffic := map[string]any{"queryType": "traffic", "model": "fraud-detector"}
	for sqlJSON, want := range map[string][]string{
		`{"records": {"table": "nope"}}`:                                      {`table "nope" does not exist`, "sql.records.table"},
		`{"records": {"columns": {"latencyMs": "lat_ms"}}}`:                   {`has no column "lat_ms"`, "sql.records.columns.latencyMs"},
		`{"records": {"table": "texty"}}`:                                     {`column "latency_ms" of table "texty" is text`, "must be numeric"},
		`{"records": {"table": "predictions", "featureColumns": ["amount"]}}`: {`has no column "amount"`, "sql.records.featureColumns"},
	} {
		h, _ := sqlHandler(t, pg, sqlJSON, 10*time.Second)
		r := queryErr(h, traffic)
		require.Error(t, r.Error, sqlJSON)
		for _, w := range want {
			require.Contains(t, r.Error.Error(), w, sqlJSON)
		}
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, sqlJSON)
		require.NotContains(t, r.Error.Error(), pg.Password)
	}
	h, _ := sqlHandler(t, pg, `{}`, 10*time.Second)
	r := queryErr(h, map[string]any{"queryType": "drift", "model": "fraud-detector", "features": []string{"no_such_feature"}})
	require.ErrorContains(t, r.Error, `has no feature "no_such_feature"`)
	r = queryErr(h, map[string]any{"queryType": "traffic", "model": "no-such-model"})
	require.ErrorContains(t, r.Error, `model "no-such-model" not found`)
	r = queryErr(h, traffic)
	require.NoError(t, r.Error, "the same source answers a good query")
}

// TestHostileNames: table, column, model, version and feature names with quotes, semicolons and
// unicode are bound or quoted, never spliced into SQL: the queries answer and nothing is dropped.
func TestHostileNames(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	table := `preds"; DROP TABLE keep; --`
	_, err := conn.Exec(ctx, `CREATE TABLE keep (x int)`)
	require.NoError(t, err)
	require.NoError(t, sqlsource.CreateTables(ctx, conn, table, "ref ' ;"))
	model, version, feature := `m'; DROP TABLE keep; --`, `v"1;`, `größe "ü"; --`
	b := &source.Batch{Model: model, Versions: []string{version}, Prediction: source.NewColumn(source.Numeric, 0), Label: source.NewColumn(source.Numeric, 0),
		FeatureNames: []string{feature}, Features: map[string]*source.Column{feature: source.NewColumn(source.Numeric, 0)}}
	for i := 0; i < 100; i++ {
		b.TS = append(b.TS, faultStart.Add(time.Duration(i+1)*10*time.Second).UnixNano())
		b.Version = append(b.Version, 0)
		b.LatencyMs = append(b.LatencyMs, float64(i))
		b.Error = append(b.Error, i%10 == 0)
		b.Score = append(b.Score, float64(i)/100)
		b.Prediction.AppendNum(float64(i % 7))
		b.Label.AppendNull()
		b.Features[feature].AppendNum(float64(i % 13))
	}
	_, err = sqlsource.Load(ctx, conn, table, b)
	require.NoError(t, err)
	_, err = sqlsource.Load(ctx, conn, "ref ' ;", b)
	require.NoError(t, err)
	h, _ := sqlHandler(t, pg, fmt.Sprintf(`{"records": {"table": %q}, "reference": {"table": %q}}`, table, "ref ' ;"), 10*time.Second)
	from, to := faultStart, faultStart.Add(20*time.Minute)
	for _, q := range []map[string]any{
		{"queryType": "traffic", "model": model, "version": version, "metrics": []string{"count"}, "output": "latest"},
		{"queryType": "drift", "model": model, "version": "*", "features": []string{feature}, "methods": []string{"psi", "ks"}, "output": "latest"},
		{"queryType": "latency", "model": model, "output": "latest"},
	} {
		r := answer(h, query.SourceSQL, q, from, to, time.Minute)
		require.NoError(t, r.Error, "%v", q)
		require.NotEmpty(t, r.Frames)
	}
	r := answer(h, query.SourceSQL, map[string]any{"queryType": "traffic", "model": model, "metrics": []string{"count"}, "output": "latest"}, from, to, time.Minute)
	v, _ := r.Frames[0].Fields[0].ConcreteAt(0)
	require.Equal(t, 100.0, v)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM keep`).Scan(&n), "the table named in the names still exists")
}

// TestDatabaseDownSlowAndDropped: a database that is not there, a statement past
// statement_timeout, and a connection terminated mid-query each give that query a downstream
// error saying what happened; the next query on the same source answers.
func TestDatabaseDownSlowAndDropped(t *testing.T) {
	pg := faultDB(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	traffic := map[string]any{"queryType": "traffic", "model": "fraud-detector"}

	// Down: nothing listens on the port.
	down := *pg
	down.Port = testdb.FreePort(t)
	h, _ := sqlHandler(t, &down, `{}`, 5*time.Second)
	r := queryErr(h, traffic)
	require.Error(t, r.Error)
	require.Contains(t, r.Error.Error(), "cannot reach the database")
	require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
	require.NotContains(t, r.Error.Error(), pg.Password)

	// Wrong password: the error says so without the password.
	s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"}}`), nil)
	require.NoError(t, err)
	bad, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: "not-" + pg.Password, Timeout: 5 * time.Second})
	require.NoError(t, err)
	_, err = bad.Models(ctx)
	bad.Close()
	require.ErrorContains(t, err, "password authentication failed")
	require.NotContains(t, err.Error(), pg.Password)

	// Slow: a view that sleeps 10 ms per row while slowflag says so (off while the model list is
	// read, which the source then caches).
	_, err = conn.Exec(ctx, `CREATE TABLE slowflag (slow bool); INSERT INTO slowflag VALUES (false);
		CREATE VIEW slow AS SELECT * FROM predictions WHERE pg_sleep(CASE WHEN (SELECT slow FROM slowflag) THEN 0.01 ELSE 0 END)::text = ''`)
	require.NoError(t, err)
	setSlow := func(on bool) {
		_, err := conn.Exec(ctx, `UPDATE slowflag SET slow = $1`, on)
		require.NoError(t, err)
	}
	h, src := sqlHandler(t, pg, `{"records": {"table": "slow"}}`, time.Second)
	_, err = src.Models(ctx)
	require.NoError(t, err)
	setSlow(true)
	start := time.Now()
	// statement_timeout (1 s) ends the statement on the server even without a deadline here.
	_, err = src.Records(ctx, source.RecordsRequest{Model: "fraud-detector", Start: faultStart, End: faultEnd})
	require.Error(t, err)
	require.Contains(t, err.Error(), "timed out")
	require.Less(t, time.Since(start), 20*time.Second)
	r = queryErr(h, traffic)
	require.Error(t, r.Error)
	require.Contains(t, r.Error.Error(), "timed out")
	require.Equal(t, backend.StatusTimeout, r.Status)

	// Dropped: terminate the backend while it runs a slow statement.
	setSlow(false)
	h, src = sqlHandler(t, pg, `{"records": {"table": "slow"}}`, time.Minute)
	_, err = src.Models(ctx)
	require.NoError(t, err)
	setSlow(true)
	done := make(chan error, 1)
	go func() {
		_, err := src.Records(ctx, source.RecordsRequest{Model: "fraud-detector", Start: faultStart, End: faultEnd})
		done <- err
	}()
	require.Eventually(t, func() bool {
		var killed bool
		err := conn.QueryRow(ctx, `SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity
			WHERE application_name = 'modellens' AND state = 'active' AND query LIKE '%slow%' AND pid <> pg_backend_pid()`).Scan(&killed)
		return err == nil && killed
	}, 30*time.Second, 50*time.Millisecond)
	err = <-done
	require.Error(t, err)
	require.Regexp(t, "terminat|cannot reach the database|conn closed|unexpected EOF", err.Error())
	// The pool replaces the connection: the next query answers.
	setSlow(false)
	r = answer(h, query.SourceSQL, map[string]any{"queryType": "traffic", "model": "fraud-detector", "metrics": []string{"count"}, "output": "latest"},
		faultEnd.Add(-time.Minute), faultEnd, time.Minute)
	require.NoError(t, r.Error)
}

// TestCheckHealth: Save & test checks the connection, the tables and the mapped columns through the
// plugin's instance and names what is wrong.
func TestCheckHealth(t *testing.T) {
	pg := faultDB(t)
	check := func(sqlJSON string) *backend.CheckHealthResult {
		t.Helper()
		inst, err := plugin.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
			JSONData:                []byte(`{"sql": ` + sqlJSON + `}`),
			DecryptedSecureJSONData: map[string]string{"sqlPassword": pg.Password},
		})
		require.NoError(t, err)
		ds := inst.(interface {
			CheckHealth(context.Context, *backend.CheckHealthRequest) (*backend.CheckHealthResult, error)
			Dispose()
		})
		defer ds.Dispose()
		res, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
		require.NoError(t, err)
		require.NotContains(t, res.Message, pg.Password)
		return res
	}
	u := pg.URLWithoutPassword()
	res := check(`{"url": "` + u + `"}`)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	require.Contains(t, res.Message, "PostgreSQL (3 models in predictions)")

	res = check(`{"url": "` + u + `", "records": {"columns": {"score": "confidence"}}}`)
	require.Equal(t, backend.HealthStatusError, res.Status)
	require.Contains(t, res.Message, `PostgreSQL: table layout: table "predictions" has no column "confidence" (sql.records.columns.score)`)

	res = check(`{"url": "` + u + `", "reference": {"table": "training"}}`)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	require.Contains(t, res.Message, `no reference table "training"`)

	down := *pg
	down.Port = testdb.FreePort(t)
	res = check(`{"url": "` + down.URLWithoutPassword() + `"}`)
	require.Equal(t, backend.HealthStatusError, res.Status)
	require.Contains(t, res.Message, "PostgreSQL: postgresql: connecting: cannot reach the database")
}
