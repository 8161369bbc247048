import React, { useState } from 'react';
import { DataSourceSettings } from '@grafana/data';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { ConfigEditor, settingsBlank, urlProblem } from './ConfigEditor';
import { ModelLensOptions, ModelLensSecureOptions } from '../types';

type Settings = DataSourceSettings<ModelLensOptions, ModelLensSecureOptions>;

// Rendering @grafana/ui on a busy CI machine is slow; this limit only stops a hung test.
jest.setTimeout(60000);

function settings(patch: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'ml',
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
    secureJsonFields: {},
    ...patch,
  } as Settings;
}

/** Renders the editor as Grafana does: the settings page keeps the options and passes changes back. */
function setup(initial: Settings) {
  const onOptionsChange = jest.fn();
  function Host() {
    const [options, setOptions] = useState(initial);
    return (
      <ConfigEditor
        options={options}
        onOptionsChange={(o) => {
          onOptionsChange(o);
          setOptions(o);
        }}
      />
    );
  }
  const user = userEvent.setup({ delay: null });
  render(<Host />);
  const last = (): Settings => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { user, last, onOptionsChange };
}

async function pick(user: ReturnType<typeof userEvent.setup>, label: string, option: string) {
  await user.click(screen.getByLabelText(label));
  const menu = await screen.findByLabelText('Select options menu');
  await user.click(within(menu).getByText(option, { exact: true }));
}

