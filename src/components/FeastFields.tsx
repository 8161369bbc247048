import React, { useEffect, useState } from 'react';
import { InlineField, InlineFieldRow, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { BlurInput } from './BlurInput';
import { EntityKey, FeatureViewInfo, FRESHNESS_MEASURES, FreshnessMeasure, ModelLensQuery, Threshold } from '../types';

interface Props {
  query: ModelLensQuery;
  datasource: DataSource;
  labelWidth: number;
  /** Which of the Feast fields the query type takes. */
  featureView: boolean;
  entities: boolean;
  freshnessThresholds: boolean;
  onChange: (next: ModelLensQuery) => void;
}

function errorText(e: unknown): string {
  if (e && typeof e === 'object') {
    // Resource errors arrive as {data: {error}} (pkg/resources) or {data: {message}} (Grafana).
    const err = e as { data?: { error?: string; message?: string }; message?: string; statusText?: string };
    return err.data?.error ?? err.data?.message ?? err.message ?? err.statusText ?? 'request failed';
  }
  return String(e);
}

/** Parses a number of seconds >= 0; '' clears it. */
export function parseSeconds(text: string): number | undefined | string {
  const t = text.trim();
  if (t === '') {
    return undefined;
  }
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : `"${t}" is not a number of seconds >= 0`;
}

/**
 * Parses the entities field: a JSON list of join-key objects whose values are numbers or strings
 * ([{"driver_id": 1001}]); returns an error message for anything else. Empty text is no entities.
 */
export function parseEntities(text: string): EntityKey[] | undefined | string {
  const t = text.trim();
  if (t === '') {
    return undefined;
  }
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return 'Entities must be JSON: a list of join-key objects such as [{"driver_id": 1001}]';
  }
  if (!Array.isArray(v)) {
    return 'Entities must be a list of join-key objects such as [{"driver_id": 1001}]';
  }
  for (const [i, e] of v.entries()) {
    if (typeof e !== 'object' || e === null || Array.isArray(e) || Object.keys(e).length === 0) {
      return `Entity ${i + 1} must be an object of join keys such as {"driver_id": 1001}`;
    }
    for (const [k, x] of Object.entries(e)) {
      if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) {
        return `Entity ${i + 1}: ${k} must be a number or a string`;
      }
    }
  }
  return v as EntityKey[];
}

/**
 * What the backend would reject in a freshness threshold (pkg/query validateFreshnessThresholds):
 * a measure other than sinceNewestEvent and sinceMaterialized, neither level, a negative age, or a
 * warning age above the stale one. A single level is fine: the other is the view's ttl (or half).
 */
export function freshnessThresholdProblem(measure: string, t: Threshold): string {
  if (!(FRESHNESS_MEASURES as readonly string[]).includes(measure)) {
    return `${measure} is not a freshness measure (one of ${FRESHNESS_MEASURES.join(', ')})`;
  }
  if (t.warning === undefined && t.drift === undefined) {
    return `${measure} needs a warning age, a stale age or both`;
  }
  for (const v of [t.warning, t.drift]) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      return `${measure}: ${v} is not a number of seconds >= 0`;
    }
  }
  if (t.warning !== undefined && t.drift !== undefined && t.warning > t.drift) {
    return `${measure}: warning after ${t.warning} s must not be later than stale after ${t.drift} s`;
  }
  return '';
}

const MEASURE_LABELS: Record<FreshnessMeasure, { label: string; tooltip: string }> = {
  sinceNewestEvent: {
    label: 'Event age',
    tooltip:
      'Age of the newest event of the view in the online store: status 1 (warning) and 2 (stale) after these many seconds; default half the view’s ttl and the ttl',
  },
  sinceMaterialized: {
    label: 'Materialized age',
    tooltip:
      'Time since the newest materialization; sets the status when there is no online store or the view is not online; default half the view’s ttl and the ttl',
  },
};

/**
 * The fields of the Feast query types (freshness, lookups, featureStats, skew): the feature view
 * (from GET feast/featureViews, template variables or any name; empty = every view of the
 * project), the entities to probe (lookups and skew), and the warning and stale ages of freshness.
 */
