// Bundles tests/preview/index.tsx (the bundled dashboards drawn with @grafana/ui from the frames
// the backend returns on the demo fleet) into artifacts/preview/ for tests/browser/dashboards.test.mjs.
// Nothing is external: the page runs without Grafana.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { testPageConfig } from '../harness/webpack.config.mjs';

const config = testPageConfig('preview', path.dirname(fileURLToPath(import.meta.url)), { autoMjs: true });

export const outputDir = config.output.path;

export default config;
