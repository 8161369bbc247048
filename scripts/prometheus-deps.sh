#!/usr/bin/env bash
# Installs Debian's prometheus package (the server the real-Prometheus test in pkg/e2e/prometheus
# starts) when neither $PROMETHEUS_BIN nor `prometheus` is on the machine. Non-interactive; uses sudo
# only when not root.
set -euo pipefail

if [ -n "${PROMETHEUS_BIN:-}" ] && [ -x "${PROMETHEUS_BIN}" ]; then
  echo "prometheus: ${PROMETHEUS_BIN}"
  exit 0
fi
if command -v prometheus >/dev/null 2>&1; then
  echo "prometheus: $(command -v prometheus)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi
echo "==> apt-get install prometheus"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The Debian package starts a system service on port 9090; the test starts its own server.
command -v prometheus
