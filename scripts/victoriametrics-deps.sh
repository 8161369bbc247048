#!/usr/bin/env bash
# Builds VictoriaMetrics single-node (app/victoria-metrics) from its Go module into a cache
# directory kept between runs, for the VictoriaMetrics end-to-end test, and prints the binary's
# path. Skipped when the binary is already there. Runs at low priority.
set -euo pipefail

VM_VERSION="v1.151.0"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/modellens/victoria-metrics-${VM_VERSION}"
BIN="$CACHE/victoria-metrics"

if [ -x "$BIN" ]; then
  echo "victoria-metrics ${VM_VERSION}: $BIN"
  exit 0
fi

echo "==> go install victoria-metrics ${VM_VERSION} into $CACHE"
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# GOFLAGS from the environment (e.g. -mod=vendor) must not leak into a module-mode install.
GOFLAGS= GOBIN="$tmp" nice -n 15 go install \
  -ldflags "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-${VM_VERSION}" \
  "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@${VM_VERSION}"
mv "$tmp/victoria-metrics" "$BIN"
echo "victoria-metrics ${VM_VERSION}: $BIN"
