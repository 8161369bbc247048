package query

// The query model of DESIGN §4 (binding): field names and meanings may only grow.

// QueryType selects the handler for a query.
type QueryType string

// Query types.
const (
	TypeEndpoints    QueryType = "endpoints"
	TypeHealth       QueryType = "health"
	TypeTraffic      QueryType = "traffic"
	TypeLatency      QueryType = "latency"
	TypeDrift        QueryType = "drift"
	TypeDistribution QueryType = "distribution"
	TypePredictions  QueryType = "predictions"
	TypeFreshness    QueryType = "freshness"
	TypeLookups      QueryType = "lookups"
	TypeFeatureStats QueryType = "featureStats"
	TypeSkew         QueryType = "skew"
	TypePerformance  QueryType = "performance"
	TypeDataQuality  QueryType = "dataQuality"
	TypeSaturation   QueryType = "saturation"
)

// QueryTypes lists every query type the backend answers.
var QueryTypes = []QueryType{TypeEndpoints, TypeHealth, TypeTraffic, TypeLatency, TypeDrift, TypeDistribution, TypePredictions,
	TypeFreshness, TypeLookups, TypeFeatureStats, TypeSkew, TypePerformance, TypeDataQuality, TypeSaturation}

// Sources.
const (
	SourceAuto          = "auto"
	SourcePredictionLog = "predictionLog"
	SourcePrometheus    = "prometheus"
	SourceEndpoint      = "endpoint"
	SourceDemo          = "demo"
	SourceFeast         = "feast"
	// SourceSQL reads prediction records from PostgreSQL (sql.* settings).
	SourceSQL = "sql"
)

// Sources lists the accepted values of Query.Source.
var Sources = []string{SourceAuto, SourcePredictionLog, SourcePrometheus, SourceEndpoint, SourceDemo, SourceSQL, SourceFeast}

// Outputs.
const (
	OutputTimeSeries = "timeseries"
	OutputLatest     = "latest"
	OutputTable      = "table"
)

// Outputs lists the accepted values of Query.Output.
var Outputs = []string{OutputTimeSeries, OutputLatest, OutputTable}

// Traffic metrics.
const (
	MetricRate       = "rate"
	MetricCount      = "count"
	MetricErrors     = "errors"
	MetricErrorCount = "errorCount"
	MetricErrorRatio = "errorRatio"
)

// TrafficMetrics lists the accepted values of Query.Metrics.
var TrafficMetrics = []string{MetricRate, MetricCount, MetricErrors, MetricErrorCount, MetricErrorRatio}

// Performance metrics (DESIGN §4 `performance`, §5 Model quality).
const (
	PerfAccuracy      = "accuracy"
	PerfPrecision     = "precision"
	PerfRecall        = "recall"
	PerfF1            = "f1"
	PerfROCAUC        = "roc_auc"
	PerfLogLoss       = "log_loss"
	PerfBrier         = "brier"
	PerfECE           = "ece"
	PerfMAE           = "mae"
	PerfRMSE          = "rmse"
	PerfMAPE          = "mape"
	PerfR2            = "r2"
	PerfBias          = "bias"
	PerfLabelCoverage = "labelCoverage"
	PerfLabelDelay    = "labelDelay"
)

// PerformanceMetrics lists the accepted values of Query.Metrics for `performance`.
var PerformanceMetrics = []string{PerfAccuracy, PerfPrecision, PerfRecall, PerfF1, PerfROCAUC, PerfLogLoss, PerfBrier, PerfECE,
	PerfMAE, PerfRMSE, PerfMAPE, PerfR2, PerfBias, PerfLabelCoverage, PerfLabelDelay}

