import { CoreApp, DataQueryRequest } from '@grafana/data';
import { lastValueFrom } from 'rxjs';

import { DataSource } from './datasource';
import { FakeTemplateSrv, fixtureDataSource, instanceSettings } from './__fixtures__/fixtures';
import { ModelLensQuery, ModelLensVariableQuery } from './types';
import { parseVariableQuery } from './variableQuery';
import { ModelLensVariableSupport } from './variables';

describe('DataSource', () => {
  it('defaults new queries to traffic rate', () => {
    const ds = new DataSource(instanceSettings(), new FakeTemplateSrv());
    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ queryType: 'traffic', metrics: ['rate'] });
    // Every call gives a fresh object: editing one query's defaults never edits another's.
    const a = ds.getDefaultQuery(CoreApp.PanelEditor);
    a.metrics!.push('count');
    expect(ds.getDefaultQuery(CoreApp.PanelEditor).metrics).toEqual(['rate']);
  });

  it('skips hidden queries and queries without a known query type', () => {
    const ds = new DataSource(instanceSettings(), new FakeTemplateSrv());
    expect(ds.filterQuery({ refId: 'A', queryType: 'latency' })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', queryType: 'latency', hide: true })).toBe(false);
    expect(ds.filterQuery({ refId: 'A' })).toBe(false);
    expect(ds.filterQuery({ refId: 'A', queryType: 'nonsense' as ModelLensQuery['queryType'] })).toBe(false);
  });

  describe('applyTemplateVariables', () => {
    const vars = {
      model: 'fraud-detector',
      version: 'v2',
      oneFeature: ['amount'],
      features: ['amount', 'hour'],
      allFeatures: '$__all',
      versions: ['v1', 'v2'],
      win: '15m',
      refFrom: 'now-14d',
    };
    const ds = new DataSource(instanceSettings(), new FakeTemplateSrv(vars));

    it('interpolates model, version, window, features and the reference window, keeping other fields', () => {
      const q: ModelLensQuery = {
        refId: 'A',
        queryType: 'drift',
        model: '$model',
        version: '${version}',
        window: '$win',
        features: ['$features', 'prediction', 'amount'],
        methods: ['psi'],
        reference: { kind: 'window', from: '$refFrom', to: 'now-7d' },
        binning: { strategy: 'quantile', bins: 20 },
        datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'x' },
      };
      expect(ds.applyTemplateVariables(q, {})).toEqual({
        refId: 'A',
        queryType: 'drift',
        model: 'fraud-detector',
        version: 'v2',
        window: '15m',
        features: ['amount', 'hour', 'prediction'],
        methods: ['psi'],
        reference: { kind: 'window', from: 'now-14d', to: 'now-7d' },
        binning: { strategy: 'quantile', bins: 20 },
        datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'x' },
      });
      // The stored query is not modified.
      expect(q.model).toBe('$model');
      expect(q.reference!.from).toBe('$refFrom');
    });

    it('turns several versions into one series per version, and the All value into all versions together', () => {
      expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'latency', version: '$versions' }, {}).version).toBe(
        '*'
      );
      // The bundled dashboards' version variable has the custom All value $__all.
      expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'latency', version: '$allFeatures' }, {})).toEqual({
        refId: 'A',
        queryType: 'latency',
        version: '',
      });
      expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'latency', model: '$allFeatures' }, {}).model).toBe(
        '*'
      );
      expect(ds.applyTemplateVariables({ refId: 'A', queryType: 'latency', version: '$oneFeature' }, {}).version).toBe(
        'amount'
      );
    });

    it('drops features for All or *, so the backend uses every feature', () => {
      const all = ds.applyTemplateVariables({ refId: 'A', queryType: 'drift', features: ['$allFeatures'] }, {});
      expect(all).toEqual({ refId: 'A', queryType: 'drift' });
      const star = ds.applyTemplateVariables({ refId: 'A', queryType: 'drift', features: ['amount', '*'] }, {});
      expect('features' in star).toBe(false);
    });

    it('prefers scoped variables (repeated panels) over dashboard ones', () => {
      const out = ds.applyTemplateVariables(
        { refId: 'A', queryType: 'traffic', model: '$model' },
        {
          model: { text: 'churn-model', value: 'churn-model' },
        }
      );
      expect(out.model).toBe('churn-model');
    });

    it('interpolates the positive class of a performance query', () => {
      const ds = new DataSource(instanceSettings(), new FakeTemplateSrv({ positive: 'fraud' }));
      const q: ModelLensQuery = { refId: 'A', queryType: 'performance', positiveClass: '$positive', estimated: true };
      expect(ds.applyTemplateVariables(q, {})).toEqual({ ...q, positiveClass: 'fraud' });
    });

    it('leaves a query without template fields as it is', () => {
      const q: ModelLensQuery = { refId: 'B', queryType: 'endpoints' };
      expect(ds.applyTemplateVariables(q, {})).toEqual({ refId: 'B', queryType: 'endpoints' });
    });
  });

  describe('resources', () => {
    it('reads models, versions and features, URL-encoding the model', async () => {
      const ds = fixtureDataSource({ model: 'fraud-detector' });
      const spy = jest.spyOn(ds, 'getResource');
      expect((await ds.getModels()).map((m) => m.name)).toEqual(['fraud-detector', 'churn-model']);
      expect(await ds.getVersions('$model')).toEqual(['v1', 'v2']);
      expect(spy).toHaveBeenLastCalledWith('models/fraud-detector/versions');
      expect((await ds.getFeatures('churn-model')).map((f) => f.name)).toEqual(['tenure_months', 'plan']);
      await expect(ds.getVersions('a/b c')).rejects.toThrow('model "a/b c" not found');
      expect(spy).toHaveBeenLastCalledWith('models/a%2Fb%20c/versions');
    });

    it('answers for every model when the model is empty or *', async () => {
      const ds = fixtureDataSource();
      expect(await ds.getVersions('')).toEqual(['v1', 'v2', '2024-06', '2024-09']);
      expect((await ds.getFeatures('*')).map((f) => f.name)).toEqual([
        'amount',
        'merchant_category',
        'hour',
        'tenure_months',
        'plan',
      ]);
    });

    it('treats a malformed resource answer as empty rather than failing later', async () => {
      const ds = fixtureDataSource();
      ds.getResource = (async () => ({ unexpected: true })) as DataSource['getResource'];
      expect(await ds.getModels()).toEqual([]);
      expect(await ds.getVersions('x')).toEqual([]);
      expect(await ds.getFeatures('x')).toEqual([]);
    });
  });

  describe('template variables', () => {
    const run = async (ds: DataSource, query: unknown) => {
      const request = {
        targets: [query],
        scopedVars: {},
      } as unknown as DataQueryRequest<ModelLensVariableQuery>;
      expect(ds.variables).toBeInstanceOf(ModelLensVariableSupport);
      const res = await lastValueFrom((ds.variables as ModelLensVariableSupport).query(request));
      return res.data;
    };

    it('lists models, versions of a model and its features as {text, value}', async () => {
      const ds = fixtureDataSource({ model: 'churn-model' });
      expect(await run(ds, { refId: 'V', type: 'models' })).toEqual([
        { text: 'fraud-detector', value: 'fraud-detector' },
        { text: 'churn-model', value: 'churn-model' },
      ]);
      expect(await run(ds, { refId: 'V', type: 'versions', model: '$model' })).toEqual([
        { text: '2024-06', value: '2024-06' },
        { text: '2024-09', value: '2024-09' },
      ]);
      expect(await run(ds, { refId: 'V', type: 'features', model: 'fraud-detector' })).toEqual([
        { text: 'amount', value: 'amount' },
        { text: 'merchant_category', value: 'merchant_category' },
        { text: 'hour', value: 'hour' },
      ]);
    });

    it('accepts the dashboard JSON form without refId and the string form', async () => {
      const ds = fixtureDataSource({ model: 'fraud-detector' });
      expect(await run(ds, { type: 'versions', model: '$model' })).toHaveLength(2);
      expect(await run(ds, 'versions($model)')).toEqual([
        { text: 'v1', value: 'v1' },
        { text: 'v2', value: 'v2' },
      ]);
    });

    it('rejects an unknown variable query with a clear error', async () => {
      const ds = fixtureDataSource();
      await expect(run(ds, { type: 'labels' })).rejects.toThrow('unknown ModelLens variable query type "labels"');
      expect(() => parseVariableQuery('select *')).toThrow(
        'use models, versions(<model>), features(<model>), featureViews, featureViewFeatures(<view>) or entities'
      );
    });
  });
});
