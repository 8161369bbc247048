package pluginid

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"
)

// TestPluginJSONID checks that plugin.json declares the id the Go side uses.
func TestPluginJSONID(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "plugin.json"))
	require.NoError(t, err)
	var p struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(b, &p))
	require.Equal(t, ID, p.ID)
}