// Metric families of `performance`: classification metrics from predictions and labels, those that
// need the score, regression metrics, and the metrics CBPE estimates.
var (
	ClassificationMetrics = []string{PerfAccuracy, PerfPrecision, PerfRecall, PerfF1, PerfROCAUC, PerfLogLoss, PerfBrier, PerfECE}
	ScoreMetrics          = []string{PerfROCAUC, PerfLogLoss, PerfBrier, PerfECE}
	RegressionMetrics     = []string{PerfMAE, PerfRMSE, PerfMAPE, PerfR2, PerfBias}
	EstimatedMetrics      = []string{PerfAccuracy, PerfPrecision, PerfRecall, PerfF1, PerfROCAUC}
)

// Averages of precision, recall and F1 (`average`).
const (
	AverageMacro    = "macro"
	AverageWeighted = "weighted"
	AverageBinary   = "binary"
	AverageNone     = "none"
)

// Averages lists the accepted values of Query.Average.
var Averages = []string{AverageMacro, AverageWeighted, AverageBinary, AverageNone}

// What a classifier's score is the probability of (`scoreOf`).
const (
	ScoreOfPositiveClass = "positiveClass"
	ScoreOfPrediction    = "prediction"
)

// ScoreOfs lists the accepted values of Query.ScoreOf.
var ScoreOfs = []string{ScoreOfPositiveClass, ScoreOfPrediction}

// EstimateCBPE is the `estimate` label of confidence-based performance estimates.
const EstimateCBPE = "cbpe"

// Data-quality metrics (DESIGN §4 `dataQuality`): shares of a window's records.
const (
	QualityNullRatio    = "nullRatio"
	QualityOutOfRange   = "outOfRange"
	QualityNewCategory  = "newCategory"
	QualityTypeMismatch = "typeMismatch"
	QualityStatus       = "status"
)

// QualityMetrics lists the accepted values of Query.Metrics for dataQuality queries; the default is
// all of them.
var QualityMetrics = []string{QualityNullRatio, QualityOutOfRange, QualityNewCategory, QualityTypeMismatch, QualityStatus}

// Saturation metrics (DESIGN §4 `saturation`).
const (
	SaturationCPU       = "cpu"
	SaturationMemory    = "memory"
	SaturationGPU       = "gpu"
	SaturationGPUMemory = "gpuMemory"
	SaturationQueue     = "queue"
)

// SaturationMetrics lists the accepted values of Query.Metrics for saturation queries; the default
// is all of them.
var SaturationMetrics = []string{SaturationCPU, SaturationMemory, SaturationGPU, SaturationGPUMemory, SaturationQueue}

// Drift methods.
const (
	MethodPSI             = "psi"
	MethodKS              = "ks"
	MethodKSPValue        = "ks_pvalue"
	MethodJS              = "js"
	MethodWasserstein     = "wasserstein"
	MethodWassersteinNorm = "wasserstein_norm"
	MethodHellinger       = "hellinger"
	MethodTVD             = "tvd"
	MethodKLD             = "kld"
	MethodChi2            = "chi2"
	MethodChi2PValue      = "chi2_pvalue"
	MethodLInf            = "linf"
	MethodMLRun           = "mlrun"
	MethodStatus          = "status"
)

// DriftMethods lists the accepted values of Query.Methods.
var DriftMethods = []string{MethodPSI, MethodKS, MethodKSPValue, MethodJS, MethodWasserstein, MethodWassersteinNorm,
	MethodHellinger, MethodTVD, MethodKLD, MethodChi2, MethodChi2PValue, MethodLInf, MethodMLRun, MethodStatus}

// MethodPCAReconstruction is multivariate drift: the mean PCA reconstruction error of each
// window's records over the model's numeric features (multivariate.go).
const MethodPCAReconstruction = "pca_reconstruction"

// MultivariateMethods are the drift methods over all features together; Query.Methods accepts
// them besides DriftMethods.
var MultivariateMethods = []string{MethodPCAReconstruction}

// Default drift methods per feature kind (DESIGN §4).
var (
	DefaultNumericMethods     = []string{MethodPSI, MethodKSPValue, MethodJS, MethodWassersteinNorm}
	DefaultCategoricalMethods = []string{MethodChi2PValue, MethodPSI, MethodJS, MethodLInf}
)

