import React, { useState } from 'react';
import { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import { Auth, AuthMethod, ConfigSection, convertLegacyAuthProps } from '@grafana/plugin-ui';
import {
  Alert,
  Box,
  Button,
  Divider,
  IconButton,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  SecretInput,
  Select,
  Text,
} from '@grafana/ui';

import {
  DEFAULT_MAX_CONCURRENT_QUERIES,
  DEFAULT_MAX_SAMPLES,
  DEFAULT_MAX_REFERENCE_SAMPLES,
  MAX_REFERENCE_SAMPLES,
  MIN_REFERENCE_SAMPLES,
  DEFAULT_TIMEOUT_SECONDS,
  EndpointSettings,
  MAX_CONCURRENT_QUERIES,
  MAX_TIMEOUT_SECONDS,
  ModelLensOptions,
  ModelLensSecureOptions,
  Preset,
  PRESETS,
  PrometheusSettings,
  Protocol,
  PROTOCOLS,
  SecretKey,
} from '../types';
import { FeastConfig } from './FeastConfig';
import { PostgresSection } from './PostgresSection';

type Props = DataSourcePluginOptionsEditorProps<ModelLensOptions, ModelLensSecureOptions>;

const LABEL_WIDTH = 22;
const INPUT_WIDTH = 50;

const PRESET_LABELS: Record<Preset, string> = {
  generic: 'Generic (prometheus_client)',
  kserve: 'KServe',
  bentoml: 'BentoML',
  seldon: 'Seldon Core',
  triton: 'NVIDIA Triton',
  torchserve: 'TorchServe',
  mlserver: 'MLServer',
  feast: 'Feast feature server',
};

const PROTOCOL_LABELS: Record<Protocol, string> = {
  oip: 'Open Inference Protocol (v2)',
  triton: 'Triton',
  metrics: 'Prometheus metrics',
};

const PROTOCOL_OPTIONS: Array<SelectableValue<Protocol>> = PROTOCOLS.map((p) => ({
  label: PROTOCOL_LABELS[p],
  value: p,
}));

/** Validates a URL the way pkg/settings does, for an early hint; the backend has the last word. */
export function urlProblem(raw: string | undefined): string {
  const value = (raw ?? '').trim();
  if (value === '') {
    return '';
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'Not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return 'Must start with http:// or https://';
  }
  if (u.username || u.password) {
    return 'Must not contain credentials; use the token or basic-auth settings';
  }
  return '';
}

/**
 * Whether jsonData sets nothing, as pkg/settings decides it: every value is null, false, '', 0, []
 * or an object of such values (Grafana's auth section writes oauthPassThru: false; a cleared URL
 * leaves predictionLog: {} behind).
 */
export function settingsBlank(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0) {
    return true;
  }
  if (Array.isArray(v)) {
    return v.length === 0;
  }
  if (typeof v === 'object') {
    return Object.values(v as Record<string, unknown>).every(settingsBlank);
  }
  return false;
}

/** Says why the demo fleet is on or off, the way pkg/settings decides it. */
export function demoState(explicit: boolean | undefined, configured: boolean, blank: boolean): string {
  if (explicit === true) {
    return configured ? 'On: the demo fleet serves alongside the configured sources.' : 'On.';
  }
  if (explicit === false) {
    return 'Off.';
  }
  if (configured) {
    return 'Off, because a source is configured. Switch it on to keep the demo fleet as well.';
  }
  return blank
    ? 'On, because nothing is set. Setting anything turns it off unless you switch it on here.'
    : 'Off: settings without a source never fall back to the synthetic demo fleet.';
}

/** Returns a copy of obj with key set, or removed when the value is empty or undefined. */
function setOrDelete<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): T {
  const next = { ...obj };
  if (value === undefined || value === '') {
    delete next[key];
  } else {
    next[key] = value;
  }
  return next;
}

/** The ModelLens data source settings (DESIGN §3). */
interface TextSettingProps {
  id: string;
  label: string;
  tooltip: string;
  placeholder: string;
  value: string | undefined;
  /** Receives the trimmed text. */
  onChange: (value: string) => void;
}

