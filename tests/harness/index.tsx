// A page that renders the ModelLens editors outside Grafana, for the browser test
// (tests/browser/editors.test.mjs). The data source is the real one; its getResource answers from
// the same fixtures as the jest tests, as the Go resource handlers would.
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme, DataSourceSettings, ThemeContext } from '@grafana/data';
import { GlobalStyles } from '@grafana/ui';

import { ConfigEditor } from '../../src/components/ConfigEditor';
import { QueryEditor } from '../../src/components/QueryEditor';
import { fixtureDataSource } from '../../src/__fixtures__/fixtures';
import { ModelLensOptions, ModelLensQuery, ModelLensSecureOptions } from '../../src/types';

const theme = createTheme({ colors: { mode: 'dark' } });
const datasource = fixtureDataSource({ model: 'fraud-detector', version: 'v2' });

const initialSettings = {
  id: 1,
  uid: 'modellens',
  orgId: 1,
  name: 'ModelLens',
  type: 'modellens-mlmonitoring-datasource',
  typeName: 'ModelLens',
  typeLogoUrl: '',
  access: 'proxy',
  url: '',
  user: '',
  database: '',
  basicAuth: false,
  basicAuthUser: '',
  isDefault: false,
  withCredentials: false,
  readOnly: false,
  jsonData: {},
  secureJsonFields: { prometheusToken: true },
} as unknown as DataSourceSettings<ModelLensOptions, ModelLensSecureOptions>;

function QueryPanel() {
  const [query, setQuery] = useState<ModelLensQuery>({
    refId: 'A',
    datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'modellens' },
    ...datasource.getDefaultQuery('panel-editor' as never),
  });
  const [runs, setRuns] = useState(0);
  return (
    <section>
      <h2>Query editor</h2>
      <QueryEditor query={query} datasource={datasource} onChange={setQuery} onRunQuery={() => setRuns((n) => n + 1)} />
      <pre data-testid="query-json">{JSON.stringify(query, null, 2)}</pre>
      <p data-testid="query-runs">{runs}</p>
    </section>
  );
}

function ConfigPanel() {
  const [options, setOptions] = useState(initialSettings);
  return (
    <section>
      <h2>Config editor</h2>
      <ConfigEditor options={options} onOptionsChange={setOptions} />
      <pre data-testid="config-json">
        {JSON.stringify(
          {
            jsonData: options.jsonData,
            secureJsonData: options.secureJsonData ?? {},
            secureJsonFields: options.secureJsonFields,
            basicAuth: options.basicAuth,
            basicAuthUser: options.basicAuthUser,
          },
          null,
          2
        )}
      </pre>
    </section>
  );
}

function App() {
  const page = new URLSearchParams(window.location.search).get('page') ?? 'query';
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <main style={{ padding: 16 }}>{page === 'config' ? <ConfigPanel /> : <QueryPanel />}</main>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
