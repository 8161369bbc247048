import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

// The query model of DESIGN §4 (binding), mirroring pkg/query/model.go. Field names and meanings
// may only grow; src/types.test.ts fails when this file and the Go model disagree.

/** Query types the backend answers (Go: query.QueryTypes). */
export const QUERY_TYPES = [
  'endpoints',
  'health',
  'traffic',
  'latency',
  'drift',
  'distribution',
  'predictions',
  'freshness',
  'lookups',
  'featureStats',
  'skew',
  'performance',
  'dataQuality',
  'saturation',
] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

/** Accepted values of Query.source (Go: query.Sources). */
export const SOURCES = ['auto', 'predictionLog', 'prometheus', 'endpoint', 'demo', 'sql', 'feast'] as const;
export type Source = (typeof SOURCES)[number];

/** Accepted values of Query.output (Go: query.Outputs). */
export const OUTPUTS = ['timeseries', 'latest', 'table'] as const;
export type Output = (typeof OUTPUTS)[number];

/** Accepted values of Query.metrics for traffic queries (Go: query.TrafficMetrics). */
export const TRAFFIC_METRICS = ['rate', 'count', 'errors', 'errorCount', 'errorRatio'] as const;
export type TrafficMetric = (typeof TRAFFIC_METRICS)[number];

/** Accepted values of Query.metrics for featureStats queries (Go: query.FeatureStatsMetrics). */
export const FEATURE_STATS_METRICS = [
  'nullRate',
  'nullCount',
  'rowCount',
  'mean',
  'stddev',
  'min',
  'max',
  'p50',
  'p75',
  'p90',
  'p95',
  'p99',
] as const;
export type FeatureStatsMetric = (typeof FEATURE_STATS_METRICS)[number];
export const DEFAULT_FEATURE_STATS_METRICS: FeatureStatsMetric[] = [
  'nullRate',
  'mean',
  'stddev',
  'p50',
  'p95',
  'rowCount',
];

/** Accepted values of Query.metrics for skew queries (Go: query.SkewMetrics). */
export const SKEW_METRICS = ['mismatch', 'meanAbsDiff', 'notFound', 'compared'] as const;
export type SkewMetric = (typeof SKEW_METRICS)[number];
export const DEFAULT_SKEW_METRICS: SkewMetric[] = ['mismatch', 'meanAbsDiff'];

/** Accepted values of Query.metrics for freshness queries (Go: query.FreshMetrics); none: all. */
export const FRESHNESS_METRICS = ['sinceMaterialized', 'sinceNewestEvent', 'ttl', 'status'] as const;
export type FreshnessMetric = (typeof FRESHNESS_METRICS)[number];

/** The `status` label values of lookups queries (Feast's FieldStatus names; Go: query.LookupStatuses). */
export const LOOKUP_STATUSES = ['PRESENT', 'NOT_FOUND', 'NULL_VALUE', 'OUTSIDE_MAX_AGE'] as const;

/** A join-key object of a lookups or skew probe set: {"driver_id": 1001}. */
export type EntityKey = Record<string, number | string>;
/** Accepted values of Query.metrics for performance queries (Go: query.PerformanceMetrics). */
export const PERFORMANCE_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'log_loss',
  'brier',
  'ece',
  'mae',
  'rmse',
  'mape',
  'r2',
  'bias',
  'labelCoverage',
  'labelDelay',
] as const;
export type PerformanceMetric = (typeof PERFORMANCE_METRICS)[number];

/** The performance metrics CBPE estimates with `estimated` (Go: query.EstimatedMetrics). */
export const ESTIMATED_METRICS: PerformanceMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'];

/** Accepted values of Query.average (Go: query.Averages); empty means macro. */
export const AVERAGES = ['macro', 'weighted', 'binary', 'none'] as const;
export type Average = (typeof AVERAGES)[number];

