package packaging

import (
	"archive/zip"
	"crypto/sha1" // #nosec G505 -- the plugin catalog's submission form asks for the archive's SHA-1
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Platforms are the os_arch suffixes of the backend executables Grafana looks for
// (<executable>_<os>_<arch>, ".exe" on Windows): the six that the SDK's build.BuildAll produces.
var Platforms = []string{"linux_amd64", "linux_arm64", "linux_arm", "darwin_amd64", "darwin_arm64", "windows_amd64"}

// RequiredPlatform is the executable every archive must carry: the plugin catalog and Grafana's
// Docker images run linux/amd64.
const RequiredPlatform = "linux_amd64"

// ManifestFile is the SHA-256 list of the Go sources that the SDK build writes next to the
// executables; the plugin validator compares it with the source code.
const ManifestFile = "go_plugin_build_manifest"

// Files every archive must contain besides those plugin.json names.
var requiredFiles = []string{"plugin.json", "module.js", "README.md", "CHANGELOG.md", "LICENSE"}

// debugArtefacts are written by backend debug runs and must never ship (the validator rejects them).
var debugArtefacts = []string{"standalone.txt", "pid.txt"}

// Modes in the archive.
const (
	execMode = 0o755
	fileMode = 0o644
	dirMode  = 0o755
)

// ExecutableName is the file name Grafana looks for: <executable>_<os>_<arch>, with ".exe" on Windows.
func ExecutableName(executable, platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return executable + "_" + platform + ".exe"
	}
	return executable + "_" + platform
}

// isExecutable reports whether a file (path relative to the plugin directory) is a backend
// executable: a top-level gpx_* file other than the build manifest.
func isExecutable(rel string) bool {
	return !strings.Contains(rel, "/") && strings.HasPrefix(rel, "gpx_")
}

