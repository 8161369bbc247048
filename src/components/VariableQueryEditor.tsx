import React, { useState } from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { parseVariableQuery } from '../variableQuery';
import { ModelLensOptions, ModelLensQuery, ModelLensVariableQuery, VariableQueryType } from '../types';

type Props = QueryEditorProps<DataSource, ModelLensQuery, ModelLensOptions, ModelLensVariableQuery>;

const TYPE_OPTIONS: Array<SelectableValue<VariableQueryType>> = [
  { label: 'Models', value: 'models', description: 'Every model name' },
  { label: 'Versions', value: 'versions', description: 'Versions of a model' },
  { label: 'Features', value: 'features', description: 'Input features of a model' },
];

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

  const emit = (next: Partial<ModelLensVariableQuery>) => {
    const q: ModelLensVariableQuery = { ...parsed, ...next };
    if (q.type === 'models') {
      delete q.model;
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
          onChange={(v) => emit({ type: v.value ?? 'models', model })}
        />
      </InlineField>
      {parsed.type !== 'models' && (
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
    </InlineFieldRow>
  );
}
