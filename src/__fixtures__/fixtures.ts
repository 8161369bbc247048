import { DataSourceInstanceSettings, PluginMetaInfo, PluginType, ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { DataSource } from '../datasource';
import { FeastEntityInfo, FeatureInfo, FeatureViewInfo, ModelInfo, ModelLensOptions } from '../types';

/** The models a stubbed GET models answers with (the shape of pkg/resources). */
export const FIXTURE_MODELS: ModelInfo[] = [
  {
    name: 'fraud-detector',
    versions: ['v1', 'v2'],
    features: [
      { name: 'amount', type: 'numeric' },
      { name: 'merchant_category', type: 'categorical' },
      { name: 'hour', type: 'numeric' },
    ],
    prediction: { type: 'categorical' },
  },
  {
    name: 'churn-model',
    versions: ['2024-06', '2024-09'],
    features: [
      { name: 'tenure_months', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    prediction: { type: 'numeric' },
  },
];

// The answers of GET feast/featureViews and feast/entities, as pkg/resources/feast_test.go pins them.
export const FIXTURE_FEATURE_VIEWS: FeatureViewInfo[] = [
  {
    name: 'driver_hourly_stats',
    entities: ['driver'],
    joinKeys: [{ name: 'driver_id', type: 'INT64' }],
    features: [
      { name: 'conv_rate', type: 'FLOAT' },
      { name: 'trips', type: 'INT64' },
    ],
    ttlSeconds: 129600,
    online: true,
    batchSource: {
      name: 'driver_stats',
      type: 'CUSTOM_SOURCE',
      table: 'driver_stats',
      timestampField: 'event_timestamp',
    },
    lastMaterialized: '2026-12-03T00:00:00Z',
  },
  {
    name: 'zipcode_features',
    entities: ['zipcode'],
    joinKeys: [{ name: 'zipcode', type: 'INT64' }],
    features: [{ name: 'city', type: 'STRING' }],
    ttlSeconds: 0,
    online: true,
    batchSource: null,
    lastMaterialized: null,
  },
];

export const FIXTURE_FEAST_ENTITIES: FeastEntityInfo[] = [
  { name: 'driver', joinKey: 'driver_id', type: 'INT64', description: 'a driver' },
  { name: 'zipcode', joinKey: 'zipcode', type: 'INT64' },
];

/** Answers the backend resource paths the way the Go side does, from the fixtures above. */
export function fixtureResource(path: string): unknown {
  if (path === 'models') {
    return FIXTURE_MODELS;
  }
  if (path === 'feast/featureViews') {
    return FIXTURE_FEATURE_VIEWS;
  }
  if (path === 'feast/entities') {
    return FIXTURE_FEAST_ENTITIES;
  }
  const fv = path.match(/^feast\/featureViews\/(.+)$/);
  if (fv) {
    const view = FIXTURE_FEATURE_VIEWS.find((x) => x.name === decodeURIComponent(fv[1]));
    if (!view) {
      throw Object.assign(new Error(`feature view "${decodeURIComponent(fv[1])}" not found`), { status: 404 });
    }
    return view;
  }
  const m = path.match(/^models\/([^/]+)\/(versions|features)$/);
  if (m) {
    const model = FIXTURE_MODELS.find((x) => x.name === decodeURIComponent(m[1]));
    if (!model) {
      throw Object.assign(new Error(`model "${decodeURIComponent(m[1])}" not found`), { status: 404 });
    }
    return m[2] === 'versions' ? model.versions : (model.features as FeatureInfo[]);
  }
  throw Object.assign(new Error(`unknown resource ${path}`), { status: 404 });
}

type Vars = Record<string, string | string[]>;

/**
 * A template service over fixed variables that substitutes $name, ${name} and [[name]] like
 * Grafana's, passing multi-value variables to a custom format function as arrays.
 */
export class FakeTemplateSrv implements TemplateSrv {
  constructor(private readonly vars: Vars = {}) {}

  getVariables(): TypedVariableModel[] {
    return Object.keys(this.vars).map((name) => ({ name }) as unknown as TypedVariableModel);
  }

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    if (!target) {
      return target ?? '';
    }
    return target.replace(/\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]/g, (match, a, b, c) => {
      const name = a ?? b ?? c;
      const scoped = scopedVars?.[name]?.value;
      const value = scoped !== undefined ? scoped : this.vars[name];
      if (value === undefined) {
        return match;
      }
      if (typeof format === 'function') {
        return format(value, { name });
      }
      return Array.isArray(value) ? `{${value.join(',')}}` : String(value);
    });
  }

  containsTemplate(target?: string): boolean {
    return !!target && /\$\w+|\$\{\w+\}|\[\[\w+\]\]/.test(target);
  }

  updateTimeRange(): void {}
}

export function instanceSettings(jsonData: ModelLensOptions = {}): DataSourceInstanceSettings<ModelLensOptions> {
  return {
    id: 1,
    uid: 'modellens-test',
    type: 'modellens-mlmonitoring-datasource',
    name: 'ModelLens',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {
      id: 'modellens-mlmonitoring-datasource',
      name: 'ModelLens',
      type: PluginType.datasource,
      module: '',
      baseUrl: '',
      info: {} as PluginMetaInfo,
    },
  };
}

/** A data source whose getResource answers from the fixtures (optionally through a jest mock). */
export function fixtureDataSource(vars: Vars = {}): DataSource {
  const ds = new DataSource(instanceSettings(), new FakeTemplateSrv(vars));
  ds.getResource = (async (path: string) => fixtureResource(path)) as DataSource['getResource'];
  return ds;
}
