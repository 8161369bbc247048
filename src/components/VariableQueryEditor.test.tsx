import React from 'react';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { VariableQueryEditor } from './VariableQueryEditor';
import { fixtureDataSource } from '../__fixtures__/fixtures';
import { ModelLensVariableQuery } from '../types';

jest.setTimeout(60000);

function setup(query: ModelLensVariableQuery | string) {
  const onChange = jest.fn();
  const user = userEvent.setup({ delay: null });
  render(
    <VariableQueryEditor
      datasource={fixtureDataSource()}
      query={query as ModelLensVariableQuery}
      onChange={onChange}
      onRunQuery={() => {}}
    />
  );
  return { user, onChange };
}

describe('VariableQueryEditor', () => {
  it('edits the {type, model} variable query', async () => {
    const { user, onChange } = setup({ refId: 'V', type: 'models' });
    expect(screen.queryByLabelText('Model')).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('List'));
    await user.click(within(await screen.findByLabelText('Select options menu')).getByText('Versions'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'V', type: 'versions', model: '' });
  });

  it('sets the model on blur', async () => {
    const { user, onChange } = setup({ refId: 'V', type: 'features', model: '' });
    await user.type(screen.getByLabelText('Model'), '$model');
    await user.tab();
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'V', type: 'features', model: '$model' });
  });

  it('lists Feast feature views, the features of a view and entities', async () => {
    const { user, onChange } = setup({ refId: 'V', type: 'versions', model: 'fraud' });
    await user.click(screen.getByLabelText('List'));
    await user.click(within(await screen.findByLabelText('Select options menu')).getByText('Feast features'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'V', type: 'featureViewFeatures', featureView: '' });
  });

  it('sets the feature view on blur', async () => {
    const { user, onChange } = setup('featureViewFeatures()');
    expect(screen.queryByLabelText('Model')).not.toBeInTheDocument();
    await user.type(screen.getByLabelText('Feature view'), '$view');
    await user.tab();
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'ModelLensVariableQuery',
      type: 'featureViewFeatures',
      featureView: '$view',
    });
  });

  it('reads the string form', () => {
    setup('versions(fraud)');
    expect(screen.getByLabelText('Model')).toHaveValue('fraud');
  });

  it('shows why a stored query cannot be used', () => {
    setup({ refId: 'V', type: 'labels' } as unknown as ModelLensVariableQuery);
    expect(screen.getByText(/unknown ModelLens variable query type "labels"/)).toBeInTheDocument();
  });
});
