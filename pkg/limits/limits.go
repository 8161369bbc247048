// Package limits defines, in one place, every bound ModelLens puts on what a query, a data source
// setting or an upstream answer can make it do: bins, points, samples, timeouts and body sizes.
// Handlers, connectors and kernels read them from here; the README lists them.
package limits

import "time"

// Query limits.
const (
	// MinBins and MaxBins bound `binning.bins`.
	MinBins = 2
	MaxBins = 1000
	// MaxPoints caps the points of a series whatever MaxDataPoints asks for.
	MaxPoints = 20_000
	// MaxDistinctValues caps the distinct values of one categorical variable, and the distinct
	// versions, in the records of one model and query: dictionary codes are int32, and drift over
	// more categories than this means nothing. More is an error, not a truncation.
	MaxDistinctValues = 1 << 24
)

// Settings defaults and bounds (DESIGN §3).
const (
	// DefaultTimeout is `timeoutSeconds` when unset; MaxTimeout its largest accepted value.
	DefaultTimeout = 30 * time.Second
	MaxTimeout     = 10 * time.Minute
	// DefaultMaxSamples is `maxSamples` (raw records fetched per model and query) when unset.
	DefaultMaxSamples = 1_000_000
)

// Upstream body sizes.
const (
	// RecordsBody caps a Prediction Log /records response.
	RecordsBody int64 = 512 << 20
	// SmallBody caps a Prediction Log /models or /reference response.
	SmallBody int64 = 16 << 20
	// PrometheusBody caps a Prometheus API response.
	PrometheusBody int64 = 64 << 20
	// EndpointBody caps a model endpoint's repository index or metadata response.
	EndpointBody int64 = 8 << 20
	// ErrorBody is how much of an upstream error body is read for its excerpt.
	ErrorBody = 4 << 10
	// NDJSONLine caps one line of an NDJSON body.
	NDJSONLine = 16 << 20
)
