import { CoreApp, DataSourceInstanceSettings, ScopedVars } from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';

import {
  DEFAULT_QUERY,
  FeastEntityInfo,
  FeatureInfo,
  FeatureViewInfo,
  ModelInfo,
  ModelLensOptions,
  ModelLensQuery,
  QUERY_TYPES,
  Reference,
} from './types';
import { ModelLensVariableSupport } from './variables';

/** Separates the values of a multi-value variable while interpolating; never part of a name. */
const MULTI_SEPARATOR = '\u001f';
/** What Grafana substitutes for "All" when a variable has no custom all value. */
const ALL_MARKER = '$__all';
/** A model or version that stands for every model / one series per version. */
const WILDCARD = '*';
/** Query.version for all versions together. */
const ALL_VERSIONS_TOGETHER = '';

/**
 * The ModelLens data source: queries run on the Go backend; this class prepares them (defaults,
 * filtering, template variables) and reads the backend resources that fill the editors and the
 * template variables.
 */
export class DataSource extends DataSourceWithBackend<ModelLensQuery, ModelLensOptions> {
  private readonly templateSrv: TemplateSrv;

  constructor(instanceSettings: DataSourceInstanceSettings<ModelLensOptions>, templateSrv?: TemplateSrv) {
    super(instanceSettings);
    this.templateSrv = templateSrv ?? getTemplateSrv();
    this.variables = new ModelLensVariableSupport(this);
  }

  getDefaultQuery(_: CoreApp): Partial<ModelLensQuery> {
    return { ...DEFAULT_QUERY, metrics: [...(DEFAULT_QUERY.metrics ?? [])] };
  }

  /** Skips hidden queries and queries without a (known) query type. */
  filterQuery(query: ModelLensQuery): boolean {
    if (query.hide) {
      return false;
    }
    return !!query.queryType && (QUERY_TYPES as readonly string[]).includes(query.queryType);
  }

  /**
   * Interpolates template variables in model, version, features, window, positiveClass and the
   * reference window.
   * A multi-value or "All" model becomes '*' (every model). Several versions become '*' (one series
   * per version); the All value '$__all' (the bundled dashboards' version variable sets it as its
   * custom All value) becomes '' (all versions together, DESIGN §4). A multi-value feature variable
   * becomes several features, and "All" features drops the list (the default is every feature).
   */
  applyTemplateVariables(query: ModelLensQuery, scopedVars: ScopedVars): ModelLensQuery {
    const out: ModelLensQuery = { ...query };
    if (query.model !== undefined) {
      out.model = this.interpolateSingle(query.model, scopedVars);
    }
    if (query.version !== undefined) {
      out.version = this.interpolateSingle(query.version, scopedVars, ALL_VERSIONS_TOGETHER);
    }
    if (query.window !== undefined) {
      out.window = this.templateSrv.replace(query.window, scopedVars).trim();
    }
    if (query.positiveClass !== undefined) {
      out.positiveClass = this.interpolateSingle(query.positiveClass, scopedVars);
    }
    if (query.features !== undefined) {
      const features = this.interpolateList(query.features, scopedVars);
      if (features === undefined) {
        delete out.features;
      } else {
        out.features = features;
      }
    }
    if (query.reference) {
      const ref: Reference = { ...query.reference };
      if (ref.from !== undefined) {
        ref.from = this.templateSrv.replace(ref.from, scopedVars).trim();
      }
      if (ref.to !== undefined) {
        ref.to = this.templateSrv.replace(ref.to, scopedVars).trim();
      }
      out.reference = ref;
    }
    return out;
  }

  /**
   * Replaces variables in a single-valued field; several values become '*', and Grafana's All
   * marker '$__all' becomes allMeans ('*' unless given).
   */
  interpolateSingle(value: string, scopedVars?: ScopedVars, allMeans: string = WILDCARD): string {
    const replaced = this.templateSrv.replace(value, scopedVars, (v: unknown) => {
      if (Array.isArray(v)) {
        return v.length === 1 ? String(v[0]) : WILDCARD;
      }
      return String(v ?? '');
    });
    const trimmed = replaced.trim();
    return trimmed === ALL_MARKER ? allMeans : trimmed;
  }

