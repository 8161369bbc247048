package pluginproto

import (
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

// latestByLabels maps each latest frame's label set to its number.
func latestByLabels(t *testing.T, fs data.Frames) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range fs {
		fld := f.Fields[len(f.Fields)-1]
		v, ok := fld.ConcreteAt(0)
		require.True(t, ok)
		out[fld.Labels.String()] = v.(float64)
	}
	return out
}

// TestActionableDriftOverThePluginProtocol drives the built plugin over the plugin protocol with
// the embedded demo fleet: an offset reference reads the daily cycle as no drift, a version
// reference sees fraud-detector v2's score move against v1, pca_reconstruction flags the
// correlation break, and the drift table and distribution carry the attribution fields.
func TestActionableDriftOverThePluginProtocol(t *testing.T) {
	plug := startPlugin(t)
	pc := pluginContext("actionable", map[string]any{"demo": true}, true)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	noon := day.Add(12 * time.Hour)
	resp := plug.query(t, pc, nil, noon.Add(-time.Hour), noon, map[string]map[string]any{
		"dataset": {"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"}, "methods": []string{"psi"}, "output": "latest"},
		"offset": {"queryType": "drift", "model": "fraud-detector", "features": []string{"amount"}, "methods": []string{"psi"}, "output": "latest",
			"reference": map[string]any{"kind": "offset", "offset": "1d"}},
		"canary": {"queryType": "drift", "model": "fraud-detector", "version": "v2", "features": []string{"score"}, "methods": []string{"psi"},
			"output": "latest", "reference": map[string]any{"kind": "version", "version": "v1"}},
		"table":        {"queryType": "drift", "model": "fraud-detector", "output": "table"},
		"distribution": {"queryType": "distribution", "model": "fraud-detector", "features": []string{"amount"}},
		"badOffset":    {"queryType": "drift", "model": "fraud-detector", "reference": map[string]any{"kind": "offset", "offset": "-1d"}},
	})
	for ref, r := range resp.Responses {
		if ref == "badOffset" {
			require.ErrorContains(t, r.Error, "must be a positive duration")
			continue
		}
		require.NoError(t, r.Error, ref)
	}
	dataset := latestByLabels(t, resp.Responses["dataset"].Frames)["feature=amount, method=psi, model=fraud-detector"]
	offset := latestByLabels(t, resp.Responses["offset"].Frames)["feature=amount, method=psi, model=fraud-detector"]
	require.Greater(t, dataset, 0.25) // the daily drift against training
	require.Less(t, offset, 0.1)      // the same hour yesterday looked the same
	require.Greater(t, latestByLabels(t, resp.Responses["canary"].Frames)["feature=score, method=psi, model=fraud-detector, version=v2"], 0.02)
	tbl := resp.Responses["table"].Frames[0]
	names := map[string]bool{}
	for _, f := range tbl.Fields {
		names[f.Name] = true
	}
	for _, n := range []string{"rank", "drift share", "importance", "impact"} {
		require.True(t, names[n], "table field %s", n)
	}
	contrib := 0
	for _, f := range resp.Responses["distribution"].Frames[0].Fields {
		if f.Name == "psi contribution" || f.Name == "js contribution" {
			contrib++
		}
	}
	require.Equal(t, 2, contrib)

	// The correlation break (02:00–04:00): pca_reconstruction above its upper bound.
	brk := plug.query(t, pc, nil, day.Add(3*time.Hour), day.Add(4*time.Hour), map[string]map[string]any{
		"pca": {"queryType": "drift", "model": "price-regressor", "methods": []string{"pca_reconstruction", "status"}, "output": "latest"},
	})
	require.NoError(t, brk.Responses["pca"].Error)
	got := latestByLabels(t, brk.Responses["pca"].Frames)
	e := got["feature=*, method=pca_reconstruction, model=price-regressor"]
	require.False(t, math.IsNaN(e))
	require.Greater(t, e, got["feature=*, method=pca_reconstruction_upper, model=price-regressor"])
	require.Equal(t, 2.0, got["feature=*, method=status, model=price-regressor"])
}
