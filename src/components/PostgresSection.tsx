import React, { useState } from 'react';
import { ConfigSection, ConfigSubSection } from '@grafana/plugin-ui';
import { InlineField, InlineFieldRow, InlineSwitch, Input, SecretInput, TagsInput } from '@grafana/ui';

import {
  DEFAULT_SQL_MAX_CONNECTIONS,
  MAX_SQL_MAX_CONNECTIONS,
  SQLColumns,
  SQLSettings,
  SQLTable,
  SQL_COLUMNS_FIELDS,
} from '../types';

const LABEL_WIDTH = 22;
const INPUT_WIDTH = 50;

/** A column of a table mapping (DESIGN §3 `sql.records.columns`, `sql.reference.columns`). */
export type SQLColumn = keyof SQLColumns;

/** Column names when unmapped: the DESIGN §6 record names. */
export const DEFAULT_SQL_COLUMNS: Record<SQLColumn, string> = {
  ts: 'ts',
  model: 'model',
  version: 'version',
  latencyMs: 'latency_ms',
  status: 'status',
  prediction: 'prediction',
  score: 'score',
  label: 'label',
  labelTs: 'label_ts',
  features: 'features',
};

/** The status that marks an error record when errorStatus is unset. */
export const DEFAULT_SQL_ERROR_STATUS = 'error';

/** Table names when unset. */
export const DEFAULT_SQL_TABLES = { records: 'predictions', reference: 'reference' } as const;

const COLUMN_HELP: Record<SQLColumn, string> = {
  ts: 'When the prediction was made (timestamptz or timestamp)',
  model: 'The model name',
  version: 'The model version',
  latencyMs: 'Latency in milliseconds (a number)',
  status: 'Status: a record whose status equals the error status counts as an error',
  prediction: 'The prediction: a number, a class (text) or jsonb',
  score: 'The score or probability of the prediction (a number)',
  label: 'The ground truth, when known',
  labelTs: 'When the ground truth arrived',
  features: 'A jsonb object of feature values; unused when feature columns are listed (a wide table)',
};

/** The order of the columns in the editor (the §6 record order). */
const COLUMNS = Object.keys(SQL_COLUMNS_FIELDS) as SQLColumn[];

/** Whether a table may lack the column: every row needs a model, and records need a time. */
function required(table: keyof typeof DEFAULT_SQL_TABLES, column: SQLColumn): boolean {
  return column === 'model' || (table === 'records' && column === 'ts');
}

/** Validates sql.url the way pkg/settings does, for an early hint; the backend has the last word. */
export function sqlUrlProblem(raw: string | undefined): string {
  const value = (raw ?? '').trim();
  if (value === '') {
    return '';
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'Not a valid URL';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    return 'Must start with postgres:// or postgresql://';
  }
  if (u.password || u.searchParams.has('password')) {
    return 'Must not contain a password; set it in the Password field';
  }
  if (!u.hostname) {
    return 'Has no host';
  }
  return '';
}

/**
 * Drops what sets nothing, so that pkg/settings sees exactly what the user chose: undefined keys,
 * empty lists and objects left empty, and the whole `sql` object when nothing in it is set. A
 * column mapped to '' stays: it means "no such column".
 */
