#!/usr/bin/env bash
# Installs what the ModelLens tests need on a fresh Debian machine that has only Go, gcc, Node 20
# and npm: Debian's prometheus and chromium, the Go modules and the npm packages. Idempotent and
# non-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi

missing=()
command -v "${PROMETHEUS_BIN:-prometheus}" >/dev/null 2>&1 || missing+=(prometheus)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> go mod download"
go mod download

if [ -f package-lock.json ]; then
  stamp=node_modules/.modellens-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> npm ci"
    # npm 11 rejects its own lockfile on this platform; npm 10 installs it faithfully.
    npx -y npm@10 ci --no-audit --no-fund
    echo "$want" > "$stamp"
  fi
fi
