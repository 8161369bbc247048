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
