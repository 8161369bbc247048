import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, MetricFindValue } from '@grafana/data';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import type { DataSource } from './datasource';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import { ModelLensVariableQuery } from './types';
import { parseVariableQuery } from './variableQuery';

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
    case 'featureViews': {
      const views = await ds.getFeatureViews();
      return views.map((v) => ({ text: v.name, value: v.name }));
    }
    case 'featureViewFeatures': {
      const views = await ds.getFeatureViewsNamed(query.featureView, scopedVars);
      const names = Array.from(new Set(views.flatMap((v) => v.features.map((f) => f.name))));
      return names.map((n) => ({ text: n, value: n }));
    }
    case 'entities': {
      const entities = await ds.getFeastEntities();
      return entities.map((e) => ({ text: e.joinKey, value: e.joinKey }));
    }
  }
}

/**
 * Template-variable support: {"type": "models" | "versions" | "features", "model": "$model"}, or the
 * Feast lists {"type": "featureViews" | "entities"} and {"type": "featureViewFeatures", "featureView": "$view"}.
 */
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
