#!/usr/bin/env bash
# Installs Debian's PostgreSQL 15 and Redis 7 — the databases the SQL-source and Feast tests start
# themselves (pkg/internal/testdb: initdb in a temporary directory, a free loopback port, stopped at
# the end) — unless both are already on the machine. Non-interactive; uses sudo only when not root.
set -euo pipefail

pgbin="${POSTGRES_BIN_DIR:-/usr/lib/postgresql/15/bin}"
if [ -x "${pgbin}/initdb" ] && [ -x "${pgbin}/postgres" ] && command -v redis-server >/dev/null 2>&1; then
  echo "postgresql: ${pgbin}; redis: $(command -v redis-server)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi
echo "==> apt-get install postgresql-15 redis-server"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql-15 redis-server >/dev/null
# The packages start system services on 5432 and 6379; the tests start their own servers on free ports.
test -x "${pgbin}/initdb"
command -v redis-server
