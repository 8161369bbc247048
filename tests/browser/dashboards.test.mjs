// Browser test of the bundled dashboards: bundles tests/preview (each dashboard drawn with
// @grafana/ui from the frames the backend returns on the demo fleet, saved by
// `go test ./pkg/dashboards -run TestDashboardPreviewFrames`), serves it on a free loopback port and
// screenshots every dashboard at 1600 px with Debian's Chromium through playwright-core.
// Run: npm run test:browser. It fails when a panel shows "No data", NaN or an error (including frames
// that do not fit the panel's visualisation), and when a picture differs from the committed
// src/img/screenshots/<uid>.png by more than TOLERANCE; UPDATE_GOLDEN=1 rewrites the pictures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import previewConfig, { outputDir } from '../preview/webpack.config.mjs';
import { build, serve } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');
const goldenDir = path.join(root, 'src', 'img', 'screenshots');
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const update = process.env.UPDATE_GOLDEN === '1';
const TIMEOUT_MS = 30_000;
// A pixel differs when one of its channels differs by more than CHANNEL_THRESHOLD (0-255); a
// picture differs when more than MAX_DIFF_RATIO of its pixels do (or its size changed).
const TOLERANCE = { CHANNEL_THRESHOLD: 32, MAX_DIFF_RATIO: 0.01 };

const UIDS = fs
  .readdirSync(path.join(root, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(root, 'dashboards', f), 'utf8')).uid)
  .sort();

/**
 * Compares two PNGs inside the page: both are decoded by Chromium onto canvases and compared pixel
 * by pixel. Returns { sameSize, differing, total }.
 */
async function comparePNG(page, a, b, threshold) {
  return page.evaluate(
    async ({ a, b, threshold }) => {
      const load = async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return ctx.getImageData(0, 0, canvas.width, canvas.height);
      };
      const [x, y] = [await load(a), await load(b)];
      if (x.width !== y.width || x.height !== y.height) {
        return { sameSize: false, differing: x.width * x.height, total: x.width * x.height };
      }
      let differing = 0;
      for (let i = 0; i < x.data.length; i += 4) {
        for (let c = 0; c < 4; c++) {
          if (Math.abs(x.data[i + c] - y.data[i + c]) > threshold) {
            differing++;
            break;
          }
        }
      }
      return { sameSize: true, differing, total: x.width * x.height };
    },
    { a: a.toString('base64'), b: b.toString('base64'), threshold }
  );
}

let server;
let browser;
let baseUrl;

before(async () => {
  assert.ok(fs.existsSync(executablePath), `Chromium not found at ${executablePath}: run scripts/frontend-deps.sh`);
  fs.mkdirSync(artifacts, { recursive: true });
  fs.mkdirSync(goldenDir, { recursive: true });
  await build(previewConfig);
  server = await serve(outputDir);
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--font-render-hinting=none',
      '--disable-lcd-text',
      '--force-color-profile=srgb',
    ],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

describe('ModelLens dashboards drawn from the demo fleet frames', { timeout: 4 * UIDS.length * TIMEOUT_MS }, () => {
  it('has dashboards', () => assert.equal(UIDS.length >= 4, true, `dashboards: ${UIDS}`));

  for (const uid of UIDS) {
    it(`${uid}: every panel draws data, and the picture matches src/img/screenshots/${uid}.png`, async () => {
      const page = await browser.newPage({
        viewport: { width: 1600, height: 1000 },
        deviceScaleFactor: 1,
        reducedMotion: 'reduce',
      });
      page.setDefaultTimeout(TIMEOUT_MS);
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        // Relative times ("5 minutes ago") are computed at the end of the frames' time range.
        const frames = JSON.parse(
          fs.readFileSync(path.join(root, 'tests', 'preview', 'frames', `${uid}.json`), 'utf8')
        );
        await page.clock.setFixedTime(new Date(frames.to));
        await page.goto(`${baseUrl}/index.html?uid=${uid}`);
        const dashboard = page.getByTestId('dashboard');
        await dashboard.waitFor();
        await page.evaluate(() => document.fonts.ready);
        // uPlot draws on the next animation frame; let two go by.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

        const panels = await page.getByTestId('panel').evaluateAll((els) =>
          els.map((el) => ({
            id: el.getAttribute('data-panel-id'),
            type: el.getAttribute('data-panel-type'),
            text: el.innerText,
            noData: el.querySelector('[data-testid="no-data"]') !== null,
            error: el.querySelector('[data-testid="panel-error"]')?.textContent ?? null,
            canvases: el.querySelectorAll('canvas').length,
          }))
        );
        assert.ok(panels.length > 0, 'no panels drawn');
        assert.deepEqual(errors, [], 'page errors');
        assert.equal(
          await page.locator('body > #root [data-testid="panel-error"]').count(),
          0,
          'a panel failed to draw'
        );
        for (const p of panels) {
          assert.equal(p.error, null, `panel ${p.id} (${p.type}) error: ${p.error}`);
          assert.equal(p.noData, false, `panel ${p.id} (${p.type}) shows No data`);
          assert.doesNotMatch(p.text, /No data/, `panel ${p.id} (${p.type}) shows No data`);
          assert.doesNotMatch(p.text, /\bNaN\b/, `panel ${p.id} (${p.type}) shows NaN`);
          assert.doesNotMatch(p.text, /\$\{__/, `panel ${p.id} (${p.type}) shows an unexpanded display name`);
          if (['timeseries', 'heatmap', 'state-timeline'].includes(p.type)) {
            assert.ok(p.canvases > 0, `panel ${p.id} (${p.type}) has no plot`);
          }
        }

        const shot = await dashboard.screenshot({ animations: 'disabled', caret: 'hide' });
        fs.writeFileSync(path.join(artifacts, `dashboard-${uid}.png`), shot);
        const golden = path.join(goldenDir, `${uid}.png`);
        if (update || !fs.existsSync(golden)) {
          assert.ok(update, `${golden} is missing: run with UPDATE_GOLDEN=1 to create it`);
          fs.writeFileSync(golden, shot);
          return;
        }
        const cmp = await comparePNG(page, shot, fs.readFileSync(golden), TOLERANCE.CHANNEL_THRESHOLD);
        assert.ok(
          cmp.sameSize,
          `${uid}: picture size changed (new one in artifacts/dashboard-${uid}.png; UPDATE_GOLDEN=1 to accept)`
        );
        const ratio = cmp.differing / cmp.total;
        assert.ok(
          ratio <= TOLERANCE.MAX_DIFF_RATIO,
          `${uid}: ${(ratio * 100).toFixed(2)}% of pixels differ from ${golden} (limit ${TOLERANCE.MAX_DIFF_RATIO * 100}%); ` +
            `new picture in artifacts/dashboard-${uid}.png, UPDATE_GOLDEN=1 to accept`
        );
      } finally {
        await page.close();
      }
    });
  }
});