/** One labelled single-line text setting. */
function TextSetting({ id, label, tooltip, placeholder, value, onChange }: TextSettingProps) {
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} htmlFor={id} tooltip={tooltip}>
      <Input
        id={id}
        width={INPUT_WIDTH}
        value={value ?? ''}
        placeholder={placeholder}
        onChange={(e) => onChange(e.currentTarget.value.trim())}
      />
    </InlineField>
  );
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = options.secureJsonData ?? {};
  const [timeoutText, setTimeoutText] = useState(
    jsonData.timeoutSeconds !== undefined ? String(jsonData.timeoutSeconds) : ''
  );
  const [maxSamplesText, setMaxSamplesText] = useState(
    jsonData.maxSamples !== undefined ? String(jsonData.maxSamples) : ''
  );
  const [timeoutError, setTimeoutError] = useState('');
  const [maxSamplesError, setMaxSamplesError] = useState('');
  const [maxRefText, setMaxRefText] = useState(
    jsonData.maxReferenceSamples !== undefined ? String(jsonData.maxReferenceSamples) : ''
  );
  const [maxRefError, setMaxRefError] = useState('');
  const [concurrencyText, setConcurrencyText] = useState(
    jsonData.maxConcurrentQueries !== undefined ? String(jsonData.maxConcurrentQueries) : ''
  );
  const [concurrencyError, setConcurrencyError] = useState('');

  const setJsonData = (next: ModelLensOptions) => onOptionsChange({ ...options, jsonData: next });
  const setJson = <K extends keyof ModelLensOptions>(key: K, value: ModelLensOptions[K] | undefined) =>
    setJsonData(setOrDelete(jsonData, key, value));

  const setPredictionLogUrl = (url: string) =>
    setJson('predictionLog', setOrDelete(jsonData.predictionLog ?? {}, 'url', url.trim()));
  const setPrometheus = <K extends keyof PrometheusSettings>(key: K, value: PrometheusSettings[K] | undefined) =>
    setJson('prometheus', setOrDelete(jsonData.prometheus ?? {}, key, value));

  const setSecret = (key: SecretKey, value: string) =>
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: value } });
  const resetSecret = (key: SecretKey) =>
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });

  const endpoints = jsonData.endpoints ?? [];
  const setEndpoints = (next: EndpointSettings[]) => setJson('endpoints', next.length ? next : undefined);
  const setEndpoint = (i: number, patch: Partial<EndpointSettings>) =>
    setEndpoints(endpoints.map((e, j) => (j === i ? { ...e, ...patch } : e)));

  const feastRegistry = jsonData.feast?.registry ?? {};
  const configured =
    !!jsonData.predictionLog?.url ||
    !!jsonData.prometheus?.url ||
    !!jsonData.sql?.url ||
    endpoints.length > 0 ||
    !!(feastRegistry.path || feastRegistry.sql || feastRegistry.url);
  // Like pkg/settings: without an explicit choice, the demo fleet serves only when nothing is set.
  const blank = settingsBlank(jsonData);
  const demo = jsonData.demo ?? blank;

  const secret = (key: SecretKey, label: string, tooltip: string, placeholder = 'Bearer token') => (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} htmlFor={`ml-${key}`}>
      <SecretInput
        id={`ml-${key}`}
        width={INPUT_WIDTH}
        isConfigured={!!secureJsonFields[key]}
        value={secureJsonData[key] ?? ''}
        placeholder={placeholder}
        onReset={() => resetSecret(key)}
        onChange={(e) => setSecret(key, e.currentTarget.value)}
      />
    </InlineField>
  );

  const predictionLogUrlProblem = urlProblem(jsonData.predictionLog?.url);
  const prometheusUrlProblem = urlProblem(jsonData.prometheus?.url);

  return (
    <div data-testid="modellens-config-editor">
      <ConfigSection title="Demo" description="The built-in synthetic fleet of models: data with no other setup.">
        <InlineField
          label="Demo fleet"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-demo"
          tooltip="Serve the built-in synthetic fleet (its panels say so). On by default only while nothing is set."
        >
          <InlineSwitch id="ml-demo" value={demo} onChange={(e) => setJson('demo', e.currentTarget.checked)} />
        </InlineField>
        <Text element="p" color="secondary" variant="bodySmall" data-testid="ml-demo-state">
          {demoState(jsonData.demo, configured, blank)}
        </Text>
        {!demo && !configured && (
          <Alert severity="warning" title="No source configured">
            Queries will fail until you set the Prediction Log URL, the PostgreSQL URL, the Prometheus URL or a model
            endpoint, or turn the demo fleet on.
          </Alert>
        )}
      </ConfigSection>

      <Divider />

      <ConfigSection
        title="Prediction log"
        description="A Prediction Log API: raw prediction records and the training reference."
      >
        <InlineField
          label="URL"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-prediction-log-url"
          invalid={!!predictionLogUrlProblem}
          error={predictionLogUrlProblem}
        >
          <Input
            id="ml-prediction-log-url"
            width={INPUT_WIDTH}
            value={jsonData.predictionLog?.url ?? ''}
            placeholder="http://prediction-log:8080/api/v1"
            onChange={(e) => setPredictionLogUrl(e.currentTarget.value)}
          />
        </InlineField>
        {secret('predictionLogToken', 'Token', 'Sent as a bearer token to the Prediction Log API')}
      </ConfigSection>

      <Divider />

      <ConfigSection
        title="Prometheus"
        description="Model-server metrics in Prometheus, Mimir, Thanos or VictoriaMetrics."
      >
        <InlineField
          label="URL"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-prometheus-url"
          invalid={!!prometheusUrlProblem}
          error={prometheusUrlProblem}
        >
          <Input
            id="ml-prometheus-url"
            width={INPUT_WIDTH}
            value={jsonData.prometheus?.url ?? ''}
            placeholder="http://prometheus:9090"
            onChange={(e) => setPrometheus('url', e.currentTarget.value.trim())}
          />
        </InlineField>
        {secret('prometheusToken', 'Token', 'Sent as a bearer token to Prometheus')}
        <InlineField
          label="Preset"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-prometheus-preset"
          tooltip="The metric names of your model server"
        >
          <Select<Preset>
            inputId="ml-prometheus-preset"
            width={INPUT_WIDTH}
            options={PRESETS.map((p) => ({ label: PRESET_LABELS[p], value: p }))}
            value={jsonData.prometheus?.preset ?? 'generic'}
            onChange={(v) => setPrometheus('preset', v.value)}
          />
        </InlineField>
        <TextSetting
          id="ml-prometheus-model-label"
          label="Model label"
          tooltip="The series label holding the model name; empty = the preset's"
          placeholder="preset default"
          value={jsonData.prometheus?.modelLabel}
          onChange={(v) => setPrometheus('modelLabel', v)}
        />
        <TextSetting
          id="ml-prometheus-version-label"
          label="Version label"
          tooltip="The series label holding the model version; empty = the preset's"
          placeholder="preset default"
          value={jsonData.prometheus?.versionLabel}
          onChange={(v) => setPrometheus('versionLabel', v)}
        />
        <TextSetting
          id="ml-prometheus-tenant"
          label="Tenant ID"
          tooltip="Sent as X-Scope-OrgID (Mimir, Cortex)"
          placeholder="optional"
          value={jsonData.prometheus?.tenantId}
          onChange={(v) => setPrometheus('tenantId', v)}
        />
      </ConfigSection>

      <Divider />

      <ConfigSection title="Model endpoints" description="Model servers the plugin may call for health and metadata.">
        {endpoints.map((e, i) => {
          const problem = e.url ? urlProblem(e.url) : 'URL is required';
          return (
            <InlineFieldRow key={i} data-testid={`ml-endpoint-${i}`}>
              <InlineField label="Name" labelWidth={8} htmlFor={`ml-endpoint-${i}-name`} invalid={!e.name.trim()}>
                <Input
                  id={`ml-endpoint-${i}-name`}
                  width={20}
                  value={e.name}
                  placeholder="fraud-kserve"
                  onChange={(ev) => setEndpoint(i, { name: ev.currentTarget.value })}
                />
              </InlineField>
              <InlineField
                label="URL"
                labelWidth={6}
                htmlFor={`ml-endpoint-${i}-url`}
                invalid={!!problem}
                error={problem}
              >
                <Input
                  id={`ml-endpoint-${i}-url`}
                  width={36}
                  value={e.url}
                  placeholder="http://fraud.models.svc:8080"
                  onChange={(ev) => setEndpoint(i, { url: ev.currentTarget.value.trim() })}
                />
              </InlineField>
              <InlineField label="Protocol" labelWidth={10} htmlFor={`ml-endpoint-${i}-protocol`}>
                <Select<Protocol>
                  inputId={`ml-endpoint-${i}-protocol`}
                  width={30}
                  options={PROTOCOL_OPTIONS}
                  value={e.protocol || 'oip'}
                  onChange={(v) => setEndpoint(i, { protocol: v.value ?? 'oip' })}
                />
              </InlineField>
              <IconButton
                name="trash-alt"
                tooltip={`Remove endpoint ${e.name || i + 1}`}
                onClick={() => setEndpoints(endpoints.filter((_, j) => j !== i))}
              />
            </InlineFieldRow>
          );
        })}
        <Box marginBottom={1}>
          <Button
            variant="secondary"
            icon="plus"
            size="sm"
            onClick={() => setEndpoints([...endpoints, { name: '', url: '', protocol: 'oip' }])}
          >
            Add endpoint
          </Button>
        </Box>
        {secret('endpointToken', 'Endpoint token', 'Sent as a bearer token to every model endpoint')}
      </ConfigSection>

      <Divider />

      <PostgresSection
        value={jsonData.sql}
        onChange={(sql) => setJson('sql', sql)}
        passwordConfigured={!!secureJsonFields.sqlPassword}
        password={secureJsonData.sqlPassword ?? ''}
        onPasswordChange={(v) => setSecret('sqlPassword', v)}
        onPasswordReset={() => resetSecret('sqlPassword')}
      />

      <Divider />

      <ConfigSection title="Feast feature store" description="A Feast registry, online store and offline store.">
        <FeastConfig
          feast={jsonData.feast}
          labelWidth={LABEL_WIDTH}
          inputWidth={INPUT_WIDTH}
          onChange={(next) => setJson('feast', next)}
          secret={secret}
        />
      </ConfigSection>

      <Divider />

      <ConfigSection title="Limits">
        <InlineField
          label="Timeout (seconds)"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-timeout"
          invalid={!!timeoutError}
          error={timeoutError}
          tooltip={`Per upstream request, at most ${MAX_TIMEOUT_SECONDS}; default ${DEFAULT_TIMEOUT_SECONDS}`}
        >
          <Input
            id="ml-timeout"
            type="number"
            width={20}
            value={timeoutText}
            placeholder={String(DEFAULT_TIMEOUT_SECONDS)}
            onChange={(e) => setTimeoutText(e.currentTarget.value)}
            onBlur={() => {
              const t = timeoutText.trim();
              const n = Number(t);
              if (t !== '' && (!Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS)) {
                setTimeoutError(`Must be a number of seconds in (0, ${MAX_TIMEOUT_SECONDS}]`);
                return;
              }
              setTimeoutError('');
              setJson('timeoutSeconds', t === '' ? undefined : n);
            }}
          />
        </InlineField>
        <InlineField
          label="Max samples"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-max-samples"
          invalid={!!maxSamplesError}
          error={maxSamplesError}
          tooltip={`Cap on raw records fetched per query; default ${DEFAULT_MAX_SAMPLES.toLocaleString('en')}`}
        >
          <Input
            id="ml-max-samples"
            type="number"
            width={20}
            value={maxSamplesText}
            placeholder={String(DEFAULT_MAX_SAMPLES)}
            onChange={(e) => setMaxSamplesText(e.currentTarget.value)}
            onBlur={() => {
              const t = maxSamplesText.trim();
              const n = Number(t);
              if (t !== '' && (!Number.isInteger(n) || n <= 0)) {
                setMaxSamplesError('Must be a positive whole number');
                return;
              }
              setMaxSamplesError('');
              setJson('maxSamples', t === '' ? undefined : n);
            }}
          />
        </InlineField>
        <InlineField
          label="Max reference samples"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-max-reference-samples"
          invalid={!!maxRefError}
          error={maxRefError}
          tooltip={`Rows kept of a reference sample; beyond it a deterministic uniform sample is used. Default ${DEFAULT_MAX_REFERENCE_SAMPLES.toLocaleString('en')}`}
        >
          <Input
            id="ml-max-reference-samples"
            type="number"
            width={20}
            value={maxRefText}
            placeholder={String(DEFAULT_MAX_REFERENCE_SAMPLES)}
            onChange={(e) => setMaxRefText(e.currentTarget.value)}
            onBlur={() => {
              const t = maxRefText.trim();
              const n = Number(t);
              if (t !== '' && (!Number.isInteger(n) || n < MIN_REFERENCE_SAMPLES || n > MAX_REFERENCE_SAMPLES)) {
                setMaxRefError(
                  `Must be a whole number from ${MIN_REFERENCE_SAMPLES} to ${MAX_REFERENCE_SAMPLES.toLocaleString('en')}`
                );
                return;
              }
              setMaxRefError('');
              setJson('maxReferenceSamples', t === '' ? undefined : n);
            }}
          />
        </InlineField>
        <InlineField
          label="Concurrent queries"
          labelWidth={LABEL_WIDTH}
          htmlFor="ml-max-concurrent-queries"
          invalid={!!concurrencyError}
          error={concurrencyError}
          tooltip={`How many queries this data source computes at once, all dashboards together; the others wait until their timeout, then fail with a "busy" error. Default ${DEFAULT_MAX_CONCURRENT_QUERIES}`}
        >
          <Input
            id="ml-max-concurrent-queries"
            type="number"
            width={20}
            value={concurrencyText}
            placeholder={String(DEFAULT_MAX_CONCURRENT_QUERIES)}
            onChange={(e) => setConcurrencyText(e.currentTarget.value)}
            onBlur={() => {
              const t = concurrencyText.trim();
              const n = Number(t);
              if (t !== '' && (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENT_QUERIES)) {
                setConcurrencyError(`Must be a whole number from 1 to ${MAX_CONCURRENT_QUERIES}`);
                return;
              }
              setConcurrencyError('');
              setJson('maxConcurrentQueries', t === '' ? undefined : n);
            }}
          />
        </InlineField>
      </ConfigSection>

      <Divider />

      {/* Basic auth, TLS client certificates and custom headers, applied to every upstream. */}
      <Auth
        {...convertLegacyAuthProps({ config: options, onChange: onOptionsChange })}
        visibleMethods={[AuthMethod.NoAuth, AuthMethod.BasicAuth]}
      />
    </div>
  );
}
