#!/usr/bin/env bash
# Installs what the ModelLens tests need on a fresh Debian machine that has only Go, gcc, Node 20
# and npm: Debian's prometheus 2.42, and Prometheus 3.16 and VictoriaMetrics v1.151.0 built from
# their Go modules (the real-server tests; cached), PostgreSQL 15 and Redis 7 (the SQL-source and
# Feast tests), chromium (the browser test), the npm packages
# and the Go modules. Idempotent and non-interactive; uses sudo only when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prometheus-deps.sh
bash scripts/prometheus3-deps.sh
bash scripts/victoriametrics-deps.sh
bash scripts/db-deps.sh
bash scripts/frontend-deps.sh
echo "==> go mod download"
go mod download
