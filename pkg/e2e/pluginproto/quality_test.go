package pluginproto

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// valuesByLabels indexes a response's numeric fields by their label set.
func valuesByLabels(t *testing.T, fs data.Frames) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, f := range fs {
		v, err := frames.Values(f)
		require.NoError(t, err)
		out[f.Fields[len(f.Fields)-1].Labels.String()] = v
	}
	return out
}

// TestDataQualityAndSaturationOverGRPC drives the built plugin over the plugin protocol: dataQuality
// from the demo model server's Prediction Log (NDJSON decoded by the plugin, type mismatches
// counted at decode time) gives the same numbers as the embedded demo fleet; the demo's null hour
// and saturated GPU show in alert evaluations at their known times; saturation without Prometheus
// is a clear downstream error, and the embedded fleet answers it with a notice for the queue.
func TestDataQualityAndSaturationOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	base := startDemoModel(t)
	plug := startPlugin(t)
	server := pluginContext("server", map[string]any{"predictionLog": map[string]any{"url": base + "/api/v1"}}, true)
	embedded := pluginContext("demo", map[string]any{"demo": true}, true)

	to := time.Now().Add(-time.Minute).Truncate(time.Minute)
	from := to.Add(-time.Hour)
	queries := map[string]map[string]any{
		"dq":        {"queryType": "dataQuality", "model": "fraud-detector", "window": "10m"},
		"dqLatest":  {"queryType": "dataQuality", "model": "churn-classifier", "version": "*", "output": "latest", "window": "30m"},
		"dqTable":   {"queryType": "dataQuality", "model": "price-regressor", "output": "table", "window": "30m"},
		"sat":       {"queryType": "saturation", "metrics": []string{"gpu", "queue"}, "window": "5m"},
		"badMetric": {"queryType": "dataQuality", "metrics": []string{"psi"}},
	}
	rs := plug.query(t, server, nil, from, to, queries)
	rd := plug.query(t, embedded, nil, from, to, queries)
	for _, r := range []*backend.QueryDataResponse{rs, rd} {
		require.Len(t, r.Responses, len(queries))
		require.ErrorContains(t, r.Responses["badMetric"].Error, `unknown data-quality metric "psi"`)
		require.Equal(t, backend.ErrorSourceDownstream, r.Responses["badMetric"].ErrorSource)
		for _, ref := range []string{"dq", "dqLatest", "dqTable"} {
			require.NoError(t, r.Responses[ref].Error, ref)
			require.NotEmpty(t, r.Responses[ref].Frames, ref)
		}
		require.NoError(t, frames.CheckAlertReady(r.Responses["dq"].Frames))
		require.NoError(t, frames.CheckAlertReady(r.Responses["dqLatest"].Frames))
		require.Equal(t, data.FrameTypeTable, r.Responses["dqTable"].Frames[0].Meta.Type)
	}
	for _, ref := range []string{"dq", "dqLatest"} {
		got, want := valuesByLabels(t, rs.Responses[ref].Frames), valuesByLabels(t, rd.Responses[ref].Frames)
		require.Equal(t, len(want), len(got), ref)
		for k, w := range want {
			g, ok := got[k]
			require.True(t, ok, "%s: no series %s from the server", ref, k)
			require.Len(t, g, len(w), k)
			for i := range w {
				require.True(t, g[i] == w[i] || (math.IsNaN(g[i]) && math.IsNaN(w[i])), "%s %s[%d]: server %v, embedded %v", ref, k, i, g[i], w[i])
			}
		}
	}
	require.ErrorContains(t, rs.Responses["sat"].Error, "prometheus.url")
	require.Equal(t, backend.ErrorSourceDownstream, rs.Responses["sat"].ErrorSource)
	require.NoError(t, rd.Responses["sat"].Error)
	require.NoError(t, frames.CheckAlertReady(rd.Responses["sat"].Frames))
	require.Contains(t, noticesOf(rd.Responses["sat"].Frames), "no queue metric")

	// Alert evaluations at the demo's known incident times (embedded fleet, any day).
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	alertPC := pluginContext("demo", map[string]any{"demo": true}, false)
	hdr := map[string]string{backend.FromAlertHeaderName: "true"}
	null := demo.NullIncident
	at := day.Add(null.Start + 30*time.Minute)
	r := plug.query(t, alertPC, hdr, at.Add(-10*time.Minute), at, map[string]map[string]any{"A": {"queryType": "dataQuality", "model": null.Model,
		"version": "*", "features": []string{null.Feature}, "metrics": []string{"nullRatio", "status"}, "window": "10m", "output": "latest"}})
	require.NoError(t, r.Responses["A"].Error)
	for k, v := range valuesByLabels(t, r.Responses["A"].Frames) {
		want := 1.0
		if strings.Contains(k, "metric=status") {
			want = 2
		}
		require.Equal(t, []float64{want}, v, k)
	}
	at = day.Add(demo.GPUSaturation.Start + 20*time.Minute)
	r = plug.query(t, alertPC, hdr, at.Add(-2*time.Minute), at, map[string]map[string]any{"A": {"queryType": "saturation", "model": "*",
		"version": "*", "metrics": []string{"gpu"}, "window": "2m", "output": "latest"}})
	require.NoError(t, r.Responses["A"].Error)
	vals := valuesByLabels(t, r.Responses["A"].Frames)
	require.Len(t, vals, 4, "one GPU series per model version")
	for k, v := range vals {
		require.Greater(t, v[0], 0.9, k)
	}
}

