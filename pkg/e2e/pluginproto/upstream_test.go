package pluginproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Secrets of the misbehaving-upstream test: no English word in them, so that any piece of
// limits.SecretPrefix characters found in an answer is a leak.
const (
	upToken    = "Zq7Kx2Vw9Pm4Rt6Yb8Nc3Hd5Jf1Lg0Ts"
	upHeader   = "Hq3Wm8Zr5Tx1Vn7Kc2Pb9Jd4Yf6Ls0Ga"
	upUser     = "ml-ops"
	upPassword = "Pw4Qz8Xk2Rn6Vt1Mb9Hc3Jd7Yg5Lf0Se"
)

// TestUpstreamMisbehaviour drives the built plugin against misbehaving upstreams on loopback,
// each configured as the Prediction Log, Prometheus and a model endpoint at once:
//   - a 302 to another port: the other origin never receives a request (so never the token, the
//     basic-auth credentials or the custom header), and the error names both origins;
//   - an upstream echoing the Authorization and X-Api-Key headers in a 500 body longer than 200
//     characters, padded so that every cut position falls inside the secrets: no piece of
//     limits.SecretPrefix characters of any secret appears in query answers, health messages,
//     resource bodies or the plugin's stderr;
//   - 429 with Retry-After: the error says "retry after 30s";
//   - a body over its cap: a clear "response larger than" error.
func TestUpstreamMisbehaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	plug, logs := startPluginWithLogs(t)

	var thiefHits atomic.Int32
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		thiefHits.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
			t.Errorf("credentials reached another origin: %s %s", r.Method, r.URL.Path)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer thief.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusFound)
	}))
	defer redirector.Close()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /pad/N/...: N characters before the echoed credentials.
		var pad int
		_, _ = fmt.Sscanf(r.URL.Path, "/pad/%d/", &pad)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, strings.Repeat("x", pad)+" Authorization: "+r.Header.Get("Authorization")+
			" X-Api-Key: "+r.Header.Get("X-Api-Key")+" and then some more text after the credentials")
	}))
	defer echo.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer busy.Close()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the cap bites while reading.
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"success","models":[],"data":[],"pad":"`)
		chunk := bytes.Repeat([]byte("y"), 1<<20)
		for i := int64(0); i <= limits.PrometheusBody>>20; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}`)
	}))
	defer huge.Close()

	settingsFor := func(url string) map[string]any {
		return map[string]any{
			"predictionLog":   map[string]any{"url": url + "/api/v1"},
			"prometheus":      map[string]any{"url": url},
			"endpoints":       []map[string]any{{"name": "ep", "url": url, "protocol": "oip"}},
			"httpHeaderName1": "X-Api-Key",
		}
	}
	withToken := func(uid, url string) backend.PluginContext {
		pc := pluginContext(uid, settingsFor(url), true)
		pc.DataSourceInstanceSettings.DecryptedSecureJSONData = map[string]string{
			"predictionLogToken": upToken, "prometheusToken": upToken, "endpointToken": upToken, "httpHeaderValue1": upHeader,
		}
		return pc
	}
	withBasicAuth := func(uid, url string) backend.PluginContext {
		pc := pluginContext(uid, settingsFor(url), true)
		pc.DataSourceInstanceSettings.BasicAuthEnabled = true
		pc.DataSourceInstanceSettings.BasicAuthUser = upUser
		pc.DataSourceInstanceSettings.DecryptedSecureJSONData = map[string]string{"basicAuthPassword": upPassword, "httpHeaderValue1": upHeader}
		return pc
	}
	to := time.Now().Truncate(time.Minute)
	from := to.Add(-time.Hour)
	queries := map[string]map[string]any{
		"predictionLog": {"queryType": "latency", "source": "predictionLog", "model": "m"},
		"prometheus":    {"queryType": "latency", "source": "prometheus", "model": "m"},
		"endpoints":     {"queryType": "endpoints"},
	}
	// answers returns everything the plugin answers for pc: health message, query answers (as
	// JSON, frames included) and the /models resource body.
	type answers struct {
		health   string
		errors   map[string]string
		all      []string
		resource string
	}
	ask := func(t *testing.T, pc backend.PluginContext) answers {
		t.Helper()
		var a answers
		h := plug.checkHealth(t, pc)
		require.Equal(t, backend.HealthStatusError, h.Status, h.Message)
		a.health = h.Message
		resp := plug.query(t, pc, nil, from, to, queries)
		a.errors = map[string]string{}
		for ref, r := range resp.Responses {
			if r.Error != nil {
				a.errors[ref] = r.Error.Error()
			}
			b, err := json.Marshal(r)
			require.NoError(t, err)
			a.all = append(a.all, string(b))
		}
		_, body := plug.resourceGet(t, pc, "models")
		a.resource = string(body)
		a.all = append(a.all, a.health, a.resource)
		return a
	}

	t.Run("redirect to another origin", func(t *testing.T) {
		a := ask(t, withToken("redirect", redirector.URL))
		t.Logf("health: %s", a.health)
		for _, msg := range []string{a.health, a.errors["predictionLog"], a.errors["prometheus"], a.resource} {
			require.Contains(t, msg, "refused a redirect from "+redirector.URL, msg)
			require.Contains(t, msg, thief.URL, msg)
		}
		require.Zero(t, thiefHits.Load(), "the other origin was called")
		require.Contains(t, a.health, "endpoint ep")
	})

	secrets := []string{upToken, upHeader, upPassword, base64.StdEncoding.EncodeToString([]byte(upUser + ":" + upPassword))}
	noPiece := func(t *testing.T, where, s string) {
		t.Helper()
		for _, secret := range secrets {
			for i := 0; i+limits.SecretPrefix <= len(secret); i++ {
				if p := secret[i : i+limits.SecretPrefix]; strings.Contains(s, p) {
					t.Fatalf("%s carries %q of a secret: %s", where, p, s)
				}
			}
		}
	}
	t.Run("echoed credentials across the cut", func(t *testing.T) {
		cut := 0
		for pad := 120; pad <= 230; pad++ {
			pcs := []backend.PluginContext{withToken(fmt.Sprintf("echo-%d", pad), fmt.Sprintf("%s/pad/%d", echo.URL, pad))}
			if pad%3 == 0 {
				pcs = append(pcs, withBasicAuth(fmt.Sprintf("echo-basic-%d", pad), fmt.Sprintf("%s/pad/%d", echo.URL, pad)))
			}
			for _, pc := range pcs {
				a := ask(t, pc)
				require.Contains(t, a.errors["predictionLog"], "500", pc.DataSourceInstanceSettings.UID)
				if pad == 180 {
					t.Logf("%s health: %s", pc.DataSourceInstanceSettings.UID, a.health)
				}
				for _, s := range a.all {
					noPiece(t, pc.DataSourceInstanceSettings.UID, s)
					// The cut fell where a secret was: right after "Authorization: Bearer " or
					// "X-Api-Key: ", within the redacted text or a piece of the secret.
					for _, at := range []string{"Authorization: Bearer ", "Authorization: Basic ", "X-Api-Key: "} {
						if i := strings.Index(s, at); i >= 0 {
							rest := s[i+len(at):]
							if j := strings.Index(rest, "…"); j >= 0 && j <= len("[redacted]") {
								cut++
							}
						}
					}
				}
			}
		}
		require.Positive(t, cut, "no cut fell inside a secret: the test does not exercise the cut")
		noPiece(t, "the plugin's stderr", logs.String())
		require.Contains(t, logs.String(), "500", "the plugin's logs did not record the failures: the stderr check proves nothing")
	})

	t.Run("429 with Retry-After", func(t *testing.T) {
		a := ask(t, withToken("busy", busy.URL))
		t.Logf("health: %s", a.health)
		for _, msg := range []string{a.health, a.errors["predictionLog"], a.errors["prometheus"], a.resource} {
			require.Contains(t, msg, "upstream busy (429), retry after 30s", msg)
		}
	})

	t.Run("body over the cap", func(t *testing.T) {
		a := ask(t, withToken("huge", huge.URL))
		t.Logf("health: %s", a.health)
		require.Contains(t, a.errors["predictionLog"], fmt.Sprintf("response larger than %d MiB", limits.SmallBody>>20))
		require.Contains(t, a.errors["prometheus"], fmt.Sprintf("too large (response larger than %d MiB)", limits.PrometheusBody>>20))
		require.Contains(t, a.resource, "response larger than")
	})
}

// syncBuffer is a bytes.Buffer safe for go-plugin's stderr copier and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startPluginWithLogs is startPlugin with the plugin's raw stderr (its logs) kept.
func startPluginWithLogs(t *testing.T) (*pluginClient, *syncBuffer) {
	logs := &syncBuffer{}
	return startPluginStderr(t, logs), logs
}
