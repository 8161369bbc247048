package pluginproto

import (
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// TestDriftSignificanceOverGRPC runs significance, correction and persistence through the built
// plugin against the demo model server's Prediction Log API, as an alert rule would read them;
// the same query again answers the same numbers (from the instance's cached null distributions),
// and bad values of the new fields are per-query errors.
func TestDriftSignificanceOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	base := startDemoModel(t)
	plug := startPlugin(t)
	pc := pluginContext("sig", map[string]any{"predictionLog": map[string]any{"url": base + "/api/v1"}}, false)
	to := time.Now().Truncate(time.Minute)
	queries := map[string]map[string]any{
		"alert": {"queryType": "drift", "model": "fraud-detector", "features": []string{"amount", "channel"}, "output": "latest",
			"window": "10m", "methods": []string{"psi", "js", "chi2_pvalue", "status"}, "significance": true, "correction": "bh",
			"persistence": map[string]any{"windows": 3}},
		"badCorrection":  {"queryType": "drift", "model": "fraud-detector", "correction": "holm"},
		"badPersistence": {"queryType": "drift", "model": "fraud-detector", "persistence": map[string]any{"windows": 0}},
	}
	first := plug.query(t, pc, map[string]string{backend.FromAlertHeaderName: "true"}, to.Add(-30*time.Minute), to, queries)
	for _, ref := range []string{"badCorrection", "badPersistence"} {
		r := first.Responses[ref]
		require.Error(t, r.Error, ref)
		require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, ref)
	}
	r := first.Responses["alert"]
	require.NoError(t, r.Error)
	require.NoError(t, frames.CheckAlertReady(r.Frames))
	got := map[string]float64{}
	for _, f := range r.Frames {
		require.Equal(t, data.FrameTypeNumericMulti, frameType(f))
		v := f.Fields[0]
		x, ok := v.ConcreteAt(0)
		require.True(t, ok)
		got[v.Labels["feature"]+"/"+v.Labels["method"]+"/"+v.Labels["correction"]] = x.(float64)
	}
	for _, k := range []string{"amount/psi_pvalue/bh", "amount/js_pvalue/bh", "channel/psi_pvalue/bh", "channel/chi2_pvalue/bh"} {
		require.Contains(t, got, k)
		require.True(t, got[k] > 0 && got[k] <= 1, "%s = %v", k, got[k])
	}
	for _, k := range []string{"amount/psi_critical/", "channel/js_critical/"} {
		require.Contains(t, got, k)
		require.True(t, got[k] > 0 && !math.IsInf(got[k], 0), "%s = %v", k, got[k])
	}
	require.Contains(t, got, "amount/status/")
	again := plug.query(t, pc, map[string]string{backend.FromAlertHeaderName: "true"}, to.Add(-30*time.Minute), to,
		map[string]map[string]any{"alert": queries["alert"]})
	require.NoError(t, again.Responses["alert"].Error)
	require.Len(t, again.Responses["alert"].Frames, len(r.Frames))
	for i, f := range again.Responses["alert"].Frames {
		a, _ := f.Fields[0].ConcreteAt(0)
		b, _ := r.Frames[i].Fields[0].ConcreteAt(0)
		if !(math.IsNaN(a.(float64)) && math.IsNaN(b.(float64))) {
			require.Equal(t, b, a, f.Fields[0].Labels.String())
		}
	}
}
