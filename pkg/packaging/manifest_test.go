package packaging

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTestManifest writes a MANIFEST.txt for dir's current files in the layout
// @grafana/sign-plugin produces (a clear-signed manifest v2), with a placeholder signature block:
// the checks under test compare hashes, they do not verify Grafana's signature.
func writeTestManifest(t *testing.T, dir, pluginID, version string) {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); rel != SignatureFile {
			files = append(files, rel)
		}
		return nil
	}))
	hashes, err := hashFiles(dir, files)
	require.NoError(t, err)
	body, err := json.MarshalIndent(Manifest{
		ManifestVersion: "2.0.0", SignatureType: "private", SignedByOrg: "example",
		RootURLs: []string{"http://localhost:3000/"}, Plugin: pluginID, Version: version, Files: hashes,
	}, "", "  ")
	require.NoError(t, err)
	var b bytes.Buffer
	b.WriteString(pgpMessageBegin + "\nHash: SHA512\n\n")
	b.Write(body)
	b.WriteString("\n" + pgpSignatureBegin + "\nVersion: OpenPGP.js v4\n\nwsFzBAEBCgAGBQJfiFcLACEJEAAAAA==\n=AAAA\n-----END PGP SIGNATURE-----\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, SignatureFile), b.Bytes(), 0o644))
}

func TestParseManifest(t *testing.T) {
	// The shape @grafana/sign-plugin writes (private signature with root URLs), CRLF line ends and
	// a dash-escaped line.
	raw := strings.ReplaceAll(`-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

{
  "manifestVersion": "2.0.0",
  "signatureType": "private",
  "signedByOrg": "modellens",
  "signedByOrgName": "ModelLens",
  "rootUrls": [
    "https://grafana.example.com/"
  ],
  "plugin": "modellens-mlmonitoring-datasource",
  "version": "0.1.0",
  "time": 1796388516829,
  "keyId": "7e4d0c6a708866e7",
  "files": {
- "-odd": "00",
    "plugin.json": "cf26a3afb7c10cd9ae40b5296d04172b5dac927d69a51082e6d085b34341ccc3"
  }
}
-----BEGIN PGP SIGNATURE-----
Version: OpenPGP.js v4.10.8

wsFzBAEBCgAGBQJfiFcLACEJEAAAAA==
=AAAA
-----END PGP SIGNATURE-----
`, "\n", "\r\n")
	m, err := ParseManifest([]byte(raw))
	require.NoError(t, err)
	require.Equal(t, "private", m.SignatureType)
	require.Equal(t, []string{"https://grafana.example.com/"}, m.RootURLs)
	require.Equal(t, "modellens-mlmonitoring-datasource", m.Plugin)
	require.Equal(t, "0.1.0", m.Version)
	require.Equal(t, map[string]string{
		"-odd":        "00",
		"plugin.json": "cf26a3afb7c10cd9ae40b5296d04172b5dac927d69a51082e6d085b34341ccc3",
	}, m.Files)

	for name, bad := range map[string]string{
		"plain JSON":   `{"plugin":"x","version":"1.0.0","files":{"a":"b"}}`,
		"no signature": "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{}\n",
		"not JSON":     "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nhello\n-----BEGIN PGP SIGNATURE-----\n",
		"no files":     "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{\"plugin\":\"x\",\"version\":\"1\"}\n-----BEGIN PGP SIGNATURE-----\n",
	} {
		_, err := ParseManifest([]byte(bad))
		require.Error(t, err, name)
	}
}

// Signing after the final build and zipping without rebuilding gives an archive whose
// MANIFEST.txt matches every file; CheckArchive verifies each hash.
func TestSignedDistPackagesWithMatchingManifest(t *testing.T) {
	dist := fakeDist(t, RequiredPlatform, "darwin_arm64")
	writeTestManifest(t, dist, testID, "0.1.0")
	out := filepath.Join(t.TempDir(), "signed.zip")
	require.NoError(t, PackagePlatforms(dist, out, testID, nil))
	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.NotNil(t, a.Signature)
	require.Contains(t, a.Files, SignatureFile)
	require.Len(t, a.Signature.Files, len(a.Files)-1, "every file but MANIFEST.txt is signed")

	// An unsigned archive has no signature and passes.
	unsigned := fakeDist(t, RequiredPlatform)
	require.NoError(t, PackagePlatforms(unsigned, out, testID, nil))
	a, err = CheckArchive(out, testID)
	require.NoError(t, err)
	require.Nil(t, a.Signature)
}

