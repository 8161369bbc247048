import { ModelLensVariableQuery, VARIABLE_QUERY_TYPES, VariableQueryType } from './types';

// The variable query model alone, without the editor or the data source: both import it (a module
// of its own keeps variables.ts and components/VariableQueryEditor.tsx free of an import cycle).

/**
 * Normalises a stored variable query. Besides the object model {type, model}, a plain string is
 * accepted the way users tend to type it: "models", "versions($model)" or "features(fraud)".
 */
export function parseVariableQuery(raw: unknown): ModelLensVariableQuery {
  if (typeof raw === 'string') {
    const f = raw.trim().match(/^(featureViews|featureViewFeatures|entities)\s*(?:\(\s*([^)]*?)\s*\))?$/);
    if (f) {
      const q: ModelLensVariableQuery = { refId: 'ModelLensVariableQuery', type: f[1] as VariableQueryType };
      if (f[1] === 'featureViewFeatures') {
        q.featureView = f[2] ?? '';
      }
      return q;
    }
    const m = raw.trim().match(/^(models|versions|features)\s*(?:\(\s*([^)]*?)\s*\))?$/);
    if (!m) {
      throw new Error(
        `unknown ModelLens variable query "${raw}": use models, versions(<model>), features(<model>), featureViews, featureViewFeatures(<view>) or entities`
      );
    }
    return { refId: 'ModelLensVariableQuery', type: m[1] as VariableQueryType, model: m[2] ?? '' };
  }
  if (raw && typeof raw === 'object') {
    const q = raw as Partial<ModelLensVariableQuery>;
    const type = q.type ?? 'models';
    if (!(VARIABLE_QUERY_TYPES as readonly string[]).includes(type)) {
      throw new Error(
        `unknown ModelLens variable query type "${String(type)}": use ${VARIABLE_QUERY_TYPES.join(', ')}`
      );
    }
    return { ...q, refId: q.refId ?? 'ModelLensVariableQuery', type, model: q.model ?? '' };
  }
  return { refId: 'ModelLensVariableQuery', type: 'models', model: '' };
}