export function pruneSQL(sql: SQLSettings | undefined): SQLSettings | undefined {
  if (!sql) {
    return undefined;
  }
  const table = (t: SQLTable | undefined): SQLTable | undefined => {
    if (!t) {
      return undefined;
    }
    const out: SQLTable = {};
    if (t.table) {
      out.table = t.table;
    }
    const cols: SQLColumns = {};
    for (const c of COLUMNS) {
      const v = t.columns?.[c];
      if (v !== undefined) {
        cols[c] = v;
      }
    }
    if (Object.keys(cols).length > 0) {
      out.columns = cols;
    }
    if (t.featureColumns && t.featureColumns.length > 0) {
      out.featureColumns = t.featureColumns;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const out: SQLSettings = {};
  if (sql.url) {
    out.url = sql.url;
  }
  const records = table(sql.records);
  if (records) {
    out.records = records;
  }
  const reference = table(sql.reference);
  if (reference) {
    out.reference = reference;
  }
  if (sql.errorStatus) {
    out.errorStatus = sql.errorStatus;
  }
  if (sql.maxConnections !== undefined) {
    out.maxConnections = sql.maxConnections;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

interface TableProps {
  which: keyof typeof DEFAULT_SQL_TABLES;
  value: SQLTable | undefined;
  onChange: (next: SQLTable) => void;
}

/** The name, column mapping and feature columns of one table. */
function TableMapping({ which, value, onChange }: TableProps) {
  const t = value ?? {};
  const cols = t.columns ?? {};
  const wide = (t.featureColumns ?? []).length > 0;
  const setColumn = (c: SQLColumn, v: string | undefined) => {
    const next: SQLColumns = { ...cols };
    if (v === undefined) {
      delete next[c];
    } else {
      next[c] = v;
    }
    onChange({ ...t, columns: next });
  };
  const id = (c: string) => `ml-sql-${which}-${c}`;
  return (
    <>
      <InlineField
        label="Table"
        labelWidth={LABEL_WIDTH}
        htmlFor={id('table')}
        tooltip="A table or view, optionally schema-qualified (schema.table)"
      >
        <Input
          id={id('table')}
          width={INPUT_WIDTH}
          value={t.table ?? ''}
          placeholder={DEFAULT_SQL_TABLES[which]}
          onChange={(e) => onChange({ ...t, table: e.currentTarget.value.trim() })}
        />
      </InlineField>
      {COLUMNS.map((c) => {
        const absent = cols[c] === '';
        const placeholder = absent
          ? 'no such column'
          : c === 'features' && wide && cols.features === undefined
            ? 'none (feature columns)'
            : DEFAULT_SQL_COLUMNS[c];
        return (
          <InlineFieldRow key={c}>
            <InlineField
              label={`${DEFAULT_SQL_COLUMNS[c]} column`}
              labelWidth={LABEL_WIDTH}
              htmlFor={id(c)}
              tooltip={`${COLUMN_HELP[c]}. Empty = the column named ${DEFAULT_SQL_COLUMNS[c]}.`}
              disabled={absent}
            >
              <Input
                id={id(c)}
                width={30}
                value={cols[c] ?? ''}
                placeholder={placeholder}
                onChange={(e) => {
                  const v = e.currentTarget.value.trim();
                  setColumn(c, v === '' ? undefined : v);
                }}
              />
            </InlineField>
            {!required(which, c) && (
              <InlineSwitch
                id={id(`${c}-none`)}
                label="None"
                showLabel
                transparent
                aria-label={`The ${which} table has no ${DEFAULT_SQL_COLUMNS[c]} column`}
                value={absent}
                onChange={(e) => setColumn(c, e.currentTarget.checked ? '' : undefined)}
              />
            )}
          </InlineFieldRow>
        );
      })}
      <InlineField
        label="Feature columns"
        labelWidth={LABEL_WIDTH}
        htmlFor={id('feature-columns')}
        tooltip="A wide table: one column per feature (press Enter after each name). Empty = the features jsonb column"
      >
        <TagsInput
          id={id('feature-columns')}
          width={INPUT_WIDTH}
          tags={t.featureColumns ?? []}
          placeholder="one column per feature"
          addOnBlur
          onChange={(tags) => onChange({ ...t, featureColumns: tags })}
        />
      </InlineField>
    </>
  );
}

export interface PostgresSectionProps {
  /** jsonData.sql */
  value: SQLSettings | undefined;
  /** Receives the next jsonData.sql, already pruned (undefined when nothing is set). */
  onChange: (next: SQLSettings | undefined) => void;
  /** secureJsonFields.sqlPassword: a password is stored. */
  passwordConfigured: boolean;
  /** secureJsonData.sqlPassword being typed. */
  password: string;
  onPasswordChange: (value: string) => void;
  onPasswordReset: () => void;
}

/** The PostgreSQL source (DESIGN §3 `sql.*` and secureJsonData.sqlPassword). */
export function PostgresSection({
  value,
  onChange,
  passwordConfigured,
  password,
  onPasswordChange,
  onPasswordReset,
}: PostgresSectionProps) {
  const sql = value ?? {};
  const set = (patch: Partial<SQLSettings>) => onChange(pruneSQL({ ...sql, ...patch }));
  const [maxConnText, setMaxConnText] = useState(sql.maxConnections !== undefined ? String(sql.maxConnections) : '');
  const [maxConnError, setMaxConnError] = useState('');
  const urlProblem = sqlUrlProblem(sql.url);
  const mapped = (t: SQLTable | undefined) => pruneSQL({ records: t }) !== undefined;

  return (
    <ConfigSection
      title="PostgreSQL"
      description="Prediction records and reference samples in PostgreSQL tables (or a PostgreSQL-compatible database such as TimescaleDB or Citus); counts and percentiles are computed in the database."
    >
      <InlineField
        label="URL"
        labelWidth={LABEL_WIDTH}
        htmlFor="ml-sql-url"
        invalid={!!urlProblem}
        error={urlProblem}
        tooltip="postgres://user@host:5432/database?sslmode=require, without the password"
      >
        <Input
          id="ml-sql-url"
          width={INPUT_WIDTH}
          value={sql.url ?? ''}
          placeholder="postgres://grafana@db:5432/ml?sslmode=require"
          onChange={(e) => set({ url: e.currentTarget.value.trim() })}
        />
      </InlineField>
      <InlineField
        label="Database password"
        labelWidth={LABEL_WIDTH}
        htmlFor="ml-sqlPassword"
        tooltip="The database user's password; stored encrypted, never in the URL"
      >
        <SecretInput
          id="ml-sqlPassword"
          width={INPUT_WIDTH}
          isConfigured={passwordConfigured}
          value={password}
          placeholder="Password"
          onReset={onPasswordReset}
          onChange={(e) => onPasswordChange(e.currentTarget.value)}
        />
      </InlineField>
      <InlineField
        label="Error status"
        labelWidth={LABEL_WIDTH}
        htmlFor="ml-sql-error-status"
        tooltip="The value of the status column that marks an error record"
      >
        <Input
          id="ml-sql-error-status"
          width={20}
          value={sql.errorStatus ?? ''}
          placeholder={DEFAULT_SQL_ERROR_STATUS}
          onChange={(e) => set({ errorStatus: e.currentTarget.value.trim() })}
        />
      </InlineField>
      <InlineField
        label="Max connections"
        labelWidth={LABEL_WIDTH}
        htmlFor="ml-sql-max-connections"
        invalid={!!maxConnError}
        error={maxConnError}
        tooltip={`Connections this data source keeps open to the database, at most ${MAX_SQL_MAX_CONNECTIONS}; default ${DEFAULT_SQL_MAX_CONNECTIONS}`}
      >
        <Input
          id="ml-sql-max-connections"
          type="number"
          width={20}
          value={maxConnText}
          placeholder={String(DEFAULT_SQL_MAX_CONNECTIONS)}
          onChange={(e) => setMaxConnText(e.currentTarget.value)}
          onBlur={() => {
            const t = maxConnText.trim();
            const n = Number(t);
            if (t !== '' && (!Number.isInteger(n) || n < 1 || n > MAX_SQL_MAX_CONNECTIONS)) {
              setMaxConnError(`Must be a whole number from 1 to ${MAX_SQL_MAX_CONNECTIONS}`);
              return;
            }
            setMaxConnError('');
            set({ maxConnections: t === '' ? undefined : n });
          }}
        />
      </InlineField>
      <ConfigSubSection
        title="Records table"
        description="Prediction records: one row per prediction. Create an index on (model, ts)."
        isCollapsible
        isInitiallyOpen={mapped(sql.records)}
      >
        <TableMapping which="records" value={sql.records} onChange={(t) => set({ records: t })} />
      </ConfigSubSection>
      <ConfigSubSection
        title="Reference table"
        description="Each model's reference (training) sample. Rows with a NULL version are the sample of all versions together; without such rows, all of the model's rows are."
        isCollapsible
        isInitiallyOpen={mapped(sql.reference)}
      >
        <TableMapping which="reference" value={sql.reference} onChange={(t) => set({ reference: t })} />
      </ConfigSubSection>
    </ConfigSection>
  );
}
