import React, { useState } from 'react';
import { DataSourceSettings } from '@grafana/data';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { ConfigEditor } from './ConfigEditor';
import { DEFAULT_SQL_COLUMNS, pruneSQL, sqlUrlProblem, SQLColumn } from './PostgresSection';
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

/** Renders the whole config editor as Grafana does: the page keeps the options. */
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

const input = (id: string) => {
  const el = document.getElementById(id);
  if (!el) {
    throw new Error(`no element #${id}`);
  }
  return el as HTMLInputElement;
};

/** Enters text with one input event (typing it key by key re-renders the whole editor per key). */
async function fill(user: ReturnType<typeof userEvent.setup>, id: string, text: string) {
  await user.click(input(id));
  await user.paste(text);
}

const COLUMNS = Object.keys(DEFAULT_SQL_COLUMNS) as SQLColumn[];

describe('the PostgreSQL section of the config editor', () => {
  it('writes sql.* into jsonData and the password into secureJsonData only', async () => {
    const { user, last } = setup(settings());

    await fill(user, 'ml-sql-url', 'postgres://grafana@db:5432/ml?sslmode=require');
    await fill(user, 'ml-sqlPassword', 'pg-secret');
    await fill(user, 'ml-sql-error-status', 'FAILED');
    await fill(user, 'ml-sql-max-connections', '8');
    await user.tab();

    // The table mappings are folded until opened.
    expect(document.getElementById('ml-sql-records-table')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Expand section Records table' }));
    await fill(user, 'ml-sql-records-table', 'ml.prediction_log');
    await fill(user, 'ml-sql-records-ts', 'created_at');
    await fill(user, 'ml-sql-records-latencyMs', 'duration_ms');
    await user.click(screen.getByLabelText('The records table has no label_ts column'));
    for (const name of ['amount', 'country']) {
      await fill(user, 'ml-sql-records-feature-columns', name);
      await user.keyboard('{Enter}');
    }

    await user.click(screen.getByRole('button', { name: 'Expand section Reference table' }));
    await fill(user, 'ml-sql-reference-table', 'ml.training_sample');
    await user.click(screen.getByLabelText('The reference table has no ts column'));

    const got = last();
    expect(got.jsonData).toEqual({
      sql: {
        url: 'postgres://grafana@db:5432/ml?sslmode=require',
        errorStatus: 'FAILED',
        maxConnections: 8,
        records: {
          table: 'ml.prediction_log',
          columns: { ts: 'created_at', latencyMs: 'duration_ms', labelTs: '' },
          featureColumns: ['amount', 'country'],
        },
        reference: { table: 'ml.training_sample', columns: { ts: '' } },
      },
    });
    expect(got.secureJsonData).toEqual({ sqlPassword: 'pg-secret' });
    expect(JSON.stringify(got.jsonData)).not.toMatch(/secret/);
    // A PostgreSQL URL is a source: the demo fleet is off without an explicit choice.
    expect(screen.getByTestId('ml-demo-state')).toHaveTextContent('Off, because a source is configured.');
    expect(screen.queryByText('No source configured')).not.toBeInTheDocument();
  });

  it('shows the default table and column names as placeholders', async () => {
    const { user } = setup(settings());
    expect(input('ml-sql-url')).toHaveValue('');
    expect(input('ml-sql-error-status')).toHaveAttribute('placeholder', 'error');
    expect(input('ml-sql-max-connections')).toHaveAttribute('placeholder', '4');
    await user.click(screen.getByRole('button', { name: 'Expand section Records table' }));
    await user.click(screen.getByRole('button', { name: 'Expand section Reference table' }));
    for (const which of ['records', 'reference']) {
      expect(input(`ml-sql-${which}-table`)).toHaveAttribute(
        'placeholder',
        which === 'records' ? 'predictions' : 'reference'
      );
      for (const c of COLUMNS) {
        expect(input(`ml-sql-${which}-${c}`)).toHaveValue('');
        expect(input(`ml-sql-${which}-${c}`)).toHaveAttribute('placeholder', DEFAULT_SQL_COLUMNS[c]);
      }
    }
    // Every row needs a model, and records need a time: those columns cannot be switched off.
    expect(document.getElementById('ml-sql-records-model-none')).toBeNull();
    expect(document.getElementById('ml-sql-reference-model-none')).toBeNull();
    expect(document.getElementById('ml-sql-records-ts-none')).toBeNull();
    expect(document.getElementById('ml-sql-reference-ts-none')).not.toBeNull();
    expect(document.getElementById('ml-sql-records-label-none')).not.toBeNull();
  });

  it('opens a mapped table, says a wide table has no features column, and clears back to nothing', async () => {
    const { user, last } = setup(
      settings({
        jsonData: {
          sql: {
            url: 'postgres://grafana@db/ml',
            records: { table: 'preds', columns: { label: '' }, featureColumns: ['x1'] },
          },
        },
      })
    );
    // The mapped records table is open, the reference table folded.
    expect(input('ml-sql-records-table')).toHaveValue('preds');
    expect(document.getElementById('ml-sql-reference-table')).toBeNull();
    expect(input('ml-sql-records-features')).toHaveAttribute('placeholder', 'none (feature columns)');
    expect(input('ml-sql-records-label')).toHaveAttribute('placeholder', 'no such column');
    expect(screen.getByLabelText('The records table has no label column')).toBeChecked();

    // Switching "None" off maps the column back to its default.
    await user.click(screen.getByLabelText('The records table has no label column'));
    expect(last().jsonData.sql?.records?.columns).toBeUndefined();
    await user.clear(input('ml-sql-records-table'));
    await user.click(screen.getByLabelText('Remove tag: x1'));
    expect(last().jsonData.sql).toEqual({ url: 'postgres://grafana@db/ml' });
    // Without a URL nothing is left: pkg/settings refuses sql settings without sql.url.
    await user.clear(input('ml-sql-url'));
    expect('sql' in last().jsonData).toBe(false);
  });

  it('resets a stored password', async () => {
    const { user, last } = setup(
      settings({
        jsonData: { sql: { url: 'postgres://grafana@db/ml' } },
        secureJsonFields: { sqlPassword: true },
      })
    );
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields).toEqual({ sqlPassword: false });
    expect(last().secureJsonData).toEqual({ sqlPassword: '' });
  });

  it('flags a bad URL and refuses a bad connection count', async () => {
    const { user, onOptionsChange } = setup(settings());
    await fill(user, 'ml-sql-max-connections', '65');
    await user.tab();
    expect(await screen.findByText('Must be a whole number from 1 to 64')).toBeInTheDocument();
    expect(onOptionsChange).not.toHaveBeenCalled();
    await fill(user, 'ml-sql-url', 'postgres://grafana:pw@db/ml');
    expect(await screen.findByText('Must not contain a password; set it in the Password field')).toBeInTheDocument();
  });
});

