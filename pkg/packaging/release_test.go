package packaging

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The release's version, changelog and Grafana dependency agree: the CHANGELOG's top entry is
// package.json's version (the build writes it into plugin.json's info.version) with a release date,
// plugin.json's author has a URL, and grafanaDependency's minimum is the Grafana the plugin is built
// and tested against (the @grafana/* packages in package.json and the Dockerfile's Grafana image).
func TestReleaseMetadataAgrees(t *testing.T) {
	root := repoRoot(t)

	var pkg struct {
		Version      string            `json:"version"`
		Dependencies map[string]string `json:"dependencies"`
		Scripts      map[string]string `json:"scripts"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(root, "package.json")), &pkg))
	require.Regexp(t, `^\d+\.\d+\.\d+$`, pkg.Version)

	// The CHANGELOG's first release heading (Keep a Changelog: "## [x.y.z] - YYYY-MM-DD").
	heading := regexp.MustCompile(`(?m)^## \[([^\]]+)\](?: - (.*))?$`)
	m := heading.FindStringSubmatch(string(readFile(t, filepath.Join(root, "CHANGELOG.md"))))
	require.NotNil(t, m, "CHANGELOG.md has no '## [version] - date' heading")
	require.Equal(t, pkg.Version, m[1], "the CHANGELOG's top entry must be package.json's version (plugin.json info.version)")
	require.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, m[2], "the CHANGELOG's top entry needs a release date, not %q", m[2])

	var pj struct {
		Info struct {
			Author struct {
				Name string `json:"name"`
				URL  string `json:"url"`
			} `json:"author"`
			Version string `json:"version"`
		} `json:"info"`
		Dependencies struct {
			GrafanaDependency string `json:"grafanaDependency"`
		} `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(root, "plugin.json")), &pj))
	require.NotEmpty(t, pj.Info.Author.Name)
	require.Regexp(t, `^https://`, pj.Info.Author.URL, "info.author needs a url (the catalog links it)")
	require.Equal(t, VersionPlaceholder, pj.Info.Version, "the build fills info.version from package.json")

	dep := regexp.MustCompile(`^>=(\d+)\.(\d+)\.\d+$`).FindStringSubmatch(pj.Dependencies.GrafanaDependency)
	require.NotNil(t, dep, "grafanaDependency %q is not >=x.y.z", pj.Dependencies.GrafanaDependency)
	minor := dep[1] + "." + dep[2] + "."
	for _, name := range []string{"@grafana/data", "@grafana/runtime", "@grafana/ui"} {
		v := strings.TrimLeft(pkg.Dependencies[name], "^~")
		require.True(t, strings.HasPrefix(v, minor), "%s is %q: grafanaDependency %s must name the Grafana minor the plugin is built against", name, v, pj.Dependencies.GrafanaDependency)
	}
	gv := regexp.MustCompile(`(?m)^ARG GRAFANA_VERSION=(\S+)$`).FindStringSubmatch(string(readFile(t, filepath.Join(root, "Dockerfile"))))
	require.NotNil(t, gv, "Dockerfile has no ARG GRAFANA_VERSION")
	require.True(t, strings.HasPrefix(gv[1], minor), "the Dockerfile runs Grafana %s, not the %sx that grafanaDependency names", gv[1], minor)

	// Signing uses a pinned @grafana/sign-plugin, never @latest.
	require.Regexp(t, `@grafana/sign-plugin@\d+\.\d+\.\d+`, pkg.Scripts["sign"], "npm run sign must pin @grafana/sign-plugin to a version")
}
