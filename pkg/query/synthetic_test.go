package query

import (
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// syntheticFrames counts the frames of a response that carry SyntheticNotice.
func syntheticFrames(fs data.Frames) int {
	n := 0
	for _, f := range fs {
		if f.Meta == nil {
			continue
		}
		for _, x := range f.Meta.Notices {
			if x.Text == SyntheticNotice {
				if x.Severity != data.NoticeSeverityWarning {
					continue
				}
				n++
				break
			}
		}
	}
	return n
}

// TestDemoFramesSaySynthetic: every frame of every query type the demo fleet answers carries the
// synthetic-data notice; frames answered by another source do not.
func TestDemoFramesSaySynthetic(t *testing.T) {
	to := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	for _, q := range []map[string]any{
		{"queryType": "traffic", "model": "fraud-detector", "version": "*"},
		{"queryType": "latency", "output": "latest"},
		{"queryType": "drift", "model": "churn-classifier", "output": "latest"},
		{"queryType": "drift", "model": "price-regressor", "output": "table"},
		{"queryType": "distribution", "model": "fraud-detector"},
		{"queryType": "predictions", "model": "fraud-detector"},
		{"queryType": "endpoints"},
		{"queryType": "health"},
	} {
		r := run(h, q, to.Add(-time.Hour), to, 5*time.Minute)
		require.NoError(t, r.Error, q)
		require.NotEmpty(t, r.Frames, q)
		require.Equal(t, len(r.Frames), syntheticFrames(r.Frames), "every frame of %v", q)
	}

	// The demo fleet is on too, but the prediction log knows the model: real data, no notice.
	recs := []rec{{ts: t0.Add(-30 * time.Second), version: "v1", latency: 10, features: map[string]any{"x": 1.0, "color": "red"}}}
	pl := &fakeLog{models: []source.Model{iris}, recs: map[string][]rec{"iris": recs}}
	h = New(Deps{PredictionLog: pl, Demo: demo.NewFleet(demo.DefaultSeed)})
	r := run(h, map[string]any{"queryType": "traffic", "model": "iris"}, t0.Add(-time.Hour), t0, time.Minute)
	require.NoError(t, r.Error)
	require.NotEmpty(t, r.Frames)
	require.Zero(t, syntheticFrames(r.Frames))
	// The same handler over a model only the demo fleet has: synthetic.
	r = run(h, map[string]any{"queryType": "traffic", "model": "fraud-detector"}, t0.Add(-time.Hour), t0, time.Minute)
	require.NoError(t, r.Error)
	require.Equal(t, len(r.Frames), syntheticFrames(r.Frames))
}

// TestDemoReferenceSaysSynthetic: drift over real Prometheus histograms compared with the demo
// fleet's reference sample is synthetic too; with the prediction log's reference it is not.
func TestDemoReferenceSaysSynthetic(t *testing.T) {
	hf := &histFake{series: []fakeHist{{labels: map[string]string{"model": "fraud-detector", "feature": "amount"},
		edges: []float64{10, 100}, counts: [][]float64{{1, 2, 3}}}}}
	h := New(Deps{Metrics: hf, Demo: demo.NewFleet(demo.DefaultSeed)})
	r := run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "fraud-detector", "output": "latest"},
		t0, t0.Add(time.Minute), time.Minute)
	require.NoError(t, r.Error)
	require.NotEmpty(t, r.Frames)
	require.Equal(t, len(r.Frames), syntheticFrames(r.Frames))

	pl := &fakeLog{models: []source.Model{iris}, refs: map[string][]rec{"iris": {
		{ts: t0.Add(-48 * time.Hour), features: map[string]any{"x": 1.0}}, {ts: t0.Add(-48 * time.Hour), features: map[string]any{"x": 3.0}}}}}
	hf = &histFake{series: []fakeHist{{labels: map[string]string{"model": "iris", "feature": "x"}, edges: []float64{2}, counts: [][]float64{{1, 1}}}}}
	h = New(Deps{Metrics: hf, PredictionLog: pl, Demo: demo.NewFleet(demo.DefaultSeed)})
	r = run(h, map[string]any{"queryType": "drift", "source": "prometheus", "model": "iris", "output": "latest"}, t0, t0.Add(time.Minute), time.Minute)
	require.NoError(t, r.Error)
	require.NotEmpty(t, r.Frames)
	require.Zero(t, syntheticFrames(r.Frames))
}
