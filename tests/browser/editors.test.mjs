// Browser test of the ModelLens editors: bundles tests/harness (the real editors and data source,
// with getResource answering from fixtures), serves it on a free loopback port, and drives it with
// Debian's Chromium through playwright-core. Run: npm run test:browser
// (CHROMIUM_PATH overrides /usr/bin/chromium). Screenshots go to artifacts/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import harnessConfig, { outputDir } from '../harness/webpack.config.mjs';
import { build, serve } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Generous limits: the page is a 7 MB development bundle on a possibly busy CI machine.
const TIMEOUT_MS = 30_000;

let server;
let browser;
let baseUrl;

before(async () => {
  assert.ok(fs.existsSync(executablePath), `Chromium not found at ${executablePath}: run scripts/frontend-deps.sh`);
  fs.mkdirSync(artifacts, { recursive: true });
  await build(harnessConfig);
  server = await serve(outputDir);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // Chromium refuses its sandbox as root (CI containers).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

async function openPage(which) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/index.html?page=${which}`);
  await page.getByTestId(`modellens-${which}-editor`).waitFor();
  return { page, errors };
}

/** Opens the Select whose input has this id and picks the option with exactly this text. */
async function pick(page, inputId, option) {
  await page.locator(`#${inputId}`).click();
  const menu = page.getByLabel('Select options menu');
  await menu.getByText(option, { exact: true }).click();
}

async function radio(page, label) {
  // Grafana's radio buttons lay the (transparent) input over its label: click the input.
  await page.getByRole('radio', { name: label, exact: true }).click();
  // Move away so that the option's description tooltip does not cover the next control.
  await page.mouse.move(0, 0);
  await page.getByRole('tooltip').waitFor({ state: 'detached' });
}

async function json(page, testId) {
  return JSON.parse(await page.getByTestId(testId).textContent());
}

describe('ModelLens editors in Chromium', { timeout: 10 * TIMEOUT_MS }, () => {
  it('query editor: drift on a picked model and features emits the DESIGN §4 query', async () => {
    const { page, errors } = await openPage('query');
    assert.deepEqual(await json(page, 'query-json'), {
      refId: 'A',
      datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'modellens' },
      queryType: 'traffic',
      metrics: ['rate'],
    });

    await radio(page, 'Drift');
    await pick(page, 'ml-model', 'churn-model');
    // Versions and features of churn-model come from the (stubbed) backend resources.
    await pick(page, 'ml-version', 'Each version (*)');
    await pick(page, 'ml-features', 'tenure_months');
    await pick(page, 'ml-features', 'plan');
    await pick(page, 'ml-features', 'prediction');
    await pick(page, 'ml-methods', 'psi');
    await pick(page, 'ml-methods', 'js');
    await page.locator('#ml-window').fill('30m');
    await page.locator('#ml-window').press('Enter');
    await radio(page, 'Latest');
    await radio(page, 'Time window');
    await page.locator('#ml-bins').fill('20');
    await page.locator('#ml-bins').press('Enter');
    await pick(page, 'ml-threshold-add', 'psi');
    await page.locator('#ml-threshold-psi-drift').fill('0.3');
    await page.locator('#ml-threshold-psi-drift').press('Enter');

    assert.deepEqual(await json(page, 'query-json'), {
      refId: 'A',
      datasource: { type: 'modellens-mlmonitoring-datasource', uid: 'modellens' },
      queryType: 'drift',
      metrics: ['rate'],
      model: 'churn-model',
      version: '*',
      features: ['tenure_months', 'plan', 'prediction'],
      methods: ['psi', 'js'],
      window: '30m',
      output: 'latest',
      reference: { kind: 'window', from: 'now-7d', to: 'now-6d' },
      binning: { bins: 20 },
      thresholds: { psi: { warning: 0.1, drift: 0.3 } },
    });
    assert.ok(Number(await page.getByTestId('query-runs').textContent()) > 0, 'the query ran after changes');
    await page.screenshot({ path: path.join(artifacts, 'query-editor-drift.png'), fullPage: true });

    // Latency shows percentiles and keeps the drift fields it hides.
    await radio(page, 'Latency');
    await page.locator('#ml-percentiles').fill('50, 99.9');
    await page.locator('#ml-percentiles').press('Enter');
    const latency = await json(page, 'query-json');
    assert.equal(latency.queryType, 'latency');
    assert.deepEqual(latency.percentiles, [50, 99.9]);
    assert.deepEqual(latency.features, ['tenure_months', 'plan', 'prediction']);
    await page.screenshot({ path: path.join(artifacts, 'query-editor-latency.png'), fullPage: true });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    await page.close();
  });

  it('config editor: settings go to jsonData, tokens to secureJsonData, reset clears a secret', async () => {
    const { page, errors } = await openPage('config');

    await page.locator('#ml-prediction-log-url').fill('http://prediction-log:8080/api/v1');
    await page.locator('#ml-predictionLogToken').fill('pl-token');
    await page.locator('#ml-prometheus-url').fill('http://prometheus:9090');
    await pick(page, 'ml-prometheus-preset', 'NVIDIA Triton');
    await page.locator('#ml-prometheus-tenant').fill('ml-team');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('#ml-endpoint-0-name').fill('fraud');
    await page.locator('#ml-endpoint-0-url').fill('http://fraud.models:8080');
    await pick(page, 'ml-endpoint-0-protocol', 'Prometheus metrics');
    await page.locator('#ml-timeout').fill('20');
    await page.locator('#ml-timeout').blur();
    // The Prometheus token was configured before: reset it.
    await page.locator('label[for="ml-prometheusToken"]').locator('..').getByRole('button', { name: 'Reset' }).click();

    assert.deepEqual(await json(page, 'config-json'), {
      jsonData: {
        predictionLog: { url: 'http://prediction-log:8080/api/v1' },
        prometheus: { url: 'http://prometheus:9090', preset: 'triton', tenantId: 'ml-team' },
        endpoints: [{ name: 'fraud', url: 'http://fraud.models:8080', protocol: 'metrics' }],
        timeoutSeconds: 20,
      },
      secureJsonData: { predictionLogToken: 'pl-token', prometheusToken: '' },
      secureJsonFields: { prometheusToken: false },
      basicAuth: false,
      basicAuthUser: '',
    });
    // Sources configured and no explicit choice: the demo switch shows off.
    assert.equal(await page.locator('#ml-demo').isChecked(), false);
    await page.screenshot({ path: path.join(artifacts, 'config-editor.png'), fullPage: true });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    await page.close();
  });

  it('config editor: the PostgreSQL section writes sql.* and the password, with the defaults as placeholders', async () => {
    const { page, errors } = await openPage('config');

    await page.locator('#ml-sql-url').fill('postgres://grafana@db:5432/ml?sslmode=require');
    await page.locator('#ml-sqlPassword').fill('pg-password');
    await page.locator('#ml-sql-max-connections').fill('8');
    await page.locator('#ml-sql-max-connections').blur();
    // The section's fold button is an icon-only button: click it through the DOM.
    await page.getByRole('button', { name: 'Expand section Records table' }).dispatchEvent('click');
    assert.equal(await page.locator('#ml-sql-records-table').getAttribute('placeholder'), 'predictions');
    assert.equal(await page.locator('#ml-sql-records-latencyMs').getAttribute('placeholder'), 'latency_ms');
    await page.locator('#ml-sql-records-table').fill('prediction_log');
    await page.locator('#ml-sql-records-ts').fill('created_at');
    await page.getByLabel('The records table has no label_ts column').check({ force: true });

    const got = await json(page, 'config-json');
    assert.deepEqual(got.jsonData, {
      sql: {
        url: 'postgres://grafana@db:5432/ml?sslmode=require',
        maxConnections: 8,
        records: { table: 'prediction_log', columns: { ts: 'created_at', labelTs: '' } },
      },
    });
    assert.equal(got.secureJsonData.sqlPassword, 'pg-password');
    await page.screenshot({ path: path.join(artifacts, 'config-editor-postgres.png'), fullPage: true });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    await page.close();
  });
});