func noticesOf(fs data.Frames) string {
	s := ""
	for _, f := range fs {
		if f.Meta != nil {
			for _, n := range f.Meta.Notices {
				s += n.Text + "\n"
			}
		}
	}
	return s
}

// TestTypeMismatchOverGRPC: a Prediction Log whose records carry values of the wrong type (a
// string for a numeric feature, a number for a categorical one) gives typeMismatch shares counted
// by the plugin's decoder, next to nullRatio and newCategory, over the plugin protocol.
func TestTypeMismatchOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	end := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	// Ten records in (end−10m, end]: x is "7" (a numeric string) in 2, "n/a" in 1, null in 1; c is
	// 5 (a number) in 1, "z" (a new category) in 2.
	xs := []string{`1`, `2`, `"7"`, `"7"`, `"n/a"`, `null`, `3`, `4`, `5`, `6`}
	cs := []string{`"a"`, `"b"`, `"a"`, `5`, `"z"`, `"z"`, `"a"`, `"b"`, `"a"`, `"b"`}
	var recs, ref strings.Builder
	for i := range xs {
		ts := end.Add(-time.Duration(10-i) * 50 * time.Second).Format(time.RFC3339Nano)
		recs.WriteString(`{"ts":"` + ts + `","model":"m","version":"v1","latency_ms":5,"status":"ok","prediction":1,"features":{"x":` + xs[i] + `,"c":` + cs[i] + "}}\n")
	}
	for i := 0; i < 20; i++ {
		c := []string{"a", "b"}[i%2]
		ref.WriteString(`{"model":"m","version":"v1","prediction":1,"features":{"x":` + strconv.Itoa(i%10) + `,"c":"` + c + `"}}` + "\n")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/models":
			io.WriteString(w, `{"models":[{"name":"m","versions":["v1"],"features":[{"name":"x","type":"numeric"},{"name":"c","type":"categorical"}],"prediction":{"type":"numeric"}}]}`)
		case "/api/v1/records":
			w.Header().Set("Content-Type", "application/x-ndjson")
			io.WriteString(w, recs.String())
		case "/api/v1/reference":
			w.Header().Set("Content-Type", "application/x-ndjson")
			io.WriteString(w, ref.String())
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	plug := startPlugin(t)
	pc := pluginContext("mismatch", map[string]any{"predictionLog": map[string]any{"url": srv.URL + "/api/v1"}}, true)
	r := plug.query(t, pc, nil, end.Add(-time.Hour), end, map[string]map[string]any{
		"A": {"queryType": "dataQuality", "model": "m", "window": "10m", "output": "latest"}})
	require.NoError(t, r.Responses["A"].Error)
	got := valuesByLabels(t, r.Responses["A"].Frames)
	want := map[string]float64{
		"feature=x, metric=nullRatio, model=m":    0.1, // null; "n/a" counts as a type mismatch
		"feature=x, metric=outOfRange, model=m":   0,   // "7" is read as 7, inside [0, 9]
		"feature=x, metric=typeMismatch, model=m": 0.3,
		"feature=x, metric=status, model=m":       2,
		"feature=c, metric=nullRatio, model=m":    0,
		"feature=c, metric=newCategory, model=m":  0.3, // z twice, "5" once
		"feature=c, metric=typeMismatch, model=m": 0.1,
		"feature=c, metric=status, model=m":       2,
	}
	require.Len(t, got, len(want), "%v", got)
	for k, v := range want {
		require.Contains(t, got, k)
		require.InDelta(t, v, got[k][0], 1e-12, k)
	}
}
