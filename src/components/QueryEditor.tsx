import React, { useEffect, useMemo, useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  IconButton,
  InlineField,
  InlineFieldRow,
  InlineLabel,
  InlineSwitch,
  MultiSelect,
  RadioButtonGroup,
  Select,
} from '@grafana/ui';

import type { DataSource } from '../datasource';
import { BlurInput } from './BlurInput';
import { FeastFields, freshnessThresholdProblem } from './FeastFields';
import {
  Average,
  AVERAGES,
  BinningStrategy,
  Correction,
  CORRECTIONS,
  DEFAULT_BINS,
  DEFAULT_CATEGORICAL_METHODS,
  DEFAULT_FEATURE_STATS_METRICS,
  DEFAULT_NUMERIC_METHODS,
  DEFAULT_PERCENTILES,
  DEFAULT_SKEW_METRICS,
  FRESHNESS_METRICS,
  DEFAULT_QUALITY_THRESHOLDS,
  DEFAULT_THRESHOLDS,
  DRIFT_METHODS,
  FRESHNESS_MEASURES,
  DriftMethod,
  EACH_VERSION,
  FEATURE_LATENCY,
  FEATURE_PREDICTION,
  FEATURE_SCORE,
  FEATURE_STATS_METRICS,
  FeatureInfo,
  LOWER_IS_WORSE_METHODS,
  MAX_BINS,
  MAX_PERSISTENCE_WINDOWS,
  MIN_BINS,
  ModelInfo,
  ModelLensOptions,
  ModelLensQuery,
  MULTIVARIATE_METHODS,
  MultivariateMethod,
  NUMERIC_ONLY_METHODS,
  Output,
  OUTPUTS_BY_TYPE,
  PERFORMANCE_METRICS,
  PerformanceMetric,
  QueryType,
  Reference,
  SKEW_METRICS,
  SCORE_OFS,
  ScoreOf,
  QUALITY_METRICS,
  QualityMetric,
  SATURATION_METRICS,
  SaturationMetric,
  SIGNIFICANCE_METHODS,
  ReferenceKind,
  Source,
  Threshold,
  TRAFFIC_METRICS,
  TrafficMetric,
} from '../types';

type Props = QueryEditorProps<DataSource, ModelLensQuery, ModelLensOptions>;

const LABEL_WIDTH = 14;

const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { label: 'Traffic', value: 'traffic', description: 'Request rate, counts, errors and error ratio' },
  { label: 'Latency', value: 'latency', description: 'Latency percentiles' },
  { label: 'Drift', value: 'drift', description: 'Feature and prediction drift against a reference' },
  { label: 'Distribution', value: 'distribution', description: 'Histograms of features, outputs or latency' },
  { label: 'Predictions', value: 'predictions', description: 'Predicted class shares or prediction percentiles' },
  {
    label: 'Performance',
    value: 'performance',
    description: 'Quality against ground truth (accuracy, f1, rmse, ...), label coverage, CBPE estimates',
  },
  {
    label: 'Data quality',
    value: 'dataQuality',
    description: 'Null, out-of-range, new-category and wrong-type shares per feature',
  },
  { label: 'Saturation', value: 'saturation', description: 'CPU, memory, GPU and queue of the model servers' },
  { label: 'Health', value: 'health', description: 'Is each model up and serving' },
  { label: 'Endpoints', value: 'endpoints', description: 'Table of models, versions and endpoints' },
  {
    label: 'Freshness',
    value: 'freshness',
    description: 'Feast feature views: age of the newest materialization and online values, ttl, status',
  },
  {
    label: 'Lookups',
    value: 'lookups',
    description: 'Feast online store: shares of found, missing, null and expired values',
  },
  {
    label: 'Feature stats',
    value: 'featureStats',
    description: 'Feast data-quality monitoring: null rate, mean, percentiles',
  },
  { label: 'Skew', value: 'skew', description: 'Training–serving skew: served values against the Feast offline store' },
];

/** One option per source (Record: a source added to SOURCES must get an option here). */
const SOURCE_LABELS: Record<Source, { label: string; description: string }> = {
  auto: { label: 'Auto', description: 'The best configured source for this query type' },
  predictionLog: { label: 'Prediction log', description: 'Raw records of the Prediction Log API' },
  sql: { label: 'PostgreSQL', description: 'Prediction records and reference samples in PostgreSQL tables' },
  prometheus: { label: 'Prometheus', description: 'Model-server metrics in Prometheus' },
  endpoint: { label: 'Endpoint', description: 'The model endpoints themselves' },
  demo: { label: 'Demo', description: 'The built-in synthetic fleet' },
  feast: {
    label: 'Feast',
    description: 'The Feast feature store (freshness); for lookups and skew, the prediction records wherever they are',
  },
};

const SOURCE_OPTIONS: Array<SelectableValue<Source>> = (Object.keys(SOURCE_LABELS) as Source[]).map((value) => ({
  value,
  ...SOURCE_LABELS[value],
}));

const OUTPUT_OPTIONS: Array<SelectableValue<Output>> = [
  { label: 'Time series', value: 'timeseries', description: 'One point per interval' },
  { label: 'Latest', value: 'latest', description: 'One number per series: for alert rules and stats' },
  { label: 'Table', value: 'table' },
];

const METRIC_LABELS: Record<TrafficMetric, string> = {
  rate: 'Rate (records/s)',
  count: 'Count',
  errors: 'Errors (records/s)',
  errorCount: 'Error count',
  errorRatio: 'Error ratio',
};

