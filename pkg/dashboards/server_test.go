package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo/feastdemotest"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/plugin"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// TestProvisionedDatasourcesAnswerTheDashboards builds each provisioned ModelLens data source with
// the plugin's real instance factory from its provisioned jsonData, the compose host names replaced
// by test servers: the demo model server (Prediction Log API and Open Inference Protocol) for
// demo-model:8090, a server that answers 404 to everything for prometheus:9090 (no query of
// the bundled dashboards may need Prometheus when the Prediction Log knows the model), and a
// PostgreSQL set up as the compose service for postgres:5432, read as the provisioned read-only
// role. Every dashboard query and alert rule query must then answer without error, except saturation
// queries, which read Prometheus by design: on a data source with prometheus.url they must fail with
// the stand-in's Prometheus error (they asked Prometheus, not the Prediction Log or the demo fleet),
// and on one without prometheus.url (PostgreSQL) with an error saying so.
func TestProvisionedDatasourcesAnswerTheDashboards(t *testing.T) {
	ctx := context.Background()
	fleet := demo.NewFleet(demo.DefaultSeed)
	server := httptest.NewServer(demo.NewServer(fleet, demo.ServerOptions{Clock: func() time.Time { return runTo }}))
	defer server.Close()
	noProm := httptest.NewServer(http.NotFoundHandler())
	defer noProm.Close()

	models, err := fleet.Models(ctx)
	require.NoError(t, err)
	instances := 0
	for _, d := range loadDatasources(t).Datasources {
		if d.Type != PluginID {
			continue
		}
		instances++
		b, err := json.Marshal(d.JSONData)
		require.NoError(t, err)
		js := strings.ReplaceAll(string(b), "http://demo-model:8090", server.URL)
		js = strings.ReplaceAll(js, "http://prometheus:9090", noProm.URL)
		if _, ok := d.JSONData["sql"]; ok {
			js = strings.ReplaceAll(js, "@postgres:5432/", "@"+composePostgres(t, fleet)+"/")
		}
		secure := d.SecureJSONData
		_, isFeast := d.JSONData["feast"]
		if isFeast {
			// The stores demo-feast fills, as of the test range's end.
			env := feastdemotest.Start(t, runTo.Add(-4*time.Hour), runTo, runTo.Add(-24*time.Hour))
			env.At(t, runTo)
			js = strings.ReplaceAll(js, "/var/lib/feast/registry.db", env.RegistryPath)
			js = strings.ReplaceAll(js, `"redis:6379"`, `"`+env.RedisServer.Addr+`"`)
			js = strings.ReplaceAll(js, "postgres://modellens_reader@postgres:5432/modellens?sslmode=disable", env.Postgres.URLWithoutPassword())
			secure = map[string]string{"feastOfflinePassword": env.Postgres.Password}
		}
		inst, err := plugin.NewDatasource(ctx, backend.DataSourceInstanceSettings{UID: d.UID, Name: d.Name, Type: PluginID,
			JSONData: []byte(js), DecryptedSecureJSONData: secure})
		require.NoError(t, err, d.UID)
		if disp, ok := inst.(instancemgmt.InstanceDisposer); ok {
			defer disp.Dispose()
		}
		h, ok := inst.(backend.QueryDataHandler)
		require.True(t, ok)

		var cfg struct {
			Demo       bool            `json:"demo"`
			Prometheus json.RawMessage `json:"prometheus"`
		}
		require.NoError(t, json.Unmarshal([]byte(js), &cfg))
		for _, dash := range loadAll(t) {
			if dash.UID == feastDashboard && !isFeast {
				continue // the feature store dashboard needs a Feast store
			}
			b := binding{model: "*"}
			if m, _ := dash.Variable("model"); !m.IncludeAll {
				b.model = models[0].Name
				for _, f := range models[0].Features {
					b.all = append(b.all, f.Name)
				}
			}
			for _, p := range dash.AllPanels() {
				rf := ""
				if p.Repeat == "feature" {
					rf = b.all[0]
				}
				for _, tg := range p.Targets {
					r := run(t, h, interpolate(t, tg.Raw, b, rf), false)
					if pq, err := Validate(tg.Raw); err == nil && pq.QueryType == query.TypeSaturation && (strings.Contains(js, noProm.URL) || (!cfg.Demo && cfg.Prometheus == nil)) {
						// Saturation reads Prometheus only: the stand-in's error, or the missing prometheus.url named.
						require.ErrorContains(t, r.Error, "Prometheus", "%s: %s panel %q", d.UID, dash.UID, p.Title)
						continue
					}
					require.NoError(t, r.Error, "%s: %s panel %q target %s", d.UID, dash.UID, p.Title, tg.RefID)
					require.NotEmpty(t, r.Frames, "%s: %s panel %q", d.UID, dash.UID, p.Title)
				}
			}
		}
		for _, g := range loadRules(t).Groups {
			for _, r := range g.Rules {
				for _, q := range r.Data {
					if q.DatasourceUID == ExprUID || (q.DatasourceUID == feastDS && !isFeast) {
						continue
					}
					raw, err := q.ModelJSON()
					require.NoError(t, err)
					resp := run(t, h, raw, true)
					if pq, err := Validate(raw); err == nil && pq.QueryType == query.TypeSaturation && (strings.Contains(js, noProm.URL) || (!cfg.Demo && cfg.Prometheus == nil)) {
						// Saturation reads Prometheus only: the stand-in's error, or the missing prometheus.url named.
						require.ErrorContains(t, resp.Error, "Prometheus", "%s: rule %s", d.UID, r.UID)
						continue
					}
					require.NoError(t, resp.Error, fmt.Sprintf("%s: rule %s", d.UID, r.UID))
				}
			}
		}
	}
	require.Equal(t, 4, instances)
}

// composePostgres starts PostgreSQL 15 set up as docker-compose.yaml's postgres service: database
// and superuser modellens, provisioning/postgres/init.sql applied (the read-only role the
// provisioned data source connects as), and the demo fleet around the test range loaded into the
// default tables as the demo-pg service does. It returns host:port.
func composePostgres(t *testing.T, fleet *demo.Fleet) string {
	t.Helper()
	pg := testdb.StartPostgres(t)
	require.Equal(t, "modellens", pg.User)
	require.Equal(t, "modellens", pg.Database)
	conn := pg.Conn(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, string(mustRead(t, filepath.Join(repoRoot(t), "provisioning", "postgres", "init.sql"))))
	require.NoError(t, err)
	_, _, err = sqlsource.LoadFleet(ctx, conn, fleet, "predictions", "reference", runFrom.Add(-4*time.Hour), runTo)
	require.NoError(t, err)
	return fmt.Sprintf("%s:%d", pg.Host, pg.Port)
}
