package packaging

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testID = "modellens-mlmonitoring-datasource"

// builtPluginJSON is a plugin.json as the frontend build writes it into dist.
func builtPluginJSON(t *testing.T, mutate func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"type": "datasource", "name": "ModelLens", "id": testID, "backend": true, "alerting": true,
		"executable": "gpx_modellens", "buildMode": "production",
		"info": map[string]any{
			"description": "Monitor machine-learning models.",
			"keywords":    []string{"mlops"},
			"logos":       map[string]any{"small": "img/logo.svg", "large": "img/logo.svg"},
			"screenshots": []map[string]any{{"name": "Overview", "path": "img/screenshots/overview.png"}},
			"version":     "0.1.0",
			"updated":     "2026-11-22",
		},
		"includes": []map[string]any{
			{"type": "dashboard", "name": "Overview", "path": "dashboards/overview.json"},
		},
		"dependencies": map[string]any{"grafanaDependency": ">=12.4.0", "plugins": []any{}},
	}
	if mutate != nil {
		mutate(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

// fakeDist writes a synthetic dist directory: every file the archive needs, binaries for the
// given platforms (written with mode 0644 on purpose: Package must set 0755 itself).
func fakeDist(t *testing.T, platforms ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"plugin.json":                  string(builtPluginJSON(t, nil)),
		"module.js":                    "define([],function(){});",
		"module.js.map":                "{}",
		"README.md":                    "# ModelLens\n",
		"CHANGELOG.md":                 "# Changelog\n",
		"LICENSE":                      "Apache License\n",
		"img/logo.svg":                 "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
		"img/screenshots/overview.png": "\x89PNG",
		"dashboards/overview.json":     "{}",
		ManifestFile:                   "abc:pkg/main.go\n",
	}
	for _, pl := range platforms {
		files[ExecutableName("gpx_modellens", pl)] = "\x7fELF" + pl
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func TestPackageSyntheticDist(t *testing.T) {
	dist := fakeDist(t, Platforms...)
	out := filepath.Join(t.TempDir(), "out", testID+"-0.1.0.zip")
	require.NoError(t, Package(dist, out, testID))

	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		require.True(t, strings.HasPrefix(f.Name, testID+"/"), "entry %s outside the root directory", f.Name)
		modes[f.Name] = f.Mode()
	}
	require.True(t, modes[testID+"/"].IsDir(), "the root directory entry is missing")
	for _, pl := range Platforms {
		name := testID + "/" + ExecutableName("gpx_modellens", pl)
		require.Contains(t, modes, name)
		require.Equal(t, os.FileMode(0o755), modes[name].Perm(), name)
		require.True(t, modes[name].IsRegular(), name)
	}
	for _, name := range []string{"plugin.json", "module.js", "README.md", "CHANGELOG.md", "LICENSE",
		"img/logo.svg", "img/screenshots/overview.png", "dashboards/overview.json", ManifestFile} {
		require.Contains(t, modes, testID+"/"+name)
		require.Equal(t, os.FileMode(0o644), modes[testID+"/"+name].Perm(), name)
	}
	require.True(t, modes[testID+"/img/"].IsDir())
	for _, f := range zr.File {
		require.True(t, f.Modified.Year() >= 2000, "%s has no valid modification time", f.Name)
	}

	// Contents survive the round trip.
	for _, f := range zr.File {
		if f.Name == testID+"/dashboards/overview.json" {
			b, err := readZipFile(f)
			require.NoError(t, err)
			require.Equal(t, "{}", string(b))
		}
	}

	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.Len(t, a.Executables, len(Platforms))
	require.Equal(t, "0.1.0", a.Plugin.Info.Version)
	require.True(t, slices.IsSorted(a.Files))

	sum, err := SHA1(out)
	require.NoError(t, err)
	require.Len(t, sum, 40)
}

func TestPackageLinuxOnly(t *testing.T) {
	dist := fakeDist(t, RequiredPlatform)
	out := filepath.Join(t.TempDir(), testID+"-0.1.0.linux_amd64.zip")
	require.NoError(t, Package(dist, out, testID))
	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.Equal(t, []string{"gpx_modellens_linux_amd64"}, a.Executables)
}

func TestPackageRefusesIncompleteDist(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(t *testing.T, dist string)
		id     string
		want   string
	}{
		{"no linux/amd64 executable", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "gpx_modellens_linux_amd64")))
		}, testID, "missing gpx_modellens_linux_amd64"},
		{"no build manifest", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, ManifestFile)))
		}, testID, "missing " + ManifestFile},
		{"no module.js", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "module.js")))
		}, testID, "missing module.js"},
		{"no LICENSE", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "LICENSE")))
		}, testID, "missing LICENSE"},
		{"dashboard named in includes is missing", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "dashboards", "overview.json")))
		}, testID, "missing dashboards/overview.json"},
		{"screenshot is missing", func(t *testing.T, d string) {
			require.NoError(t, os.Remove(filepath.Join(d, "img", "screenshots", "overview.png")))
		}, testID, "missing img/screenshots/overview.png"},
		{"undeclared executable", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "gpx_other_linux_amd64"), []byte("x"), 0o755))
		}, testID, "gpx_other_linux_amd64 is not an executable plugin.json declares"},
		{"debug artefact", func(t *testing.T, d string) {
			require.NoError(t, os.WriteFile(filepath.Join(d, "standalone.txt"), []byte("x"), 0o644))
		}, testID, "debug artefact"},
		{"placeholders not replaced", func(t *testing.T, d string) {
			b := builtPluginJSON(t, func(m map[string]any) {
				m["info"].(map[string]any)["version"] = "%VERSION%"
				m["info"].(map[string]any)["updated"] = "%TODAY%"
			})
			require.NoError(t, os.WriteFile(filepath.Join(d, "plugin.json"), b, 0o644))
		}, testID, "was %VERSION% replaced by the build?"},
		{"other plugin id", func(t *testing.T, d string) {}, "other-thing-datasource", `expected "other-thing-datasource"`},
		{"symbolic link", func(t *testing.T, d string) {
			require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(d, "img", "passwd")))
		}, testID, "not a regular file"},
		{"no dist", func(t *testing.T, d string) {
			require.NoError(t, os.RemoveAll(d))
		}, testID, "run the frontend build first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dist := fakeDist(t, Platforms...)
			c.mutate(t, dist)
			out := filepath.Join(t.TempDir(), "p.zip")
			err := Package(dist, out, c.id)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			_, statErr := os.Stat(out)
			require.True(t, os.IsNotExist(statErr), "a failed Package must not leave an archive behind")
		})
	}
}

