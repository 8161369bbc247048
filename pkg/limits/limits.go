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
	// MaxPercentiles caps `percentiles` (latency and predictions queries): more is a query error.
	MaxPercentiles = 32
	// MaxNameLength caps, in bytes, a model, version or feature name and every other string of a
	// query (window, reference times, query type...): longer is a query error.
	MaxNameLength = 256
	// QuotedNameRunes is how much of a user-supplied string an error message quotes; longer ones
	// are cut there and end with "…".
	QuotedNameRunes = 64
	// MaxDistinctValues caps the distinct values of one categorical variable, and the distinct
	// versions, in the records of one model and query: dictionary codes are int32, and drift over
	// more categories than this means nothing. More is an error, not a truncation.
	MaxDistinctValues = 1 << 24
	// MaxPCAFeatures caps the numeric variables of one `pca_reconstruction` fit: more is a query
	// error (name fewer features).
	MaxPCAFeatures = 50
	// MaxPCAReferenceRows caps the reference rows a PCA is fitted on (and its bounds computed
	// from): a larger reference is thinned to every k-th row, with a notice. With MaxPCAFeatures
	// the fit's matrix stays under 40 MB (twice that while gonum factorises it).
	MaxPCAReferenceRows = 100_000
	// PCAChunkRows is the size of the reference chunks whose mean reconstruction errors give the
	// bounds of `pca_reconstruction` (mean ± 3 std over the chunks; at least 2 chunks).
	PCAChunkRows = 500
)

// Settings defaults and bounds (DESIGN §3).
const (
	// DefaultTimeout is `timeoutSeconds` when unset; MaxTimeout its largest accepted value.
	DefaultTimeout = 30 * time.Second
	MaxTimeout     = 10 * time.Minute
	// DefaultMaxSamples is `maxSamples` (raw records fetched per model and query) when unset.
	DefaultMaxSamples = 1_000_000
	// DefaultMaxReferenceSamples is `maxReferenceSamples` (rows kept of a reference sample; beyond
	// it a deterministic uniform sample) when unset; MinReferenceSamples and MaxReferenceSamples
	// bound the setting (a reference needs two rows; fifty million rows of five features take
	// about 3 GB).
	DefaultMaxReferenceSamples = 1_000_000
	MinReferenceSamples        = 2
	MaxReferenceSamples        = 50_000_000
	// MaxTailReads bounds the further /records requests made when the API ignores order=desc and
	// maxSamples cut its oldest-first answer (each reads a shorter tail of the range).
	MaxTailReads = 4
)

// Upstream body sizes.
const (
	// RecordsBody caps a Prediction Log /records response.
	RecordsBody int64 = 512 << 20
	// SmallBody caps a Prediction Log /models response (a /reference response has no byte cap:
	// it is streamed into at most maxReferenceSamples rows).
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

// Upstream requests.
const (
	// MaxRedirects caps the redirects followed within one origin; a redirect to another origin is
	// never followed (credentials would go with it).
	MaxRedirects = 10
	// SecretPrefix is the shortest piece of a secret that is redacted where a message is cut: a
	// cut that ends inside a secret leaves at most SecretPrefix-1 of its characters.
	SecretPrefix = 4
	// ErrorExcerpt is how many characters of an upstream error body a message quotes.
	ErrorExcerpt = 200
)

// Instance budget and fan-out caps.
const (
	// DefaultConcurrentQueries is how many queries one data source instance computes at once, all
	// requests together. A query waits for a slot until its deadline, then fails with a "busy"
	// error; memory stays bounded by this many queries' records whatever Grafana sends.
	DefaultConcurrentQueries = 4
	// MaxConcurrentQueries is the largest accepted `maxConcurrentQueries`.
	MaxConcurrentQueries = 256
	// MaxModels caps the models one query covers (`model` empty or "*"): the first MaxModels by
	// name are answered, with a warning notice naming how many were left out.
	MaxModels = 100
	// MaxVersions caps the versions one model splits into (`version: "*"`): the versions with the
	// most records are kept, with a warning notice.
	MaxVersions = 20
	// MaxSeries caps the series (frames) of one response; the rest are dropped with a notice.
	MaxSeries = 2_000
	// MaxResponsePoints caps the values of one response over all its series; series past it are
	// dropped with a notice.
	MaxResponsePoints = 2_000_000
	// MaxQueryRecords caps the records one query over several models holds: each model reads at
	// most max(maxSamples, MaxQueryRecords) / models records (and at most maxSamples).
	MaxQueryRecords = 2_000_000
	// FetchParallel is how many models' records one query fetches at once.
	FetchParallel = 4
)