describe('ConfigEditor', () => {
  it('writes every DESIGN §3 setting into jsonData and the tokens into secureJsonData', async () => {
    const { user, last } = setup(settings({ jsonData: { oauthPassThru: false } as ModelLensOptions }));

    // Nothing configured: the demo fleet is on, and the editor says why; turning it off writes an
    // explicit false and warns that nothing serves until a source is set.
    expect(screen.getByLabelText('Demo fleet')).toBeChecked();
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent('On, because nothing is set.');
    expect(screen.queryByText('No source configured')).not.toBeInTheDocument();
    await user.click(screen.getByLabelText('Demo fleet'));
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent('Off.');
    expect(screen.getByText('No source configured')).toBeInTheDocument();

    await user.type(screen.getAllByLabelText('URL')[0], 'http://predlog:8080/api/v1');
    await user.type(screen.getAllByLabelText('Token')[0], 'pl-secret');
    await user.type(screen.getAllByLabelText('URL')[1], 'https://mimir.example.com/prometheus');
    await user.type(screen.getAllByLabelText('Token')[1], 'prom-secret');
    await pick(user, 'Preset', 'KServe');
    await user.type(screen.getByLabelText('Model label'), 'model_name');
    await user.type(screen.getByLabelText('Version label'), 'model_version');
    await user.type(screen.getByLabelText('Tenant ID'), 'team-ml');

    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    await user.type(screen.getByLabelText('Name'), 'fraud');
    await user.type(screen.getAllByLabelText('URL')[2], 'http://fraud.models:8080');
    await pick(user, 'Protocol', 'Triton');
    await user.type(screen.getByLabelText('Endpoint token'), 'ep-secret');

    await user.type(screen.getByLabelText('Timeout (seconds)'), '45');
    await user.tab();
    await user.type(screen.getByLabelText('Max samples'), '250000');
    await user.type(screen.getByLabelText('Max reference samples'), '300000');
    await user.tab();

    const got = last();
    expect(got.jsonData).toEqual({
      oauthPassThru: false,
      demo: false,
      predictionLog: { url: 'http://predlog:8080/api/v1' },
      prometheus: {
        url: 'https://mimir.example.com/prometheus',
        preset: 'kserve',
        modelLabel: 'model_name',
        versionLabel: 'model_version',
        tenantId: 'team-ml',
      },
      endpoints: [{ name: 'fraud', url: 'http://fraud.models:8080', protocol: 'triton' }],
      timeoutSeconds: 45,
      maxSamples: 250000,
      maxReferenceSamples: 300000,
    });
    expect(got.secureJsonData).toEqual({
      predictionLogToken: 'pl-secret',
      prometheusToken: 'prom-secret',
      endpointToken: 'ep-secret',
    });
    // Secrets never travel in jsonData.
    expect(JSON.stringify(got.jsonData)).not.toMatch(/secret/);
  });

  it('resets a configured secret and keeps the others', async () => {
    const { user, last } = setup(
      settings({
        jsonData: { prometheus: { url: 'http://prom:9090' } },
        secureJsonFields: { prometheusToken: true, predictionLogToken: true },
      })
    );
    // Configured secrets show as configured, not as values.
    const resets = screen.getAllByRole('button', { name: 'Reset' });
    expect(resets).toHaveLength(2);
    await user.click(resets[1]);
    expect(last().secureJsonFields).toEqual({ prometheusToken: false, predictionLogToken: true });
    expect(last().secureJsonData).toEqual({ prometheusToken: '' });
    // With a source configured and no explicit choice, demo is off.
    expect(screen.getByLabelText('Demo fleet')).not.toBeChecked();
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent('Off, because a source is configured.');
  });

  it('removes endpoints and clears emptied settings', async () => {
    const { user, last } = setup(
      settings({
        jsonData: {
          endpoints: [
            { name: 'a', url: 'http://a:8080', protocol: 'oip' },
            { name: 'b', url: 'http://b:8080', protocol: 'metrics' },
          ],
          prometheus: { url: 'http://prom:9090', tenantId: 't' },
          timeoutSeconds: 10,
        },
      })
    );
    await user.click(screen.getByRole('button', { name: 'Remove endpoint a' }));
    expect(last().jsonData.endpoints).toEqual([{ name: 'b', url: 'http://b:8080', protocol: 'metrics' }]);
    await user.click(screen.getByRole('button', { name: 'Remove endpoint b' }));
    expect('endpoints' in last().jsonData).toBe(false);

    await user.clear(screen.getByLabelText('Tenant ID'));
    expect(last().jsonData.prometheus).toEqual({ url: 'http://prom:9090' });
    await user.clear(screen.getByLabelText('Timeout (seconds)'));
    await user.tab();
    expect('timeoutSeconds' in last().jsonData).toBe(false);
  });

  it('rejects invalid limits and flags bad URLs without writing them as numbers', async () => {
    const { user, last, onOptionsChange } = setup(settings());
    await user.type(screen.getByLabelText('Timeout (seconds)'), '900');
    await user.tab();
    expect(await screen.findByText('Must be a number of seconds in (0, 600]')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Max samples'), '1.5');
    await user.tab();
    expect(await screen.findByText('Must be a positive whole number')).toBeInTheDocument();
    expect(onOptionsChange).not.toHaveBeenCalled();

    await user.type(screen.getAllByLabelText('URL')[0], 'ftp://x');
    expect(await screen.findByText('Must start with http:// or https://')).toBeInTheDocument();
    expect(last().jsonData.predictionLog).toEqual({ url: 'ftp://x' });
  });

  it('offers basic auth through the standard HTTP auth settings', async () => {
    const { user, last } = setup(settings());
    await pick(user, 'Authentication method', 'Basic authentication');
    expect(last().basicAuth).toBe(true);
    await user.type(screen.getByLabelText(/^User/), 'grafana');
    expect(last().basicAuthUser).toBe('grafana');
    await user.type(screen.getByLabelText(/^Password/), 'pw');
    expect(last().secureJsonData).toEqual({ basicAuthPassword: 'pw' });
  });
});

describe('urlProblem', () => {
  it.each([
    ['', ''],
    ['http://prom:9090', ''],
    ['https://x.example.com/a/b', ''],
    ['prom:9090', 'Must start with http:// or https://'],
    ['not a url', 'Not a valid URL'],
    ['http://user:pw@prom:9090', 'Must not contain credentials; use the token or basic-auth settings'],
  ])('%p → %p', (url, want) => expect(urlProblem(url)).toBe(want));
});

describe('the demo fleet, as pkg/settings decides it', () => {
  // The cases of TestDemoOnlyWhenAskedOrBlank (pkg/settings): blankness decides when demo is unset.
  it.each([
    [{}, true],
    [{ oauthPassThru: false, tlsAuth: false, tlsAuthWithCACert: false, serverName: '' }, true],
    [{ predictionLog: {}, prometheus: { url: '' }, endpoints: [] }, true],
    [{ demo: false }, true],
    [{ timeoutSeconds: 10 }, false],
    [{ prometheus: { preset: 'kserve' } }, false],
    [{ predictionLog: { url: '' }, maxSamples: 5 }, false],
    [{ tlsSkipVerify: true }, false],
  ])('%j sets nothing: %s', (jsonData, blank) => {
    expect(settingsBlank(jsonData)).toBe(blank);
  });

  it('has one Feast section: its settings in jsonData.feast, its passwords as secrets, the registry as a source', async () => {
    const { user, last } = setup(
      settings({
        jsonData: { feast: { project: 'rides', registry: { path: '/var/lib/feast/registry.db' } } },
        secureJsonFields: { feastOnlinePassword: true },
      })
    );
    expect(screen.getAllByText('Feast feature store')).toHaveLength(1);
    // A Feast registry is a source: the demo fleet is off by default.
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent('Off, because a source is configured.');
    await pick(user, 'Online store', 'PostgreSQL');
    await user.type(screen.getByLabelText('Online address'), 'postgres://feast@db/online');
    expect(last().jsonData.feast).toEqual({
      project: 'rides',
      registry: { path: '/var/lib/feast/registry.db' },
      onlineStore: { type: 'postgres', address: 'postgres://feast@db/online' },
    });
    // The stored online password shows as configured; the offline one is typed in.
    expect(screen.getByRole('button', { name: 'Reset' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('Offline store'), 'postgres://feast@db/offline');
    await user.type(screen.getByLabelText('Offline password'), 's3cret');
    expect(last().secureJsonData).toEqual({ feastOfflinePassword: 's3cret' });
    expect(JSON.stringify(last().jsonData)).not.toMatch(/s3cret/);
  });

  it('is off, with a warning, for settings without a source', () => {
    setup(settings({ jsonData: { timeoutSeconds: 10 } }));
    expect(screen.getByLabelText('Demo fleet')).not.toBeChecked();
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent(
      'Off: settings without a source never fall back to the synthetic demo fleet.'
    );
    expect(screen.getByText('No source configured')).toBeInTheDocument();
  });
});