describe('sqlUrlProblem', () => {
  it.each([
    ['', ''],
    ['postgres://grafana@db:5432/ml?sslmode=require', ''],
    ['postgresql://db/ml', ''],
    ['http://db:5432', 'Must start with postgres:// or postgresql://'],
    ['db:5432/ml', 'Must start with postgres:// or postgresql://'],
    ['not a url', 'Not a valid URL'],
    ['postgres://grafana:pw@db/ml', 'Must not contain a password; set it in the Password field'],
    ['postgres://db/ml?password=pw', 'Must not contain a password; set it in the Password field'],
    ['postgres:///ml', 'Has no host'],
  ])('%p → %p', (url, want) => expect(sqlUrlProblem(url)).toBe(want));
});

describe('pruneSQL', () => {
  it('drops what sets nothing and keeps a column mapped to "" (no such column)', () => {
    expect(pruneSQL(undefined)).toBeUndefined();
    expect(
      pruneSQL({ url: '', records: { table: '', columns: {}, featureColumns: [] }, errorStatus: '' })
    ).toBeUndefined();
    expect(pruneSQL({ url: 'postgres://db/ml', reference: { columns: { ts: '', version: undefined } } })).toEqual({
      url: 'postgres://db/ml',
      reference: { columns: { ts: '' } },
    });
    expect(pruneSQL({ maxConnections: 2 })).toEqual({ maxConnections: 2 });
  });
});
