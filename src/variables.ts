import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, MetricFindValue } from '@grafana/data';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import type { DataSource } from './datasource';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { ModelLensVariableQuery, VARIABLE_QUERY_TYPES, VariableQueryType } from './types';

/**
 * Normalises a stored variable query. Besides the object model {type, model}, a plain string is
 * accepted the way users tend to type it: "models", "versions($model)" or "features(fraud)".
 */
export function parseVariableQuery(raw: unknown): ModelLensVariableQuery {
  if (typeof raw === 'string') {
    const m = raw.trim().match(/^(models|versions|features)\s*(?:\(\s*([^)]*?)\s*\))?$/);
    if (!m) {
      throw new Error(`unknown ModelLens variable query "${raw}": use models, versions(<model>) or features(<model>)`);
    }
    return { refId: 'ModelLensVariableQuery', type: m[1] as VariableQueryType, model: m[2] ?? '' };
  }
  if (raw && typeof raw === 'object') {
    const q = raw as Partial<ModelLensVariableQuery>;
    const type = q.type ?? 'models';
    if (!(VARIABLE_QUERY_TYPES as readonly string[]).includes(type)) {
      throw new Error(`unknown ModelLens variable query type "${String(type)}": use models, versions or features`);
    }
    return { ...q, refId: q.refId ?? 'ModelLensVariableQuery', type, model: q.model ?? '' };
  }
  return { refId: 'ModelLensVariableQuery', type: 'models', model: '' };
}

/** Lists the values of a variable query: model names, versions of a model or its input features. */
export async function findVariableValues(
  ds: DataSource,
  query: ModelLensVariableQuery,
  scopedVars?: DataQueryRequest['scopedVars']
): Promise<MetricFindValue[]> {
  switch (query.type) {
    case 'models': {
      const models = await ds.getModels();
      return models.map((m) => ({ text: m.name, value: m.name }));
    }
    case 'versions': {
      const versions = await ds.getVersions(query.model, scopedVars);
      return versions.map((v) => ({ text: v, value: v }));
    }
    case 'features': {
      const features = await ds.getFeatures(query.model, scopedVars);
      return features.map((f) => ({ text: f.name, value: f.name }));
    }
  }
}

/** Template-variable support: {"type": "models" | "versions" | "features", "model": "$model"}. */
export class ModelLensVariableSupport extends CustomVariableSupport<DataSource, ModelLensVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<ModelLensVariableQuery>): Observable<DataQueryResponse> {
    const run = async () => {
      const query = parseVariableQuery(request.targets[0]);
      return findVariableValues(this.datasource, query, request.scopedVars);
    };
    return from(run()).pipe(map((values) => ({ data: values })));
  }
}