const QUALITY_METRIC_LABELS: Record<QualityMetric, string> = {
  nullRatio: 'Null ratio',
  outOfRange: 'Out of range (numeric)',
  newCategory: 'New category (categorical)',
  typeMismatch: 'Type mismatch',
  status: 'Status (0 ok, 1 warning, 2 drift)',
};

const SATURATION_METRIC_LABELS: Record<SaturationMetric, string> = {
  cpu: 'CPU (cores)',
  memory: 'Memory (bytes)',
  gpu: 'GPU utilisation (0–1)',
  gpuMemory: 'GPU memory (bytes)',
  queue: 'Queue (requests waiting or in flight)',
};

const FEATURE_STATS_METRIC_LABELS: Record<string, string> = {
  nullRate: 'Null rate',
  nullCount: 'Null count',
  rowCount: 'Row count',
  mean: 'Mean',
  stddev: 'Standard deviation',
  min: 'Minimum',
  max: 'Maximum',
};

const SKEW_METRIC_LABELS: Record<string, string> = {
  mismatch: 'Mismatch share',
  meanAbsDiff: 'Mean absolute difference',
  notFound: 'Share without an offline row',
  compared: 'Records compared',
};

const FRESHNESS_METRIC_LABELS: Record<string, string> = {
  sinceMaterialized: 'Seconds since materialized',
  sinceNewestEvent: 'Seconds since the newest event',
  ttl: 'TTL (seconds)',
  status: 'Status (0 ok, 1 warning, 2 stale)',
};

/** The metrics a query type takes, with labels, and its default (DESIGN §4). */
export function metricChoices(queryType: QueryType): { options: Array<SelectableValue<string>>; placeholder: string } {
  switch (queryType) {
    case 'featureStats':
      return {
        options: FEATURE_STATS_METRICS.map((m) => ({ label: FEATURE_STATS_METRIC_LABELS[m] ?? m, value: m })),
        placeholder: DEFAULT_FEATURE_STATS_METRICS.join(', '),
      };
    case 'freshness':
      return {
        options: FRESHNESS_METRICS.map((m) => ({ label: FRESHNESS_METRIC_LABELS[m], value: m })),
        placeholder: 'All freshness metrics',
      };
    case 'skew':
      return {
        options: SKEW_METRICS.map((m) => ({ label: SKEW_METRIC_LABELS[m], value: m })),
        placeholder: DEFAULT_SKEW_METRICS.join(', '),
      };
    case 'performance':
      return {
        options: PERFORMANCE_METRICS.map((m) => ({ label: PERFORMANCE_METRIC_LABELS[m], value: m })),
        placeholder: 'accuracy / rmse',
      };
    case 'dataQuality':
      return {
        options: QUALITY_METRICS.map((m) => ({ label: QUALITY_METRIC_LABELS[m], value: m })),
        placeholder: 'All data-quality metrics',
      };
    case 'saturation':
      return {
        options: SATURATION_METRICS.map((m) => ({ label: SATURATION_METRIC_LABELS[m], value: m })),
        placeholder: 'All saturation metrics',
      };
    default:
      return { options: TRAFFIC_METRICS.map((m) => ({ label: METRIC_LABELS[m], value: m })), placeholder: 'rate' };
  }
}
const PERFORMANCE_METRIC_LABELS: Record<PerformanceMetric, string> = {
  accuracy: 'Accuracy',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  roc_auc: 'ROC AUC',
  log_loss: 'Log loss',
  brier: 'Brier score',
  ece: 'Expected calibration error',
  mae: 'MAE',
  rmse: 'RMSE',
  mape: 'MAPE',
  r2: 'R²',
  bias: 'Bias (mean prediction − label)',
  labelCoverage: 'Label coverage',
  labelDelay: 'Label delay (median, s)',
};

const AVERAGE_LABELS: Record<Average, string> = {
  macro: 'Macro',
  weighted: 'Weighted',
  binary: 'Binary (positive class)',
  none: 'Per class',
};

const SCORE_OF_LABELS: Record<ScoreOf, string> = {
  positiveClass: 'Positive class',
  prediction: 'Predicted class',
};

/** Default thresholds of the query type's threshold keys (drift methods, or data-quality metrics). */
export function thresholdDefaults(queryType: QueryType): Record<string, Required<Threshold>> {
  return queryType === 'dataQuality' ? DEFAULT_QUALITY_THRESHOLDS : DEFAULT_THRESHOLDS;
}

const METHOD_LABELS: Record<DriftMethod | MultivariateMethod, string> = {
  psi: 'PSI',
  ks: 'Kolmogorov–Smirnov D',
  ks_pvalue: 'KS p-value',
  js: 'Jensen–Shannon distance',
  wasserstein: 'Wasserstein',
  wasserstein_norm: 'Wasserstein (normalised)',
  hellinger: 'Hellinger',
  tvd: 'Total variation distance',
  kld: 'KL divergence (symmetric)',
  chi2: 'Chi-square',
  chi2_pvalue: 'Chi-square p-value',
  linf: 'L-infinity',
  mlrun: 'MLRun (mean of Hellinger and TVD)',
  status: 'Status (0 ok, 1 warning, 2 drift)',
  pca_reconstruction:
    'PCA reconstruction error over all numeric features (multivariate), with bounds from the reference; not in tables',
};

