package query

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestThresholdMessages pins the whole message of each threshold rule of the three query types
// that take thresholds (drift-like, dataQuality and freshness), one query per rule.
func TestThresholdMessages(t *testing.T) {
	for raw, want := range map[string]string{
		`{"queryType":"drift","thresholds":{"emd":{"warning":1}}}`:                             `thresholds for unknown method "emd" (one of the drift methods except status)`,
		`{"queryType":"drift","thresholds":{"psi":{}}}`:                                        `thresholds.psi needs warning, drift or both`,
		`{"queryType":"drift","thresholds":{"psi":{"warning":-1}}}`:                            `thresholds.psi.warning (-1) must be a finite number >= 0 (psi is never negative)`,
		`{"queryType":"drift","thresholds":{"chi2_pvalue":{"drift":2}}}`:                       `thresholds.chi2_pvalue.drift (2) must be a p-value in [0, 1]`,
		`{"queryType":"drift","thresholds":{"psi_pvalue":{"warning":-0.5}}}`:                   `thresholds.psi_pvalue.warning (-0.5) must be a p-value in [0, 1]`,
		`{"queryType":"drift","thresholds":{"tvd":{"drift":0.3}}}`:                             `thresholds.tvd needs both warning and drift (tvd has no default thresholds)`,
		`{"queryType":"drift","thresholds":{"js":{"warning":0.3,"drift":0.2}}}`:                `thresholds.js: warning (0.3) must be <= drift (0.2)`,
		`{"queryType":"drift","thresholds":{"js_pvalue":{"warning":0.01,"drift":0.05}}}`:       `thresholds.js_pvalue: warning (0.01) must be >= drift (0.05) for a p-value`,
		`{"queryType":"dataQuality","thresholds":{"status":{"warning":0.1}}}`:                  `thresholds for unknown data-quality metric "status" (one of "nullRatio", "outOfRange", "newCategory", "typeMismatch")`,
		`{"queryType":"dataQuality","thresholds":{"outOfRange":{}}}`:                           `thresholds.outOfRange needs warning, drift or both`,
		`{"queryType":"dataQuality","thresholds":{"newCategory":{"drift":-0.1}}}`:              `thresholds.newCategory.drift (-0.1) must be a share in [0, 1]`,
		`{"queryType":"dataQuality","thresholds":{"nullRatio":{"warning":0.5}}}`:               `thresholds.nullRatio: warning (0.5) must be <= drift (0.2) (a default fills the one not given)`,
		`{"queryType":"freshness","thresholds":{"psi":{"warning":1}}}`:                         `thresholds for unknown freshness measure "psi" (one of "sinceNewestEvent", "sinceMaterialized")`,
		`{"queryType":"freshness","thresholds":{"sinceNewestEvent":{}}}`:                       `thresholds.sinceNewestEvent needs warning, drift (stale) or both, in seconds`,
		`{"queryType":"freshness","thresholds":{"sinceMaterialized":{"drift":-3}}}`:            `thresholds.sinceMaterialized: -3 is not a finite number of seconds >= 0`,
		`{"queryType":"freshness","thresholds":{"sinceNewestEvent":{"warning":10,"drift":5}}}`: `thresholds.sinceNewestEvent: warning (10) must be <= drift (5)`,
	} {
		_, err := Parse(json.RawMessage(raw))
		require.Error(t, err, raw)
		require.Equal(t, want, err.Error(), raw)
	}
	for _, raw := range []string{
		`{"queryType":"drift","thresholds":{"psi":{"warning":0.2}}}`,
		`{"queryType":"drift","thresholds":{"psi_pvalue":{"drift":0.01}}}`,
		`{"queryType":"dataQuality","thresholds":{"nullRatio":{"warning":0.1,"drift":0.9}}}`,
		`{"queryType":"freshness","thresholds":{"sinceMaterialized":{"warning":0,"drift":0}}}`,
	} {
		_, err := Parse(json.RawMessage(raw))
		require.NoError(t, err, raw)
	}
}
