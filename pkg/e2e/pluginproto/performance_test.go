package pluginproto

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// perfValues indexes a response's numbers by label set (the last value of each series).
func perfValues(t *testing.T, fs data.Frames) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range fs {
		if len(f.Fields) == 0 {
			continue
		}
		fld := f.Fields[len(f.Fields)-1]
		v, err := fld.FloatAt(fld.Len() - 1)
		require.NoError(t, err)
		out[fld.Labels.String()] = v
	}
	return out
}

// TestPerformanceOverGRPC drives `performance` through the built plugin as Grafana does, from the
// demo model server's Prediction Log API (labels and label_ts over HTTP, NDJSON; it serves the
// last 6 hours) and from the embedded demo fleet: both give the same numbers on a range that
// ended 2 h 50 m ago (within 0.005: the few labels, of thousands, that arrive between the two
// calls); live, the newest window has fewer labels than an older one (labels arrive late); when
// the range lies in the fraud detector's daily incident its realised accuracy is far below its CBPE
// estimate, and when it lies before it the two agree; mistakes are per-query downstream errors;
// latest frames are alert-ready and the table is a table.
func TestPerformanceOverGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts processes")
	}
	base := startDemoModel(t)
	plug := startPlugin(t)
	sources := map[string]backend.PluginContext{
		"server": pluginContext("perf-server", map[string]any{"predictionLog": map[string]any{"url": base + "/api/v1"}}, true),
		"demo":   pluginContext("perf-demo", map[string]any{"demo": true}, true),
	}
	to := time.Now().UTC().Add(-170 * time.Minute).Truncate(time.Minute)
	from := to.Add(-3 * time.Hour)
	sameDay := from.Truncate(24 * time.Hour).Equal(to.Add(-time.Nanosecond).Truncate(24 * time.Hour))
	incident := sameDay && demo.FraudDegraded(from) // the whole range is in the incident
	healthy := !demo.FraudDegraded(to.Add(-time.Nanosecond)) && (sameDay || !demo.FraudDegraded(from))
	t.Logf("range %s – %s: incident %v, healthy %v", from.Format(time.RFC3339), to.Format(time.RFC3339), incident, healthy)
	fraud := map[string]any{"queryType": "performance", "model": "fraud-detector", "version": "*", "estimated": true,
		"positiveClass": "fraud", "scoreOf": "prediction"}
	with := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range fraud {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	queries := map[string]map[string]any{
		"latest":       with(map[string]any{"output": "latest", "metrics": []string{"accuracy", "f1", "roc_auc", "labelCoverage", "labelDelay"}, "average": "binary"}),
		"series":       with(map[string]any{"window": "30m", "metrics": []string{"accuracy"}}),
		"table":        with(map[string]any{"output": "table", "metrics": []string{"accuracy", "ece"}}),
		"all":          {"queryType": "performance", "output": "latest", "metrics": []string{"accuracy", "rmse", "labelCoverage"}},
		"badMetric":    {"queryType": "performance", "metrics": []string{"auc"}},
		"badRegressor": {"queryType": "performance", "model": "price-regressor", "metrics": []string{"accuracy"}},
		"badBinary":    {"queryType": "performance", "model": "fraud-detector", "metrics": []string{"f1"}, "average": "binary"},
	}
	got := map[string]map[string]float64{}
	for name, pc := range sources {
		resp := plug.query(t, pc, nil, from, to, queries)
		assertClean(t, resp)
		for _, ref := range []string{"badMetric", "badRegressor", "badBinary"} {
			r := resp.Responses[ref]
			require.Error(t, r.Error, "%s %s", name, ref)
			require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, "%s %s", name, ref)
		}
		for _, ref := range []string{"latest", "series", "table", "all"} {
			require.NoError(t, resp.Responses[ref].Error, "%s %s", name, ref)
			require.NotEmpty(t, resp.Responses[ref].Frames, "%s %s", name, ref)
		}
		for _, ref := range []string{"latest", "all"} {
			require.NoError(t, frames.CheckAlertReady(resp.Responses[ref].Frames), ref)
			for _, f := range resp.Responses[ref].Frames {
				require.Equal(t, data.FrameTypeNumericMulti, frameType(f), ref)
			}
		}
		for _, f := range resp.Responses["series"].Frames {
			require.Equal(t, data.FrameTypeTimeSeriesMulti, frameType(f))
		}
		require.Equal(t, data.FrameTypeTable, frameType(resp.Responses["table"].Frames[0]))
		v := perfValues(t, resp.Responses["latest"].Frames)
		for _, ver := range []string{"v1", "v2"} {
			acc := v["metric=accuracy, model=fraud-detector, version="+ver]
			est := v["estimate=cbpe, metric=accuracy, model=fraud-detector, version="+ver]
			switch {
			case incident:
				require.Less(t, acc, 0.85, "%s %s realised accuracy during the incident", name, ver)
				require.Greater(t, est-acc, 0.05, "%s %s: CBPE cannot see the new fraud pattern", name, ver)
			case healthy:
				require.Greater(t, acc, 0.9, "%s %s realised accuracy before the incident", name, ver)
				require.InDelta(t, acc, est, 0.03, "%s %s: CBPE tracks the realised accuracy", name, ver)
			}
			cov := v["metric=labelCoverage, model=fraud-detector, version="+ver]
			require.InDelta(t, 0.3, cov, 0.03, "%s %s: 30%% of the records are labelled", name, ver)
			delay := v["metric=labelDelay, model=fraud-detector, version="+ver]
			require.InDelta(t, demo.LabelDelays["fraud-detector"].Median.Seconds(), delay, 300, "%s %s median label delay", name, ver)
		}
		all := perfValues(t, resp.Responses["all"].Frames)
		require.Contains(t, all, "metric=accuracy, model=churn-classifier")
		require.Contains(t, all, "metric=rmse, model=price-regressor")
		got[name] = v
	}
	// The same numbers from the Prediction Log API and from the embedded fleet.
	require.Equal(t, len(got["demo"]), len(got["server"]))
	for k, want := range got["demo"] {
		require.False(t, math.IsNaN(want), k)
		tol := 0.005
		if strings.Contains(k, "labelDelay") {
			tol = 0.005 * want
		}
		require.InDelta(t, want, got["server"][k], tol, k)
	}

	// Live: the last 30 minutes have fewer labels than the 30 minutes three hours ago.
	now := time.Now().UTC()
	resp := plug.query(t, sources["demo"], nil, now.Add(-4*time.Hour), now, map[string]map[string]any{
		"A": {"queryType": "performance", "model": "fraud-detector", "metrics": []string{"labelCoverage"}, "window": "30m"}})
	require.NoError(t, resp.Responses["A"].Error)
	f := resp.Responses["A"].Frames[0]
	require.Equal(t, 1, len(resp.Responses["A"].Frames))
	vals, err := frames.Values(f)
	require.NoError(t, err)
	n := len(vals)
	require.Greater(t, n, 100)
	older := vals[n-1-int(3*time.Hour/time.Minute)] // one point per minute
	require.Less(t, vals[n-1], older-0.1, "coverage now %v, three hours ago %v", vals[n-1], older)
}