const REFERENCE_OPTIONS: Array<SelectableValue<ReferenceKind>> = [
  { label: 'Reference dataset', value: 'dataset' },
  { label: 'Time window', value: 'window' },
  {
    label: 'Offset',
    value: 'offset',
    description: 'Each point against the same window one offset earlier (daily and weekly cycles are not drift)',
  },
  {
    label: 'Other version',
    value: 'version',
    description: 'Each point against another version in the same window (canary: does v2 behave like v1?)',
  },
  { label: 'Feast baseline', value: 'feast', description: "Feast's data-quality baseline histogram of the feature" },
];

const BINNING_OPTIONS: Array<SelectableValue<BinningStrategy>> = [
  { label: 'Quantile', value: 'quantile' },
  { label: 'Equal width', value: 'equalWidth' },
];

const CORRECTION_LABELS: Record<Correction, string> = {
  none: 'None',
  bh: 'Benjamini–Hochberg',
  bonferroni: 'Bonferroni',
};

const CORRECTION_OPTIONS: Array<SelectableValue<Correction>> = CORRECTIONS.map((c) => ({
  label: CORRECTION_LABELS[c],
  value: c,
}));

const DEFAULT_REFERENCE_WINDOW = { from: 'now-7d', to: 'now-6d' };
const DEFAULT_REFERENCE_OFFSET = '1d';

/** Which fields each query type uses (DESIGN §4). */
const FIELDS_BY_TYPE: Record<
  QueryType,
  ReadonlyArray<
    | 'version'
    | 'window'
    | 'percentiles'
    | 'metrics'
    | 'features'
    | 'methods'
    | 'reference'
    | 'binning'
    | 'thresholds'
    | 'featureView'
    | 'entities'
    | 'freshnessThresholds'
    | 'performance'
    | 'actionable'
  >
> = {
  endpoints: ['version'],
  health: ['version'],
  traffic: ['version', 'window', 'metrics'],
  latency: ['version', 'window', 'percentiles'],
  predictions: ['version', 'window', 'percentiles', 'features'],
  drift: ['version', 'window', 'features', 'methods', 'reference', 'binning', 'thresholds', 'actionable'],
  distribution: ['version', 'window', 'features', 'reference', 'binning'],
  freshness: ['metrics', 'featureView', 'freshnessThresholds'],
  lookups: ['version', 'featureView', 'entities'],
  featureStats: ['window', 'metrics', 'features', 'featureView'],
  skew: ['version', 'window', 'metrics', 'featureView', 'entities'],
  performance: ['version', 'window', 'metrics', 'performance'],
  dataQuality: ['version', 'window', 'metrics', 'features', 'reference', 'thresholds'],
  saturation: ['version', 'window', 'metrics'],
};

/**
 * Switches the query type, keeping every field except what the backend would reject for the new
 * type: an output it does not answer with (its default applies), and features it does not take
 * (predictions takes only prediction and score; latency is a distribution feature only).
 */
export function withQueryType(query: ModelLensQuery, queryType: QueryType): ModelLensQuery {
  const next: ModelLensQuery = { ...query, queryType };
  if (next.output !== undefined && !OUTPUTS_BY_TYPE[queryType].includes(next.output)) {
    delete next.output;
  }
  // Metrics of another query type's vocabulary would be rejected.
  if (next.metrics !== undefined) {
    const allowed = new Set(metricChoices(queryType).options.map((o) => o.value));
    const metrics = next.metrics.filter((m) => allowed.has(m));
    if (metrics.length === 0) {
      delete next.metrics;
    } else if (metrics.length !== next.metrics.length) {
      next.metrics = metrics;
    }
  }
  if (next.entities !== undefined && !FIELDS_BY_TYPE[queryType].includes('entities')) {
    delete next.entities;
  }
  if (next.thresholds !== undefined) {
    const defaults = thresholdDefaults(queryType);
    const keys =
      queryType === 'dataQuality'
        ? Object.keys(defaults)
        : queryType === 'freshness'
          ? [...FRESHNESS_MEASURES]
          : DRIFT_METHODS.filter((m) => m !== 'status');
    const kept = Object.fromEntries(Object.entries(next.thresholds).filter(([k]) => (keys as string[]).includes(k)));
    if (Object.keys(kept).length === 0) {
      delete next.thresholds;
    } else {
      next.thresholds = kept;
    }
  }
  if (queryType !== 'drift') {
    ACTIONABLE_FIELDS.forEach((k) => delete next[k]);
  }
  if (next.features !== undefined) {
    const keep =
      queryType === 'predictions'
        ? (f: string) => f === FEATURE_PREDICTION || f === FEATURE_SCORE || f.startsWith('$')
        : queryType === 'drift' || queryType === 'dataQuality'
          ? (f: string) => f !== FEATURE_LATENCY
          : () => true;
    const features = next.features.filter(keep);
    if (features.length === 0) {
      delete next.features;
    } else if (features.length !== next.features.length) {
      next.features = features;
    }
  }
  return next;
}

/** Drift fields the backend accepts only for drift time series and latest numbers. */
const ACTIONABLE_FIELDS = ['significance', 'correction', 'persistence'] as const;

/** Switches the output; a drift table does not take significance, correction or persistence. */
export function withOutput(query: ModelLensQuery, output: Output): ModelLensQuery {
  const next: ModelLensQuery = { ...query, output };
  if (output === 'table') {
    ACTIONABLE_FIELDS.forEach((k) => delete next[k]);
  }
  return next;
}

/** Returns a copy of the query with key set, or removed when the value is empty. */
function withField<K extends keyof ModelLensQuery>(
  query: ModelLensQuery,
  key: K,
  value: ModelLensQuery[K] | undefined
): ModelLensQuery {
  const next = { ...query };
  const empty =
    value === undefined ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
  if (empty) {
    delete next[key];
  } else {
    next[key] = value;
  }
  return next;
}

