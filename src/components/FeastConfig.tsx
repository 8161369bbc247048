import React, { useState } from 'react';
import { InlineField, Input, Select } from '@grafana/ui';

import {
  DEFAULT_KEY_SERIALIZATION_VERSION,
  FEAST_KEY_SERIALIZATION_VERSIONS,
  FEAST_ONLINE_TYPES,
  FeastOnlineType,
  FeastSettings,
  SecretKey,
} from '../types';
import { sqlUrlProblem } from './PostgresSection';

export type RegistryKind = 'path' | 'sql' | 'url';

const REGISTRY_KINDS: Array<{ label: string; value: RegistryKind; description: string; placeholder: string }> = [
  {
    label: 'Registry file',
    value: 'path',
    description: 'A registry.db on this server',
    placeholder: '/var/lib/feast/registry.db',
  },
  {
    label: 'SQL registry',
    value: 'sql',
    description: 'Feast SQL registry in PostgreSQL',
    placeholder: 'postgres://feast@db:5432/registry',
  },
  {
    label: 'REST registry',
    value: 'url',
    description: 'feast serve_registry --rest-api',
    placeholder: 'http://registry:6572',
  },
];

const ONLINE_LABELS: Record<FeastOnlineType, string> = { redis: 'Redis', postgres: 'PostgreSQL' };

interface Props {
  feast: FeastSettings | undefined;
  labelWidth: number;
  inputWidth: number;
  /** Receives the new feast settings; undefined when nothing is left. */
  onChange: (next: FeastSettings | undefined) => void;
  /** Renders a secret input (the config editor's). */
  secret: (key: SecretKey, label: string, tooltip: string, placeholder: string) => React.ReactNode;
}

/** The registry kind the settings use (path when none is set yet). */
export function registryKind(f: FeastSettings | undefined): RegistryKind {
  const r = f?.registry ?? {};
  return r.sql ? 'sql' : r.url ? 'url' : 'path';
}

/** Drops empty strings and empty objects, so that cleared settings leave nothing behind. */
export function pruneFeast(f: FeastSettings): FeastSettings | undefined {
  const out: FeastSettings = {};
  if (f.project) {
    out.project = f.project;
  }
  const reg = Object.fromEntries(Object.entries(f.registry ?? {}).filter(([, v]) => v));
  if (Object.keys(reg).length) {
    out.registry = reg;
  }
  const on = Object.fromEntries(Object.entries(f.onlineStore ?? {}).filter(([, v]) => v !== '' && v !== undefined));
  if (Object.keys(on).length) {
    out.onlineStore = on;
  }
  if (f.offlineStore?.url) {
    out.offlineStore = { url: f.offlineStore.url };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The REST registry's URL: http(s), no credentials (the token is a secret). */
function restUrlProblem(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'Not a valid URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return 'Must start with http:// or https://';
  }
  if (u.username || u.password) {
    return 'Must not contain credentials; set the registry token below';
  }
  return '';
}

/** What pkg/settings (parseFeast) would reject, per field, for an early hint; the backend has the last word. */
export interface FeastProblems {
  project: string;
  registry: string;
  onlineAddress: string;
  offline: string;
}

export function feastProblems(f: FeastSettings | undefined): FeastProblems {
  const p: FeastProblems = { project: '', registry: '', onlineAddress: '', offline: '' };
  if (!f) {
    return p;
  }
  const r = f.registry ?? {};
  const kind = registryKind(f);
  const value = r[kind] ?? '';
  const set = [r.path, r.sql, r.url].filter((v) => !!v).length;
  const online = f.onlineStore ?? {};
  if (set === 0) {
    if (f.project || online.type || online.address || f.offlineStore?.url || online.keySerializationVersion) {
      p.registry = 'Set the registry: it says what the stores hold';
    }
  } else if (set > 1) {
    p.registry = 'Set only one of the registry file, SQL registry and REST registry';
  } else if (kind === 'path') {
    p.registry = value.includes('://')
      ? 'Must be a local file path (object-store registries such as s3:// or gs:// are not read)'
      : value.startsWith('/')
        ? ''
        : 'Must be an absolute path';
  } else if (kind === 'sql') {
    p.registry = sqlUrlProblem(value);
  } else {
    p.registry = restUrlProblem(value);
  }
  if (set > 0 && !f.project) {
    p.project = 'The project is required with a registry';
  }
  if (online.type) {
    const a = online.address ?? '';
    if (a === '') {
      p.onlineAddress = 'The address is required with an online store';
    } else if (online.type === 'redis') {
      const m = a.match(/^(\[[^\]]+\]|[^:]+):(\d+)$/);
      p.onlineAddress = m && !/[/@,]/.test(a) ? '' : 'Must be host:port for Redis (the password goes below)';
    } else {
      p.onlineAddress = sqlUrlProblem(a);
    }
  }
  p.offline = sqlUrlProblem(f.offlineStore?.url);
  return p;
}

