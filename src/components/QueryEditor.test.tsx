import React, { useState } from 'react';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import {
  QueryEditor,
  metricChoices,
  parsePercentiles,
  thresholdDefaults,
  thresholdProblem,
  withOutput,
  withQueryType,
} from './QueryEditor';
import { parseEntities } from './FeastFields';
import { DataSource } from '../datasource';
import { fixtureDataSource } from '../__fixtures__/fixtures';
import { ModelLensQuery, QUALITY_METRICS, SATURATION_METRICS, SOURCES, TRAFFIC_METRICS } from '../types';

/** Renders the editor the way Grafana does: the panel keeps the query and passes every change back. */
function setup(initial: ModelLensQuery, ds: DataSource = fixtureDataSource({ model: 'fraud-detector' })) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  function Host() {
    const [query, setQuery] = useState(initial);
    return (
      <QueryEditor
        query={query}
        datasource={ds}
        onChange={(q) => {
          onChange(q);
          setQuery(q);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  const user = userEvent.setup({ delay: null });
  render(<Host />);
  const last = (): ModelLensQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { user, onChange, onRunQuery, last, ds };
}

/** Opens a Select by its field label and picks the option with the given text. */
async function pick(user: ReturnType<typeof userEvent.setup>, label: string, option: string) {
  await user.click(screen.getByLabelText(label));
  const menu = await screen.findByLabelText('Select options menu');
  await user.click(within(menu).getByText(option, { exact: true }));
}

// Rendering @grafana/ui on a busy CI machine is slow; these limits only stop a hung test.
jest.setTimeout(60000);

describe('QueryEditor', () => {
  it('shows the fields of each query type', async () => {
    const { user } = setup({ refId: 'A', queryType: 'traffic' });
    expect(screen.getByLabelText('Metrics')).toBeInTheDocument();
    expect(screen.getByLabelText('Window')).toBeInTheDocument();
    expect(screen.queryByLabelText('Percentiles')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Features')).not.toBeInTheDocument();

    await user.click(screen.getByLabelText('Latency'));
    expect(screen.getByLabelText('Percentiles')).toBeInTheDocument();
    expect(screen.queryByLabelText('Metrics')).not.toBeInTheDocument();

    await user.click(screen.getByLabelText('Drift'));
    for (const label of ['Features', 'Methods', 'Window', 'Bins', 'Thresholds', 'Model', 'Version', 'Source']) {
      expect(screen.getByLabelText(label)).toBeInTheDocument();
    }
    expect(screen.queryByLabelText('Percentiles')).not.toBeInTheDocument();

    expect(screen.getByLabelText('Table')).toBeInTheDocument();

    await user.click(screen.getByLabelText('Distribution'));
    expect(screen.getByLabelText('Features')).toBeInTheDocument();
    expect(screen.queryByLabelText('Methods')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Thresholds')).not.toBeInTheDocument();
    // Distribution answers only with a table: no output choice.
    expect(screen.queryByLabelText('Latest')).not.toBeInTheDocument();

    await user.click(screen.getByLabelText('Health'));
    expect(screen.queryByLabelText('Latest')).not.toBeInTheDocument();
    expect(screen.getByLabelText('Version')).toBeInTheDocument();

    // Predictions: features restricted to the model's outputs.
    await user.click(screen.getByLabelText('Predictions'));
    expect(screen.getByLabelText('Percentiles')).toBeInTheDocument();
    await user.click(screen.getByLabelText('Features'));
    const outputs = await screen.findByLabelText('Select options menu');
    expect(
      within(outputs)
        .getAllByRole('option')
        .map((o) => o.textContent)
    ).toEqual(['predictionModel output', 'scoreModel output']);
    await user.keyboard('{Escape}');

    await user.click(screen.getByLabelText('Endpoints'));
    expect(screen.getByLabelText('Version')).toBeInTheDocument();
    expect(screen.queryByLabelText('Window')).not.toBeInTheDocument();
    expect(screen.getByLabelText('Model')).toBeInTheDocument();
  });

  it('loads versions and features of the picked model from the backend resources', async () => {
    const ds = fixtureDataSource();
    const getResource = jest.spyOn(ds, 'getResource');
    const { user, last } = setup({ refId: 'A', queryType: 'drift' }, ds);
    await waitFor(() => expect(getResource).toHaveBeenCalledWith('models'));

    await pick(user, 'Model', 'churn-model');
    await waitFor(() => expect(getResource).toHaveBeenCalledWith('models/churn-model/versions'));
    expect(getResource).toHaveBeenCalledWith('models/churn-model/features');
    expect(last()).toEqual({ refId: 'A', queryType: 'drift', model: 'churn-model' });

    await pick(user, 'Version', '2024-09');
    await pick(user, 'Features', 'tenure_months');
    await pick(user, 'Features', 'prediction');
    // The other model's features are not offered.
    await user.click(screen.getByLabelText('Features'));
    const menu = await screen.findByLabelText('Select options menu');
    expect(within(menu).queryByText('amount')).not.toBeInTheDocument();
    expect(within(menu).getByText('plan')).toBeInTheDocument();
    expect(within(menu).getByText('score')).toBeInTheDocument();
    expect(within(menu).queryByText('latency')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    expect(last()).toEqual({
      refId: 'A',
      queryType: 'drift',
      model: 'churn-model',
      version: '2024-09',
      features: ['tenure_months', 'prediction'],
    });
  });

  it('emits exactly the DESIGN §4 drift query', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'A', queryType: 'drift', model: 'fraud-detector' });
    await screen.findByText('fraud-detector');

    await pick(user, 'Version', 'Each version (*)');
    await pick(user, 'Features', 'amount');
    await pick(user, 'Features', 'merchant_category');
    await pick(user, 'Methods', 'psi');
    await pick(user, 'Methods', 'ks_pvalue');
    await pick(user, 'Methods', 'status');
    await user.type(screen.getByLabelText('Window'), '1h{enter}');
    await user.click(screen.getByLabelText('Latest'));
    await user.click(screen.getByLabelText('Time window'));
    const from = screen.getByLabelText('From');
    await user.clear(from);
    await user.type(from, 'now-30d{enter}');
    await user.click(screen.getByLabelText('Equal width'));
    await user.type(screen.getByLabelText('Bins'), '20{enter}');
    await pick(user, 'Thresholds', 'psi');
    const psiDrift = screen.getByLabelText('Drift', { selector: '#ml-threshold-psi-drift' });
    await user.clear(psiDrift);
    await user.type(psiDrift, '0.3{enter}');

    expect(last()).toEqual({
      refId: 'A',
      queryType: 'drift',
      model: 'fraud-detector',
      version: '*',
      features: ['amount', 'merchant_category'],
      methods: ['psi', 'ks_pvalue', 'status'],
      window: '1h',
      output: 'latest',
      reference: { kind: 'window', from: 'now-30d', to: 'now-6d' },
      binning: { strategy: 'equalWidth', bins: 20 },
      thresholds: { psi: { warning: 0.1, drift: 0.3 } },
    });
    expect(JSON.parse(JSON.stringify(last()))).toEqual(last());
    expect(onRunQuery).toHaveBeenCalled();

    // Back to the reference dataset: the window bounds go with it.
    await user.click(screen.getByLabelText('Reference dataset'));
    expect(last().reference).toEqual({ kind: 'dataset' });
    // A warning above the drift threshold is flagged (the backend rejects it).
    const psiWarning = screen.getByLabelText('Warning', { selector: '#ml-threshold-psi-warning' });
    await user.clear(psiWarning);
    await user.type(psiWarning, '0.5{enter}');
    expect(await screen.findByText('Warning (0.5) must be <= drift (0.3)')).toBeInTheDocument();
    // Clearing both values removes the override, and with it the field.
    await user.clear(psiWarning);
    await user.type(psiWarning, '{enter}');
    await user.clear(psiDrift);
    await user.type(psiDrift, '{enter}');
    expect('thresholds' in last()).toBe(false);
    await pick(user, 'Thresholds', 'ks_pvalue');
    expect(last().thresholds).toEqual({ ks_pvalue: { warning: 0.15, drift: 0.05 } });
    // Removing the only threshold removes the field.
    await user.click(screen.getByLabelText('Remove the ks_pvalue threshold'));
    expect('thresholds' in last()).toBe(false);
  });

  it('emits latency percentiles and traffic metrics, and rejects bad percentiles', async () => {
    const { user, last } = setup({ refId: 'B', queryType: 'latency' });
    await user.type(screen.getByLabelText('Percentiles'), '50, 90,99.9{enter}');
    expect(last()).toEqual({ refId: 'B', queryType: 'latency', percentiles: [50, 90, 99.9] });

    const input = screen.getByLabelText('Percentiles');
    await user.clear(input);
    await user.type(input, '50, 101{enter}');
    expect(await screen.findByText('"101" is not a percentile in (0, 100]')).toBeInTheDocument();
    expect(last().percentiles).toEqual([50, 90, 99.9]);

    await user.click(screen.getByLabelText('Latest'));
    await user.click(screen.getByLabelText('Traffic'));
    await pick(user, 'Metrics', 'Error ratio');
    await pick(user, 'Metrics', 'Rate (records/s)');
    expect(last()).toEqual({
      refId: 'B',
      queryType: 'traffic',
      percentiles: [50, 90, 99.9],
      output: 'latest',
      metrics: ['errorRatio', 'rate'],
    });

    // Distribution answers only with a table: the latest output goes, everything else stays.
    await user.click(screen.getByLabelText('Distribution'));
    expect(last()).toEqual({
      refId: 'B',
      queryType: 'distribution',
      percentiles: [50, 90, 99.9],
      metrics: ['errorRatio', 'rate'],
    });
  });

  it('emits the Feast query types: feature view, entities and their metrics', async () => {
    const { user, last } = setup({ refId: 'K', queryType: 'lookups' });
    expect(screen.getByLabelText('Feature view')).toBeInTheDocument();
    expect(screen.getByLabelText('Entities')).toBeInTheDocument();
    expect(screen.queryByLabelText('Metrics')).not.toBeInTheDocument();
    await user.type(screen.getByLabelText('Feature view'), 'driver_stats{enter}');
    await user.click(screen.getByLabelText('Entities'));
    await user.paste('[{"driver_id": 1001}, {"driver_id": "x"}]');
    await user.keyboard('{Enter}');
    expect(last()).toEqual({
      refId: 'K',
      queryType: 'lookups',
      featureView: 'driver_stats',
      entities: [{ driver_id: 1001 }, { driver_id: 'x' }],
    });
    const entities = screen.getByLabelText('Entities');
    await user.clear(entities);
    await user.paste('[{"driver_id": null}]');
    await user.keyboard('{Enter}');
    expect(await screen.findByText('Entity 1: driver_id must be a number or a string')).toBeInTheDocument();

    await user.click(screen.getByLabelText('Skew'));
    await pick(user, 'Metrics', 'Mismatch share');
    expect(last()).toEqual({
      refId: 'K',
      queryType: 'skew',
      featureView: 'driver_stats',
      entities: [{ driver_id: 1001 }, { driver_id: 'x' }],
      metrics: ['mismatch'],
    });

    // Feature stats takes no entities, and other metrics.
    // Drift against Feast's baseline.
    await user.click(screen.getByLabelText('Drift'));
    await user.click(screen.getByLabelText('Feast baseline'));
    expect(last().reference).toEqual({ kind: 'feast' });

    await user.click(screen.getByLabelText('Feature stats'));
    expect(screen.queryByLabelText('Entities')).not.toBeInTheDocument();
    expect(last()).toEqual({
      refId: 'K',
      queryType: 'featureStats',
      featureView: 'driver_stats',
      reference: { kind: 'feast' },
    });
    await pick(user, 'Metrics', 'Null rate');
    expect(last().metrics).toEqual(['nullRate']);
  });

  it('emits exactly the DESIGN §4 performance query', async () => {
    const { user, last } = setup({ refId: 'P', queryType: 'traffic', model: 'fraud-detector' });
    await user.click(screen.getByLabelText('Performance'));
    for (const label of ['Metrics', 'Average', 'Positive class', 'Score is P of', 'Estimated (CBPE)', 'Window']) {
      expect(screen.getByLabelText(label)).toBeInTheDocument();
    }
    await pick(user, 'Metrics', 'Accuracy');
    await pick(user, 'Metrics', 'F1');
    await pick(user, 'Average', 'Binary (positive class)');
    await user.type(screen.getByLabelText('Positive class'), 'fraud{enter}');
    await pick(user, 'Score is P of', 'Predicted class');
    await user.click(screen.getByLabelText('Estimated (CBPE)'));
    await user.click(screen.getByLabelText('Table'));
    expect(last()).toEqual({
      refId: 'P',
      queryType: 'performance',
      model: 'fraud-detector',
      metrics: ['accuracy', 'f1'],
      average: 'binary',
      positiveClass: 'fraud',
      scoreOf: 'prediction',
      estimated: true,
      output: 'table',
    });
    // The defaults are not written out.
    await pick(user, 'Average', 'Macro');
    await pick(user, 'Score is P of', 'Positive class');
    await user.click(screen.getByLabelText('Estimated (CBPE)'));
    expect(last()).toEqual({
      refId: 'P',
      queryType: 'performance',
      model: 'fraud-detector',
      metrics: ['accuracy', 'f1'],
      positiveClass: 'fraud',
      output: 'table',
    });
  });

  it('emits the data-quality query with its own metrics and thresholds', async () => {
    const { user, last } = setup({ refId: 'Q', queryType: 'traffic', metrics: ['rate'] });
    await user.click(screen.getByLabelText('Data quality'));
    // Traffic metrics are not data-quality metrics: they go.
    expect(last()).toEqual({ refId: 'Q', queryType: 'dataQuality' });
    for (const label of ['Metrics', 'Features', 'Window', 'Thresholds', 'Table', 'Latest']) {
      expect(screen.getByLabelText(label)).toBeInTheDocument();
    }
    expect(screen.queryByLabelText('Methods')).not.toBeInTheDocument();
    await pick(user, 'Metrics', 'Null ratio');
    await pick(user, 'Thresholds', 'nullRatio');
    expect(last()).toEqual({
      refId: 'Q',
      queryType: 'dataQuality',
      metrics: ['nullRatio'],
      thresholds: { nullRatio: { warning: 0.05, drift: 0.2 } },
    });
    const drift = screen.getByLabelText('Drift', { selector: '#ml-threshold-nullRatio-drift' });
    await user.clear(drift);
    await user.type(drift, '0.01{enter}');
    expect(await screen.findByText('Warning (0.05) must be <= drift (0.01)')).toBeInTheDocument();
  }, 180000);

  it('emits the saturation query with its own metrics', async () => {
    const { user, last } = setup({ refId: 'S', queryType: 'dataQuality', metrics: ['nullRatio'] });
    await user.click(screen.getByLabelText('Saturation'));
    expect(last()).toEqual({ refId: 'S', queryType: 'saturation' });
    expect(screen.queryByLabelText('Features')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Thresholds')).not.toBeInTheDocument();
    await pick(user, 'Metrics', 'GPU utilisation (0–1)');
    expect(last()).toEqual({ refId: 'S', queryType: 'saturation', metrics: ['gpu'] });
  }, 180000);

  it('rejects bins outside [2, 1000]', async () => {
    const { user, onChange } = setup({ refId: 'F', queryType: 'distribution' });
    await user.type(screen.getByLabelText('Bins'), '1{enter}');
    expect(await screen.findByText('Bins must be a whole number from 2 to 1000')).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('emits significance, correction and persistence for drift, and rejects a bad persistence', async () => {
    const { user, last, onRunQuery } = setup({
      refId: 'S',
      queryType: 'drift',
      model: 'fraud-detector',
      output: 'latest',
    });
    await user.click(screen.getByLabelText('Significance'));
    expect(last()).toEqual({
      refId: 'S',
      queryType: 'drift',
      model: 'fraud-detector',
      output: 'latest',
      significance: true,
    });
    await user.click(screen.getByLabelText('Benjamini–Hochberg'));
    expect(last().correction).toBe('bh');
    await user.type(screen.getByLabelText('Persistence'), '3{enter}');
    expect(last()).toEqual({
      refId: 'S',
      queryType: 'drift',
      model: 'fraud-detector',
      output: 'latest',
      significance: true,
      correction: 'bh',
      persistence: { windows: 3 },
    });
    expect(onRunQuery).toHaveBeenCalled();
    const calls = onRunQuery.mock.calls.length;
    await user.clear(screen.getByLabelText('Persistence'));
    await user.type(screen.getByLabelText('Persistence'), '0{enter}');
    expect(await screen.findByText('Persistence must be a whole number of windows from 1 to 100')).toBeInTheDocument();
    expect(last().persistence).toEqual({ windows: 3 });
    expect(onRunQuery.mock.calls.length).toBe(calls);
    // Back to none: the field goes; the table output does not take them.
    await user.click(screen.getByLabelText('None'));
    expect(last().correction).toBeUndefined();
    await user.click(screen.getByLabelText('Table'));
    expect(screen.queryByLabelText('Significance')).not.toBeInTheDocument();
  });

  it('flags numeric-only methods over categorical features named in the query', async () => {
    setup({
      refId: 'H',
      queryType: 'drift',
      model: 'fraud-detector',
      features: ['amount', 'merchant_category', 'prediction'],
      methods: ['psi', 'ks_pvalue'],
    });
    // merchant_category is categorical, and so is the fraud-detector prediction (fixtures).
    expect(
      await screen.findByText('ks_pvalue apply to numeric features only, not to merchant_category, prediction')
    ).toBeInTheDocument();
  });

  it('does not flag numeric-only methods over numeric features or all features', async () => {
    setup({ refId: 'I', queryType: 'drift', model: 'fraud-detector', methods: ['ks_pvalue', 'wasserstein'] });
    await waitFor(() => expect(screen.getByLabelText('Methods')).toBeInTheDocument());
    await screen.findByText('ks_pvalue');
    expect(screen.queryByText(/apply to numeric features only/)).not.toBeInTheDocument();
  });

  it('describes each drift method with its kind and default thresholds', async () => {
    const { user } = setup({ refId: 'J', queryType: 'drift' });
    await user.click(screen.getByLabelText('Methods'));
    const menu = await screen.findByLabelText('Select options menu');
    expect(
      within(menu).getByText('KS p-value; numeric features only; warning below 0.15, drift below 0.05')
    ).toBeInTheDocument();
    expect(within(menu).getByText('PSI; warning 0.1, drift 0.25')).toBeInTheDocument();
    expect(within(menu).getByText('Chi-square')).toBeInTheDocument();
  });

  it('flags a status over methods that have no thresholds', async () => {
    const { user } = setup({ refId: 'L', queryType: 'drift', methods: ['tvd', 'status'] });
    const hint =
      'status needs thresholds for tvd (they have no defaults): override them below, or add a method with default thresholds';
    expect(await screen.findByText(hint)).toBeInTheDocument();
    await pick(user, 'Thresholds', 'tvd');
    expect(screen.queryByText(hint)).not.toBeInTheDocument();
  });

  it('overrides the thresholds of a method without defaults, running the query once both are given', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'K', queryType: 'drift', methods: ['tvd', 'status'] });
    await pick(user, 'Thresholds', 'tvd');
    expect(last().thresholds).toEqual({ tvd: {} });
    expect(await screen.findByText('tvd has no default thresholds: give both warning and drift')).toBeInTheDocument();
    await user.type(document.getElementById('ml-threshold-tvd-warning')!, '0.1');
    await user.tab();
    expect(last().thresholds).toEqual({ tvd: { warning: 0.1 } });
    expect(onRunQuery).not.toHaveBeenCalled();
    await user.type(document.getElementById('ml-threshold-tvd-drift')!, '0.2');
    await user.tab();
    expect(last().thresholds).toEqual({ tvd: { warning: 0.1, drift: 0.2 } });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.queryByText(/has no default thresholds/)).not.toBeInTheDocument();
  });

  it('reads the resources of the chosen source', async () => {
    const ds = fixtureDataSource();
    const getResource = jest.spyOn(ds, 'getResource');
    setup({ refId: 'G', queryType: 'drift', model: 'fraud-detector', source: 'prometheus' }, ds);
    await waitFor(() =>
      expect(getResource).toHaveBeenCalledWith('models/fraud-detector/features', { source: 'prometheus' })
    );
    expect(getResource).toHaveBeenCalledWith('models', { source: 'prometheus' });
  });

  it('offers every source, PostgreSQL among them, and reads its resources', async () => {
    const ds = fixtureDataSource();
    const getResource = jest.spyOn(ds, 'getResource');
    const { user, last } = setup({ refId: 'S', queryType: 'latency', model: 'fraud-detector' }, ds);
    await user.click(screen.getByLabelText('Source'));
    const menu = await screen.findByLabelText('Select options menu');
    const labels = within(menu)
      .getAllByRole('option')
      .map((o) => o.textContent ?? '');
    expect(labels).toHaveLength(SOURCES.length);
    await user.click(within(menu).getByText('PostgreSQL', { exact: true }));
    expect(last()).toEqual({ refId: 'S', queryType: 'latency', model: 'fraud-detector', source: 'sql' });
    await waitFor(() => expect(getResource).toHaveBeenCalledWith('models', { source: 'sql' }));
  });

  it('preserves fields it does not know or does not show', async () => {
    const initial = {
      refId: 'C',
      queryType: 'latency',
      datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'abc' },
      intervalMs: 30000,
      hide: false,
      futureOption: { nested: [1, 2] },
      methods: ['psi'],
      binning: { strategy: 'quantile', bins: 5 },
    } as ModelLensQuery;
    const { user, last } = setup(initial);
    await user.click(screen.getByLabelText('Traffic'));
    await pick(user, 'Source', 'Prometheus');
    expect(last()).toEqual({ ...initial, queryType: 'traffic', source: 'prometheus' });
  });

  it('accepts custom models and template variables', async () => {
    const ds = fixtureDataSource({ model: 'fraud-detector', ver: 'v1' });
    const { user, last } = setup({ refId: 'D', queryType: 'health' }, ds);
    await pick(user, 'Model', '$model');
    expect(last().model).toBe('$model');
    await user.type(screen.getByLabelText('Model'), 'my-new-model{enter}');
    expect(last()).toEqual({ refId: 'D', queryType: 'health', model: 'my-new-model' });
    await pick(user, 'Version', '$ver');
    expect(last().version).toBe('$ver');
    await pick(user, 'Version', 'All versions together');
    expect(last()).toEqual({ refId: 'D', queryType: 'health', model: 'my-new-model' });
  });

  it('edits the offset and version references and the multivariate method', async () => {
    const { user, last } = setup({ refId: 'F', queryType: 'drift', model: 'fraud-detector', version: 'v2' });
    // Offset: a default of one day, edited to a week.
    await user.click(screen.getByLabelText('Offset'));
    expect(last().reference).toEqual({ kind: 'offset', offset: '1d' });
    const offset = screen.getByLabelText('Offset', { selector: '#ml-reference-offset' });
    await user.clear(offset);
    await user.type(offset, '7d{enter}');
    expect(last().reference).toEqual({ kind: 'offset', offset: '7d' });
    // Other version: the first version of the model that is not the query's.
    await user.click(screen.getByLabelText('Other version'));
    await waitFor(() => expect(last().reference).toEqual({ kind: 'version', version: 'v1' }));
    expect(screen.queryByLabelText('Offset', { selector: '#ml-reference-offset' })).not.toBeInTheDocument();
    // pca_reconstruction with status needs no thresholds.
    await pick(user, 'Methods', 'pca_reconstruction');
    await pick(user, 'Methods', 'status');
    expect(last().methods).toEqual(['pca_reconstruction', 'status']);
    expect(screen.queryByText(/status needs thresholds/)).not.toBeInTheDocument();
    expect(JSON.parse(JSON.stringify(last()))).toEqual(last());
  }, 180000);

  it('shows an error when the backend cannot list models', async () => {
    const ds = fixtureDataSource();
    ds.getResource = (async () => {
      // What getResource rejects with for a pkg/resources 502 answer.
      throw { status: 502, data: { error: 'prediction log unreachable' } };
    }) as DataSource['getResource'];
    setup({ refId: 'E', queryType: 'traffic' }, ds);
    expect(await screen.findByText(/prediction log unreachable/)).toBeInTheDocument();
  });
});

describe('parsePercentiles', () => {
  it.each([
    ['50, 95, 99', [50, 95, 99]],
    ['99.9 100', [99.9, 100]],
    ['', []],
  ])('parses %p', (text, want) => expect(parsePercentiles(text)).toEqual(want));
  it.each(['0', '-5', '100.1', 'p95', 'NaN'])('rejects %p', (text) =>
    expect(typeof parsePercentiles(text)).toBe('string')
  );
});

describe('thresholdProblem', () => {
  it.each([
    ['psi', { warning: 0.1, drift: 0.25 }, ''],
    ['psi', { warning: 0.3, drift: 0.25 }, 'Warning (0.3) must be <= drift (0.25)'],
    ['psi', { warning: 0.2 }, ''],
    ['psi', { warning: 0.3 }, 'Warning (0.3) must be <= the default drift threshold (0.25); give drift as well'],
    ['psi', { drift: 0.05 }, 'Drift (0.05) must be >= the default warning threshold (0.1); give warning as well'],
    [
      'ks_pvalue',
      { warning: 0.01 },
      'For a p-value, warning (0.01) must be >= the default drift threshold (0.05); give drift as well',
    ],
    ['ks_pvalue', { warning: 0.15, drift: 0.05 }, ''],
    ['ks_pvalue', { warning: 0.01, drift: 0.05 }, 'For a p-value, warning (0.01) must be >= drift (0.05)'],
    ['chi2_pvalue', { warning: 0.05, drift: 0.05 }, ''],
    ['tvd', { warning: 0.1 }, 'tvd has no default thresholds: give both warning and drift'],
    ['tvd', {}, 'tvd has no default thresholds: give both warning and drift'],
    ['tvd', { warning: 0.1, drift: 0.2 }, ''],
  ])('%s %p → %p', (method, t, want) => expect(thresholdProblem(method, t)).toBe(want));
});

describe('metric choices and threshold defaults per query type', () => {
  it('offers exactly the metrics the backend accepts for each type (checked against Go in types.test.ts)', () => {
    expect(metricChoices('traffic').options.map((o) => o.value)).toEqual([...TRAFFIC_METRICS]);
    expect(metricChoices('dataQuality').options.map((o) => o.value)).toEqual([...QUALITY_METRICS]);
    expect(metricChoices('saturation').options.map((o) => o.value)).toEqual([...SATURATION_METRICS]);
  });

  it.each([
    ['nullRatio', { warning: 0.3 }, 'Warning (0.3) must be <= the default drift threshold (0.2); give drift as well'],
    [
      'newCategory',
      { drift: 0.005 },
      'Drift (0.005) must be >= the default warning threshold (0.01); give warning as well',
    ],
    ['typeMismatch', { warning: 0.001, drift: 0.01 }, ''],
  ])('dataQuality %s %p → %p', (metric, t, want) =>
    expect(thresholdProblem(metric, t, thresholdDefaults('dataQuality'))).toBe(want)
  );

  it('keeps only the metrics and threshold keys the new type accepts', () => {
    const dq: ModelLensQuery = {
      refId: 'A',
      queryType: 'dataQuality',
      metrics: ['nullRatio'],
      thresholds: { nullRatio: { warning: 0.1 } },
      features: ['amount', 'latency'],
    };
    expect(withQueryType(dq, 'drift')).toEqual({ refId: 'A', queryType: 'drift', features: ['amount'] });
    expect(withQueryType({ ...dq, queryType: 'distribution' }, 'dataQuality')).toEqual({ ...dq, features: ['amount'] });
    expect(withQueryType({ refId: 'A', queryType: 'traffic', metrics: ['rate', 'errors'] }, 'saturation')).toEqual({
      refId: 'A',
      queryType: 'saturation',
    });
  });
});

describe('withQueryType', () => {
  const drift: ModelLensQuery = {
    refId: 'A',
    queryType: 'drift',
    output: 'table',
    features: ['amount', 'score', '$feature'],
    methods: ['psi'],
  };

  it('keeps the fields the new type takes and the ones it ignores', () => {
    expect(withQueryType(drift, 'distribution')).toEqual({ ...drift, queryType: 'distribution' });
    expect(withQueryType(drift, 'latency')).toEqual({
      refId: 'A',
      queryType: 'latency',
      features: ['amount', 'score', '$feature'],
      methods: ['psi'],
    });
  });

  it('keeps only the model outputs (and variables) as predictions features', () => {
    expect(withQueryType(drift, 'predictions')).toEqual({
      refId: 'A',
      queryType: 'predictions',
      features: ['score', '$feature'],
      methods: ['psi'],
    });
    expect(withQueryType({ refId: 'A', queryType: 'drift', features: ['amount'] }, 'predictions')).toEqual({
      refId: 'A',
      queryType: 'predictions',
    });
  });

  it('keeps only the metrics of the new type between traffic and performance', () => {
    const traffic: ModelLensQuery = { refId: 'A', queryType: 'traffic', metrics: ['rate', 'errorRatio'] };
    expect(withQueryType(traffic, 'performance')).toEqual({ refId: 'A', queryType: 'performance' });
    const perf: ModelLensQuery = { refId: 'A', queryType: 'performance', metrics: ['accuracy'], output: 'table' };
    expect(withQueryType(perf, 'traffic')).toEqual({ refId: 'A', queryType: 'traffic' });
    // Drift takes no metrics: they go, the table output stays.
    expect(withQueryType(perf, 'drift')).toEqual({ refId: 'A', queryType: 'drift', output: 'table' });
  });

  it('drops significance, correction and persistence outside drift time series and latest', () => {
    const q: ModelLensQuery = {
      refId: 'A',
      queryType: 'drift',
      significance: true,
      correction: 'bh',
      persistence: { windows: 3 },
    };
    expect(withQueryType(q, 'latency')).toEqual({ refId: 'A', queryType: 'latency' });
    expect(withQueryType(q, 'drift')).toEqual(q);
    expect(withOutput(q, 'table')).toEqual({ refId: 'A', queryType: 'drift', output: 'table' });
    expect(withOutput(q, 'latest')).toEqual({ ...q, output: 'latest' });
  });

  it('drops latency, a distribution-only feature, when switching to drift', () => {
    const dist: ModelLensQuery = { refId: 'A', queryType: 'distribution', features: ['latency', 'amount'] };
    expect(withQueryType(dist, 'drift')).toEqual({ refId: 'A', queryType: 'drift', features: ['amount'] });
    expect(withQueryType({ refId: 'A', queryType: 'distribution', features: ['latency'] }, 'drift')).toEqual({
      refId: 'A',
      queryType: 'drift',
    });
  });
});

describe('parseEntities', () => {
  it.each([
    ['', undefined],
    ['[{"driver_id": 1001}]', [{ driver_id: 1001 }]],
    ['[{"zip": "10001", "driver_id": 7}]', [{ zip: '10001', driver_id: 7 }]],
    ['{"driver_id": 1}', 'Entities must be a list of join-key objects such as [{"driver_id": 1001}]'],
    ['[{}]', 'Entity 1 must be an object of join keys such as {"driver_id": 1001}'],
    ['[1]', 'Entity 1 must be an object of join keys such as {"driver_id": 1001}'],
    ['[{"a": true}]', 'Entity 1: a must be a number or a string'],
    ['[{"a":', 'Entities must be JSON: a list of join-key objects such as [{"driver_id": 1001}]'],
  ])('%s', (text, want) => expect(parseEntities(text)).toEqual(want));
});

describe('withQueryType and the Feast query types', () => {
  it('drops metrics of another vocabulary and entities where they do not apply', () => {
    const q: ModelLensQuery = { refId: 'A', queryType: 'skew', metrics: ['mismatch'], entities: [{ driver_id: 1 }] };
    expect(withQueryType(q, 'lookups')).toEqual({ refId: 'A', queryType: 'lookups', entities: [{ driver_id: 1 }] });
    expect(withQueryType(q, 'featureStats')).toEqual({ refId: 'A', queryType: 'featureStats' });
    expect(withQueryType({ refId: 'A', queryType: 'traffic', metrics: ['rate', 'count'] }, 'featureStats')).toEqual({
      refId: 'A',
      queryType: 'featureStats',
    });
  });

  it('keeps only the freshness measures as freshness thresholds, and none of them elsewhere', () => {
    const drift: ModelLensQuery = { refId: 'A', queryType: 'drift', thresholds: { psi: { warning: 0.2 } } };
    expect(withQueryType(drift, 'freshness')).toEqual({ refId: 'A', queryType: 'freshness' });
    const fresh: ModelLensQuery = {
      refId: 'A',
      queryType: 'freshness',
      featureView: 'driver_hourly_stats',
      thresholds: { sinceNewestEvent: { warning: 60 }, psi: { warning: 0.2 } },
    };
    expect(withQueryType(fresh, 'freshness').thresholds).toEqual({ sinceNewestEvent: { warning: 60 } });
    expect(withQueryType(fresh, 'drift').thresholds).toEqual({ psi: { warning: 0.2 } });
  });
});

describe('QueryEditor and freshness', () => {
  it('shows one Feast field set: the feature view picker and the ages, running once they are valid', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'F', queryType: 'lookups', entities: [{ driver_id: 1 }] });
    await user.click(screen.getByLabelText('Freshness'));
    expect(last()).toEqual({ refId: 'F', queryType: 'freshness' });
    expect(screen.getAllByLabelText('Feature view')).toHaveLength(1);
    expect(screen.queryByLabelText('Entities')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Thresholds')).not.toBeInTheDocument();
    await pick(user, 'Feature view', 'driver_hourly_stats');
    expect(last()).toEqual({ refId: 'F', queryType: 'freshness', featureView: 'driver_hourly_stats' });

    // A single level runs the query (the other is the view's ttl); warning after stale does not.
    onRunQuery.mockClear();
    await user.type(screen.getByLabelText('Event age: warning after (s)'), '600{enter}');
    expect(last().thresholds).toEqual({ sinceNewestEvent: { warning: 600 } });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    await user.type(screen.getByLabelText('Event age: stale after (s)'), '60{enter}');
    expect(last().thresholds).toEqual({ sinceNewestEvent: { warning: 600, drift: 60 } });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(
      await screen.findByText('sinceNewestEvent: warning after 600 s must not be later than stale after 60 s')
    ).toBeInTheDocument();
  });
});
