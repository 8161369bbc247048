import { DataQueryRequest } from '@grafana/data';
import { lastValueFrom } from 'rxjs';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React, { useState } from 'react';

import { DataSource } from './datasource';
import { FakeTemplateSrv, fixtureResource, instanceSettings } from './__fixtures__/fixtures';
import { FeastFields, freshnessThresholdProblem, parseSeconds } from './components/FeastFields';
import { ModelLensQuery, ModelLensVariableQuery } from './types';
import { parseVariableQuery } from './variableQuery';
import { ModelLensVariableSupport } from './variables';

jest.setTimeout(60000);

function feastDataSource(vars: Record<string, string> = {}): { ds: DataSource; paths: string[] } {
  const ds = new DataSource(instanceSettings(), new FakeTemplateSrv(vars));
  const paths: string[] = [];
  ds.getResource = (async (path: string) => {
    paths.push(path);
    return fixtureResource(path);
  }) as DataSource['getResource'];
  return { ds, paths };
}

async function runVariable(ds: DataSource, query: unknown) {
  const request = { targets: [query], scopedVars: {} } as unknown as DataQueryRequest<ModelLensVariableQuery>;
  const res = await lastValueFrom((ds.variables as ModelLensVariableSupport).query(request));
  return res.data;
}

describe('Feast template variables', () => {
  it('lists feature views, the features of a view and the entities’ join keys', async () => {
    const { ds, paths } = feastDataSource({ view: 'driver_hourly_stats' });
    expect(await runVariable(ds, { type: 'featureViews' })).toEqual([
      { text: 'driver_hourly_stats', value: 'driver_hourly_stats' },
      { text: 'zipcode_features', value: 'zipcode_features' },
    ]);
    expect(await runVariable(ds, 'featureViewFeatures($view)')).toEqual([
      { text: 'conv_rate', value: 'conv_rate' },
      { text: 'trips', value: 'trips' },
    ]);
    expect(paths).toContain('feast/featureViews/driver_hourly_stats');
    expect(await runVariable(ds, { type: 'featureViewFeatures' })).toHaveLength(3);
    expect(await runVariable(ds, 'entities')).toEqual([
      { text: 'driver_id', value: 'driver_id' },
      { text: 'zipcode', value: 'zipcode' },
    ]);
  });

  it('parses the string forms', () => {
    expect(parseVariableQuery('featureViews')).toEqual({ refId: 'ModelLensVariableQuery', type: 'featureViews' });
    expect(parseVariableQuery('featureViewFeatures(zipcode_features)')).toEqual({
      refId: 'ModelLensVariableQuery',
      type: 'featureViewFeatures',
      featureView: 'zipcode_features',
    });
  });
});

function setup(initial: ModelLensQuery, flags = { featureView: true, entities: false, freshnessThresholds: true }) {
  const { ds } = feastDataSource({ view: 'zipcode_features' });
  const onChange = jest.fn();
  function Host() {
    const [query, setQuery] = useState(initial);
    return (
      <FeastFields
        query={query}
        datasource={ds}
        labelWidth={14}
        {...flags}
        onChange={(q) => {
          onChange(q);
          setQuery(q);
        }}
      />
    );
  }
  render(<Host />);
  const user = userEvent.setup({ delay: null });
  const last = (): ModelLensQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { user, last, onChange };
}

