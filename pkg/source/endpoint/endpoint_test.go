package endpoint

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

const token = "ep-t0ken-9f8e7d"

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// route is one canned answer.
type route struct {
	status int
	body   []byte
}

// server answers "METHOD path" from routes (404 otherwise) and records requests.
type server struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]route
	seen   []*http.Request
	bodies []string
}

func newServer(t *testing.T, routes map[string]route) *server {
	s := &server{t: t, routes: routes}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(strings.Builder)
		if r.Body != nil {
			buf := make([]byte, 1024)
			n, _ := r.Body.Read(buf)
			b.Write(buf[:n])
		}
		s.mu.Lock()
		s.seen = append(s.seen, r)
		s.bodies = append(s.bodies, b.String())
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized: got ` + r.Header.Get("Authorization") + `"}`))
			return
		}
		path := r.URL.EscapedPath()
		rt, ok := s.routes[r.Method+" "+path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"detail":"Not Found"}`))
			return
		}
		if rt.status != 0 {
			w.WriteHeader(rt.status)
		}
		w.Write(rt.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(s.srv.Client(), settings.Endpoint{Name: "triton-prod", URL: s.srv.URL + "/", Protocol: settings.ProtocolTriton}, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func noToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("token leaked: %q", err)
	}
}

func TestNew(t *testing.T) {
	bad := []settings.Endpoint{
		{Name: "a", URL: ""},
		{Name: "a", URL: "ftp://x"},
		{Name: "a", URL: "http://"},
		{Name: "a", URL: "http://u:p@host"},
		{Name: "a", URL: "http://host/?q=1"},
		{Name: "a", URL: "http://host", Protocol: settings.ProtocolMetrics},
	}
	for _, ep := range bad {
		if _, err := New(nil, ep, token); err == nil {
			t.Errorf("New(%+v) accepted", ep)
		} else {
			noToken(t, err)
		}
	}
	c, err := New(nil, settings.Endpoint{Name: "kserve", URL: "https://host/seldon/ns/model/", Protocol: settings.ProtocolOIP}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://host/seldon/ns/model" || c.Name() != "kserve" {
		t.Errorf("base %q name %q", c.base, c.Name())
	}
	if Supports(settings.ProtocolMetrics) || !Supports(settings.ProtocolOIP) || !Supports(settings.ProtocolTriton) {
		t.Error("Supports")
	}
}

func TestHealthByStatusCode(t *testing.T) {
	// Bodies as the servers send them (notes: model-servers-feature-stores-wire-formats.md §5.5).
	cases := []struct {
		name  string
		route route
		want  bool
		isErr bool
	}{
		{"triton 200 empty", route{200, nil}, true, false},
		{"kserve 200 json", route{200, fixture(t, "kserve_model_ready.json")}, true, false},
		{"triton not ready 400", route{400, fixture(t, "triton_model_not_ready.json")}, false, false},
		{"triton unknown model 400", route{400, fixture(t, "triton_unknown_model.json")}, false, false},
		{"kserve not ready 503", route{503, fixture(t, "kserve_model_not_ready.json")}, false, false},
		{"kserve unknown 404", route{404, fixture(t, "kserve_unknown_model.json")}, false, false},
		{"triton restricted 403", route{403, fixture(t, "triton_restricted_403.json")}, false, true},
		{"500", route{500, []byte("boom")}, false, true},
		{"405", route{405, []byte(`{"error":"Method Not Allowed"}`)}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, map[string]route{
				"GET /v2/models/simple/ready": tc.route,
				"GET /v2/health/live":         tc.route,
				"GET /v2/health/ready":        tc.route,
			})
			c := s.client(t)
			for what, call := range map[string]func() (bool, error){
				"Ready":       func() (bool, error) { return c.Ready(context.Background(), "simple") },
				"Live":        func() (bool, error) { return c.Live(context.Background()) },
				"ServerReady": func() (bool, error) { return c.ServerReady(context.Background()) },
			} {
				got, err := call()
				if (err != nil) != tc.isErr || got != tc.want {
					t.Errorf("%s = %v, %v; want %v, error %v", what, got, err, tc.want, tc.isErr)
				}
				noToken(t, err)
				if err != nil && !strings.Contains(err.Error(), "triton-prod") {
					t.Errorf("error does not name the endpoint: %v", err)
				}
			}
		})
	}
	s := newServer(t, map[string]route{"GET /v2/models/simple/ready": {403, fixture(t, "triton_restricted_403.json")}})
	_, err := s.client(t).Ready(context.Background(), "simple")
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden: This API is restricted") || !strings.Contains(err.Error(), "check the endpoint token") ||
		!backend.IsDownstreamError(err) {
		t.Errorf("403: %v", err)
	}
}

func TestModelNamesAreEscaped(t *testing.T) {
	s := newServer(t, map[string]route{
		"GET /v2/models/team%2Fmodel%20v2/ready": {200, nil},
		"GET /v2/models/caf%C3%A9":               {200, []byte(`{"name":"café","versions":["1"],"platform":"python","inputs":[],"outputs":[]}`)},
	})
	c := s.client(t)
	if ok, err := c.Ready(context.Background(), "team/model v2"); !ok || err != nil {
		t.Errorf("Ready = %v, %v", ok, err)
	}
	if md, err := c.Metadata(context.Background(), "café"); err != nil || md.Name != "café" {
		t.Errorf("Metadata = %+v, %v", md, err)
	}
	for _, m := range []string{"", ".", ".."} {
		if _, err := c.Ready(context.Background(), m); err == nil {
			t.Errorf("model %q accepted", m)
		}
	}
	if n := len(s.seen); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestModelsIndex(t *testing.T) {
	t.Run("triton", func(t *testing.T) {
		s := newServer(t, map[string]route{"POST /v2/repository/index": {200, fixture(t, "triton_index.json")}})
		ms, err := s.client(t).Models(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []RepositoryModel{
			{Name: "densenet_onnx", Version: "1", State: "READY"},
			{Name: "simple", Version: "1", State: "READY"},
			{Name: "simple_string", Version: "1", State: "UNAVAILABLE", Reason: "unloaded"},
			{Name: "inception_onnx"},
		}
		if len(ms) != len(want) {
			t.Fatalf("models = %+v", ms)
		}
		for i := range want {
			if ms[i] != want[i] {
				t.Errorf("model %d = %+v, want %+v", i, ms[i], want[i])
			}
		}
		if !ms[0].Ready() || ms[2].Ready() || ms[3].Ready() {
			t.Error("Ready()")
		}
		r := s.seen[0]
		if r.Header.Get("Content-Type") != "application/json" || s.bodies[0] != "{}" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("request: %v body %q", r.Header, s.bodies[0])
		}
	})
	t.Run("mlserver", func(t *testing.T) {
		s := newServer(t, map[string]route{"POST /v2/repository/index": {200, fixture(t, "mlserver_index.json")}})
		names, err := s.client(t).ModelNames(context.Background())
		if err != nil || strings.Join(names, ",") != "iris-sklearn,income-xgb" {
			t.Errorf("names = %v, %v", names, err)
		}
	})
	t.Run("kserve has no index", func(t *testing.T) {
		s := newServer(t, map[string]route{
			"POST /v2/repository/index": {404, fixture(t, "kserve_index_404.json")},
			"GET /v2/models":            {200, fixture(t, "kserve_models.json")},
		})
		ms, err := s.client(t).Models(context.Background())
		if err != nil || len(ms) != 1 || ms[0] != (RepositoryModel{Name: "sklearn-iris"}) {
			t.Errorf("models = %+v, %v", ms, err)
		}
	})
	t.Run("duplicate versions give one name", func(t *testing.T) {
		s := newServer(t, map[string]route{"POST /v2/repository/index": {200, []byte(`[{"name":"a","version":"1"},{"name":"a","version":"2"},{"name":"b"}]`)}})
		names, err := s.client(t).ModelNames(context.Background())
		if err != nil || strings.Join(names, ",") != "a,b" {
			t.Errorf("names = %v, %v", names, err)
		}
	})
	t.Run("empty index", func(t *testing.T) {
		s := newServer(t, map[string]route{"POST /v2/repository/index": {200, []byte(`[]`)}})
		ms, err := s.client(t).Models(context.Background())
		if err != nil || ms == nil || len(ms) != 0 {
			t.Errorf("models = %#v, %v", ms, err)
		}
	})
	for name, body := range map[string]string{
		"not a list":   `{"models":[]}`,
		"garbage":      `<html>`,
		"nameless":     `[{"state":"READY"}]`,
		"wrong fields": `[{"name":3}]`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, map[string]route{"POST /v2/repository/index": {200, []byte(body)}})
			_, err := s.client(t).Models(context.Background())
			if err == nil || !backend.IsDownstreamError(err) {
				t.Errorf("err = %v", err)
			}
		})
	}
	t.Run("bad ready value", func(t *testing.T) {
		s := newServer(t, map[string]route{"POST /v2/repository/index": {400, []byte(`{"error":"Invalid value for 'ready': expected a boolean"}`)}})
		_, err := s.client(t).Models(context.Background())
		if err == nil || !strings.Contains(err.Error(), "400 Bad Request: Invalid value for 'ready'") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestMetadata(t *testing.T) {
	s := newServer(t, map[string]route{
		"GET /v2/models/simple":       {200, fixture(t, "triton_metadata_simple.json")},
		"GET /v2/models/iris-sklearn": {200, fixture(t, "mlserver_metadata.json")},
		"GET /v2/models/sklearn-iris": {200, fixture(t, "kserve_metadata.json")},
		"GET /v2/models/foo":          {400, fixture(t, "triton_unknown_model.json")},
	})
	c := s.client(t)
	md, err := c.Metadata(context.Background(), "simple")
	if err != nil {
		t.Fatal(err)
	}
	if md.Name != "simple" || md.Platform != "onnxruntime_onnx" || len(md.Versions) != 1 || md.Versions[0] != "1" ||
		len(md.Inputs) != 2 || md.Inputs[1].Name != "INPUT1" || md.Inputs[1].Datatype != "INT32" ||
		len(md.Inputs[1].Shape) != 2 || md.Inputs[1].Shape[0] != -1 || md.Inputs[1].Shape[1] != 16 || len(md.Outputs) != 2 {
		t.Errorf("triton metadata = %+v", md)
	}
	if md, err = c.Metadata(context.Background(), "iris-sklearn"); err != nil || md.Name != "iris-sklearn" || md.Parameters == nil {
		t.Errorf("mlserver metadata = %+v, %v", md, err)
	}
	if md, err = c.Metadata(context.Background(), "sklearn-iris"); err != nil || md.Versions != nil {
		t.Errorf("kserve metadata = %+v, %v", md, err)
	}
	_, err = c.Metadata(context.Background(), "nosuch")
	if !errors.Is(err, source.ErrUnknownModel) || !backend.IsDownstreamError(err) {
		t.Errorf("404: %v", err)
	}
	_, err = c.Metadata(context.Background(), "foo")
	if err == nil || !strings.Contains(err.Error(), "Request for unknown model: 'foo' is not found") {
		t.Errorf("400: %v", err)
	}
}

func TestTokenHandling(t *testing.T) {
	s := newServer(t, map[string]route{"GET /v2/health/live": {200, nil}})
	if ok, err := s.client(t).Live(context.Background()); !ok || err != nil {
		t.Fatalf("Live = %v, %v", ok, err)
	}
	if got := s.seen[0].Header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	// A wrong token: the server echoes it; the error must not.
	c, _ := New(s.srv.Client(), settings.Endpoint{Name: "x", URL: s.srv.URL}, token+"-old")
	_, err := c.Live(context.Background())
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v", err)
	}
	// No token: no header.
	c, _ = New(s.srv.Client(), settings.Endpoint{Name: "x", URL: s.srv.URL}, "")
	c.Live(context.Background())
	if h := s.seen[len(s.seen)-1].Header; h.Get("Authorization") != "" {
		t.Errorf("Authorization sent without a token: %q", h.Get("Authorization"))
	}
}

func TestLimitsAndTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	huge := make([]byte, MaxBodyBytes+10)
	for i := range huge {
		huge[i] = ' '
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/health/live":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/v2/repository/index":
			w.Write(huge)
		case "/v2/models/big":
			w.Header().Set("Content-Length", "99999999999")
			w.WriteHeader(200)
		case "/v2/models/cut":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(`{"name":"cut"`))
		}
	}))
	defer srv.Close()
	c, err := New(srv.Client(), settings.Endpoint{Name: "slow", URL: srv.URL}, token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Live(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") || !backend.IsDownstreamError(err) {
		t.Errorf("timeout: %v", err)
	}
	if _, err = c.Models(context.Background()); err == nil || !strings.Contains(err.Error(), "response larger than") {
		t.Errorf("oversized index: %v", err)
	}
	if _, err = c.Metadata(context.Background(), "big"); err == nil || !strings.Contains(err.Error(), "response larger than") {
		t.Errorf("oversized Content-Length: %v", err)
	}
	if _, err = c.Metadata(context.Background(), "cut"); err == nil || !strings.Contains(err.Error(), "ended early") {
		t.Errorf("cut body: %v", err)
	}
	// Unreachable.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c, _ = New(nil, settings.Endpoint{Name: "dead", URL: dead.URL}, token)
	if _, err := c.ServerReady(context.Background()); err == nil || !backend.IsDownstreamError(err) {
		t.Errorf("unreachable: %v", err)
	} else {
		noToken(t, err)
		// Without a caller deadline the client's own timeout context must not turn the failure
		// into "cancelled".
		if errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "cancelled") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("unreachable reported as %v", err)
		}
	}
}

// healthClient is the interface the query layer declares for endpoints (query.EndpointClient).
type healthClient interface {
	Ready(ctx context.Context, model string) (bool, error)
	Models(ctx context.Context) ([]string, error)
	ServerReady(ctx context.Context) (bool, error)
}

func TestHealthView(t *testing.T) {
	s := newServer(t, map[string]route{
		"POST /v2/repository/index":   {200, fixture(t, "triton_index.json")},
		"GET /v2/models/simple/ready": {200, nil},
		"GET /v2/health/ready":        {400, nil},
	})
	var h healthClient = Health{s.client(t)}
	names, err := h.Models(context.Background())
	if err != nil || strings.Join(names, ",") != "densenet_onnx,simple,simple_string,inception_onnx" {
		t.Errorf("names = %v, %v", names, err)
	}
	if ok, err := h.Ready(context.Background(), "simple"); !ok || err != nil {
		t.Errorf("Ready = %v, %v", ok, err)
	}
	if ok, err := h.ServerReady(context.Background()); ok || err != nil {
		t.Errorf("ServerReady = %v, %v", ok, err)
	}
}
