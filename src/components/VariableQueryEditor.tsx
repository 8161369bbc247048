import React, { useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { parseVariableQuery } from '../variableQuery';
import {
  ModelLensOptions,
  ModelLensQuery,
  ModelLensVariableQuery,
  VARIABLE_QUERY_TYPES,
  VariableQueryType,
} from '../types';

type Props = QueryEditorProps<DataSource, ModelLensQuery, ModelLensOptions, ModelLensVariableQuery>;

/** One option per variable query type (Record: a type added to VARIABLE_QUERY_TYPES needs one). */
const TYPE_LABELS: Record<VariableQueryType, { label: string; description: string }> = {
  models: { label: 'Models', description: 'Every model name' },
  versions: { label: 'Versions', description: 'Versions of a model' },
  features: { label: 'Features', description: 'Input features of a model' },
  featureViews: { label: 'Feast feature views', description: 'The feature views of the Feast project' },
  featureViewFeatures: { label: 'Feast features', description: 'The features of a Feast feature view' },
  entities: { label: 'Feast entities', description: "The join keys of the Feast project's entities" },
};

const TYPE_OPTIONS: Array<SelectableValue<VariableQueryType>> = VARIABLE_QUERY_TYPES.map((value) => ({
  value,
  ...TYPE_LABELS[value],
}));

const TAKES_MODEL: VariableQueryType[] = ['versions', 'features'];

/** Editor of a ModelLens template variable: what to list, and for which model. */
export function VariableQueryEditor({ query, onChange }: Props) {
  let parsed: ModelLensVariableQuery;
  let problem = '';
  try {
    parsed = parseVariableQuery(query);
  } catch (e) {
    parsed = { refId: 'ModelLensVariableQuery', type: 'models', model: '' };
    problem = e instanceof Error ? e.message : String(e);
  }
  const [model, setModel] = useState(parsed.model ?? '');
  const [featureView, setFeatureView] = useState(parsed.featureView ?? '');

  const emit = (next: Partial<ModelLensVariableQuery>) => {
    const q: ModelLensVariableQuery = { ...parsed, ...next };
    if (!TAKES_MODEL.includes(q.type)) {
      delete q.model;
    }
    if (q.type !== 'featureViewFeatures') {
      delete q.featureView;
    }
    onChange(q);
  };

  return (
    <InlineFieldRow>
      <InlineField label="List" labelWidth={12} htmlFor="ml-variable-type" invalid={!!problem} error={problem}>
        <Select
          inputId="ml-variable-type"
          width={20}
          options={TYPE_OPTIONS}
          value={parsed.type}
          onChange={(v) => emit({ type: v.value ?? 'models', model, featureView })}
        />
      </InlineField>
      {TAKES_MODEL.includes(parsed.type) && (
        <InlineField
          label="Model"
          labelWidth={12}
          htmlFor="ml-variable-model"
          tooltip="Model name or a variable such as $model; empty lists the values of every model"
        >
          <Input
            id="ml-variable-model"
            width={30}
            value={model}
            placeholder="$model"
            onChange={(e) => setModel(e.currentTarget.value)}
            onBlur={() => emit({ model: model.trim() })}
          />
        </InlineField>
      )}
      {parsed.type === 'featureViewFeatures' && (
        <InlineField
          label="Feature view"
          labelWidth={12}
          htmlFor="ml-variable-feature-view"
          tooltip="Feature view name or a variable such as $view; empty lists the features of every view"
        >
          <Input
            id="ml-variable-feature-view"
            width={30}
            value={featureView}
            placeholder="$view"
            onChange={(e) => setFeatureView(e.currentTarget.value)}
            onBlur={() => emit({ featureView: featureView.trim() })}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