describe('FeastFields', () => {
  it('offers the feature views of GET feast/featureViews and the variables', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'freshness' });
    await user.click(screen.getByLabelText('Feature view'));
    await waitFor(() => expect(screen.getByText('driver_hourly_stats')).toBeInTheDocument());
    expect(screen.getByText('ttl 129600 s')).toBeInTheDocument();
    expect(screen.getByText('$view')).toBeInTheDocument();
    await user.click(screen.getByText('zipcode_features'));
    expect(last()).toEqual({ refId: 'A', queryType: 'freshness', featureView: 'zipcode_features' });
    await user.click(screen.getByLabelText('Feature view'));
    await user.click(screen.getByText('All feature views'));
    expect(last()).toEqual({ refId: 'A', queryType: 'freshness' });
  });

  it('writes the warning and stale ages of both freshness measures', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'freshness', featureView: 'driver_hourly_stats' });
    await user.type(screen.getByLabelText('Event age: warning after (s)'), '3600{enter}');
    expect(last().thresholds).toEqual({ sinceNewestEvent: { warning: 3600 } });
    await user.type(screen.getByLabelText('Event age: stale after (s)'), '7200{enter}');
    await user.type(screen.getByLabelText('Materialized age: stale after (s)'), '86400{enter}');
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'freshness',
      featureView: 'driver_hourly_stats',
      thresholds: { sinceNewestEvent: { warning: 3600, drift: 7200 }, sinceMaterialized: { drift: 86400 } },
    });

    // A warning later than stale is what the backend rejects: the editor says so.
    await user.clear(screen.getByLabelText('Event age: warning after (s)'));
    await user.type(screen.getByLabelText('Event age: warning after (s)'), '9000{enter}');
    expect(
      await screen.findByText('sinceNewestEvent: warning after 9000 s must not be later than stale after 7200 s')
    ).toBeInTheDocument();

    // Not a number of seconds: nothing is written.
    const before = last();
    await user.type(screen.getByLabelText('Materialized age: warning after (s)'), '1h{enter}');
    expect(await screen.findByText('"1h" is not a number of seconds >= 0')).toBeInTheDocument();
    expect(last()).toBe(before);

    // Clearing both levels of a measure removes it, and the last one removes thresholds.
    await user.clear(screen.getByLabelText('Materialized age: stale after (s)'));
    await user.tab();
    expect(last().thresholds).toEqual({ sinceNewestEvent: { warning: 9000, drift: 7200 } });
  });

  it('says why the feature views cannot be listed', async () => {
    const ds = new DataSource(instanceSettings(), new FakeTemplateSrv());
    ds.getResource = (async () => {
      throw { data: { error: 'no Feast registry is configured (feast.registry)' } };
    }) as DataSource['getResource'];
    render(
      <FeastFields
        query={{ refId: 'A', queryType: 'lookups' }}
        datasource={ds}
        labelWidth={14}
        featureView
        entities
        freshnessThresholds={false}
        onChange={() => {}}
      />
    );
    expect(
      await screen.findByText('Could not list feature views: no Feast registry is configured (feast.registry)')
    ).toBeInTheDocument();
    expect(screen.getByLabelText('Entities')).toBeInTheDocument();
    expect(screen.queryByLabelText('Event age: warning after (s)')).not.toBeInTheDocument();
  });

  it('parses seconds', () => {
    expect(parseSeconds('')).toBeUndefined();
    expect(parseSeconds(' 3600 ')).toBe(3600);
    expect(parseSeconds('-1')).toBe('"-1" is not a number of seconds >= 0');
    expect(parseSeconds('1h')).toBe('"1h" is not a number of seconds >= 0');
  });

  it.each([
    ['sinceNewestEvent', { warning: 10 }, ''],
    ['sinceMaterialized', { drift: 0 }, ''],
    ['sinceNewestEvent', { warning: 10, drift: 10 }, ''],
    ['sinceNewestEvent', {}, 'sinceNewestEvent needs a warning age, a stale age or both'],
    [
      'sinceNewestEvent',
      { warning: 20, drift: 10 },
      'sinceNewestEvent: warning after 20 s must not be later than stale after 10 s',
    ],
    ['ttl', { warning: 1 }, 'ttl is not a freshness measure (one of sinceNewestEvent, sinceMaterialized)'],
  ])('freshness threshold %s %j', (m, t, want) => expect(freshnessThresholdProblem(m, t)).toBe(want));
});
