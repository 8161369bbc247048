package source

import (
	"context"
	"strconv"
	"time"
)

// MetricsRequest asks a metrics store (Prometheus and compatibles) for one model's series.
type MetricsRequest struct {
	// Model is empty or "*" for every model.
	Model string
	// Version is empty for all versions together, "*" for one series per version, else that version.
	Version string
	// Start and End bound the evaluation times; Step is the distance between points.
	Start time.Time
	End   time.Time
	Step  time.Duration
	// Window is the range each point summarises (the point at t covers (t-Window, t]).
	Window time.Duration
}

// Series is one labelled series of a metrics answer. Labels always include "model" and, when the
// request splits by version, "version"; Lower and Upper, when set, are error bars (for latency
// percentiles from histogram buckets, the bounds of the bucket the percentile falls in).
type Series struct {
	Labels map[string]string
	Times  []time.Time
	Values []float64
	Lower  []float64
	Upper  []float64
}

// SeriesResult is a metrics answer: series plus the notices that say how they were obtained
// ("estimated from histogram buckets", "mean only: the server exports no buckets").
type SeriesResult struct {
	Series  []Series
	Notices []string
	// Query is the upstream query that produced the result (shown in Grafana's query inspector).
	Query string
}

// HistogramSeries holds per-step bucket counts of one feature's value histogram: Counts[i][j] is the
// number of observations at Times[i] (over the request window) in bucket j, with
// len(Counts[i]) == len(Edges)+1. For Prometheus-style histograms (the `le` label) bucket j is
// (Edges[j-1], Edges[j]]: it includes its upper bound; bucket 0 is (-Inf, Edges[0]] and the last
// bucket (Edges[len-1], +Inf).
type HistogramSeries struct {
	Labels map[string]string
	Edges  []float64
	Times  []time.Time
	Counts [][]float64
}

// Target is one scraped model-server target.
type Target struct {
	Model      string
	Version    string
	Instance   string
	Up         bool
	LastScrape time.Time
}

// Metrics is what the query layer reads from a metrics store. The Prometheus source implements it.
type Metrics interface {
	// Models lists models, versions and features found through label values.
	Models(ctx context.Context) ([]Model, error)
	// Latency returns, per model (and version), each percentile (label "quantile", "0.95") and the
	// mean (label "quantile" absent, label "stat" = "mean"), in milliseconds.
	Latency(ctx context.Context, req MetricsRequest, percentiles []float64) (*SeriesResult, error)
	// Traffic returns the asked traffic metrics (label "metric": rate, count, errors, errorCount,
	// errorRatio) with Prometheus rate/increase semantics.
	Traffic(ctx context.Context, req MetricsRequest, metrics []string) (*SeriesResult, error)
	// FeatureHistograms returns per-step bucket counts for the named features (all when empty).
	FeatureHistograms(ctx context.Context, req MetricsRequest, features []string) ([]HistogramSeries, []string, error)
	// Targets lists the scraped targets with their up state and last scrape.
	Targets(ctx context.Context) ([]Target, error)
	// Saturation returns the asked saturation metrics (label "metric": cpu, memory, gpu,
	// gpuMemory, queue; all when none are asked) per model (and version) with label instance (and
	// gpu for GPU metrics), and a notice for each metric the server does not export.
	Saturation(ctx context.Context, req MetricsRequest, metrics []string) (*SeriesResult, error)
}

// QuantileLabel formats a percentile p in (0,100] as the value of the `quantile` label: the
// fraction p/100 rounded to 12 significant digits, so 95 gives "0.95" and 99.9 gives "0.999"
// (not "0.9990000000000001"), whichever source answers.
func QuantileLabel(p float64) string {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(p/100, 'g', 12, 64), 64)
	return strconv.FormatFloat(v, 'f', -1, 64)
}