// checkLayout checks the set of files (paths relative to the plugin directory, slash-separated)
// against plugin.json: required files, the files plugin.json names, the executables and the build
// manifest, no stray executables and no debug artefacts.
func checkLayout(p *PluginJSON, files []string) error {
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	var errs []error
	need := append(slices.Clone(requiredFiles), p.Files()...)
	if p.Backend {
		need = append(need, ManifestFile, ExecutableName(p.Executable, RequiredPlatform))
	}
	for _, f := range need {
		if !have[f] {
			errs = append(errs, fmt.Errorf("missing %s", f))
		}
	}
	known := map[string]bool{}
	for _, pl := range Platforms {
		known[ExecutableName(p.Executable, pl)] = true
	}
	for _, f := range files {
		base := path.Base(f)
		switch {
		case slices.Contains(debugArtefacts, base):
			errs = append(errs, fmt.Errorf("%s is a backend debug artefact; remove it before packaging", f))
		case isExecutable(f) && (!p.Backend || !known[f]):
			errs = append(errs, fmt.Errorf("%s is not an executable plugin.json declares (%s_<os>_<arch>)", f, p.Executable))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// Package writes the plugin archive outZip from a built dist directory: a zip whose only top-level
// entry is the directory pluginID/, holding every file of distDir, with mode 0755 for the backend
// executables and 0644 for the other files. distDir/plugin.json must be the built one (placeholders
// replaced) and its id must be pluginID; the archive must contain module.js, README.md,
// CHANGELOG.md, LICENSE, the logos, screenshots and dashboards plugin.json names, and for a backend
// plugin the linux/amd64 executable and the Go build manifest. Symbolic links and debug artefacts
// are refused. The archive is written to a temporary file and renamed, so a failed run never leaves
// a partial archive at outZip.
func Package(distDir, outZip, pluginID string) error {
	return PackagePlatforms(distDir, outZip, pluginID, nil)
}

// PackagePlatforms is Package keeping only the backend executables of the given platforms (see
// Platforms), each of which must be present in distDir; executables of other platforms that a
// previous build left in distDir are not packaged. No platforms means every executable.
func PackagePlatforms(distDir, outZip, pluginID string, platforms []string) (err error) {
	if !IDPattern.MatchString(pluginID) {
		return fmt.Errorf("plugin id %q does not match %s", pluginID, IDPattern)
	}
	raw, err := os.ReadFile(filepath.Join(distDir, "plugin.json"))
	if err != nil {
		return fmt.Errorf("read the built plugin.json (run the frontend build first): %w", err)
	}
	p, err := ParsePluginJSON(raw, true)
	if err != nil {
		return fmt.Errorf("%s: %w", distDir, err)
	}
	if p.ID != pluginID {
		return fmt.Errorf("%s/plugin.json has id %q, expected %q", distDir, p.ID, pluginID)
	}

	var files, dirs []string
	err = filepath.WalkDir(distDir, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(distDir, abs)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			files = append(files, rel)
		default:
			return fmt.Errorf("%s is not a regular file (symbolic links and devices cannot be packaged)", rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", distDir, err)
	}
	if len(platforms) > 0 {
		keep := map[string]bool{}
		for _, pl := range platforms {
			if !slices.Contains(Platforms, pl) {
				return fmt.Errorf("unknown platform %q (one of %q)", pl, Platforms)
			}
			exe := ExecutableName(p.Executable, pl)
			if !slices.Contains(files, exe) {
				return fmt.Errorf("%s cannot be packaged: missing %s (build it with mage first)", distDir, exe)
			}
			keep[exe] = true
		}
		files = slices.DeleteFunc(files, func(f string) bool { return isExecutable(f) && !keep[f] })
	}
	if err := checkLayout(p, files); err != nil {
		return fmt.Errorf("%s cannot be packaged: %w", distDir, err)
	}
	if err := checkDistSignature(distDir, p, files); err != nil {
		return fmt.Errorf("%s cannot be packaged: %w", distDir, err)
	}
	sort.Strings(files)
	sort.Strings(dirs)

	if dir := filepath.Dir(outZip); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(outZip), ".package-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	// Directory entries carry the dist directory's time (a zero time is not a valid zip date).
	st, err := os.Stat(distDir)
	if err != nil {
		return err
	}
	if err = addDir(zw, pluginID+"/", st.ModTime().UTC()); err != nil {
		return err
	}
	for _, d := range dirs {
		if err = addDir(zw, pluginID+"/"+d+"/", st.ModTime().UTC()); err != nil {
			return err
		}
	}
	for _, f := range files {
		mode := os.FileMode(fileMode)
		if isExecutable(f) {
			mode = execMode
		}
		if err = addFile(zw, filepath.Join(distDir, filepath.FromSlash(f)), pluginID+"/"+f, mode); err != nil {
			return err
		}
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), outZip)
}

// checkDistSignature checks a signed dist directory's MANIFEST.txt against the files about to be
// packaged; an unsigned dist passes.
func checkDistSignature(distDir string, p *PluginJSON, files []string) error {
	if !slices.Contains(files, SignatureFile) {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(distDir, SignatureFile))
	if err != nil {
		return err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return err
	}
	hashes, err := hashFiles(distDir, slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f == SignatureFile }))
	if err != nil {
		return err
	}
	return m.Check(p.ID, p.Info.Version, hashes)
}

func addDir(zw *zip.Writer, name string, modified time.Time) error {
	h := &zip.FileHeader{Name: name, Method: zip.Store, Modified: modified}
	h.SetMode(os.ModeDir | dirMode)
	_, err := zw.CreateHeader(h)
	return err
}

func addFile(zw *zip.Writer, src, name string, mode os.FileMode) error {
	f, err := os.Open(src) // #nosec G304 -- a file found by walking the dist directory
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: st.ModTime().UTC()}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// Archive describes a checked plugin archive.
type Archive struct {
	// Plugin is the archive's plugin.json.
	Plugin *PluginJSON
	// Files are the files under the plugin directory (slash paths relative to it), sorted.
	Files []string
	// Executables are the backend executables, sorted.
	Executables []string
	// Signature is the archive's MANIFEST.txt, checked against its files; nil when unsigned.
	Signature *Manifest
}

// CheckArchive opens a plugin archive and checks what the plugin validator checks about its
// layout: a single top-level directory named pluginID (no other entries, no absolute or ".."
// paths), a valid built plugin.json with that id, the required files, every backend executable
// declared by plugin.json and of mode exactly 0755, and no debug artefacts.
func CheckArchive(zipPath, pluginID string) (*Archive, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = zr.Close() }()

	root := pluginID + "/"
	var errs []error
	var files, execs []string
	var pluginJSON, signature *zip.File
	var regular []*zip.File
	seen := map[string]bool{}
	for _, f := range zr.File {
		name := f.Name
		if seen[name] {
			errs = append(errs, fmt.Errorf("duplicate entry %s", name))
		}
		seen[name] = true
		if !cleanEntryName(name) {
			errs = append(errs, fmt.Errorf("entry %q is not a clean relative path", name))
			continue
		}
		if name == root {
			if !f.Mode().IsDir() {
				errs = append(errs, fmt.Errorf("%s is not a directory", name))
			}
			continue
		}
		rel, ok := strings.CutPrefix(name, root)
		if !ok {
			errs = append(errs, fmt.Errorf("entry %s is outside the single root directory %s", name, root))
			continue
		}
		if f.Mode().IsDir() {
			continue
		}
		if !f.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("%s is not a regular file (mode %v)", name, f.Mode()))
			continue
		}
		files = append(files, rel)
		if isExecutable(rel) {
			execs = append(execs, rel)
			if perm := f.Mode().Perm(); perm != execMode {
				errs = append(errs, fmt.Errorf("%s has mode %04o, the plugin validator requires 0755", name, perm))
			}
		}
		if rel == "plugin.json" {
			pluginJSON = f
		}
		if rel == SignatureFile {
			signature = f
		} else {
			regular = append(regular, f)
		}
	}
	if !seen[root] && len(files) == 0 {
		errs = append(errs, fmt.Errorf("the archive has no %s directory", root))
	}
	if pluginJSON == nil {
		errs = append(errs, fmt.Errorf("missing %splugin.json", root))
		return nil, fmt.Errorf("%s: %w", zipPath, errors.Join(errs...))
	}
	raw, err := readZipFile(pluginJSON)
	if err != nil {
		return nil, err
	}
	p, err := ParsePluginJSON(raw, true)
	if err != nil {
		errs = append(errs, err)
	} else {
		if p.ID != pluginID {
			errs = append(errs, fmt.Errorf("plugin.json has id %q, expected %q", p.ID, pluginID))
		}
		if err := checkLayout(p, files); err != nil {
			errs = append(errs, err)
		}
	}
	var m *Manifest
	if signature != nil && p != nil {
		m, err = checkZipSignature(signature, regular, root, p)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", zipPath, errors.Join(errs...))
	}
	sort.Strings(files)
	sort.Strings(execs)
	return &Archive{Plugin: p, Files: files, Executables: execs, Signature: m}, nil
}

