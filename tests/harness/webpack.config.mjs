// Bundles tests/harness/index.tsx (React, @grafana/ui and the ModelLens editors) into
// artifacts/harness/ for the browser test. Unlike the plugin build, nothing is external: the page
// runs without Grafana. testPageConfig builds the same configuration for the other test pages.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import CopyWebpackPlugin from 'copy-webpack-plugin';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

/**
 * The webpack configuration of a test page: pageDir/index.tsx and pageDir/index.html bundled into
 * artifacts/<name>/. autoMjs lets webpack honour __esModule in .mjs files that import CommonJS
 * defaults (needed by @grafana/ui's panel components).
 */
export function testPageConfig(name, pageDir, { autoMjs = false } = {}) {
  return {
    mode: 'development',
    devtool: false,
    context: root,
    entry: { [name]: path.join(pageDir, 'index.tsx') },
    output: { path: path.join(root, 'artifacts', name), filename: '[name].js', clean: true },
    cache: { type: 'filesystem', cacheDirectory: path.join(root, 'node_modules', '.cache', `${name}-webpack`) },
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
        autoMjs
          ? { test: /\.m?js$/, type: 'javascript/auto', resolve: { fullySpecified: false } }
          : { test: /\.m?js$/, resolve: { fullySpecified: false } },
      ],
    },
    resolve: {
      extensions: ['.js', '.jsx', '.ts', '.tsx', '.mjs'],
      modules: [path.join(root, 'src'), 'node_modules'],
    },
    plugins: [new CopyWebpackPlugin({ patterns: [{ from: path.join(pageDir, 'index.html'), to: '.' }] })],
    performance: { hints: false },
    stats: 'errors-warnings',
  };
}

const config = testPageConfig('harness', here);

export const outputDir = config.output.path;

export default config;
