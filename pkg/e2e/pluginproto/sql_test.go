package pluginproto

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// TestPluginSQLOverGRPC drives the built plugin over the plugin protocol against a real
// PostgreSQL holding the demo fleet: Save & test, the model resources, every record query type
// from source "sql" and from auto, a bad column mapping named by Save & test, and no password in any
// answer.
func TestPluginSQLOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	pg := testdb.StartPostgres(t)
	end := time.Now().UTC().Truncate(time.Minute)
	start := end.Add(-30 * time.Minute)
	_, _, err := sqlsource.LoadFleet(context.Background(), pg.Conn(t), demo.NewFleet(demo.DefaultSeed), "predictions", "reference", start, end)
	require.NoError(t, err)
	plug := startPlugin(t)

	ctxFor := func(uid string, sql map[string]any) backend.PluginContext {
		pc := pluginContext(uid, map[string]any{"sql": sql, "timeoutSeconds": 20}, true)
		pc.DataSourceInstanceSettings.DecryptedSecureJSONData["sqlPassword"] = pg.Password
		return pc
	}
	clean := func(v any) {
		t.Helper()
		assertClean(t, v)
		b, _ := json.Marshal(v)
		require.NotContains(t, string(b), pg.Password, "the PostgreSQL password reached an answer")
	}
	pc := ctxFor("pg", map[string]any{"url": pg.URLWithoutPassword(), "maxConnections": 2})

	health := plug.checkHealth(t, pc)
	require.Equal(t, backend.HealthStatusOk, health.Status, health.Message)
	require.Contains(t, health.Message, "PostgreSQL (3 models in predictions)")
	clean(health)

	status, body := plug.resourceGet(t, pc, "models")
	require.Equal(t, http.StatusOK, status, string(body))
	var models []modelInfo
	require.NoError(t, json.Unmarshal(body, &models), string(body))
	require.Len(t, models, 3)

	for _, src := range []string{"sql", "auto"} {
		resp := plug.query(t, pc, nil, end.Add(-10*time.Minute), end, map[string]map[string]any{
			"traffic":     {"queryType": "traffic", "source": src, "model": "fraud-detector", "version": "*", "metrics": []string{"rate", "errorRatio"}},
			"latency":     {"queryType": "latency", "source": src, "model": "fraud-detector"},
			"drift":       {"queryType": "drift", "source": src, "model": "churn-classifier", "output": "latest"},
			"driftTable":  {"queryType": "drift", "source": src, "model": "churn-classifier", "output": "table"},
			"dist":        {"queryType": "distribution", "source": src, "model": "price-regressor", "output": "table"},
			"predictions": {"queryType": "predictions", "source": src, "model": "churn-classifier"},
			"endpoints":   {"queryType": "endpoints", "source": src},
			"unknown":     {"queryType": "traffic", "source": src, "model": "no-such-model"},
		})
		clean(resp)
		for ref, r := range resp.Responses {
			if ref == "unknown" {
				require.Error(t, r.Error)
				require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource)
				continue
			}
			require.NoError(t, r.Error, "%s %s", src, ref)
			require.NotEmpty(t, r.Frames, "%s %s", src, ref)
			for _, f := range r.Frames {
				if f.Meta != nil {
					for _, n := range f.Meta.Notices {
						require.NotEqual(t, query.SyntheticNotice, n.Text, "%s %s: real records are not synthetic", src, ref)
					}
				}
			}
		}
	}

	bad := ctxFor("pg-bad", map[string]any{"url": pg.URLWithoutPassword(), "records": map[string]any{"columns": map[string]any{"latencyMs": "latency"}}})
	health = plug.checkHealth(t, bad)
	require.Equal(t, backend.HealthStatusError, health.Status)
	require.Contains(t, health.Message, `table "predictions" has no column "latency" (sql.records.columns.latencyMs)`)
	clean(health)
}
