package feast

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

// restServer serves the hand-built REST registry answers of testdata/rest (see its README) the
// way Feast's REST registry server routes them, requiring the bearer token.
func restServer(t *testing.T, token string) *httptest.Server {
	files := map[string]string{
		"/api/v1/projects": "projects.json", "/api/v1/entities": "entities.json",
		"/api/v1/data_sources": "data_sources.json", "/api/v1/feature_services": "feature_services.json",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"Invalid token"}`))
			return
		}
		name, ok := files[r.URL.Path]
		if r.URL.Path == "/api/v1/feature_views" {
			name, ok = "feature_views_page"+r.URL.Query().Get("page")+".json", true
		}
		if r.URL.Path != "/api/v1/projects" && r.URL.Query().Get("project") != "rides" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail":"Project not found"}`))
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "rest", name))
		if !ok || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRESTRegistry(t *testing.T) {
	ctx := context.Background()
	srv := restServer(t, "reg-token-1234")
	r, err := New(Options{Settings: settings.FeastSettings{Project: "rides", RegistryURL: srv.URL}, RegistryToken: "reg-token-1234"})
	require.NoError(t, err)
	reg, err := r.Registry(ctx)
	require.NoError(t, err)
	// The same registry as the protobuf-built one (encode_test.go): the JSON and wire decoders agree.
	want, err := DecodeRegistry(driverRegistry(iv1, iv2))
	require.NoError(t, err)
	require.Equal(t, want.FeatureViews, reg.FeatureViews, "the on-demand view is skipped; pages are followed")
	require.Equal(t, want.Entities, reg.Entities)
	require.Equal(t, want.FeatureServices, reg.FeatureServices)
	require.Equal(t, []Project{{Name: "rides", Description: "ride hailing", Owner: "ml team",
		Created: time.Unix(1_700_000_000, 0).UTC(), LastUpdated: time.Unix(1_700_000_100, 0).UTC()}}, reg.Projects)
	require.Equal(t, "driver_stats", reg.DataSources[0].Table)

	// The base URL may name /api/v1 itself.
	r, err = New(Options{Settings: settings.FeastSettings{Project: "rides", RegistryURL: srv.URL + "/api/v1"}, RegistryToken: "reg-token-1234"})
	require.NoError(t, err)
	_, err = r.Registry(ctx)
	require.NoError(t, err)
}

func TestRESTRegistryErrors(t *testing.T) {
	ctx := context.Background()
	srv := restServer(t, "reg-token-1234")
	read := func(url, project, token string) error {
		r, err := New(Options{Settings: settings.FeastSettings{Project: project, RegistryURL: url}, RegistryToken: token})
		require.NoError(t, err)
		_, err = r.Registry(ctx)
		return err
	}
	err := read(srv.URL, "rides", "wrong-token-5678")
	require.ErrorContains(t, err, "feast REST registry: GET /projects: 401 Unauthorized")
	require.ErrorContains(t, err, "(check feastRegistryToken)")
	require.NotContains(t, err.Error(), "wrong-token-5678")

	require.ErrorContains(t, read(srv.URL, "fraud", "reg-token-1234"), `project "fraud" is not on the registry server (check feast.project)`)

	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	require.ErrorContains(t, read(old.URL, "rides", ""), "404 Not Found")
	require.ErrorContains(t, read(old.URL, "rides", ""), "v0.50.0 or later, started with --rest-api")

	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	defer notJSON.Close()
	require.ErrorContains(t, read(notJSON.URL, "rides", ""), "GET /projects: the answer is not JSON")

	// A redirect to another origin is refused: the token would go with it.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer redirect.Close()
	err = read(redirect.URL, "rides", "reg-token-1234")
	require.ErrorContains(t, err, "redirect")
	require.NotContains(t, err.Error(), "reg-token-1234")

	// A body larger than the cap is an error, not unbounded memory.
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100000000")
		_, _ = w.Write([]byte(`{"projects": [` + strings.Repeat(" ", 1<<16)))
	}))
	defer huge.Close()
	require.ErrorContains(t, read(huge.URL, "rides", ""), "GET /projects")

	badTTL := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/projects":
			_, _ = w.Write([]byte(`{"projects":[{"spec":{"name":"rides"}}]}`))
		case "/api/v1/feature_views":
			_, _ = w.Write([]byte(`{"featureViews":[{"type":"featureView","spec":{"name":"v","ttl":"-5s"}}]}`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	defer badTTL.Close()
	require.ErrorContains(t, read(badTTL.URL, "rides", ""), "featureViews[0].spec.ttl: duration out of range")
}
