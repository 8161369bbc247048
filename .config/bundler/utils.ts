import fs from 'fs';
import process from 'process';
import os from 'os';
import path from 'path';
import { glob } from 'glob';
import { SOURCE_DIR } from './constants.ts';

export function isWSL() {
  if (process.platform !== 'linux') {
    return false;
  }

  if (os.release().toLowerCase().includes('microsoft')) {
    return true;
  }

  try {
    return fs.readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft');
  } catch {
    return false;
  }
}

function loadJson(path: string) {
  const rawJson = fs.readFileSync(path, 'utf8');
  return JSON.parse(rawJson);
}

export function getPackageJson() {
  return loadJson(path.resolve(process.cwd(), 'package.json'));
}

// ModelLens keeps plugin.json at the repository root, where the Go backend build reads it too.
export const PLUGIN_JSON_PATH = path.resolve(process.cwd(), 'plugin.json');

export function getPluginJson() {
  return loadJson(PLUGIN_JSON_PATH);
}

export function getCPConfigVersion() {
  const cprcJson = path.resolve(process.cwd(), './.config', '.cprc.json');
  return fs.existsSync(cprcJson) ? loadJson(cprcJson).version : { version: 'unknown' };
}

export function hasReadme() {
  return fs.existsSync(path.resolve(process.cwd(), SOURCE_DIR, 'README.md'));
}

// The root plugin.json belongs to src/module.ts. Nested plugins (a src/**/plugin.json with a
// sibling module.[jt]sx? file) are bundled as well, as the scaffold does.
export async function getEntries() {
  const rootModules = await glob(`${path.resolve(process.cwd(), SOURCE_DIR)}/module.{ts,tsx,js,jsx}`, { absolute: true });
  const nestedPluginJsons = await glob(`${SOURCE_DIR}/**/plugin.json`, { absolute: true });
  const nestedModules = await Promise.all(
    nestedPluginJsons.map((pluginJson) =>
      glob(`${path.dirname(pluginJson)}/module.{ts,tsx,js,jsx}`, { absolute: true })
    )
  );

  return [rootModules, ...nestedModules].reduce<Record<string, string>>((result, modules) => {
    return modules.reduce((innerResult, module) => {
      const pluginPath = path.dirname(module);
      const pluginName = path.relative(path.resolve(process.cwd(), SOURCE_DIR), pluginPath);
      const entryName = pluginName === '' ? 'module' : `${pluginName}/module`;

      innerResult[entryName] = module;
      return innerResult;
    }, result);
  }, {});
}
