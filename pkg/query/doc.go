// Package query answers ModelLens queries (DESIGN §4, §5, §8): one handler per query type, each
// parse → validate → defaults → resolve the source → window the range → call pkg/stats → hand the
// numbers to pkg/frames.
//
// Sources. `source: auto` picks the Prediction Log when it is configured and knows the model (any
// model for "" or "*"), else the demo fleet when it is on, else Prometheus when configured; an
// explicit source must be configured. Health answers from model endpoints first, then the demo
// fleet, then Prometheus scrape targets. Every frame names the source that answered in
// Meta.Custom {"source": "..."}.
//
// Time. Points sit at multiples of the step (the query interval, at least 1 s, widened to respect
// MaxDataPoints and at most 20,000 points); the point at t summarises the records with
// t − window < ts <= t (window default: the step). `latest` (and drift `table`, `distribution`,
// `endpoints`) use a single point at the end of the range whose window defaults to the whole range.
// Records are fetched once per model for (first point − window, last point] and windowed in one
// pass; maxSamples caps each fetch and a truncated fetch adds the notice "sampled N of more than N
// records".
//
// Drift. Numeric variables: ks, ks_pvalue, wasserstein and wasserstein_norm on the raw sorted
// samples, the binned methods on the reference's quantile or equal-width bins (memoised per
// reference through refstats). Categorical variables: one bin per category of reference ∪ current.
// `status` is the worst status (0 ok, 1 warning, 2 drift) of the other methods asked for the
// feature, or of the kind's defaults. With Prometheus, drift compares feature histogram buckets
// with the model's reference sample (prediction log, else demo fleet) counted on the same `le`
// bounds, or with the buckets of a reference window: binned methods, plus ks on the binned CDFs.
//
// Distribution of `latency` compares with the reference sample's latency_ms when it has at least
// two, else it needs reference.kind "window".
//
// Errors are per query: user mistakes and upstream failures are downstream errors (400 for a bad
// query, 502 for an upstream failure, 504 for a timeout), our bugs plugin errors; a panic is
// recovered and reported as a plugin error.
package query