// Rebuilding after signing (what `mage package` did: every build embeds its build time) changes the
// executables, and packaging refuses the stale signature instead of writing an archive Grafana
// would reject as modified.
func TestPackagingRefusesAStaleSignature(t *testing.T) {
	dist := fakeDist(t, RequiredPlatform, "darwin_arm64")
	writeTestManifest(t, dist, testID, "0.1.0")
	exe := filepath.Join(dist, ExecutableName("gpx_modellens", RequiredPlatform))
	require.NoError(t, os.WriteFile(exe, []byte("\x7fELF rebuilt at another time"), 0o755))
	out := filepath.Join(t.TempDir(), "stale.zip")
	err := PackagePlatforms(dist, out, testID, nil)
	require.ErrorContains(t, err, "gpx_modellens_linux_amd64 has sha256")
	require.ErrorContains(t, err, "sign after the final build")
	_, statErr := os.Stat(out)
	require.True(t, os.IsNotExist(statErr), "no archive is written")

	// A dist signed with every platform cannot become a linux-only archive: the signature lists
	// the darwin executable the archive would lack.
	dist = fakeDist(t, RequiredPlatform, "darwin_arm64")
	writeTestManifest(t, dist, testID, "0.1.0")
	err = PackagePlatforms(dist, out, testID, []string{RequiredPlatform})
	require.ErrorContains(t, err, "gpx_modellens_darwin_arm64 is signed but missing")

	// A file added after signing is unsigned.
	dist = fakeDist(t, RequiredPlatform)
	writeTestManifest(t, dist, testID, "0.1.0")
	require.NoError(t, os.WriteFile(filepath.Join(dist, "extra.js"), []byte("1"), 0o644))
	require.ErrorContains(t, PackagePlatforms(dist, out, testID, nil), "extra.js is not signed")

	// A signature for another version.
	dist = fakeDist(t, RequiredPlatform)
	writeTestManifest(t, dist, testID, "0.0.9")
	require.ErrorContains(t, PackagePlatforms(dist, out, testID, nil), "signed for version 0.0.9")
}

// CheckArchive compares the archive's own bytes with its MANIFEST.txt: an archive whose executable
// was swapped after signing fails.
func TestCheckArchiveComparesManifestHashes(t *testing.T) {
	dist := fakeDist(t, RequiredPlatform)
	writeTestManifest(t, dist, testID, "0.1.0")
	good := filepath.Join(t.TempDir(), "good.zip")
	require.NoError(t, PackagePlatforms(dist, good, testID, nil))

	// Copy the archive, replacing the executable's content.
	zr, err := zip.OpenReader(good)
	require.NoError(t, err)
	defer func() { _ = zr.Close() }()
	bad := filepath.Join(t.TempDir(), "bad.zip")
	f, err := os.Create(bad)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	exe := testID + "/" + ExecutableName("gpx_modellens", RequiredPlatform)
	for _, e := range zr.File {
		h := e.FileHeader
		w, err := zw.CreateHeader(&h)
		require.NoError(t, err)
		if e.Mode().IsDir() {
			continue
		}
		if e.Name == exe {
			_, err = w.Write([]byte("\x7fELF tampered"))
		} else {
			var rc io.ReadCloser
			rc, err = e.Open()
			require.NoError(t, err)
			_, err = io.Copy(w, rc)
			_ = rc.Close()
		}
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())

	_, err = CheckArchive(bad, testID)
	require.ErrorContains(t, err, "MANIFEST.txt does not match")
	require.ErrorContains(t, err, "gpx_modellens_linux_amd64 has sha256")
}

// TestSignRealDist signs a copy of a real build's dist directory (MODELLENS_DIST), packages it
// linux-only and checks the archive's manifest: the order the README and the release workflow use.
func TestSignRealDist(t *testing.T) {
	src := os.Getenv("MODELLENS_DIST")
	if src == "" {
		t.Skip("MODELLENS_DIST is not set; the synthetic dist tests cover signing")
	}
	dist := t.TempDir()
	require.NoError(t, os.CopyFS(dist, os.DirFS(src)))
	// Keep only the linux/amd64 executable, as `mage build:linux` leaves it.
	for _, pl := range Platforms {
		if pl != RequiredPlatform {
			_ = os.Remove(filepath.Join(dist, ExecutableName("gpx_modellens", pl)))
		}
	}
	_ = os.Remove(filepath.Join(dist, SignatureFile))
	raw, err := os.ReadFile(filepath.Join(dist, "plugin.json"))
	require.NoError(t, err)
	p, err := ParsePluginJSON(raw, true)
	require.NoError(t, err)
	writeTestManifest(t, dist, testID, p.Info.Version)
	out := filepath.Join(t.TempDir(), "signed.zip")
	require.NoError(t, PackagePlatforms(dist, out, testID, []string{RequiredPlatform}))
	a, err := CheckArchive(out, testID)
	require.NoError(t, err)
	require.NotNil(t, a.Signature)
	require.Contains(t, a.Signature.Files, ExecutableName("gpx_modellens", RequiredPlatform))
}