/** Accepted values of Query.scoreOf (Go: query.ScoreOfs); empty means positiveClass. */
export const SCORE_OFS = ['positiveClass', 'prediction'] as const;
export type ScoreOf = (typeof SCORE_OFS)[number];
/** Accepted values of Query.metrics for dataQuality queries, default all (Go: query.QualityMetrics). */
export const QUALITY_METRICS = ['nullRatio', 'outOfRange', 'newCategory', 'typeMismatch', 'status'] as const;
export type QualityMetric = (typeof QUALITY_METRICS)[number];

/** Default warning / drift thresholds per data-quality metric, shares of a window (DESIGN §5). */
export const DEFAULT_QUALITY_THRESHOLDS: Record<string, Required<Threshold>> = {
  nullRatio: { warning: 0.05, drift: 0.2 },
  outOfRange: { warning: 0.05, drift: 0.2 },
  newCategory: { warning: 0.01, drift: 0.05 },
  typeMismatch: { warning: 0.001, drift: 0.01 },
};

/** Accepted values of Query.metrics for saturation queries, default all (Go: query.SaturationMetrics). */
export const SATURATION_METRICS = ['cpu', 'memory', 'gpu', 'gpuMemory', 'queue'] as const;
export type SaturationMetric = (typeof SATURATION_METRICS)[number];

/** Accepted values of Query.methods for drift queries (Go: query.DriftMethods). */
export const DRIFT_METHODS = [
  'psi',
  'ks',
  'ks_pvalue',
  'js',
  'wasserstein',
  'wasserstein_norm',
  'hellinger',
  'tvd',
  'kld',
  'chi2',
  'chi2_pvalue',
  'linf',
  'mlrun',
  'status',
] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/**
 * Drift methods over all numeric features together (Go: query.MultivariateMethods): one series per
 * model with label feature '*', and its bounds (methods '<m>_lower', '<m>_upper').
 */
export const MULTIVARIATE_METHODS = ['pca_reconstruction'] as const;
export type MultivariateMethod = (typeof MULTIVARIATE_METHODS)[number];

/** Default drift methods per feature kind (DESIGN §4; Go: query.DefaultNumericMethods, ...). */
export const DEFAULT_NUMERIC_METHODS: DriftMethod[] = ['psi', 'ks_pvalue', 'js', 'wasserstein_norm'];
export const DEFAULT_CATEGORICAL_METHODS: DriftMethod[] = ['chi2_pvalue', 'psi', 'js', 'linf'];

/**
 * Drift methods computed on raw numeric samples (Go: query numericOnly): asked for a categorical
 * feature by name they are an error; over the default features they are skipped with a notice.
 */
export const NUMERIC_ONLY_METHODS: DriftMethod[] = ['ks', 'ks_pvalue', 'wasserstein', 'wasserstein_norm'];

/** The outputs each query type answers with, its default first (Go: query outputsFor). */
export const OUTPUTS_BY_TYPE: Record<QueryType, Output[]> = {
  endpoints: ['table'],
  health: ['latest'],
  traffic: ['timeseries', 'latest'],
  latency: ['timeseries', 'latest'],
  drift: ['timeseries', 'latest', 'table'],
  distribution: ['table'],
  predictions: ['timeseries', 'latest'],
  freshness: ['timeseries', 'latest'],
  lookups: ['timeseries', 'latest'],
  featureStats: ['timeseries', 'latest'],
  skew: ['timeseries', 'latest'],
  performance: ['timeseries', 'latest', 'table'],
  dataQuality: ['timeseries', 'latest', 'table'],
  saturation: ['timeseries', 'latest'],
};

/** The ages a freshness query's thresholds may set (seconds; Go: query.FreshnessMeasures). */
export const FRESHNESS_MEASURES = ['sinceNewestEvent', 'sinceMaterialized'] as const;
export type FreshnessMeasure = (typeof FRESHNESS_MEASURES)[number];

/** Methods whose values are p-values: lower is worse, so warning >= drift (Go: query lowerIsWorse). */
export const LOWER_IS_WORSE_METHODS: DriftMethod[] = ['ks_pvalue', 'chi2_pvalue'];

/** Bounds of binning.bins (Go: limits.MinBins, limits.MaxBins). */
export const MIN_BINS = 2;
export const MAX_BINS = 1000;

