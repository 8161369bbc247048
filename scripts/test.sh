#!/usr/bin/env bash
# Runs every ModelLens test from a clean checkout: installs what the tests need, builds the plugin
# binary (linux/amd64), the demo model server and the frontend, then runs the Go tests (kernels,
# sources, handlers, golden frames, the built binary over the plugin protocol, a real Prometheus),
# the frontend checks (typecheck, lint, jest), the browser test and the package check.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"
start=$(date +%s)
step() { echo; echo "==> $* ($(( $(date +%s) - start ))s)"; }

step "install dependencies"
bash scripts/install-deps.sh
# Prometheus 3.x and VictoriaMetrics, built from their Go modules by install-deps (cached).
export PROMETHEUS3_BIN="${PROMETHEUS3_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/modellens/prometheus-3.16.0/prometheus}"
export VICTORIAMETRICS_BIN="${VICTORIAMETRICS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/modellens/victoria-metrics-v1.151.0/victoria-metrics}"

step "frontend: typecheck, lint, jest"
npm run typecheck
npm run lint
npm run test:ci

step "frontend: build"
npm run build

step "backend: build (mage -v build:linux)"
go run github.com/magefile/mage -v build:linux
export MODELLENS_PLUGIN_BINARY="$PWD/dist/gpx_modellens_linux_amd64"
export MODELLENS_DIST="$PWD/dist"

step "go vet"
go vet ./pkg/...

step "go test"
go test -count=1 -timeout 30m ./pkg/...

# Count budgets, not durations: a -fuzztime duration races the fuzz coordinator's own deadline in
# Go 1.26 (golang/go#75804) and can fail with "context deadline exceeded" without any crasher.
step "fuzz: window grid and time ranges over the full int64 time range (20,000 inputs each)"
go test ./pkg/query -run '^$' -fuzz '^FuzzWindowGrid$' -fuzztime 20000x
go test ./pkg/query -run '^$' -fuzz '^FuzzTimeRange$' -fuzztime 20000x

step "browser test (playwright-core + Debian chromium)"
npm run test:browser

step "package (linux/amd64) and check the archive"
go run github.com/magefile/mage -v packageLinux

step "Grafana's plugin validator on the package"
bash scripts/validate-package.sh

step "done"
