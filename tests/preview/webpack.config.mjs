// Bundles tests/preview/index.tsx (the bundled dashboards drawn with @grafana/ui from the frames
// the backend returns on the demo fleet) into artifacts/preview/ for tests/browser/dashboards.test.mjs.
// Nothing is external: the page runs without Grafana.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

export const outputDir = path.join(root, 'artifacts', 'preview');

export default {
  mode: 'development',
  devtool: false,
  context: root,
  entry: { preview: path.join(here, 'index.tsx') },
  output: { path: outputDir, filename: '[name].js', clean: true },
  cache: { type: 'filesystem', cacheDirectory: path.join(root, 'node_modules', '.cache', 'preview-webpack') },
  module: {
    rules: [
      {
        exclude: /node_modules/,
        test: /\.[tj]sx?$/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(png|jpe?g|gif|svg|woff2?|eot|ttf|otf)$/, type: 'asset/resource' },
      // Some ESM dependencies import without file extensions.
      // and @grafana/ui's .mjs files import CommonJS defaults (react-custom-scrollbars-2): let
      // webpack honour __esModule there.
      { test: /\.m?js$/, type: 'javascript/auto', resolve: { fullySpecified: false } },
    ],
  },
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx', '.mjs'],
    modules: [path.join(root, 'src'), 'node_modules'],
  },
  plugins: [new CopyWebpackPlugin({ patterns: [{ from: path.join(here, 'index.html'), to: '.' }] })],
  performance: { hints: false },
  stats: 'errors-warnings',
};
