import React, { useState } from 'react';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { FeastConfig, feastProblems, pruneFeast, registryKind } from './FeastConfig';
import { FeastSettings, SecretKey } from '../types';

jest.setTimeout(60000);

/** Renders the section the way the config editor does: the settings come back on every change. */
function setup(initial: FeastSettings | undefined) {
  const changes: Array<FeastSettings | undefined> = [];
  const secrets: SecretKey[] = [];
  const secret = (key: SecretKey, label: string, _tooltip: string, placeholder: string) => {
    secrets.push(key);
    return (
      <span key={key}>
        {label}: {placeholder}
      </span>
    );
  };
  function Host() {
    const [feast, setFeast] = useState(initial);
    return (
      <FeastConfig
        feast={feast}
        labelWidth={20}
        inputWidth={40}
        onChange={(f) => {
          changes.push(f);
          setFeast(f);
        }}
        secret={secret}
      />
    );
  }
  render(<Host />);
  return { changes, secrets, user: userEvent.setup({ delay: null }) };
}

async function pick(user: ReturnType<typeof userEvent.setup>, label: string, option: string) {
  await user.click(screen.getByLabelText(label));
  const menu = await screen.findByLabelText('Select options menu');
  await user.click(within(menu).getByText(option, { exact: true }));
}

describe('FeastConfig', () => {
  it('writes the project and a registry file path', () => {
    const { changes, secrets } = setup(undefined);
    fireEvent.change(screen.getByLabelText('Project', { exact: false }), { target: { value: ' rides ' } });
    expect(changes.at(-1)).toEqual({ project: 'rides' });
    // A project without a registry is what pkg/settings rejects: the editor says so.
    expect(screen.getByText('Set the registry: it says what the stores hold')).toBeInTheDocument();
    fireEvent.change(screen.getByPlaceholderText('/var/lib/feast/registry.db'), {
      target: { value: '/data/registry.db' },
    });
    expect(changes.at(-1)).toEqual({ project: 'rides', registry: { path: '/data/registry.db' } });
    expect(screen.queryByText('Set the registry: it says what the stores hold')).not.toBeInTheDocument();
    // A file registry has no secret; no online store is configured.
    expect(secrets).toEqual([]);
  });

  it('keeps the chosen registry kind before its value is typed, and the stores with their secrets', async () => {
    const { changes, secrets, user } = setup({ project: 'rides' });
    await pick(user, 'Registry', 'SQL registry');
    expect(screen.getByText('Registry password: Password')).toBeInTheDocument();
    fireEvent.change(screen.getByPlaceholderText('postgres://feast@db:5432/registry'), {
      target: { value: 'postgres://feast:pw@db/registry' },
    });
    expect(screen.getByText('Must not contain a password; set it in the Password field')).toBeInTheDocument();
    fireEvent.change(screen.getByPlaceholderText('postgres://feast@db:5432/registry'), {
      target: { value: 'postgres://feast@db/registry' },
    });
    await pick(user, 'Online store', 'Redis');
    expect(screen.getByText('The address is required with an online store')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Online address'), { target: { value: 'redis://redis:6379' } });
    expect(screen.getByText('Must be host:port for Redis (the password goes below)')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Online address'), { target: { value: 'redis:6379' } });
    await pick(user, 'Key serialization', 'v2');
    fireEvent.change(screen.getByLabelText('Offline store'), { target: { value: 'postgres://feast@db/offline' } });
    expect(changes.at(-1)).toEqual({
      project: 'rides',
      registry: { sql: 'postgres://feast@db/registry' },
      onlineStore: { type: 'redis', address: 'redis:6379', keySerializationVersion: 2 },
      offlineStore: { url: 'postgres://feast@db/offline' },
    });
    expect([...new Set(secrets)]).toEqual(['feastRegistryToken', 'feastOnlinePassword', 'feastOfflinePassword']);
  });

  it('shows the registry token for a REST registry', () => {
    setup({ project: 'rides', registry: { url: 'http://registry:6572' } });
    expect(screen.getByText('Registry token: Bearer token')).toBeInTheDocument();
    expect(screen.getByDisplayValue('http://registry:6572')).toBeInTheDocument();
  });

  it('prunes cleared settings and tells the registry kind', () => {
    expect(
      pruneFeast({ project: '', registry: { path: '' }, onlineStore: {}, offlineStore: { url: '' } })
    ).toBeUndefined();
    expect(
      pruneFeast({ project: 'p', registry: { sql: 'postgres://db/r' }, onlineStore: { type: 'redis', address: '' } })
    ).toEqual({
      project: 'p',
      registry: { sql: 'postgres://db/r' },
      onlineStore: { type: 'redis' },
    });
    expect(registryKind({ registry: { sql: 'postgres://db/r' } })).toBe('sql');
    expect(registryKind(undefined)).toBe('path');
  });

  // The cases of pkg/settings/feast_test.go that the editor can tell early.
  it.each<[string, FeastSettings, Partial<ReturnType<typeof feastProblems>>]>([
    ['nothing', {}, {}],
    ['a file registry', { project: 'p', registry: { path: '/r/registry.db' } }, {}],
    ['a relative path', { project: 'p', registry: { path: 'registry.db' } }, { registry: 'Must be an absolute path' }],
    [
      'an object-store registry',
      { project: 'p', registry: { path: 's3://b/registry.db' } },
      { registry: 'Must be a local file path (object-store registries such as s3:// or gs:// are not read)' },
    ],
    ['no project', { registry: { url: 'http://r:6572' } }, { project: 'The project is required with a registry' }],
    [
      'two registries',
      { project: 'p', registry: { path: '/r', url: 'http://r:6572' } },
      { registry: 'Set only one of the registry file, SQL registry and REST registry' },
    ],
    [
      'a REST URL with credentials',
      { project: 'p', registry: { url: 'http://u:pw@r:6572' } },
      { registry: 'Must not contain credentials; set the registry token below' },
    ],
    [
      'an online store without a registry',
      { onlineStore: { type: 'redis', address: 'r:6379' } },
      { registry: 'Set the registry: it says what the stores hold' },
    ],
    [
      'a Redis address',
      { project: 'p', registry: { path: '/r' }, onlineStore: { type: 'redis', address: '[::1]:6379' } },
      {},
    ],
    [
      'a PostgreSQL online store with a password',
      {
        project: 'p',
        registry: { path: '/r' },
        onlineStore: { type: 'postgres', address: 'postgres://u@db/o?password=x' },
      },
      { onlineAddress: 'Must not contain a password; set it in the Password field' },
    ],
    [
      'an offline store that is not PostgreSQL',
      { project: 'p', registry: { path: '/r' }, offlineStore: { url: 'mysql://db/o' } },
      { offline: 'Must start with postgres:// or postgresql://' },
    ],
  ])('problems of %s', (_, f, want) => {
    expect(feastProblems(f)).toEqual({ project: '', registry: '', onlineAddress: '', offline: '', ...want });
  });
});
