#!/usr/bin/env bash
# Installs Debian's prometheus package — the server the real-Prometheus test in pkg/e2e/prometheus
# starts, and promtool, which pkg/packaging's compose test requires — unless both a server
# ($PROMETHEUS_BIN or `prometheus`) and `promtool` are on the machine. Non-interactive; uses sudo
# only when not root.
set -euo pipefail

server=""
if [ -n "${PROMETHEUS_BIN:-}" ] && [ -x "${PROMETHEUS_BIN}" ]; then
  server="${PROMETHEUS_BIN}"
elif command -v prometheus >/dev/null 2>&1; then
  server="$(command -v prometheus)"
fi
if [ -n "${server}" ] && command -v promtool >/dev/null 2>&1; then
  echo "prometheus: ${server}; promtool: $(command -v promtool)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi
echo "==> apt-get install prometheus"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The Debian package starts a system service on port 9090; the test starts its own server.
command -v prometheus
command -v promtool