  /**
   * Replaces variables in a list of names, expanding multi-value variables. Returns undefined when
   * a value means "all" ('*' or Grafana's All), so that the backend default (every name) applies.
   */
  interpolateList(values: string[], scopedVars?: ScopedVars): string[] | undefined {
    const out: string[] = [];
    for (const value of values) {
      const replaced = this.templateSrv.replace(value, scopedVars, (v: unknown) =>
        Array.isArray(v) ? v.map(String).join(MULTI_SEPARATOR) : String(v ?? '')
      );
      for (const part of replaced.split(MULTI_SEPARATOR)) {
        const name = part.trim();
        if (name === WILDCARD || name === ALL_MARKER) {
          return undefined;
        }
        if (name !== '' && !out.includes(name)) {
          out.push(name);
        }
      }
    }
    return out;
  }

  /** Names of the dashboard's template variables, as '$name', for the editors' dropdowns. */
  getVariableNames(): string[] {
    return this.templateSrv.getVariables().map((v) => `$${v.name}`);
  }

  /**
   * Reads a backend resource. A source other than auto is passed as ?source=, so that the lists
   * match what a query with that source would read.
   */
  private resource<T>(path: string, source?: string): Promise<T> {
    return source && source !== 'auto' ? this.getResource<T>(path, { source }) : this.getResource<T>(path);
  }

  /** GET models: every model with its versions, input features and prediction type. */
  async getModels(source?: string): Promise<ModelInfo[]> {
    const models = await this.resource<ModelInfo[]>('models', source);
    return Array.isArray(models) ? models : [];
  }

  /** GET models/{m}/versions; for no model or '*', the versions of every model. */
  async getVersions(model: string | undefined, scopedVars?: ScopedVars, source?: string): Promise<string[]> {
    const name = this.interpolateSingle(model ?? '', scopedVars);
    if (name === '' || name === WILDCARD) {
      const models = await this.getModels(source);
      return unique(models.flatMap((m) => m.versions ?? []));
    }
    const versions = await this.resource<string[]>(`models/${encodeURIComponent(name)}/versions`, source);
    return Array.isArray(versions) ? versions : [];
  }

  /** GET models/{m}/features (input features only); for no model or '*', those of every model. */
  async getFeatures(model: string | undefined, scopedVars?: ScopedVars, source?: string): Promise<FeatureInfo[]> {
    const name = this.interpolateSingle(model ?? '', scopedVars);
    if (name === '' || name === WILDCARD) {
      const models = await this.getModels(source);
      const seen = new Set<string>();
      return models
        .flatMap((m) => m.features ?? [])
        .filter((f) => {
          if (seen.has(f.name)) {
            return false;
          }
          seen.add(f.name);
          return true;
        });
    }
    const features = await this.resource<FeatureInfo[]>(`models/${encodeURIComponent(name)}/features`, source);
    return Array.isArray(features) ? features : [];
  }

  /** GET feast/featureViews: the Feast feature views of the configured project. */
  async getFeatureViews(): Promise<FeatureViewInfo[]> {
    const views = await this.getResource<FeatureViewInfo[]>('feast/featureViews');
    return Array.isArray(views) ? views : [];
  }

  /** GET feast/featureViews/{name}; for no name or '*', every view. */
  async getFeatureViewsNamed(name: string | undefined, scopedVars?: ScopedVars): Promise<FeatureViewInfo[]> {
    const view = this.interpolateSingle(name ?? '', scopedVars);
    if (view === '' || view === WILDCARD) {
      return this.getFeatureViews();
    }
    const one = await this.getResource<FeatureViewInfo>(`feast/featureViews/${encodeURIComponent(view)}`);
    return one && typeof one === 'object' ? [one] : [];
  }

  /** GET feast/entities: the Feast entities of the configured project with their join keys. */
  async getFeastEntities(): Promise<FeastEntityInfo[]> {
    const entities = await this.getResource<FeastEntityInfo[]>('feast/entities');
    return Array.isArray(entities) ? entities : [];
  }
}

function unique(values: string[]): string[] {
  return Array.from(new Set(values));
}
