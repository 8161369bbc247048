package packaging

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SignatureFile is the signature manifest `npm run sign` (@grafana/sign-plugin) writes into dist/:
// a PGP clear-signed JSON document with the SHA-256 of every other file of the plugin directory.
// Grafana refuses a signed plugin whose files differ from it, so it must be written after the
// last build and the archive must hold exactly the files it lists.
const SignatureFile = "MANIFEST.txt"

// Manifest is the JSON document inside MANIFEST.txt.
type Manifest struct {
	ManifestVersion string `json:"manifestVersion"`
	// SignatureType is "private", "community", "commercial" or "grafana".
	SignatureType string `json:"signatureType"`
	SignedByOrg   string `json:"signedByOrg"`
	// RootURLs are the Grafana root URLs a private signature is valid for.
	RootURLs []string `json:"rootUrls"`
	Plugin   string   `json:"plugin"`
	Version  string   `json:"version"`
	// Files maps each file of the plugin directory (slash path, MANIFEST.txt excepted) to the hex
	// SHA-256 of its content.
	Files map[string]string `json:"files"`
}

const (
	pgpMessageBegin   = "-----BEGIN PGP SIGNED MESSAGE-----"
	pgpSignatureBegin = "-----BEGIN PGP SIGNATURE-----"
)

// ParseManifest extracts the JSON document from a clear-signed MANIFEST.txt (RFC 4880 §7: armor
// header lines, an empty line, the dash-escaped text, the signature block). It does not verify the
// signature (Grafana does, with Grafana's public key); it reads what the signature covers.
func ParseManifest(raw []byte) (*Manifest, error) {
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	begin := strings.Index(text, pgpMessageBegin+"\n")
	if begin < 0 {
		return nil, fmt.Errorf("%s is not a PGP signed message", SignatureFile)
	}
	text = text[begin+len(pgpMessageBegin)+1:]
	// Armor headers ("Hash: SHA512") end at the first empty line.
	blank := strings.Index(text, "\n\n")
	if blank < 0 {
		return nil, fmt.Errorf("%s: no empty line after the armor headers", SignatureFile)
	}
	text = text[blank+2:]
	end := strings.Index(text, "\n"+pgpSignatureBegin)
	if end < 0 {
		return nil, fmt.Errorf("%s has no signature block", SignatureFile)
	}
	lines := strings.Split(text[:end], "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "- ") // dash-escaping
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(strings.Join(lines, "\n")))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: the signed text is not a manifest: %w", SignatureFile, err)
	}
	if m.Plugin == "" || m.Version == "" || len(m.Files) == 0 {
		return nil, fmt.Errorf("%s: the manifest lacks plugin, version or files", SignatureFile)
	}
	return &m, nil
}

// signAfterBuild is the remedy every manifest mismatch names.
const signAfterBuild = "sign after the final build and package without rebuilding (see the README's signing steps)"

// Check compares the manifest with a plugin directory's files: hashes maps every file (slash path
// relative to the plugin directory, MANIFEST.txt excepted) to its hex SHA-256. Like Grafana's
// signature check, it requires the same plugin id and version, every listed file present with the
// listed hash, and no file that the manifest does not list. All differences are reported together.
func (m *Manifest) Check(pluginID, version string, hashes map[string]string) error {
	var errs []error
	if m.Plugin != pluginID {
		errs = append(errs, fmt.Errorf("signed for plugin %q, not %q", m.Plugin, pluginID))
	}
	if m.Version != version {
		errs = append(errs, fmt.Errorf("signed for version %s, but plugin.json has %s", m.Version, version))
	}
	names := make([]string, 0, len(m.Files))
	for f := range m.Files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		got, ok := hashes[f]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s is signed but missing", f))
		case !strings.EqualFold(got, m.Files[f]):
			errs = append(errs, fmt.Errorf("%s has sha256 %s, the signature lists %s", f, got, m.Files[f]))
		}
	}
	var extra []string
	for f := range hashes {
		if _, ok := m.Files[f]; !ok {
			extra = append(extra, f)
		}
	}
	sort.Strings(extra)
	for _, f := range extra {
		errs = append(errs, fmt.Errorf("%s is not signed", f))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s does not match the plugin's files (%s): %w", SignatureFile, signAfterBuild, errors.Join(errs...))
	}
	return nil
}

// sha256Hex is the hex SHA-256 of what r yields.
func sha256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFiles hashes files (slash paths relative to dir).
func hashFiles(dir string, files []string) (map[string]string, error) {
	out := make(map[string]string, len(files))
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f))) // #nosec G304 -- a file found by walking the dist directory
		if err != nil {
			return nil, err
		}
		sum, err := sha256Hex(fh)
		_ = fh.Close()
		if err != nil {
			return nil, err
		}
		out[f] = sum
	}
	return out, nil
}
