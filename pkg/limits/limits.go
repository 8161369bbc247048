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
	// DefaultSQLConnections is `sql.maxConnections` (the PostgreSQL pool of one data source
	// instance) when unset; MaxSQLConnections its largest accepted value.
	DefaultSQLConnections = 4
	MaxSQLConnections     = 64
	// MaxSQLModels, MaxSQLVersions and MaxSQLFeatures cap what the PostgreSQL source lists of a
	// records table: model names, versions per model, features per model.
	MaxSQLModels   = 10_000
	MaxSQLVersions = 1_000
	MaxSQLFeatures = 1_000
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
	// MaxSaturationTargets caps the scrape targets (instances) whose process and GPU metrics one
	// saturation query attributes to models; targets beyond it are left out.
	MaxSaturationTargets = 200
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
	// MaxClasses caps the classes (distinct predicted and label values) of a classifier in one
	// performance query: its confusion matrix holds MaxClasses² counts (8 MB). More is an error
	// for a named model and a notice over every model.
	MaxClasses = 1000
)

// Feast feature store.
const (
	// FeastMaxProbeEntities caps the entities one lookups or skew query probes; a larger probe set
	// is cut to its first FeastMaxProbeEntities entities, with a warning notice.
	FeastMaxProbeEntities = 10_000
	// FeastReadBatch is how many entities one online-store round trip reads (one Redis pipeline,
	// one PostgreSQL statement).
	FeastReadBatch = 500
	// FeastScanKeys caps the Redis keys scanned for a view's newest event time (Redis has no index
	// on it); past it the newest time seen is returned, marked partial.
	FeastScanKeys = 200_000
	// FeastKeySample is how many stored keys are looked at to name the serialization version of
	// the keys in a store when no probed entity was found.
	FeastKeySample = 200
	// FeastMaxDQMRows caps the data-quality monitoring rows one featureStats query reads.
	FeastMaxDQMRows = 100_000
	// FeastMaxSkewRecords caps the prediction records one skew query joins with the offline store.
	FeastMaxSkewRecords = 50_000
)

// Feast registry reads.
const (
	// FeastRegistryBytes caps a Feast registry: the registry file, the REST registry server's
	// answers (each), and the SQL registry's protos of one project (together).
	FeastRegistryBytes int64 = 64 << 20
	// MaxFeastObjects caps the objects of one kind (entities, feature views, feature services,
	// data sources, projects) in a registry; more is an error.
	MaxFeastObjects = 100_000
	// MaxFeastFields caps the features, entities or entity columns of one feature view or feature
	// service projection, and the tags of one object; more is an error.
	MaxFeastFields = 10_000
	// MaxFeastIntervals caps the materialization intervals of one feature view (every
	// `feast materialize` run adds one); more is an error.
	MaxFeastIntervals = 1_000_000
	// FeastRegistryTTL is how long one data source instance reuses a registry it read.
	FeastRegistryTTL = 30 * time.Second
	// FeastRESTPageSize is the page size asked of the REST registry server (its largest).
	FeastRESTPageSize = 100
)

// Significance of drift measures (`significance: true`, DESIGN §5).
const (
	// SignificanceResamples is B, the resamples of a null distribution: p-values are multiples
	// of 1/(B+1) = 0.001 with Monte-Carlo standard error sqrt(p(1−p)/B) (0.0069 at p = 0.05).
	SignificanceResamples = 999
	// SignificanceMaxDraws caps the values drawn per Wasserstein resample; above it the null
	// distribution is the one at this many draws rescaled by sqrt(draws/n) (stats.BootstrapWasserstein).
	SignificanceMaxDraws = 5_000
	// SignificanceExactN is the largest window size simulated at its own n; above it n is
	// rounded to the geometric grid of SignificanceGridSteps points per doubling (at most 2.2 %
	// off), so that windows of similar sizes share one cached null distribution.
	SignificanceExactN    = 64
	SignificanceGridSteps = 16
	// SignificanceEntries bounds the null distributions one prepared reference keeps (each
	// SignificanceResamples float64s, 8 KB); the least recently used goes first.
	SignificanceEntries = 4096
	// SignificanceWorkers is how many null distributions the process simulates at once (they
	// are CPU-bound): a query's simulations wait for a slot.
	SignificanceWorkers = 2
	// MaxSignificanceSimulations caps the null distributions one query simulates (cache misses);
	// past it the remaining p-values and critical values are NaN with a notice, and the next
	// refresh continues where this one stopped (the simulated ones are cached).
	MaxSignificanceSimulations = 2_000
	// MaxPersistenceWindows bounds `persistence.windows` of a drift query.
	MaxPersistenceWindows = 100
)