// Reference kinds and binning strategies.
const (
	ReferenceDataset    = "dataset"
	ReferenceWindow     = "window"
	ReferenceOffset     = "offset"
	ReferenceVersion    = "version"
	BinningQuantile     = "quantile"
	BinningEqualWidth   = "equalWidth"
	DefaultBins         = 10
	FeaturePrediction   = "prediction"
	FeatureScore        = "score"
	FeatureLatency      = "latency"
	DefaultOutputLabel  = "prediction"
	ScoreOutputLabel    = "score"
	LatencyUnit         = "ms"
	WildcardAllVersions = "*"
)

// DefaultPercentiles are the latency percentiles when none are asked for.
var DefaultPercentiles = []float64{50, 95, 99}

// ReferenceKinds lists the accepted values of Reference.Kind.
var ReferenceKinds = []string{ReferenceDataset, ReferenceWindow, ReferenceOffset, ReferenceVersion, ReferenceFeast}

// Reference selects what current data is compared with.
type Reference struct {
	// Kind is "dataset" (the model's reference sample, default), "window", "offset" or "version".
	Kind string `json:"kind,omitempty"`
	// From and To bound a reference window: Grafana relative times ("now-7d") or RFC 3339.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Offset (kind "offset") is a positive Grafana duration ("1d", "7d"): each point is compared
	// with the same window one offset earlier.
	Offset string `json:"offset,omitempty"`
	// Version (kind "version") is the version whose records, in the same window, each point of the
	// query's version(s) is compared with.
	Version string `json:"version,omitempty"`
}

// Binning selects how numeric values are binned for the binned drift methods.
type Binning struct {
	Strategy string `json:"strategy,omitempty"`
	Bins     int    `json:"bins,omitempty"`
}

// Threshold overrides a drift method's default warning and drift thresholds.
type Threshold struct {
	Warning *float64 `json:"warning,omitempty"`
	Drift   *float64 `json:"drift,omitempty"`
}

// Query is the JSON model of one ModelLens query. Unknown fields (refId, datasource, intervalMs,
// ...) are ignored.
type Query struct {
	QueryType   QueryType            `json:"queryType"`
	Model       string               `json:"model,omitempty"`
	Version     string               `json:"version,omitempty"`
	Source      string               `json:"source,omitempty"`
	Output      string               `json:"output,omitempty"`
	Window      string               `json:"window,omitempty"`
	Percentiles []float64            `json:"percentiles,omitempty"`
	Metrics     []string             `json:"metrics,omitempty"`
	Features    []string             `json:"features,omitempty"`
	Methods     []string             `json:"methods,omitempty"`
	Reference   *Reference           `json:"reference,omitempty"`
	Binning     *Binning             `json:"binning,omitempty"`
	Thresholds  map[string]Threshold `json:"thresholds,omitempty"`
	// FeatureView names a Feast feature view (Feast query types); empty or "*" means every view
	// of the project.
	FeatureView string `json:"featureView,omitempty"`
	// Entities is the probe set of lookups and skew: join-key objects ({"driver_id": 1001}).
	Entities []map[string]any `json:"entities,omitempty"`
	// Performance: how precision, recall and F1 average over classes, the positive class of a
	// binary classifier, what the score is the probability of, and whether to add CBPE estimates.
	Average       string `json:"average,omitempty"`
	PositiveClass string `json:"positiveClass,omitempty"`
	ScoreOf       string `json:"scoreOf,omitempty"`
	Estimated     bool   `json:"estimated,omitempty"`
	// Significance, Correction and Persistence: see significance.go.
	Significance bool         `json:"significance,omitempty"`
	Correction   string       `json:"correction,omitempty"`
	Persistence  *Persistence `json:"persistence,omitempty"`
}