/** Parses "50, 95, 99.9" into numbers in (0, 100]; returns an error message for anything else. */
export function parsePercentiles(text: string): number[] | string {
  const parts = text
    .split(/[\s,;]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (!Number.isFinite(n) || n <= 0 || n > 100) {
      return `"${p}" is not a percentile in (0, 100]`;
    }
    out.push(n);
  }
  return out;
}

function parseOptionalNumber(text: string): number | undefined | string {
  const t = text.trim();
  if (t === '') {
    return undefined;
  }
  const n = Number(t);
  return Number.isFinite(n) ? n : `"${t}" is not a number`;
}

function toOptions(values: string[], description?: string): Array<SelectableValue<string>> {
  return values.map((v) => ({ label: v, value: v, description }));
}

/** Adds the current value(s) as options when they are not among the known ones (custom values). */
function withCurrent(options: Array<SelectableValue<string>>, current: string | string[] | undefined) {
  const values = Array.isArray(current) ? current : current !== undefined && current !== '' ? [current] : [];
  const known = new Set(options.map((o) => o.value));
  return [...options, ...values.filter((v) => !known.has(v)).map((v) => ({ label: v, value: v }))];
}

/** The ModelLens query editor: emits exactly the DESIGN §4 query model and keeps unknown fields. */
export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [versions, setVersions] = useState<string[]>([]);
  const [features, setFeatures] = useState<FeatureInfo[]>([]);
  const [loadError, setLoadError] = useState('');
  const [percentileError, setPercentileError] = useState('');
  const [binsError, setBinsError] = useState('');
  const [persistenceError, setPersistenceError] = useState('');
  const [thresholdInputErrors, setThresholdInputErrors] = useState<Record<string, string>>({});

  const queryType: QueryType = query.queryType ?? 'traffic';
  const shown = new Set(FIELDS_BY_TYPE[queryType] ?? []);
  const outputChoices = OUTPUTS_BY_TYPE[queryType] ?? [];
  const source = query.source;
  const variables = useMemo(() => datasource.getVariableNames(), [datasource]);

  useEffect(() => {
    let cancelled = false;
    datasource.getModels(source).then(
      (m) => !cancelled && setModels(m),
      (e: unknown) => !cancelled && setLoadError(`Could not list models: ${errorText(e)}`)
    );
    return () => {
      cancelled = true;
    };
  }, [datasource, source]);

  const model = query.model ?? '';
  useEffect(() => {
    let cancelled = false;
    Promise.all([
      datasource.getVersions(model, undefined, source),
      datasource.getFeatures(model, undefined, source),
    ]).then(
      ([v, f]) => {
        if (!cancelled) {
          setVersions(v);
          setFeatures(f);
          setLoadError('');
        }
      },
      (e: unknown) => !cancelled && setLoadError(`Could not load versions and features of "${model}": ${errorText(e)}`)
    );
    return () => {
      cancelled = true;
    };
  }, [datasource, model, source]);

  const update = (next: ModelLensQuery) => {
    onChange(next);
    // A threshold override still missing a value would only fail on the backend: wait for it.
    const problem =
      next.queryType === 'freshness'
        ? freshnessThresholdProblem
        : (m: string, t: Threshold) => thresholdProblem(m, t, thresholdDefaults(next.queryType ?? 'traffic'));
    if (!Object.entries(next.thresholds ?? {}).some(([m, t]) => problem(m, t) !== '')) {
      onRunQuery();
    }
  };
  const set = <K extends keyof ModelLensQuery>(key: K, value: ModelLensQuery[K] | undefined) =>
    update(withField(query, key, value));

  const modelOptions = withCurrent(
    [...toOptions(models.map((m) => m.name)), ...toOptions(variables, 'Variable')],
    model
  );
  const versionOptions = withCurrent(
    [
      { label: 'All versions together', value: '' },
      { label: 'Each version (*)', value: EACH_VERSION, description: 'One series per version' },
      ...toOptions(versions),
      ...toOptions(variables, 'Variable'),
    ],
    query.version
  );
  // Predictions queries take only the model's outputs; drift also input features; distribution
  // also latency.
  const outputs = [FEATURE_PREDICTION, FEATURE_SCORE, ...(queryType === 'distribution' ? [FEATURE_LATENCY] : [])];
  const featureOptions = withCurrent(
    queryType === 'predictions'
      ? toOptions(outputs, 'Model output')
      : [
          ...features.map((f) => ({ label: f.name, value: f.name, description: f.type })),
          ...toOptions(outputs, 'Model output'),
          ...toOptions(variables, 'Variable'),
        ],
    query.features
  );

  // A numeric-only method over a categorical feature named in the query is rejected by the backend.
  const kinds = new Map<string, string>(features.map((f) => [f.name, f.type]));
  const predictionKind = models.find((m) => m.name === model)?.prediction?.type;
  if (predictionKind) {
    kinds.set(FEATURE_PREDICTION, predictionKind);
  }
  const categoricalNamed = (query.features ?? []).filter((f) => kinds.get(f) === 'categorical');
  const numericOnlyAsked = (query.methods ?? []).filter((m) => (NUMERIC_ONLY_METHODS as string[]).includes(m));
  // status is the worst status of the other methods asked for; it needs one with thresholds.
  const statusFrom = (query.methods ?? []).filter(
    (m) => m !== 'status' && !(MULTIVARIATE_METHODS as readonly string[]).includes(m)
  );
  const statusWithoutThresholds =
    (query.methods ?? []).includes('status') &&
    statusFrom.length > 0 &&
    statusFrom.every((m) => !(m in DEFAULT_THRESHOLDS) && !(m in (query.thresholds ?? {})));
  const methodsProblem =
    queryType !== 'drift'
      ? ''
      : categoricalNamed.length > 0 && numericOnlyAsked.length > 0
        ? `${numericOnlyAsked.join(', ')} apply to numeric features only, not to ${categoricalNamed.join(', ')}`
        : statusWithoutThresholds
          ? `status needs thresholds for ${statusFrom.join(', ')} (they have no defaults): override them below, or add a method with default thresholds`
          : '';

  const output = query.output ?? outputChoices[0];
  const windowHelp =
    output === 'timeseries'
      ? 'Each point summarises the window ending at it (5m, 1h); default: the query interval'
      : 'The window ending at the end of the time range (5m, 1h); default: the whole time range';

  const reference = query.reference;
  const referenceKind = reference?.kind ?? 'dataset';
  const setReference = (next: Reference) => set('reference', next);
  // The version a canary is compared with by default: the first other version of the model.
  const otherVersion = versions.find((v) => v !== query.version) ?? '';

  const thresholds = query.thresholds ?? {};
  const setThreshold = (method: string, t: Threshold | undefined) => {
    const next: Record<string, Threshold> = { ...thresholds };
    if (t === undefined) {
      delete next[method];
    } else {
      next[method] = t;
    }
    set('thresholds', next);
  };
  // Any drift method but status can carry thresholds; one without defaults needs both values.
  // dataQuality thresholds are per data-quality metric, each with defaults.
  const defaultsTable = thresholdDefaults(queryType);
  const thresholdMethods: string[] =
    queryType === 'dataQuality' ? Object.keys(DEFAULT_QUALITY_THRESHOLDS) : DRIFT_METHODS.filter((m) => m !== 'status');
  const metricsChoice = metricChoices(queryType);
  const unusedThresholdMethod = thresholdMethods.find((m) => !(m in thresholds));

  return (
    <div data-testid="modellens-query-editor">
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryType>
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={(v) => update(withQueryType(query, v))}
          />
        </InlineField>
      </InlineFieldRow>

      <InlineFieldRow>
        <InlineField
          label="Model"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-model"
          invalid={!!loadError}
          error={loadError}
          tooltip="Empty or * = every model"
        >
          <Select
            inputId="ml-model"
            width={30}
            options={modelOptions}
            value={model === '' ? null : model}
            placeholder="All models"
            allowCustomValue
            isClearable
            onChange={(v) => set('model', v?.value ?? undefined)}
          />
        </InlineField>
        {shown.has('version') && (
          <InlineField label="Version" labelWidth={10} htmlFor="ml-version">
            <Select
              inputId="ml-version"
              width={28}
              options={versionOptions}
              value={query.version ?? ''}
              allowCustomValue
              onChange={(v) => set('version', v?.value ?? undefined)}
            />
          </InlineField>
        )}
        <InlineField label="Source" labelWidth={10} htmlFor="ml-source">
          <Select<Source>
            inputId="ml-source"
            width={20}
            options={SOURCE_OPTIONS}
            value={query.source ?? 'auto'}
            onChange={(v) => set('source', v?.value)}
          />
        </InlineField>
      </InlineFieldRow>

      {shown.has('metrics') && queryType !== 'performance' && (
        <InlineFieldRow>
          <InlineField
            label="Metrics"
            labelWidth={LABEL_WIDTH}
            htmlFor="ml-metrics"
            tooltip={`Default: ${metricsChoice.placeholder}`}
          >
            <MultiSelect<string>
              inputId="ml-metrics"
              width={60}
              options={metricsChoice.options}
              value={query.metrics ?? []}
              placeholder={metricsChoice.placeholder}
              onChange={(v) => set('metrics', v.map((o) => o.value!).filter(Boolean) as ModelLensQuery['metrics'])}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {(shown.has('featureView') || shown.has('entities') || shown.has('freshnessThresholds')) && (
        <FeastFields
          query={query}
          datasource={datasource}
          labelWidth={LABEL_WIDTH}
          featureView={shown.has('featureView')}
          entities={shown.has('entities')}
          freshnessThresholds={shown.has('freshnessThresholds')}
          onChange={update}
        />
      )}
      {shown.has('performance') && (
        <>
          <InlineFieldRow>
            <InlineField
              label="Metrics"
              labelWidth={LABEL_WIDTH}
              htmlFor="ml-perf-metrics"
              tooltip="Default: accuracy for a classifier, rmse for a regressor. Metrics use the labels known when the query runs."
            >
              <MultiSelect<PerformanceMetric>
                inputId="ml-perf-metrics"
                width={60}
                options={PERFORMANCE_METRICS.map((m) => ({ label: PERFORMANCE_METRIC_LABELS[m], value: m }))}
                value={(query.metrics ?? []) as PerformanceMetric[]}
                placeholder="accuracy / rmse"
                onChange={(v) => set('metrics', v.map((o) => o.value!).filter(Boolean))}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Average"
              labelWidth={LABEL_WIDTH}
              htmlFor="ml-average"
              tooltip="How precision, recall and f1 combine the classes; binary reports the positive class"
            >
              <Select<Average>
                inputId="ml-average"
                width={24}
                options={AVERAGES.map((a) => ({ label: AVERAGE_LABELS[a], value: a }))}
                value={query.average ?? 'macro'}
                onChange={(v) => set('average', v?.value === 'macro' ? undefined : v?.value)}
              />
            </InlineField>
            <InlineField
              label="Positive class"
              labelWidth={14}
              htmlFor="ml-positive-class"
              tooltip="The positive class of a binary classifier (needed by average binary, roc_auc, log_loss, brier and CBPE)"
            >
              <BlurInput
                id="ml-positive-class"
                width={16}
                value={query.positiveClass ?? ''}
                placeholder="fraud"
                onCommit={(text) => set('positiveClass', text.trim())}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Score is P of"
              labelWidth={LABEL_WIDTH}
              htmlFor="ml-score-of"
              tooltip="What the record's score is the probability of: the positive class, or the predicted class (top-class probability)"
            >
              <Select<ScoreOf>
                inputId="ml-score-of"
                width={24}
                options={SCORE_OFS.map((v) => ({ label: SCORE_OF_LABELS[v], value: v }))}
                value={query.scoreOf ?? 'positiveClass'}
                onChange={(v) => set('scoreOf', v?.value === 'positiveClass' ? undefined : v?.value)}
              />
            </InlineField>
            <InlineField
              label="Estimated (CBPE)"
              labelWidth={18}
              htmlFor="ml-estimated"
              tooltip="Add label-free estimates for binary classifiers, calibrated on the reference sample's labels (label estimate=cbpe)"
            >
              <InlineSwitch
                id="ml-estimated"
                value={query.estimated ?? false}
                onChange={(e) => set('estimated', e.currentTarget.checked ? true : undefined)}
              />
            </InlineField>
          </InlineFieldRow>
        </>
      )}

      {shown.has('percentiles') && (
        <InlineFieldRow>
          <InlineField
            label="Percentiles"
            labelWidth={LABEL_WIDTH}
            htmlFor="ml-percentiles"
            invalid={!!percentileError}
            error={percentileError}
            tooltip={`Numbers in (0, 100], separated by commas; default ${DEFAULT_PERCENTILES.join(', ')}. ${
              queryType === 'predictions'
                ? 'Percentiles of a numeric prediction and of the score (a categorical prediction gives class shares).'
                : 'Percentiles of the latency (ms).'
            }`}
          >
            <BlurInput
              id="ml-percentiles"
              width={30}
              value={(query.percentiles ?? []).join(', ')}
              placeholder={DEFAULT_PERCENTILES.join(', ')}
              invalid={!!percentileError}
              onCommit={(text) => {
                const parsed = parsePercentiles(text);
                if (typeof parsed === 'string') {
                  setPercentileError(parsed);
                  return;
                }
                setPercentileError('');
                set('percentiles', parsed);
              }}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {shown.has('features') && (
        <InlineFieldRow>
          <InlineField
            label="Features"
            labelWidth={LABEL_WIDTH}
            htmlFor="ml-features"
            tooltip={
              queryType === 'predictions'
                ? 'prediction and/or score; default both'
                : 'Default: every input feature of the model'
            }
          >
            <MultiSelect<string>
              inputId="ml-features"
              width={60}
              options={featureOptions}
              value={query.features ?? []}
              placeholder={queryType === 'predictions' ? 'prediction and score' : 'All features'}
              allowCustomValue={queryType !== 'predictions'}
              onChange={(v) => set('features', v.map((o) => o.value!).filter(Boolean))}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {shown.has('methods') && (
        <InlineFieldRow>
          <InlineField
            label="Methods"
            labelWidth={LABEL_WIDTH}
            htmlFor="ml-methods"
            invalid={!!methodsProblem}
            error={methodsProblem}
            tooltip={`Default: ${DEFAULT_NUMERIC_METHODS.join(', ')} (numeric features); ${DEFAULT_CATEGORICAL_METHODS.join(', ')} (categorical features). ${NUMERIC_ONLY_METHODS.join(', ')} apply to numeric features only; over all features they skip the categorical ones.`}
          >
            <MultiSelect<DriftMethod | MultivariateMethod>
              inputId="ml-methods"
              width={60}
              options={[...DRIFT_METHODS, ...MULTIVARIATE_METHODS].map((m) => ({
                label: m,
                value: m,
                description: methodDescription(m),
              }))}
              value={query.methods ?? []}
              placeholder="Defaults per feature type"
              onChange={(v) => set('methods', v.map((o) => o.value!).filter(Boolean))}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {(shown.has('window') || outputChoices.length > 1) && (
        <InlineFieldRow>
          {shown.has('window') && (
            <InlineField label="Window" labelWidth={LABEL_WIDTH} htmlFor="ml-window" tooltip={windowHelp}>
              <BlurInput
                id="ml-window"
                width={12}
                value={query.window ?? ''}
                placeholder="auto"
                onCommit={(text) => set('window', text.trim())}
              />
            </InlineField>
          )}
          {outputChoices.length > 1 && (
            <InlineField label="Output" labelWidth={10}>
              <RadioButtonGroup<Output>
                options={OUTPUT_OPTIONS.filter((o) => outputChoices.includes(o.value!))}
                value={query.output ?? outputChoices[0]}
                onChange={(v) => update(withOutput(query, v))}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}

      {shown.has('reference') && (
        <InlineFieldRow>
          <InlineField label="Reference" labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<ReferenceKind>
              options={REFERENCE_OPTIONS}
              value={referenceKind}
              onChange={(kind) =>
                setReference(
                  kind === 'window'
                    ? {
                        kind,
                        from: reference?.from || DEFAULT_REFERENCE_WINDOW.from,
                        to: reference?.to || DEFAULT_REFERENCE_WINDOW.to,
                      }
                    : kind === 'offset'
                      ? { kind, offset: reference?.offset || DEFAULT_REFERENCE_OFFSET }
                      : kind === 'version'
                        ? { kind, version: reference?.version || otherVersion }
                        : { kind }
                )
              }
            />
          </InlineField>
          {referenceKind === 'offset' && (
            <InlineField
              label="Offset"
              labelWidth={8}
              htmlFor="ml-reference-offset"
              tooltip="A positive duration (1d, 7d): each point is compared with the same window that long before"
            >
              <BlurInput
                id="ml-reference-offset"
                width={10}
                value={reference?.offset ?? ''}
                placeholder={DEFAULT_REFERENCE_OFFSET}
                onCommit={(offset) => setReference({ kind: 'offset', offset: offset.trim() })}
              />
            </InlineField>
          )}
          {referenceKind === 'version' && (
            <InlineField
              label="Compare with"
              labelWidth={14}
              htmlFor="ml-reference-version"
              tooltip="The version whose records, in the same window, each point is compared with"
            >
              <BlurInput
                id="ml-reference-version"
                width={12}
                value={reference?.version ?? ''}
                placeholder="v1"
                onCommit={(version) => setReference({ kind: 'version', version: version.trim() })}
              />
            </InlineField>
          )}
          {referenceKind === 'window' && (
            <>
              <InlineField label="From" labelWidth={8} htmlFor="ml-reference-from">
                <BlurInput
                  id="ml-reference-from"
                  width={16}
                  value={reference?.from ?? ''}
                  placeholder={DEFAULT_REFERENCE_WINDOW.from}
                  onCommit={(from) => setReference({ ...reference, kind: 'window', from: from.trim() })}
                />
              </InlineField>
              <InlineField label="To" labelWidth={6} htmlFor="ml-reference-to">
                <BlurInput
                  id="ml-reference-to"
                  width={16}
                  value={reference?.to ?? ''}
                  placeholder={DEFAULT_REFERENCE_WINDOW.to}
                  onCommit={(to) => setReference({ ...reference, kind: 'window', to: to.trim() })}
                />
              </InlineField>
            </>
          )}
        </InlineFieldRow>
      )}

      {shown.has('binning') && (
        <InlineFieldRow>
          <InlineField label="Binning" labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<BinningStrategy>
              options={BINNING_OPTIONS}
              value={query.binning?.strategy ?? 'quantile'}
              onChange={(strategy) => set('binning', { ...query.binning, strategy })}
            />
          </InlineField>
          <InlineField
            label="Bins"
            labelWidth={8}
            htmlFor="ml-bins"
            invalid={!!binsError}
            error={binsError}
            tooltip={`Number of bins; default ${DEFAULT_BINS}`}
          >
            <BlurInput
              id="ml-bins"
              type="number"
              width={10}
              value={query.binning?.bins !== undefined ? String(query.binning.bins) : ''}
              placeholder={String(DEFAULT_BINS)}
              invalid={!!binsError}
              onCommit={(text) => {
                const n = parseOptionalNumber(text);
                if (
                  typeof n === 'string' ||
                  (n !== undefined && (!Number.isInteger(n) || n < MIN_BINS || n > MAX_BINS))
                ) {
                  setBinsError(`Bins must be a whole number from ${MIN_BINS} to ${MAX_BINS}`);
                  return;
                }
                setBinsError('');
                const binning = { ...query.binning };
                if (n === undefined) {
                  delete binning.bins;
                } else {
                  binning.bins = n;
                }
                set('binning', binning);
              }}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {shown.has('actionable') && output !== 'table' && (
        <InlineFieldRow>
          <InlineField
            label="Significance"
            labelWidth={LABEL_WIDTH}
            tooltip={`Per window, a bootstrap p-value (<method>_pvalue) and the smallest significant value (<method>_critical) of ${SIGNIFICANCE_METHODS.join(', ')} at the window's size; the status then needs both a large value and a small p-value`}
          >
            <InlineSwitch
              id="ml-significance"
              value={query.significance ?? false}
              onChange={(e) => set('significance', e.currentTarget.checked ? true : undefined)}
            />
          </InlineField>
          <InlineField
            label="Correction"
            labelWidth={12}
            tooltip="Adjusts the p-values (ks_pvalue, chi2_pvalue, <method>_pvalue) over every feature and window of this query; the status uses the adjusted values"
          >
            <RadioButtonGroup<Correction>
              options={CORRECTION_OPTIONS}
              value={query.correction ?? 'none'}
              onChange={(c) => set('correction', c === 'none' ? undefined : c)}
            />
          </InlineField>
          <InlineField
            label="Persistence"
            labelWidth={12}
            htmlFor="ml-persistence"
            invalid={!!persistenceError}
            error={persistenceError}
            tooltip="Windows a value must hold for: each value becomes its least severe over the last k windows, so an alert fires on a sustained shift only"
          >
            <BlurInput
              id="ml-persistence"
              type="number"
              width={10}
              value={query.persistence ? String(query.persistence.windows) : ''}
              placeholder="1"
              invalid={!!persistenceError}
              onCommit={(text) => {
                const n = parseOptionalNumber(text);
                if (
                  typeof n === 'string' ||
                  (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_PERSISTENCE_WINDOWS))
                ) {
                  setPersistenceError(
                    `Persistence must be a whole number of windows from 1 to ${MAX_PERSISTENCE_WINDOWS}`
                  );
                  return;
                }
                setPersistenceError('');
                set('persistence', n === undefined ? undefined : { windows: n });
              }}
            />
          </InlineField>
        </InlineFieldRow>
      )}

      {shown.has('thresholds') && (
        <div data-testid="ml-thresholds">
          {Object.entries(thresholds).map(([method, t]) => {
            const defaults = defaultsTable[method];
            const problem = thresholdInputErrors[method] || thresholdProblem(method, t, defaultsTable);
            const commit = (key: 'warning' | 'drift', text: string) => {
              const n = parseOptionalNumber(text);
              if (typeof n === 'string') {
                setThresholdInputErrors({ ...thresholdInputErrors, [method]: `${key}: ${n}` });
                return;
              }
              setThresholdInputErrors({ ...thresholdInputErrors, [method]: '' });
              const next: Threshold = { ...t };
              if (n === undefined) {
                delete next[key];
              } else {
                next[key] = n;
              }
              // Neither value left: the override goes, and the defaults apply again.
              setThreshold(method, next.warning === undefined && next.drift === undefined ? undefined : next);
            };
            return (
              <InlineFieldRow key={method}>
                <InlineLabel width={LABEL_WIDTH} tooltip="Overrides the method's default thresholds">
                  Threshold
                </InlineLabel>
                <InlineLabel width={20}>{method}</InlineLabel>
                <InlineField label="Warning" labelWidth={10} htmlFor={`ml-threshold-${method}-warning`}>
                  <BlurInput
                    id={`ml-threshold-${method}-warning`}
                    type="number"
                    width={10}
                    value={t.warning !== undefined ? String(t.warning) : ''}
                    placeholder={defaults ? String(defaults.warning) : ''}
                    onCommit={(text) => commit('warning', text)}
                  />
                </InlineField>
                <InlineField
                  label="Drift"
                  labelWidth={8}
                  htmlFor={`ml-threshold-${method}-drift`}
                  invalid={!!problem}
                  error={problem}
                >
                  <BlurInput
                    id={`ml-threshold-${method}-drift`}
                    type="number"
                    width={10}
                    value={t.drift !== undefined ? String(t.drift) : ''}
                    placeholder={defaults ? String(defaults.drift) : ''}
                    onCommit={(text) => commit('drift', text)}
                  />
                </InlineField>
                <IconButton
                  name="trash-alt"
                  tooltip={`Remove the ${method} threshold`}
                  onClick={() => setThreshold(method, undefined)}
                />
              </InlineFieldRow>
            );
          })}
          {unusedThresholdMethod !== undefined && (
            <InlineFieldRow>
              <InlineField label="Thresholds" labelWidth={LABEL_WIDTH} htmlFor="ml-threshold-add">
                <Select<string>
                  inputId="ml-threshold-add"
                  width={40}
                  placeholder={
                    queryType === 'dataQuality' ? "Override a metric's thresholds" : "Override a method's thresholds"
                  }
                  options={thresholdMethods
                    .filter((m) => !(m in thresholds))
                    .map((m) => ({
                      label: m,
                      value: m,
                      description:
                        queryType === 'dataQuality'
                          ? QUALITY_METRIC_LABELS[m as QualityMetric]
                          : METHOD_LABELS[m as DriftMethod],
                    }))}
                  value={null}
                  onChange={(v) => v?.value && setThreshold(v.value, { ...defaultsTable[v.value] })}
                />
              </InlineField>
            </InlineFieldRow>
          )}
        </div>
      )}
    </div>
  );
}

function methodDescription(m: DriftMethod | MultivariateMethod): string {
  const parts = [METHOD_LABELS[m]];
  if ((NUMERIC_ONLY_METHODS as string[]).includes(m)) {
    parts.push('numeric features only');
  }
  const t = DEFAULT_THRESHOLDS[m];
  if (t) {
    const below = (LOWER_IS_WORSE_METHODS as string[]).includes(m) ? 'below ' : '';
    parts.push(`warning ${below}${t.warning}, drift ${below}${t.drift}`);
  }
  return parts.join('; ');
}

/** The backend's ordering rule for a threshold override, as a hint before the query runs. */
export function thresholdProblem(
  method: string,
  t: Threshold,
  table: Record<string, Required<Threshold>> = DEFAULT_THRESHOLDS
): string {
  const defaults = table[method];
  if (!defaults && (t.warning === undefined || t.drift === undefined)) {
    return `${method} has no default thresholds: give both warning and drift`;
  }
  // A missing value is the default (pkg/query thresholds), and the ordering holds for the result.
  const warning = t.warning ?? defaults.warning;
  const drift = t.drift ?? defaults.drift;
  const lower = (LOWER_IS_WORSE_METHODS as string[]).includes(method);
  if (lower ? warning >= drift : warning <= drift) {
    return '';
  }
  const prefix = lower ? 'For a p-value, warning' : 'Warning';
  if (t.drift === undefined) {
    return `${prefix} (${warning}) must be ${lower ? '>=' : '<='} the default drift threshold (${drift}); give drift as well`;
  }
  if (t.warning === undefined) {
    return `Drift (${drift}) must be ${lower ? '<=' : '>='} the default warning threshold (${warning}); give warning as well`;
  }
  return `${prefix} (${warning}) must be ${lower ? '>=' : '<='} drift (${drift})`;
}

function errorText(e: unknown): string {
  if (e && typeof e === 'object') {
    // Resource errors arrive as {data: {error}} (pkg/resources) or {data: {message}} (Grafana).
    const err = e as { data?: { error?: string; message?: string }; message?: string; statusText?: string };
    return err.data?.error ?? err.data?.message ?? err.message ?? err.statusText ?? 'request failed';
  }
  return String(e);
}