// checkZipSignature checks an archive's MANIFEST.txt against the SHA-256 of the archive's other
// files (entries under root).
func checkZipSignature(signature *zip.File, files []*zip.File, root string, p *PluginJSON) (*Manifest, error) {
	raw, err := readZipFile(signature)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	hashes := make(map[string]string, len(files))
	for _, f := range files {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		sum, err := sha256Hex(io.LimitReader(rc, maxEntryBytes))
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		hashes[strings.TrimPrefix(f.Name, root)] = sum
	}
	return m, m.Check(p.ID, p.Info.Version, hashes)
}

// maxEntryBytes bounds how much of one archive entry is hashed (a backend executable is about
// 40 MB; a decompression bomb stops here and then fails the hash comparison).
const maxEntryBytes = 1 << 30

// cleanEntryName reports whether a zip entry name is a relative slash path without empty, "." or
// ".." segments (a trailing slash marks a directory).
func cleanEntryName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) {
		return false
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// maxPluginJSON bounds how much of an archive's plugin.json is read.
const maxPluginJSON = 1 << 20

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, maxPluginJSON+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPluginJSON {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Name, maxPluginJSON)
	}
	return b, nil
}

// SHA1 returns the hex SHA-1 of a file, which the plugin catalog's submission form asks for.
func SHA1(file string) (string, error) {
	f, err := os.Open(file) // #nosec G304 -- the archive this package just wrote
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }()
	h := sha1.New() // #nosec G401 -- a checksum the catalog asks for, not a security control
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
