#!/usr/bin/env bash
# Installs what the frontend checks need (npm run typecheck, lint, test:ci, build, test:browser) on a
# fresh Debian machine with Node 20+: the npm dependencies from package-lock.json, and Debian's
# Chromium for the browser test. Non-interactive; safe to run again (skips what is up to date).
set -euo pipefail

cd "$(dirname "$0")/.."

# npm 11's `npm ci` rejects this lockfile; npm 10 produced it and installs it exactly.
NPM10=(npx -y npm@10)

# node_modules is up to date when npm recorded the same lockfile the last time it installed.
if [[ -f node_modules/.package-lock.json ]] && [[ node_modules/.package-lock.json -nt package-lock.json ]] \
  && [[ node_modules/.package-lock.json -nt package.json ]]; then
  echo "frontend-deps: node_modules is up to date"
else
  echo "frontend-deps: installing npm dependencies (npm@10 ci)"
  CI=true "${NPM10[@]}" ci --no-audit --no-fund
fi

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then
  echo "frontend-deps: chromium present at $CHROMIUM"
else
  echo "frontend-deps: installing Debian's chromium"
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then
    SUDO=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium
fi