export function FeastFields({
  query,
  datasource,
  labelWidth,
  featureView,
  entities,
  freshnessThresholds,
  onChange,
}: Props) {
  const [views, setViews] = useState<FeatureViewInfo[]>([]);
  const [loadError, setLoadError] = useState('');
  const [entitiesError, setEntitiesError] = useState('');
  const [secondsErrors, setSecondsErrors] = useState<Partial<Record<FreshnessMeasure, string>>>({});

  useEffect(() => {
    if (!featureView) {
      return;
    }
    let cancelled = false;
    datasource.getFeatureViews().then(
      (v) => {
        if (!cancelled) {
          setViews(v);
          setLoadError('');
        }
      },
      (e: unknown) => !cancelled && setLoadError(`Could not list feature views: ${errorText(e)}`)
    );
    return () => {
      cancelled = true;
    };
  }, [datasource, featureView]);

  const setField = <K extends 'featureView' | 'entities'>(key: K, value: ModelLensQuery[K] | undefined) => {
    const next = { ...query };
    if (value === undefined || value === '') {
      delete next[key];
    } else {
      next[key] = value;
    }
    onChange(next);
  };

  const view = query.featureView ?? '';
  const viewOptions = [
    { label: 'All feature views', value: '' },
    ...views.map((v) => ({
      label: v.name,
      value: v.name,
      description: `ttl ${v.ttlSeconds ? `${v.ttlSeconds} s` : 'none'}${v.online ? '' : ', not online'}`,
    })),
    ...datasource.getVariableNames().map((v) => ({ label: v, value: v, description: 'Variable' })),
  ];
  if (view !== '' && !viewOptions.some((o) => o.value === view)) {
    viewOptions.push({ label: view, value: view, description: '' });
  }

  const setSeconds = (measure: FreshnessMeasure, which: 'warning' | 'drift', text: string) => {
    const parsed = parseSeconds(text);
    if (typeof parsed === 'string') {
      setSecondsErrors({ ...secondsErrors, [measure]: parsed });
      return;
    }
    const th: Threshold = { ...(query.thresholds?.[measure] ?? {}) };
    if (parsed === undefined) {
      delete th[which];
    } else {
      th[which] = parsed;
    }
    const thresholds = { ...(query.thresholds ?? {}) };
    if (th.warning === undefined && th.drift === undefined) {
      delete thresholds[measure];
    } else {
      thresholds[measure] = th;
    }
    const next: ModelLensQuery = { ...query, thresholds };
    if (Object.keys(thresholds).length === 0) {
      delete next.thresholds;
    }
    setSecondsErrors({ ...secondsErrors, [measure]: '' });
    onChange(next);
  };
  const rowProblem = (m: FreshnessMeasure) =>
    secondsErrors[m] || (query.thresholds?.[m] ? freshnessThresholdProblem(m, query.thresholds[m]) : '');

  return (
    <>
      {(featureView || entities) && (
        <InlineFieldRow>
          {featureView && (
            <InlineField
              label="Feature view"
              labelWidth={labelWidth}
              htmlFor="ml-feature-view"
              invalid={!!loadError}
              error={loadError}
              tooltip="A Feast feature view of the configured project; empty or * = every feature view"
            >
              <Select
                inputId="ml-feature-view"
                width={30}
                options={viewOptions}
                value={view}
                allowCustomValue
                onChange={(v) => setField('featureView', (v?.value ?? '').trim())}
              />
            </InlineField>
          )}
          {entities && (
            <InlineField
              label="Entities"
              labelWidth={10}
              htmlFor="ml-entities"
              invalid={!!entitiesError}
              error={entitiesError}
              tooltip='Join-key objects to probe, as JSON: [{"driver_id": 1001}, {"driver_id": 1002}]. Default: the entity keys found in the model&apos;s prediction records of the time range'
            >
              <BlurInput
                id="ml-entities"
                width={50}
                value={query.entities ? JSON.stringify(query.entities) : ''}
                placeholder="From the model's records"
                invalid={!!entitiesError}
                onCommit={(text) => {
                  const parsed = parseEntities(text);
                  if (typeof parsed === 'string') {
                    setEntitiesError(parsed);
                    return;
                  }
                  setEntitiesError('');
                  setField('entities', parsed);
                }}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}
      {freshnessThresholds &&
        FRESHNESS_MEASURES.map((m) => {
          const th = query.thresholds?.[m] ?? {};
          const { label, tooltip } = MEASURE_LABELS[m];
          const problem = rowProblem(m);
          return (
            <InlineFieldRow key={m}>
              <InlineField
                label={`${label}: warning after (s)`}
                labelWidth={28}
                htmlFor={`ml-fresh-${m}-warning`}
                tooltip={tooltip}
              >
                <BlurInput
                  id={`ml-fresh-${m}-warning`}
                  width={12}
                  value={th.warning === undefined ? '' : String(th.warning)}
                  placeholder="ttl / 2"
                  onCommit={(t) => setSeconds(m, 'warning', t)}
                />
              </InlineField>
              <InlineField
                label={`${label}: stale after (s)`}
                labelWidth={28}
                htmlFor={`ml-fresh-${m}-stale`}
                invalid={!!problem}
                error={problem}
              >
                <BlurInput
                  id={`ml-fresh-${m}-stale`}
                  width={12}
                  value={th.drift === undefined ? '' : String(th.drift)}
                  placeholder="ttl"
                  onCommit={(t) => setSeconds(m, 'drift', t)}
                />
              </InlineField>
            </InlineFieldRow>
          );
        })}
    </>
  );
}
