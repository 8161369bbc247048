package query

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

func TestSaturationFromMetrics(t *testing.T) {
	fm := &fakeMetrics{}
	h := New(Deps{Metrics: fm, Demo: demo.NewFleet(demo.DefaultSeed)})
	r := run(h, map[string]any{"queryType": "saturation", "model": "iris", "metrics": []string{"gpu", "cpu"}, "window": "5m"},
		t0.Add(-10*time.Minute), t0, 5*time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	require.Equal(t, map[string][]float64{
		`gpu=0, instance=i1, metric=gpu, model=iris`: {10, 11, 12},
		`instance=i1, metric=cpu, model=iris`:        {20, 21, 22},
	}, got)
	require.Contains(t, notices(r.Frames), "fake saturation")
	for _, f := range r.Frames {
		v := f.Fields[1]
		want := map[string]string{"gpu": "percentunit", "cpu": "none"}[v.Labels["metric"]]
		require.Equal(t, want, v.Config.Unit)
	}
	require.NotContains(t, notices(r.Frames), SyntheticNotice, "Prometheus, not the demo fleet, answered")
	fm.mu.Lock()
	require.Equal(t, 5*time.Minute, fm.requests[len(fm.requests)-1].Window)
	fm.mu.Unlock()
}

// TestSaturationDemo: without Prometheus the demo fleet answers, marked synthetic; its GPU is at
// about 0.97 inside demo.GPUSaturation and below 0.9 outside it.
func TestSaturationDemo(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	gpu := func(at time.Time) float64 {
		r := run(h, map[string]any{"queryType": "saturation", "model": "fraud-detector", "metrics": []string{"gpu"}, "output": "latest", "window": "10m"},
			at.Add(-time.Hour), at, time.Minute)
		requireOK(t, r)
		require.Contains(t, notices(r.Frames), SyntheticNotice)
		got := byLabels(t, r.Frames)
		require.Len(t, got, 1)
		return got[`gpu=0, instance=demo-model, metric=gpu, model=fraud-detector`][0]
	}
	start := day.Add(demo.GPUSaturation.Start)
	require.InDelta(t, 0.97, gpu(start.Add(20*time.Minute)), 0.011)
	require.Less(t, gpu(start), 0.9)
	require.Less(t, gpu(start.Add(demo.GPUSaturation.Duration+10*time.Minute)), 0.9)

	r := run(h, map[string]any{"queryType": "saturation", "version": "*", "output": "latest"}, day, day.Add(time.Hour), time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	// 3 models, 4 versions in all, 4 metrics each (no queue, with a notice).
	require.Len(t, got, 16)
	require.Contains(t, notices(r.Frames), "no queue metric")
}

func TestSaturationBadQueries(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	for q, want := range map[string]string{
		`{"queryType":"saturation","metrics":["rate"]}`:       `unknown saturation metric "rate"`,
		`{"queryType":"saturation","source":"predictionLog"}`: `not source "predictionLog"`,
		`{"queryType":"saturation","source":"prometheus"}`:    `source "prometheus" is not configured`,
		`{"queryType":"saturation","model":"nope"}`:           `unknown model`,
		`{"queryType":"saturation","output":"table"}`:         `does not apply to saturation`,
	} {
		r := run(h, mustJSON(t, q), t0.Add(-time.Hour), t0, time.Minute)
		require.Error(t, r.Error, q)
		require.Contains(t, r.Error.Error(), want, q)
	}
	r := run(New(Deps{}), mustJSON(t, `{"queryType":"saturation"}`), t0.Add(-time.Hour), t0, time.Minute)
	require.ErrorContains(t, r.Error, "set prometheus.url")
}
