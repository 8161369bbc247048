package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

type userErr struct{ error }

func (userErr) UserError() bool { return true }

type fakeCatalog struct{ sources map[string][]source.Model }

func (f *fakeCatalog) Models(_ context.Context, name string) ([]source.Model, error) {
	switch name {
	case "", "auto", "demo":
		return f.sources["demo"], nil
	case "prometheus":
		return nil, backend.DownstreamError(errors.New("prometheus: connection refused"))
	}
	return nil, backend.DownstreamError(userErr{fmt.Errorf("source %q is not configured", name)})
}

func (f *fakeCatalog) Model(ctx context.Context, name, model string) (*source.Model, error) {
	ms, err := f.Models(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if ms[i].Name == model {
			return &ms[i], nil
		}
	}
	return nil, backend.DownstreamError(fmt.Errorf("model %q not found (known: iris): %w", model, source.ErrUnknownModel))
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	return rec.Code, rec.Body.String()
}

func TestResources(t *testing.T) {
	h := New(&fakeCatalog{sources: map[string][]source.Model{"demo": {
		{Name: "iris", Versions: []string{"v1", "v2"}, Features: []source.Feature{{Name: "x", Type: source.Numeric}, {Name: "c", Type: source.Categorical}}, Prediction: source.Output{Type: source.Categorical}},
		{Name: "bare"},
	}}})
	code, body := get(t, h, "/models")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `[{"name":"iris","versions":["v1","v2"],"features":[{"name":"x","type":"numeric"},{"name":"c","type":"categorical"}],"prediction":{"type":"categorical"}},
		{"name":"bare","versions":[],"features":[],"prediction":{"type":"numeric"}}]`, body)
	code, body = get(t, h, "/models/iris/versions")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `["v1","v2"]`, body)
	code, body = get(t, h, "/models/iris/features?source=demo")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `[{"name":"x","type":"numeric"},{"name":"c","type":"categorical"}]`, body)
	code, body = get(t, h, "/models/bare/features")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `[]`, body)

	code, body = get(t, h, "/models/nope/versions")
	require.Equal(t, http.StatusNotFound, code)
	require.JSONEq(t, `{"error":"model \"nope\" not found (known: iris): unknown model"}`, body)
	code, body = get(t, h, "/models?source=influx")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, `source \"influx\" is not configured`)
	code, _ = get(t, h, "/models?source=prometheus")
	require.Equal(t, http.StatusBadGateway, code)
	code, body = get(t, h, "/nothing")
	require.Equal(t, http.StatusNotFound, code)
	var e errorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.Contains(t, e.Error, "no resource GET /nothing")
}

// TestThroughAdapter calls the resources as Grafana does, through the SDK's httpadapter.
func TestThroughAdapter(t *testing.T) {
	h := httpadapter.New(New(&fakeCatalog{sources: map[string][]source.Model{"demo": {{Name: "iris", Versions: []string{"v1"}}}}}))
	var got *backend.CallResourceResponse
	err := h.CallResource(context.Background(), &backend.CallResourceRequest{Method: "GET", Path: "models/iris/versions", URL: "models/iris/versions?source=demo"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.Status)
	require.JSONEq(t, `["v1"]`, string(got.Body))
}