/** Default warning / drift thresholds per method (DESIGN §5); p-values warn and drift *below* them. */
export const DEFAULT_THRESHOLDS: Record<string, Required<Threshold>> = {
  psi: { warning: 0.1, drift: 0.25 },
  ks_pvalue: { warning: 0.15, drift: 0.05 },
  chi2_pvalue: { warning: 0.15, drift: 0.05 },
  js: { warning: 0.05, drift: 0.1 },
  wasserstein_norm: { warning: 0.05, drift: 0.1 },
  hellinger: { warning: 0.15, drift: 0.4 },
  kld: { warning: 0.1, drift: 0.2 },
  linf: { warning: 0.1, drift: 0.2 },
  mlrun: { warning: 0.5, drift: 0.7 },
};

/** Accepted values of Query.correction (Go: query.Corrections). */
export const CORRECTIONS = ['none', 'bh', 'bonferroni'] as const;
export type Correction = (typeof CORRECTIONS)[number];

/**
 * Measures that `significance: true` gives a p-value ("<m>_pvalue") and a critical value
 * ("<m>_critical") per window (Go: query.SignificanceMethods).
 */
export const SIGNIFICANCE_METHODS: DriftMethod[] = ['psi', 'js', 'hellinger', 'tvd', 'wasserstein_norm'];

/** Upper bound of persistence.windows (Go: limits.MaxPersistenceWindows). */
export const MAX_PERSISTENCE_WINDOWS = 100;