// writeZip writes an archive entry by entry, for archives Package would never write.
func writeZip(t *testing.T, entries map[string]os.FileMode, body func(name string) string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x.zip")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate}
		h.SetMode(entries[n])
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		if !entries[n].IsDir() {
			_, err = w.Write([]byte(body(n)))
			require.NoError(t, err)
		}
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return out
}

func TestCheckArchiveRejectsBadLayouts(t *testing.T) {
	pj := string(builtPluginJSON(t, nil))
	good := func() map[string]os.FileMode {
		m := map[string]os.FileMode{testID + "/": os.ModeDir | 0o755}
		for _, f := range []string{"plugin.json", "module.js", "README.md", "CHANGELOG.md", "LICENSE", "img/logo.svg",
			"img/screenshots/overview.png", "dashboards/overview.json", ManifestFile} {
			m[testID+"/"+f] = 0o644
		}
		m[testID+"/gpx_modellens_linux_amd64"] = 0o755
		return m
	}
	body := func(n string) string {
		if strings.HasSuffix(n, "/plugin.json") {
			return pj
		}
		return "x"
	}
	_, err := CheckArchive(writeZip(t, good(), body), testID)
	require.NoError(t, err, "the reference layout must pass")

	cases := []struct {
		name   string
		change func(m map[string]os.FileMode)
		want   string
	}{
		{"executable not 0755", func(m map[string]os.FileMode) { m[testID+"/gpx_modellens_linux_amd64"] = 0o644 }, "requires 0755"},
		{"executable 0777", func(m map[string]os.FileMode) { m[testID+"/gpx_modellens_linux_amd64"] = 0o777 }, "requires 0755"},
		{"second root", func(m map[string]os.FileMode) { m["dist/module.js"] = 0o644 }, "outside the single root directory"},
		{"file at top level", func(m map[string]os.FileMode) { m["README.md"] = 0o644 }, "outside the single root directory"},
		{"path escapes", func(m map[string]os.FileMode) { m[testID+"/../evil"] = 0o644 }, "not a clean relative path"},
		{"no plugin.json", func(m map[string]os.FileMode) { delete(m, testID+"/plugin.json") }, "missing " + testID + "/plugin.json"},
		{"no README", func(m map[string]os.FileMode) { delete(m, testID+"/README.md") }, "missing README.md"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good()
			c.change(m)
			_, err := CheckArchive(writeZip(t, m, body), testID)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
	t.Run("wrong root name", func(t *testing.T) {
		_, err := CheckArchive(writeZip(t, good(), body), "other-thing-datasource")
		require.Error(t, err)
		require.Contains(t, err.Error(), "outside the single root directory other-thing-datasource/")
	})
}

// TestPackageRealDist packages the dist directory of a real build when MODELLENS_DIST names one
// (CI sets it after `npm run build` and `mage -v build:linux`) and checks the archive.
func TestPackageRealDist(t *testing.T) {
	dist := os.Getenv("MODELLENS_DIST")
	if dist == "" {
		t.Skip("MODELLENS_DIST is not set; the synthetic dist tests cover the layout")
	}
	out := filepath.Join(t.TempDir(), testID+".zip")
	require.NoError(t, Package(dist, out, testID))
	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.Contains(t, a.Executables, ExecutableName("gpx_modellens", RequiredPlatform))

	// The built plugin.json is the repository's with the placeholders replaced.
	root := repoRoot(t)
	src, err := ParsePluginJSON(readFile(t, filepath.Join(root, "plugin.json")), false)
	require.NoError(t, err)
	require.Equal(t, src.ID, a.Plugin.ID)
	require.Equal(t, src.Executable, a.Plugin.Executable)
	require.Equal(t, src.Files(), a.Plugin.Files())
	var pkg struct {
		Version string `json:"version"`
	}
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(root, "package.json")), &pkg))
	require.Equal(t, pkg.Version, a.Plugin.Info.Version, "plugin.json and package.json versions differ")
	for _, f := range src.Files() {
		require.Contains(t, a.Files, f)
	}
}

func TestPackagePlatformsKeepsOnlyThoseExecutables(t *testing.T) {
	dist := fakeDist(t, Platforms...)
	out := filepath.Join(t.TempDir(), "linux.zip")
	require.NoError(t, PackagePlatforms(dist, out, testID, []string{RequiredPlatform}))
	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.Equal(t, []string{"gpx_modellens_linux_amd64"}, a.Executables)
	require.Contains(t, a.Files, ManifestFile)

	err = PackagePlatforms(fakeDist(t, RequiredPlatform), out, testID, []string{"darwin_arm64"})
	require.ErrorContains(t, err, "missing gpx_modellens_darwin_arm64")
	err = PackagePlatforms(dist, out, testID, []string{"plan9_386"})
	require.ErrorContains(t, err, "unknown platform")
}
