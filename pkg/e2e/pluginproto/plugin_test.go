// Package pluginproto drives the built plugin binary over the plugin protocol exactly as Grafana
// does: go-plugin starts the executable, negotiates the handshake and speaks gRPC (pluginv2) to it.
// The data comes from a demo-model process on loopback.
package pluginproto

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	hclog "github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

const (
	pluginID = "modellens-mlmonitoring-datasource"
	// secret is configured as every token; it must never come back in a frame, error or message.
	secret = "s3cr3t-T0KEN-never-shown"
)

// buildOrFind returns the path of an executable: the env var when set (CI builds the plugin with
// mage first), else a fresh `go build` of pkg into a temp dir.
func buildOrFind(t *testing.T, env, pkg, name string) string {
	if p := os.Getenv(env); p != "" {
		_, err := os.Stat(p)
		require.NoError(t, err, "%s=%s", env, p)
		return p
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = testutil.RepoRoot(t)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, b)
	return out
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startDemoModel runs the demo model server on a free loopback port and returns its base URL.
func startDemoModel(t *testing.T) string {
	bin := buildOrFind(t, "MODELLENS_DEMO_MODEL_BINARY", "pkg/cmd/demo-model", "demo-model")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "-listen", addr, "-seed", "42", "-backfill", "6h", "-tick", "250ms")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("demo-model output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo-model did not become ready on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pluginClient is the Grafana side of the plugin protocol.
type pluginClient struct {
	data        pluginv2.DataClient
	diagnostics pluginv2.DiagnosticsClient
	resource    pluginv2.ResourceClient
}

// startPlugin launches the executable with go-plugin the way Grafana's backend plugin manager does.
func startPlugin(t *testing.T) *pluginClient {
	bin := buildOrFind(t, "MODELLENS_PLUGIN_BINARY", "pkg", "gpx_modellens")
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{
			grpcplugin.ProtocolVersion: {
				"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
				"resource":    &grpcplugin.ResourceGRPCPlugin{},
				"data":        &grpcplugin.DataGRPCPlugin{},
			},
		},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn, Output: io.Discard}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	require.NoError(t, err, "starting the plugin over go-plugin")
	pc := &pluginClient{}
	raw, err := rpc.Dispense("data")
	require.NoError(t, err)
	pc.data = raw.(pluginv2.DataClient)
	raw, err = rpc.Dispense("diagnostics")
	require.NoError(t, err)
	pc.diagnostics = raw.(pluginv2.DiagnosticsClient)
	raw, err = rpc.Dispense("resource")
	require.NoError(t, err)
	pc.resource = raw.(pluginv2.ResourceClient)
	return pc
}

func pluginContext(uid string, jsonData map[string]any, withUser bool) backend.PluginContext {
	b, _ := json.Marshal(jsonData)
	pc := backend.PluginContext{
		OrgID:    1,
		PluginID: pluginID,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			UID:      uid,
			Name:     "ModelLens " + uid,
			Type:     pluginID,
			JSONData: b,
			DecryptedSecureJSONData: map[string]string{
				"predictionLogToken": secret,
				"prometheusToken":    secret,
				"endpointToken":      secret,
			},
			Updated: time.Unix(1700000000, 0),
		},
	}
	if withUser {
		pc.User = &backend.User{Login: "admin", Role: "Admin"}
	}
	return pc
}

func (c *pluginClient) query(t *testing.T, pc backend.PluginContext, headers map[string]string, from, to time.Time, queries map[string]map[string]any) *backend.QueryDataResponse {
	req := &backend.QueryDataRequest{PluginContext: pc, Headers: headers}
	for refID, q := range queries {
		b, err := json.Marshal(q)
		require.NoError(t, err)
		qt, _ := q["queryType"].(string)
		req.Queries = append(req.Queries, backend.DataQuery{
			RefID: refID, QueryType: qt, JSON: b, Interval: time.Minute, MaxDataPoints: 1000,
			TimeRange: backend.TimeRange{From: from, To: to},
		})
	}
	return c.queryRaw(t, req)
}

func (c *pluginClient) queryRaw(t *testing.T, req *backend.QueryDataRequest) *backend.QueryDataResponse {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := c.data.QueryData(ctx, backend.ToProto().QueryDataRequest(req))
	require.NoError(t, err)
	out, err := backend.FromProto().QueryDataResponse(resp)
	require.NoError(t, err)
	return out
}

func (c *pluginClient) checkHealth(t *testing.T, pc backend.PluginContext) *backend.CheckHealthResult {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pc)})
	require.NoError(t, err)
	return backend.FromProto().CheckHealthResponse(resp)
}

func (c *pluginClient) resourceGet(t *testing.T, pc backend.PluginContext, path string) (int, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := &backend.CallResourceRequest{PluginContext: pc, Path: path, Method: http.MethodGet, URL: "/" + path}
	stream, err := c.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	require.NoError(t, err)
	var status int
	var body []byte
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if r.Code != 0 {
			status = int(r.Code)
		}
		body = append(body, r.Body...)
	}
	return status, body
}

type modelInfo struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions"`
	Features []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"features"`
	Prediction struct {
		Type string `json:"type"`
	} `json:"prediction"`
}

// assertClean checks that nothing in a response carries the secret.
func assertClean(t *testing.T, v any) {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotContains(t, string(b), secret, "a secret reached the response")
}

func frameType(f *data.Frame) data.FrameType {
	if f.Meta == nil {
		return ""
	}
	return f.Meta.Type
}

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
}