/** The Feast settings (DESIGN §3 feast.*): project, registry (one kind), online and offline stores. */
export function FeastConfig({ feast, labelWidth, inputWidth, onChange, secret }: Props) {
  const f = feast ?? {};
  // The kind chosen before its value is typed (an empty registry is pruned from the settings).
  const [chosenKind, setChosenKind] = useState<RegistryKind>(registryKind(feast));
  const hasRegistry = !!(f.registry?.path || f.registry?.sql || f.registry?.url);
  const kind = hasRegistry ? registryKind(feast) : chosenKind;
  const problems = feastProblems(feast);
  const kindInfo = REGISTRY_KINDS.find((k) => k.value === kind)!;
  const set = (next: FeastSettings) => onChange(pruneFeast(next));
  const online = f.onlineStore ?? {};
  const onlineType = online.type;

  return (
    <>
      <InlineField
        label="Project"
        labelWidth={labelWidth}
        htmlFor="ml-feast-project"
        tooltip="The Feast project (feast.project)"
        invalid={!!problems.project}
        error={problems.project}
      >
        <Input
          id="ml-feast-project"
          width={inputWidth}
          value={f.project ?? ''}
          placeholder="my_project"
          onChange={(e) => set({ ...f, project: e.currentTarget.value.trim() })}
        />
      </InlineField>
      <InlineField label="Registry" labelWidth={labelWidth} htmlFor="ml-feast-registry-kind">
        <Select<RegistryKind>
          inputId="ml-feast-registry-kind"
          width={inputWidth}
          options={REGISTRY_KINDS}
          value={kind}
          onChange={(v) => {
            const next = v.value ?? 'path';
            setChosenKind(next);
            set({ ...f, registry: { [next]: f.registry?.[kind] ?? '' } });
          }}
        />
      </InlineField>
      <InlineField
        label={kindInfo.label}
        labelWidth={labelWidth}
        htmlFor="ml-feast-registry"
        tooltip={kindInfo.description}
        invalid={!!problems.registry}
        error={problems.registry}
      >
        <Input
          id="ml-feast-registry"
          width={inputWidth}
          value={f.registry?.[kind] ?? ''}
          placeholder={kindInfo.placeholder}
          onChange={(e) => set({ ...f, registry: { [kind]: e.currentTarget.value.trim() } })}
        />
      </InlineField>
      {kind !== 'path' &&
        secret(
          'feastRegistryToken',
          kind === 'sql' ? 'Registry password' : 'Registry token',
          kind === 'sql' ? 'The SQL registry’s PostgreSQL password' : 'Sent as a bearer token to the registry server',
          kind === 'sql' ? 'Password' : 'Bearer token'
        )}
      <InlineField label="Online store" labelWidth={labelWidth} htmlFor="ml-feast-online-type">
        <Select<FeastOnlineType | ''>
          inputId="ml-feast-online-type"
          width={inputWidth}
          options={[
            { label: 'None', value: '' },
            ...FEAST_ONLINE_TYPES.map((t) => ({ label: ONLINE_LABELS[t], value: t })),
          ]}
          value={onlineType ?? ''}
          onChange={(v) =>
            set({ ...f, onlineStore: v.value ? { ...online, type: v.value as FeastOnlineType } : undefined })
          }
        />
      </InlineField>
      {onlineType && (
        <>
          <InlineField
            label="Online address"
            labelWidth={labelWidth}
            htmlFor="ml-feast-online-address"
            invalid={!!problems.onlineAddress}
            error={problems.onlineAddress}
          >
            <Input
              id="ml-feast-online-address"
              width={inputWidth}
              value={online.address ?? ''}
              placeholder={onlineType === 'redis' ? 'redis:6379' : 'postgres://feast@db:5432/online'}
              onChange={(e) => set({ ...f, onlineStore: { ...online, address: e.currentTarget.value.trim() } })}
            />
          </InlineField>
          <InlineField
            label="Key serialization"
            labelWidth={labelWidth}
            htmlFor="ml-feast-key-version"
            tooltip="Feast's entity_key_serialization_version: 3 (default since Feast 0.50) or 2"
          >
            <Select<number>
              inputId="ml-feast-key-version"
              width={inputWidth}
              options={[...FEAST_KEY_SERIALIZATION_VERSIONS].reverse().map((v) => ({
                label: v === DEFAULT_KEY_SERIALIZATION_VERSION ? `v${v} (default)` : `v${v}`,
                value: v,
              }))}
              value={online.keySerializationVersion ?? DEFAULT_KEY_SERIALIZATION_VERSION}
              onChange={(v) =>
                set({
                  ...f,
                  onlineStore: {
                    ...online,
                    keySerializationVersion: v.value === DEFAULT_KEY_SERIALIZATION_VERSION ? undefined : v.value,
                  },
                })
              }
            />
          </InlineField>
          {secret('feastOnlinePassword', 'Online password', 'The online store’s password', 'Password')}
        </>
      )}
      <InlineField
        label="Offline store"
        labelWidth={labelWidth}
        htmlFor="ml-feast-offline"
        tooltip="PostgreSQL offline store: batch sources and data-quality monitoring tables"
        invalid={!!problems.offline}
        error={problems.offline}
      >
        <Input
          id="ml-feast-offline"
          width={inputWidth}
          value={f.offlineStore?.url ?? ''}
          placeholder="postgres://feast@db:5432/offline"
          onChange={(e) => set({ ...f, offlineStore: { url: e.currentTarget.value.trim() } })}
        />
      </InlineField>
      {f.offlineStore?.url &&
        secret('feastOfflinePassword', 'Offline password', 'The offline store’s password', 'Password')}
    </>
  );
}
