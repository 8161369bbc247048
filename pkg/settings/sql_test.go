package settings

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

func TestParseSQLDefaults(t *testing.T) {
	s, err := Parse([]byte(`{"sql": {"url": "postgres://grafana@db:5432/ml?sslmode=require"}}`), map[string]string{"sqlPassword": "pw"})
	require.NoError(t, err)
	require.True(t, s.HasSource(), "sql counts as a source")
	require.False(t, s.Demo)
	require.NotNil(t, s.SQL)
	require.Equal(t, "pw", s.SQLPassword)
	require.Equal(t, "error", s.SQL.ErrorStatus)
	require.Equal(t, limits.DefaultSQLConnections, s.SQL.MaxConnections)
	require.Equal(t, Table{Name: "predictions", TS: "ts", Model: "model", Version: "version", LatencyMs: "latency_ms",
		Status: "status", Prediction: "prediction", Score: "score", Label: "label", LabelTS: "label_ts", Features: "features"}, s.SQL.Records)
	require.Equal(t, "reference", s.SQL.Reference.Name)
	require.Equal(t, "features", s.SQL.Reference.Features)
}

func TestParseSQLMapping(t *testing.T) {
	s, err := Parse([]byte(`{"sql": {"url": "postgresql://u@h/db", "errorStatus": "FAILED", "maxConnections": 9,
		"records": {"table": "mon.preds", "columns": {"ts": "logged_at", "latencyMs": "", "labelTs": ""}, "featureColumns": ["age", "income"]},
		"reference": {"table": "train", "columns": {"ts": "", "version": ""}}}}`), nil)
	require.NoError(t, err)
	r := s.SQL.Records
	require.Equal(t, "mon", r.Schema)
	require.Equal(t, "preds", r.Name)
	require.Equal(t, "logged_at", r.TS)
	require.Equal(t, "", r.LatencyMs, `"" = the table has no such column`)
	require.Equal(t, "", r.LabelTS)
	require.Equal(t, "", r.Features, "a wide table has no features jsonb column")
	require.Equal(t, []string{"age", "income"}, r.FeatureColumns)
	require.Equal(t, "FAILED", s.SQL.ErrorStatus)
	require.Equal(t, 9, s.SQL.MaxConnections)
	require.Equal(t, "", s.SQL.Reference.TS)
	require.Equal(t, "", s.SQL.Reference.Version)
}

func TestParseSQLErrors(t *testing.T) {
	for raw, want := range map[string]string{
		`{"sql": {"url": "postgres://u:hunter2@h/db"}}`:                                   "must not contain a password",
		`{"sql": {"url": "postgres://u@h/db?password=hunter2"}}`:                          "must not contain a password",
		`{"sql": {"url": "mysql://u@h/db"}}`:                                              "must start with postgres://",
		`{"sql": {"url": "postgres:///db"}}`:                                              "has no host",
		`{"sql": {"records": {"table": "x"}}}`:                                            "sql.url is required",
		`{"sql": {"url": "postgres://h/db", "maxConnections": 0}}`:                        "sql.maxConnections must be",
		`{"sql": {"url": "postgres://h/db", "maxConnections": 1000}}`:                     "sql.maxConnections must be",
		`{"sql": {"url": "postgres://h/db", "records": {"columns": {"ts": ""}}}}`:         "sql.records.columns.ts must name a column",
		`{"sql": {"url": "postgres://h/db", "records": {"columns": {"model": ""}}}}`:      "sql.records.columns.model must name a column",
		`{"sql": {"url": "postgres://h/db", "records": {"table": "a.b.c"}}}`:              "must be table or schema.table",
		`{"sql": {"url": "postgres://h/db", "records": {"featureColumns": ["a", "a"]}}}`:  "listed twice",
		`{"sql": {"url": "postgres://h/db", "records": {"colums": {}}}}`:                  `"sql.records.colums" (did you mean "sql.records.columns"?)`,
		`{"sql": {"url": "postgres://h/db", "reference": {"columns": {"latency": "x"}}}}`: `sql.reference.columns.latency`,
	} {
		_, err := Parse([]byte(raw), nil)
		require.ErrorContains(t, err, want, raw)
		require.NotContains(t, err.Error(), "hunter2", "the password never reaches an error")
	}
}

func TestSQLPasswordIsASecretKey(t *testing.T) {
	_, err := Parse([]byte(`{"sqlPassword": "hunter2", "demo": true}`), nil)
	require.ErrorContains(t, err, "a secret: it belongs in secureJsonData")
	require.NotContains(t, fmt.Sprint(err), "hunter2")
}
