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

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

const (
	pluginID = "modellens-mlmonitoring-datasource"
	// secret is configured as every token; it must never come back in a frame, error or message.
	secret = "s3cr3t-T0KEN-never-shown"
)

// buildOrFind returns the path of an executable: the env var when set (CI builds the plugin with
// mage first), else a fresh `go build` of pkg into a temp dir.
func buildOrFind(t testing.TB, env, pkg, name string) string {
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
	// pid is the plugin process (for memory readings from /proc).
	pid         int
	data        pluginv2.DataClient
	diagnostics pluginv2.DiagnosticsClient
	resource    pluginv2.ResourceClient
}

// startPlugin launches the executable with go-plugin the way Grafana's backend plugin manager does.
func startPlugin(t testing.TB) *pluginClient {
	return startPluginStderr(t, nil)
}

// startPluginStderr is startPlugin with the plugin's stderr (its logs) copied to stderr when not nil.
func startPluginStderr(t testing.TB, stderr io.Writer) *pluginClient {
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
		Stderr:           stderr,
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	require.NoError(t, err, "starting the plugin over go-plugin")
	pc := &pluginClient{}
	if rc := client.ReattachConfig(); rc != nil {
		pc.pid = rc.Pid
	}
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

func (c *pluginClient) query(t testing.TB, pc backend.PluginContext, headers map[string]string, from, to time.Time, queries map[string]map[string]any) *backend.QueryDataResponse {
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

func (c *pluginClient) queryRaw(t testing.TB, req *backend.QueryDataRequest) *backend.QueryDataResponse {
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

// procStatusKB reads one "Name:  N kB" line of /proc/<pid>/status (VmRSS: resident now, VmHWM:
// the peak resident size since the process started).
func procStatusKB(t testing.TB, pid int, name string) int64 {
	t.Helper()
	require.NotZero(t, pid, "the plugin's pid is unknown")
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			require.NoError(t, err, line)
			return kb
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, name)
	return 0
}

// rssMB is the plugin process's resident memory now, in MiB.
func (c *pluginClient) rssMB(t testing.TB) float64 {
	return float64(procStatusKB(t, c.pid, "VmRSS")) / 1024
}

// peakRSSMB is the plugin process's peak resident memory since it started, in MiB.
func (c *pluginClient) peakRSSMB(t testing.TB) float64 {
	return float64(procStatusKB(t, c.pid, "VmHWM")) / 1024
}
