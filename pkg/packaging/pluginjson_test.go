package packaging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string { return testutil.RepoRoot(t) }

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func TestRepositoryPluginJSON(t *testing.T) {
	root := repoRoot(t)
	raw := readFile(t, filepath.Join(root, "plugin.json"))
	p, err := ParsePluginJSON(raw, false)
	require.NoError(t, err)

	require.Equal(t, testID, p.ID)
	require.Equal(t, "datasource", p.Type)
	require.True(t, p.Backend, "the plugin has a backend")
	require.True(t, p.Alerting, "the plugin serves alert rules")
	require.Equal(t, "gpx_modellens", p.Executable)
	require.Equal(t, VersionPlaceholder, p.Info.Version, "the build fills in the version from package.json")
	require.Equal(t, TodayPlaceholder, p.Info.Updated)
	require.NotEmpty(t, p.Info.Keywords)

	// Every file plugin.json names exists where the frontend build copies it from: the repository
	// root (dashboards/) or src/ (img/).
	for _, f := range p.Files() {
		_, errRoot := os.Stat(filepath.Join(root, filepath.FromSlash(f)))
		_, errSrc := os.Stat(filepath.Join(root, "src", filepath.FromSlash(f)))
		require.True(t, errRoot == nil || errSrc == nil, "%s named in plugin.json exists neither in the repository root nor in src/", f)
	}
	// The bundled dashboards are all listed.
	dashboards, err := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, dashboards)
	var listed []string
	for _, in := range p.Includes {
		if in.Type == "dashboard" {
			listed = append(listed, in.Path)
		}
	}
	for _, d := range dashboards {
		require.Contains(t, listed, "dashboards/"+filepath.Base(d), "dashboard %s is not in plugin.json includes", d)
	}
}

func TestParsePluginJSONRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		built  bool
		want   string
	}{
		{"unknown top-level key", func(m map[string]any) { m["version"] = "1.0.0" }, true, `unknown top-level keys ["version"]`},
		{"id with upper case", func(m map[string]any) { m["id"] = "ModelLens-datasource" }, true, "does not match"},
		{"id without type suffix", func(m map[string]any) { m["id"] = "modellens-mlmonitoring" }, true, "does not match"},
		{"id of another type", func(m map[string]any) { m["id"] = "modellens-mlmonitoring-panel" }, true, "must end with -datasource"},
		{"missing dependencies", func(m map[string]any) { delete(m, "dependencies") }, true, `required key "dependencies" is missing`},
		{"missing info", func(m map[string]any) { delete(m, "info") }, true, `required key "info" is missing`},
		{"alerting without backend", func(m map[string]any) { m["backend"] = false; delete(m, "executable") }, true, "alerting requires backend"},
		{"backend without executable", func(m map[string]any) { delete(m, "executable") }, true, "needs an executable"},
		{"executable with a path", func(m map[string]any) { m["executable"] = "../gpx_x" }, true, "plain file name"},
		{"no keywords", func(m map[string]any) { m["info"].(map[string]any)["keywords"] = []string{} }, true, "at least one keyword"},
		{"png logo", func(m map[string]any) {
			m["info"].(map[string]any)["logos"] = map[string]any{"small": "img/logo.png", "large": "img/logo.svg"}
		}, true, "must be an SVG"},
		{"bad version", func(m map[string]any) { m["info"].(map[string]any)["version"] = "v1" }, false, "neither %VERSION%"},
		{"bad date", func(m map[string]any) { m["info"].(map[string]any)["updated"] = "22/11/2026" }, false, "neither %TODAY%"},
		{"dashboard path not json", func(m map[string]any) {
			m["includes"] = []map[string]any{{"type": "dashboard", "name": "x", "path": "dashboards/x.yaml"}}
		}, true, "must name a .json file"},
		{"include escaping the plugin", func(m map[string]any) {
			m["includes"] = []map[string]any{{"type": "dashboard", "name": "x", "path": "../x.json"}}
		}, true, "stay inside the plugin directory"},
		{"bad grafanaDependency", func(m map[string]any) {
			m["dependencies"] = map[string]any{"grafanaDependency": "twelve"}
		}, true, "is not a version range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePluginJSON(builtPluginJSON(t, c.mutate), c.built)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
	_, err := ParsePluginJSON([]byte(`[1]`), true)
	require.ErrorContains(t, err, "not a JSON object")
	_, err = ParsePluginJSON([]byte(`{"id": 3}`), true)
	require.Error(t, err)

	// And the reference document passes.
	_, err = ParsePluginJSON(builtPluginJSON(t, nil), true)
	require.NoError(t, err)
}

func TestTopLevelKeysCoverTheRepositoryFile(t *testing.T) {
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(repoRoot(t), "plugin.json")), &top))
	for k := range top {
		require.Contains(t, TopLevelKeys, k)
	}
}
