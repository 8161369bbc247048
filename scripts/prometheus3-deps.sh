#!/usr/bin/env bash
# Builds Prometheus 3.x from its Go module (the real-Prometheus end-to-end tests run against it and
# against Debian's 2.42) into a cache directory kept between runs, and prints the binary's path.
# Skipped when the binary is already there. The build takes 8-15 minutes on two cores; it runs at
# low priority. The version string is stamped in with -ldflags so /api/v1/status/buildinfo answers
# 3.16.0, as a release binary does (the plugin chooses its rate path by that version). The tests
# use static scrape targets only, so the service-discovery plugins are left out (remove_all_sd),
# which halves the build.
set -euo pipefail

PROM3_VERSION="3.16.0"
PROM3_MODULE_VERSION="v0.316.0"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/modellens/prometheus-${PROM3_VERSION}"
BIN="$CACHE/prometheus"

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version ${PROM3_VERSION}"; then
  echo "prometheus ${PROM3_VERSION}: $BIN"
  exit 0
fi

echo "==> go install prometheus ${PROM3_MODULE_VERSION} (Prometheus ${PROM3_VERSION}) into $CACHE"
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# GOFLAGS from the environment (e.g. -mod=vendor) must not leak into a module-mode install.
GOFLAGS= GOBIN="$tmp" nice -n 15 go install -tags remove_all_sd \
  -ldflags "-X github.com/prometheus/common/version.Version=${PROM3_VERSION}" \
  "github.com/prometheus/prometheus/cmd/prometheus@${PROM3_MODULE_VERSION}"
mv "$tmp/prometheus" "$BIN"
"$BIN" --version | head -1
echo "prometheus ${PROM3_VERSION}: $BIN"
