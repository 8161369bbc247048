package pluginproto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

func TestPluginOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	base := startDemoModel(t)
	plug := startPlugin(t)

	server := map[string]any{
		"predictionLog": map[string]any{"url": base + "/api/v1"},
		"endpoints":     []map[string]any{{"name": "demo-model", "url": base, "protocol": "oip"}},
	}
	cases := []struct {
		name string
		uid  string
		json map[string]any
	}{
		{"demo-model server", "server", server},
		{"embedded demo fleet", "demo", map[string]any{"demo": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pc := pluginContext(tc.uid, tc.json, true)

			health := plug.checkHealth(t, pc)
			require.Equal(t, backend.HealthStatusOk, health.Status, health.Message)
			assertClean(t, health)

			// Resources: what the editor and template variables use.
			status, body := plug.resourceGet(t, pc, "models")
			require.Equal(t, http.StatusOK, status, string(body))
			var models []modelInfo
			require.NoError(t, json.Unmarshal(body, &models), string(body))
			require.GreaterOrEqual(t, len(models), 3, "the demo fleet has at least three models")
			var multi *modelInfo
			for i := range models {
				if len(models[i].Versions) >= 2 {
					multi = &models[i]
				}
			}
			require.NotNil(t, multi, "one demo model has two versions")
			status, body = plug.resourceGet(t, pc, "models/"+multi.Name+"/versions")
			require.Equal(t, http.StatusOK, status, string(body))
			var versions []string
			require.NoError(t, json.Unmarshal(body, &versions))
			require.ElementsMatch(t, multi.Versions, versions)
			status, body = plug.resourceGet(t, pc, "models/"+multi.Name+"/features")
			require.Equal(t, http.StatusOK, status, string(body))
			require.Contains(t, string(body), multi.Features[0].Name)
			status, body = plug.resourceGet(t, pc, "models/no-such-model/versions")
			require.Equal(t, http.StatusNotFound, status, string(body))

			to := time.Now().Truncate(time.Minute)
			from := to.Add(-2 * time.Hour)
			m := multi.Name
			queries := map[string]map[string]any{
				"endpoints":    {"queryType": "endpoints"},
				"health":       {"queryType": "health"},
				"traffic":      {"queryType": "traffic", "model": m, "version": "*", "metrics": []string{"rate", "count", "errors", "errorCount", "errorRatio"}, "window": "5m"},
				"trafficAll":   {"queryType": "traffic", "metrics": []string{"rate"}},
				"latency":      {"queryType": "latency", "model": m, "percentiles": []float64{50, 95, 99}, "window": "5m"},
				"latencyLast":  {"queryType": "latency", "model": m, "output": "latest", "window": "10m"},
				"drift":        {"queryType": "drift", "model": m, "window": "30m"},
				"driftLatest":  {"queryType": "drift", "model": m, "output": "latest", "window": "1h", "methods": []string{"psi", "js", "status"}},
				"driftTable":   {"queryType": "drift", "model": m, "output": "table", "window": "1h"},
				"driftOutputs": {"queryType": "drift", "model": m, "output": "latest", "window": "1h", "features": []string{"prediction", "score"}},
				"distribution": {"queryType": "distribution", "model": m, "features": []string{multi.Features[0].Name}, "window": "1h"},
				"predictions":  {"queryType": "predictions", "model": m, "window": "10m", "percentiles": []float64{50}},
				"badType":      {"queryType": "nope"},
				"badModel":     {"queryType": "latency", "model": "no-such-model"},
				"badPct":       {"queryType": "latency", "model": m, "percentiles": []float64{0}},
				"badWindow":    {"queryType": "traffic", "model": m, "window": "five minutes"},
			}
			resp := plug.query(t, pc, nil, from, to, queries)
			assertClean(t, resp)
			require.Len(t, resp.Responses, len(queries))

			for _, ref := range []string{"badType", "badModel", "badPct", "badWindow"} {
				r := resp.Responses[ref]
				require.Error(t, r.Error, ref)
				require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, "%s: %v", ref, r.Error)
			}
			for ref := range queries {
				if strings.HasPrefix(ref, "bad") {
					continue
				}
				r := resp.Responses[ref]
				require.NoError(t, r.Error, ref)
				require.NotEmpty(t, r.Frames, ref)
			}
			// Time series and latest frames are what Grafana alerting and panels read.
			for _, ref := range []string{"traffic", "trafficAll", "latency", "drift", "predictions", "latencyLast", "driftLatest", "driftOutputs", "health"} {
				require.NoError(t, frames.CheckAlertReady(resp.Responses[ref].Frames), ref)
			}
			for _, ref := range []string{"traffic", "latency", "drift", "predictions"} {
				for _, f := range resp.Responses[ref].Frames {
					require.Equal(t, data.FrameTypeTimeSeriesMulti, frameType(f), ref)
					require.Equal(t, data.FrameTypeVersion{0, 1}, f.Meta.TypeVersion, ref)
				}
			}
			for _, ref := range []string{"latencyLast", "driftLatest", "driftOutputs", "health"} {
				for _, f := range resp.Responses[ref].Frames {
					require.Contains(t, []data.FrameType{data.FrameTypeNumericMulti, data.FrameTypeNumericLong}, frameType(f), ref)
				}
			}
			for _, ref := range []string{"endpoints", "driftTable", "distribution"} {
				for _, f := range resp.Responses[ref].Frames {
					require.Equal(t, data.FrameTypeTable, frameType(f), ref)
				}
			}
			// Three latency percentiles, per version split for traffic.
			require.Len(t, resp.Responses["latency"].Frames, 3)
			versionsSeen := map[string]bool{}
			for _, f := range resp.Responses["traffic"].Frames {
				versionsSeen[f.Fields[1].Labels["version"]] = true
			}
			require.Len(t, versionsSeen, len(multi.Versions))
			// The endpoints table has a row per model.
			require.GreaterOrEqual(t, resp.Responses["endpoints"].Frames[0].Rows(), len(models))

			// An alert evaluation: no user, the FromAlert header, a self-contained query.
			alertPC := pluginContext(tc.uid, tc.json, false)
			alert := plug.query(t, alertPC, map[string]string{backend.FromAlertHeaderName: "true"}, to.Add(-10*time.Minute), to,
				map[string]map[string]any{
					"A": {"queryType": "drift", "model": m, "output": "latest", "methods": []string{"status"}, "window": "1h"},
					"B": {"queryType": "latency", "model": m, "output": "latest", "percentiles": []float64{95}, "window": "5m"},
				})
			for ref, r := range alert.Responses {
				require.NoError(t, r.Error, ref)
				require.NoError(t, frames.CheckAlertReady(r.Frames), ref)
				for _, f := range r.Frames {
					require.Contains(t, []data.FrameType{data.FrameTypeNumericMulti, data.FrameTypeNumericLong}, frameType(f), ref)
				}
			}
			for _, f := range alert.Responses["A"].Frames {
				v, ok := f.Fields[len(f.Fields)-1].ConcreteAt(0)
				require.True(t, ok)
				s := v.(float64)
				require.True(t, s == 0 || s == 1 || s == 2, "status is 0, 1 or 2, got %v", s)
			}

			// Invalid JSON in one query does not spoil the others.
			bad := &backend.QueryDataRequest{PluginContext: pc, Queries: []backend.DataQuery{
				{RefID: "X", QueryType: "latency", JSON: []byte(`{"queryType": "latency", "model": `), TimeRange: backend.TimeRange{From: from, To: to}, Interval: time.Minute},
				{RefID: "Y", QueryType: "traffic", JSON: []byte(`{"queryType": "traffic"}`), TimeRange: backend.TimeRange{From: from, To: to}, Interval: time.Minute},
			}}
			r2 := plug.queryRaw(t, bad)
			require.Error(t, r2.Responses["X"].Error)
			require.Equal(t, backend.ErrorSourceDownstream, r2.Responses["X"].ErrorSource)
			require.NoError(t, r2.Responses["Y"].Error)
		})
	}

	t.Run("unreachable prediction log", func(t *testing.T) {
		pc := pluginContext("down", map[string]any{"predictionLog": map[string]any{"url": fmt.Sprintf("http://127.0.0.1:%d/api/v1", freePort(t))}}, true)
		health := plug.checkHealth(t, pc)
		require.Equal(t, backend.HealthStatusError, health.Status)
		require.Contains(t, strings.ToLower(health.Message), "prediction log")
		assertClean(t, health)
		to := time.Now()
		resp := plug.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{"A": {"queryType": "traffic", "model": "any"}})
		require.Error(t, resp.Responses["A"].Error)
		require.Equal(t, backend.ErrorSourceDownstream, resp.Responses["A"].ErrorSource)
		assertClean(t, resp)
	})

	t.Run("bad settings", func(t *testing.T) {
		pc := pluginContext("bad", map[string]any{"prometheus": map[string]any{"url": "ftp://x", "preset": "generic"}}, true)
		health := plug.checkHealth(t, pc)
		require.Equal(t, backend.HealthStatusError, health.Status)
		require.Contains(t, health.Message, "prometheus.url")
	})

	// A misspelt key never lets the demo fleet answer in place of the source that was meant: Save &
	// test names it, and every query of a request fails with it.
	t.Run("misspelt key", func(t *testing.T) {
		pc := pluginContext("typo", map[string]any{"prometeus": map[string]any{"url": "http://127.0.0.1:9090"}}, true)
		health := plug.checkHealth(t, pc)
		require.Equal(t, backend.HealthStatusError, health.Status, health.Message)
		require.Contains(t, health.Message, `"prometeus" (did you mean "prometheus"?)`)
		require.NotContains(t, health.Message, "demo fleet (")
		assertClean(t, health)
		to := time.Now()
		resp := plug.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
			"A": {"queryType": "traffic"}, "B": {"queryType": "latency", "model": "fraud-detector"}})
		for _, id := range []string{"A", "B"} {
			r := resp.Responses[id]
			require.ErrorContains(t, r.Error, `"prometeus"`, id)
			require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, id)
			require.Empty(t, r.Frames, id)
		}
		assertClean(t, resp)
	})

	t.Run("demo frames say synthetic", func(t *testing.T) {
		pc := pluginContext("demo", map[string]any{"demo": true}, true)
		to := time.Now()
		resp := plug.query(t, pc, nil, to.Add(-time.Hour), to, map[string]map[string]any{
			"A": {"queryType": "traffic", "model": "fraud-detector", "version": "*"}, "B": {"queryType": "health"}})
		for _, id := range []string{"A", "B"} {
			r := resp.Responses[id]
			require.NoError(t, r.Error, id)
			require.NotEmpty(t, r.Frames, id)
			for i, f := range r.Frames {
				require.NotNil(t, f.Meta, "%s frame %d", id, i)
				found := false
				for _, n := range f.Meta.Notices {
					found = found || (n.Text == query.SyntheticNotice && n.Severity == data.NoticeSeverityWarning)
				}
				require.True(t, found, "%s frame %d has no synthetic-data notice: %v", id, i, f.Meta.Notices)
			}
		}
	})
}