export const REFERENCE_KINDS = ['dataset', 'window', 'offset', 'version', 'feast'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

export const BINNING_STRATEGIES = ['quantile', 'equalWidth'] as const;
export type BinningStrategy = (typeof BINNING_STRATEGIES)[number];

export const DEFAULT_BINS = 10;
export const DEFAULT_PERCENTILES = [50, 95, 99];

/** Feature names that denote the model's outputs (and, for distribution, its latency). */
export const FEATURE_PREDICTION = 'prediction';
export const FEATURE_SCORE = 'score';
export const FEATURE_LATENCY = 'latency';

/** Query.version: empty = all versions together, '*' = one series per version. */
export const ALL_VERSIONS = '';
export const EACH_VERSION = '*';

/** Reference selects what current data is compared with (Go: query.Reference). */
export interface Reference {
  /**
   * 'dataset' (the model's reference sample, default), 'window', 'offset' (each point against the
   * same window one offset earlier), 'version' (against another version in the same window) or
   * 'feast' (Feast's data-quality baseline).
   */
  kind?: ReferenceKind;
  /** Bounds of a reference window: Grafana relative times ('now-7d') or RFC 3339. */
  from?: string;
  to?: string;
  /** kind 'offset': a positive duration ('1d', '7d'). */
  offset?: string;
  /** kind 'version': the version compared with ('v1'). */
  version?: string;
}

/** How numeric values are binned for the binned drift methods (Go: query.Binning). */
export interface Binning {
  strategy?: BinningStrategy;
  bins?: number;
}

/** Overrides a drift method's default warning and drift thresholds (Go: query.Threshold). */
export interface Threshold {
  warning?: number;
  drift?: number;
}

/** Sustained values: k consecutive windows (Go: query.Persistence). */
export interface Persistence {
  windows: number;
}

/** The ModelLens fields of a query (Go: query.Query). */
export interface ModelLensQueryFields {
  queryType: QueryType;
  model?: string;
  version?: string;
  source?: Source;
  output?: Output;
  window?: string;
  percentiles?: number[];
  /** Traffic metrics, or the metrics of performance, dataQuality, saturation, featureStats and skew queries. */
  metrics?: Array<
    TrafficMetric | FeatureStatsMetric | SkewMetric | PerformanceMetric | QualityMetric | SaturationMetric
  >;
  features?: string[];
  methods?: Array<DriftMethod | MultivariateMethod>;
  reference?: Reference;
  binning?: Binning;
  thresholds?: Record<string, Threshold>;
  /** Feast query types: a feature view; empty or '*' for all. */
  featureView?: string;
  /** lookups and skew: the probe set (default: the entity keys of the model's recent records). */
  entities?: EntityKey[];
  /** performance: how precision, recall and f1 average over classes (default macro). */
  average?: Average;
  /** performance: the positive class of a binary classifier ("fraud"). */
  positiveClass?: string;
  /** performance: what the score is the probability of (default positiveClass). */
  scoreOf?: ScoreOf;
  /** performance: add CBPE estimates (label estimate="cbpe") for binary classifiers. */
  estimated?: boolean;
  /** Drift: per window a bootstrap p-value and critical value of psi, js, hellinger, tvd, wasserstein_norm. */
  significance?: boolean;
  /** Drift: adjust the p-value methods over every feature and window of the query. */
  correction?: Correction;
  /** Drift: each value reduced to its least severe over the last k windows. */
  persistence?: Persistence;
}

/** A ModelLens query as Grafana stores it (refId, datasource, hide, ... come from DataQuery). */
export interface ModelLensQuery extends DataQuery, Omit<ModelLensQueryFields, 'queryType'> {
  // DataQuery declares queryType?: string; a stored query may lack it (filterQuery skips those).
  queryType?: QueryType;
}

/** The query model's structs, by their Go names. */
interface Structs {
  Reference: Reference;
  Binning: Binning;
  Threshold: Threshold;
  Persistence: Persistence;
}

/** The Go name of a struct type (mutual assignability, so that no struct stands for another). */
type StructName<T> = {
  [N in keyof Structs]: [Structs[N]] extends [T] ? ([T] extends [Structs[N]] ? N : never) : never;
}[keyof Structs];

/**
 * The JSON kind of a field's type in the vocabulary of pkg/query/model_schema_test.go: 'string',
 * 'boolean', 'number', 'string[]', 'number[]', a struct name, 'record<Struct>', or
 * 'record<number|string>[]' (the entities' join-key objects).
 */
export type JsonKind<T> = [T] extends [string]
  ? 'string'
  : [T] extends [boolean]
    ? 'boolean'
    : [T] extends [number]
      ? 'number'
      : [T] extends [readonly EntityKey[]]
        ? 'record<number|string>[]'
        : [T] extends [readonly string[]]
          ? 'string[]'
          : [T] extends [readonly number[]]
            ? 'number[]'
            : [StructName<T>] extends [never]
              ? [T] extends [Record<string, infer V>]
                ? `record<${StructName<V>}>`
                : never
              : StructName<T>;

/** Field name → JSON kind of every field of T, computed from T's declared types. */
type FieldKinds<T> = { [K in keyof T]-?: JsonKind<NonNullable<T[K]>> };

/**
 * Runtime descriptions of the JSON fields. `satisfies FieldKinds<...>` makes the compiler check
 * that every field of the interface is listed, no other, and with the kind its declared type has;
 * so the jest test that compares these with pkg/query/testdata/query_model.json (generated from the
 * Go structs) checks the interfaces themselves.
 */
export const QUERY_FIELDS = {
  queryType: 'string',
  model: 'string',
  version: 'string',
  source: 'string',
  output: 'string',
  window: 'string',
  percentiles: 'number[]',
  metrics: 'string[]',
  features: 'string[]',
  methods: 'string[]',
  reference: 'Reference',
  binning: 'Binning',
  thresholds: 'record<Threshold>',
  featureView: 'string',
  entities: 'record<number|string>[]',
  average: 'string',
  positiveClass: 'string',
  scoreOf: 'string',
  estimated: 'boolean',
  significance: 'boolean',
  correction: 'string',
  persistence: 'Persistence',
} as const satisfies FieldKinds<ModelLensQueryFields>;

export const PERSISTENCE_FIELDS = {
  windows: 'number',
} as const satisfies FieldKinds<Persistence>;

export const REFERENCE_FIELDS = {
  kind: 'string',
  from: 'string',
  to: 'string',
  offset: 'string',
  version: 'string',
} as const satisfies FieldKinds<Reference>;

export const BINNING_FIELDS = {
  strategy: 'string',
  bins: 'number',
} as const satisfies FieldKinds<Binning>;

export const THRESHOLD_FIELDS = {
  warning: 'number',
  drift: 'number',
} as const satisfies FieldKinds<Threshold>;

export const DEFAULT_QUERY: Partial<ModelLensQuery> = {
  queryType: 'traffic',
  metrics: ['rate'],
};

// Settings (DESIGN §3, pkg/settings/settings.go).

export const PRESETS = ['generic', 'kserve', 'bentoml', 'seldon', 'triton', 'torchserve', 'mlserver', 'feast'] as const;
export type Preset = (typeof PRESETS)[number];

export const PROTOCOLS = ['oip', 'triton', 'metrics'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const DEFAULT_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 600;
export const DEFAULT_MAX_SAMPLES = 1_000_000;
/** Default and bounds of `maxReferenceSamples` (pkg/limits). */
export const DEFAULT_MAX_REFERENCE_SAMPLES = 1_000_000;
export const MIN_REFERENCE_SAMPLES = 2;
export const MAX_REFERENCE_SAMPLES = 50_000_000;
export const DEFAULT_MAX_CONCURRENT_QUERIES = 4;
export const MAX_CONCURRENT_QUERIES = 256;

export interface PredictionLogSettings {
  url?: string;
}

export interface PrometheusSettings {
  url?: string;
  preset?: Preset;
  modelLabel?: string;
  versionLabel?: string;
  /** Sent as the X-Scope-OrgID header (Mimir, Cortex). */
  tenantId?: string;
}

export interface EndpointSettings {
  name: string;
  url: string;
  protocol: Protocol;
}

/** Column names of a PostgreSQL table (DESIGN §3); unset = the default name, '' = no such column. */
export interface SQLColumns {
  ts?: string;
  model?: string;
  version?: string;
  latencyMs?: string;
  status?: string;
  prediction?: string;
  score?: string;
  label?: string;
  labelTs?: string;
  features?: string;
}

/** One PostgreSQL table: name (or schema.table), column mapping, and one column per feature (wide tables). */
export interface SQLTable {
  table?: string;
  columns?: SQLColumns;
  featureColumns?: string[];
}

/** The PostgreSQL source (`sql`): URL without a password (that is secureJsonData.sqlPassword). */
export interface SQLSettings {
  url?: string;
  records?: SQLTable;
  reference?: SQLTable;
  errorStatus?: string;
  maxConnections?: number;
}

/** Defaults of the PostgreSQL source (pkg/settings, pkg/limits). */
export const DEFAULT_SQL_MAX_CONNECTIONS = 4;
export const MAX_SQL_MAX_CONNECTIONS = 64;
/** Where the Feast registry is: exactly one of a file path, a SQL registry's URL, a REST registry server. */
export interface FeastRegistrySettings {
  path?: string;
  sql?: string;
  url?: string;
}

export const FEAST_ONLINE_TYPES = ['redis', 'postgres'] as const;
export type FeastOnlineType = (typeof FEAST_ONLINE_TYPES)[number];

/** Feast's entity_key_serialization_version values (Go: settings.Min/MaxKeySerializationVersion). */
export const FEAST_KEY_SERIALIZATION_VERSIONS = [2, 3] as const;
export const DEFAULT_KEY_SERIALIZATION_VERSION = 3;

export interface FeastOnlineStoreSettings {
  type?: FeastOnlineType;
  /** host:6379 for Redis, postgres://user@host:5432/db for PostgreSQL (password in feastOnlinePassword). */
  address?: string;
  /** Feast's entity_key_serialization_version: 3 (default) or 2. */
  keySerializationVersion?: number;
}

export interface FeastOfflineStoreSettings {
  /** postgres://user@host:5432/db (password in feastOfflinePassword). */
  url?: string;
}

export interface FeastSettings {
  project?: string;
  registry?: FeastRegistrySettings;
  onlineStore?: FeastOnlineStoreSettings;
  offlineStore?: FeastOfflineStoreSettings;
}

/** The ModelLens keys of jsonData (Go: the raw struct of pkg/settings). */
export interface ModelLensSettingsFields {
  predictionLog?: PredictionLogSettings;
  prometheus?: PrometheusSettings;
  endpoints?: EndpointSettings[];
  demo?: boolean;
  timeoutSeconds?: number;
  maxSamples?: number;
  /** Rows kept of a reference sample; beyond it a deterministic uniform sample, with a notice. */
  maxReferenceSamples?: number;
  /** How many queries the data source computes at once, all requests together (default 4). */
  maxConcurrentQueries?: number;
  /** Prediction records and reference samples in PostgreSQL. */
  sql?: SQLSettings;
  /** A Feast feature store. */
  feast?: FeastSettings;
}

/** jsonData of a ModelLens data source. */
export type ModelLensOptions = DataSourceJsonData & ModelLensSettingsFields;

/** The settings' structs, by the names pkg/settings/testdata/settings_model.json gives them. */
interface SettingsStructs {
  PredictionLog: PredictionLogSettings;
  Prometheus: PrometheusSettings;
  Endpoint: EndpointSettings;
  SQL: SQLSettings;
  SQLTable: SQLTable;
  SQLColumns: SQLColumns;
  Feast: FeastSettings;
  FeastRegistry: FeastRegistrySettings;
  FeastOnlineStore: FeastOnlineStoreSettings;
  FeastOfflineStore: FeastOfflineStoreSettings;
}

/** The name of a settings struct: the same keys and mutually assignable, so none stands for another. */
type SettingsStructName<T> = {
  [N in keyof SettingsStructs]: [SettingsStructs[N]] extends [T]
    ? [T] extends [SettingsStructs[N]]
      ? [keyof T] extends [keyof SettingsStructs[N]]
        ? [keyof SettingsStructs[N]] extends [keyof T]
          ? N
          : never
        : never
      : never
    : never;
}[keyof SettingsStructs];

/** The JSON kind of a settings field: 'string', 'number', 'boolean', a struct name, or `<kind>[]`. */
export type SettingsKind<T> = [T] extends [string]
  ? 'string'
  : [T] extends [number]
    ? 'number'
    : [T] extends [boolean]
      ? 'boolean'
      : [T] extends [ReadonlyArray<infer E>]
        ? `${SettingsKind<E>}[]`
        : SettingsStructName<T>;

type SettingsFieldKinds<T> = { [K in keyof T]-?: SettingsKind<NonNullable<T[K]>> };

/**
 * Runtime descriptions of the settings' JSON fields; `satisfies` makes the compiler check them
 * against the interfaces, and src/settings.test.ts compares them with the Go settings
 * (pkg/settings/testdata/settings_model.json).
 */
export const SETTINGS_FIELDS = {
  predictionLog: 'PredictionLog',
  prometheus: 'Prometheus',
  endpoints: 'Endpoint[]',
  demo: 'boolean',
  timeoutSeconds: 'number',
  maxSamples: 'number',
  maxReferenceSamples: 'number',
  maxConcurrentQueries: 'number',
  sql: 'SQL',
  feast: 'Feast',
} as const satisfies SettingsFieldKinds<ModelLensSettingsFields>;

export const SQL_FIELDS = {
  url: 'string',
  records: 'SQLTable',
  reference: 'SQLTable',
  errorStatus: 'string',
  maxConnections: 'number',
} as const satisfies SettingsFieldKinds<SQLSettings>;

export const SQL_TABLE_FIELDS = {
  table: 'string',
  columns: 'SQLColumns',
  featureColumns: 'string[]',
} as const satisfies SettingsFieldKinds<SQLTable>;

export const SQL_COLUMNS_FIELDS = {
  ts: 'string',
  model: 'string',
  version: 'string',
  latencyMs: 'string',
  status: 'string',
  prediction: 'string',
  score: 'string',
  label: 'string',
  labelTs: 'string',
  features: 'string',
} as const satisfies SettingsFieldKinds<SQLColumns>;

export const PREDICTION_LOG_FIELDS = {
  url: 'string',
} as const satisfies SettingsFieldKinds<PredictionLogSettings>;

export const PROMETHEUS_FIELDS = {
  url: 'string',
  preset: 'string',
  modelLabel: 'string',
  versionLabel: 'string',
  tenantId: 'string',
} as const satisfies SettingsFieldKinds<PrometheusSettings>;

export const ENDPOINT_FIELDS = {
  name: 'string',
  url: 'string',
  protocol: 'string',
} as const satisfies SettingsFieldKinds<EndpointSettings>;

export const FEAST_FIELDS = {
  project: 'string',
  registry: 'FeastRegistry',
  onlineStore: 'FeastOnlineStore',
  offlineStore: 'FeastOfflineStore',
} as const satisfies SettingsFieldKinds<FeastSettings>;

export const FEAST_REGISTRY_FIELDS = {
  path: 'string',
  sql: 'string',
  url: 'string',
} as const satisfies SettingsFieldKinds<FeastRegistrySettings>;

export const FEAST_ONLINE_STORE_FIELDS = {
  type: 'string',
  address: 'string',
  keySerializationVersion: 'number',
} as const satisfies SettingsFieldKinds<FeastOnlineStoreSettings>;

export const FEAST_OFFLINE_STORE_FIELDS = {
  url: 'string',
} as const satisfies SettingsFieldKinds<FeastOfflineStoreSettings>;

/** secureJsonData of a ModelLens data source: write-only, never sent back to the browser. */
export interface ModelLensSecureOptions {
  predictionLogToken?: string;
  prometheusToken?: string;
  endpointToken?: string;
  sqlPassword?: string;
  /** The REST registry server's bearer token, or the SQL registry's PostgreSQL password. */
  feastRegistryToken?: string;
  feastOnlinePassword?: string;
  feastOfflinePassword?: string;
  basicAuthPassword?: string;
}

export const SECRET_KEYS = [
  'predictionLogToken',
  'prometheusToken',
  'endpointToken',
  'sqlPassword',
  'feastRegistryToken',
  'feastOnlinePassword',
  'feastOfflinePassword',
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

// Backend resources for editor dropdowns and template variables (pkg/resources).

export type ValueKind = 'numeric' | 'categorical';

export interface FeatureInfo {
  name: string;
  type: ValueKind;
}

/** One item of GET models. */
export interface ModelInfo {
  name: string;
  versions: string[];
  features: FeatureInfo[];
  prediction?: { type: ValueKind };
}

/** One item of GET feast/featureViews (pkg/resources/feast.go). */
export interface FeastField {
  name: string;
  /** Feast's value type name: INT64, STRING, FLOAT, ... */
  type: string;
}

export interface FeatureViewInfo {
  name: string;
  entities: string[];
  joinKeys: FeastField[];
  features: FeastField[];
  /** 0: values never expire. */
  ttlSeconds: number;
  online: boolean;
  batchSource: {
    name: string;
    type: string;
    table?: string;
    query?: string;
    path?: string;
    timestampField: string;
    createdTimestampColumn?: string;
  } | null;
  /** RFC 3339; null when the view was never materialized. */
  lastMaterialized: string | null;
}

/** One item of GET feast/entities. */
export interface FeastEntityInfo {
  name: string;
  joinKey: string;
  type: string;
  description?: string;
}

// Template variables.

export const VARIABLE_QUERY_TYPES = [
  'models',
  'versions',
  'features',
  'featureViews',
  'featureViewFeatures',
  'entities',
] as const;
export type VariableQueryType = (typeof VARIABLE_QUERY_TYPES)[number];

/** The query model of a ModelLens template variable: {"type": "versions", "model": "$model"}. */
export interface ModelLensVariableQuery extends DataQuery {
  type: VariableQueryType;
  model?: string;
  /** featureViewFeatures: the Feast feature view whose features are listed ('' or '*': every view). */
  featureView?: string;
}
