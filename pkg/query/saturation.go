package query

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// saturationUnits are the Grafana units of the saturation metrics (cpu in cores: no unit).
var saturationUnits = map[string]string{
	SaturationCPU:       "none",
	SaturationMemory:    "bytes",
	SaturationGPU:       "percentunit",
	SaturationGPUMemory: "bytes",
	SaturationQueue:     "none",
}

// saturationSource answers saturation metrics: Prometheus (source.Metrics), or the demo fleet's
// synthetic server.
type saturationSource interface {
	Saturation(ctx context.Context, req source.MetricsRequest, metrics []string) (*source.SeriesResult, error)
}

// saturation answers `saturation` (DESIGN §4): per model (and version) and scrape target (label
// instance, and gpu for the GPU metrics), cpu (cores), memory (bytes), gpu (0–1), gpuMemory
// (bytes) and queue (requests waiting or in flight), from Prometheus as the preset knows them, with
// a notice for each metric the preset has not. Without Prometheus the demo fleet answers with its
// synthetic server. Label metric.
func (h *Handler) saturation(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	metrics := dedupe(q.Metrics)
	if len(metrics) == 0 {
		metrics = SaturationMetrics
	}
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	var src saturationSource
	name := q.Source
	switch name {
	case "", SourceAuto:
		switch {
		case h.deps.Metrics != nil:
			name = SourcePrometheus
		case h.deps.Demo != nil:
			name = SourceDemo
		default:
			return nil, userError("saturation queries read Prometheus: set prometheus.url in the data source settings")
		}
	case SourcePrometheus, SourceDemo:
	default:
		return nil, userError("saturation queries read Prometheus (or the demo fleet), not source %q", name)
	}
	switch name {
	case SourcePrometheus:
		if h.deps.Metrics == nil {
			return nil, userError("source %q is not configured on this data source (configured: %s)", name, h.cat.configuredNames())
		}
		src = h.deps.Metrics
	case SourceDemo:
		d, ok := h.deps.Demo.(saturationSource)
		if h.deps.Demo == nil || !ok {
			return nil, userError("source %q is not configured on this data source (configured: %s)", name, h.cat.configuredNames())
		}
		src = d
		usedDemo(ctx, Resolved{Name: SourceDemo})
	}
	res, err := src.Saturation(ctx, metricsRequest(q, g), metrics)
	if err != nil {
		return nil, sourceError(name, err)
	}
	return seriesFrames(res, g, func(l data.Labels) string { return saturationUnits[l["metric"]] }, name), nil
}
