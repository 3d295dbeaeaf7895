#!/usr/bin/env bash
# Stops the throw-away PostgreSQL server started by build/start-test-postgres.sh and deletes its
# data folder (TANDEM_TEST_PG_DIR, default /tmp/tandem-test-postgres).
#
# Usage (from the repository root):  bash build/stop-test-postgres.sh
# Safe to call when no server runs.
set -euo pipefail

BIN="/usr/lib/postgresql/15/bin"
DIR="${TANDEM_TEST_PG_DIR:-/tmp/tandem-test-postgres}"

if [[ -f "$DIR/data/postmaster.pid" && -x "$BIN/pg_ctl" ]]; then
  owner=$(stat -c %U "$DIR/data")
  if [[ $(id -u) -eq 0 && "$owner" != root ]]; then
    runuser -u "$owner" -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  else
    "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  fi
fi
rm -rf "$DIR"
echo "stop-test-postgres: stopped and removed $DIR" >&2
