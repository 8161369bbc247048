// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// RepoRoot is the directory holding go.mod, found from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the test directory")
		dir = parent
	}
}

// UpdateEnv is the one switch for every generated or golden file of the repository's tests:
// `UPDATE_GOLDEN=1 go test ./...` rewrites them; without it the tests only compare.
const UpdateEnv = "UPDATE_GOLDEN"

// Update reports whether golden files are to be rewritten (UPDATE_GOLDEN=1).
func Update() bool { return os.Getenv(UpdateEnv) == "1" }

// Golden compares got with the file at path, or writes it when Update(). A missing or stale file
// fails the test with the command that regenerates it; a plain `go test` never writes.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if Update() {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file %s (run `%s=1 go test` on this package)", path, UpdateEnv)
	require.Equal(t, string(want), string(got), "%s is stale: check the difference, then run `%s=1 go test` on this package and commit it", path, UpdateEnv)
}
