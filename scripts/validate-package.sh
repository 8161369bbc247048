#!/usr/bin/env bash
# Runs Grafana's plugin validator (the plugin catalog's own checks, offline build in
# ../shared/tools/plugin-validator, see its README) on a packaged plugin archive with this
# repository as its source code, and fails on any error or warning (recommendations are printed).
# usage: scripts/validate-package.sh [ZIP]
#   ZIP defaults to the linux/amd64 archive `mage packageLinux` writes for package.json's version.
#   PLUGIN_VALIDATOR overrides the validator's path.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

validator=${PLUGIN_VALIDATOR:-$root/../shared/tools/plugin-validator/validate}
if [[ ! -x "$validator" ]]; then
  echo "validate-package: plugin validator not found at $validator (set PLUGIN_VALIDATOR)" >&2
  exit 2
fi

version=$(node -p 'require("./package.json").version')
zip=${1:-modellens-mlmonitoring-datasource-$version.linux_amd64.zip}
if [[ ! -f "$zip" ]]; then
  echo "validate-package: $zip not found (run: go run github.com/magefile/mage -v packageLinux)" >&2
  exit 2
fi

echo "validate-package: $zip against the source in $root"
"$validator" "$zip" "$root"
