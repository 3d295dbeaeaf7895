#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 server for Tandem's storage tests and prints the line that
# tells the tests where it is.
#
# Usage (from the repository root):
#   eval "$(bash build/start-test-postgres.sh)"   # start it; exports TANDEM_TEST_POSTGRES
#   dotnet test --project tests/Tandem.Storage.Tests
#   bash build/stop-test-postgres.sh              # stop it and delete its data
#
# Stdout is exactly one line:
#   export TANDEM_TEST_POSTGRES='Host=127.0.0.1;Port=NNNNN;Username=postgres;Database=postgres'
# Progress and errors go to stderr. Running it again while the server runs prints the same line.
#
# What it does: installs Debian's postgresql-15 if its binaries are missing (needs root and the
# Debian package lists), runs initdb in a fresh folder (TANDEM_TEST_PG_DIR, default
# /tmp/tandem-test-postgres), and starts the server with pg_ctl listening only on 127.0.0.1 on the
# first free port from TANDEM_TEST_PG_PORT (default 55432). Authentication is 'trust' for every
# user except tandem_auth_test, which must give its password (scram-sha-256) so that the tests can
# check the message for a failed login. PostgreSQL refuses to run as root, so when run as root the
# server runs as the 'postgres' user (created by the Debian package) or else as 'nobody'.
set -euo pipefail

PG_VERSION=15
BIN="/usr/lib/postgresql/${PG_VERSION}/bin"
DIR="${TANDEM_TEST_PG_DIR:-/tmp/tandem-test-postgres}"
FIRST_PORT="${TANDEM_TEST_PG_PORT:-55432}"

log() { echo "start-test-postgres: $*" >&2; }

export_line() {
  echo "export TANDEM_TEST_POSTGRES='Host=127.0.0.1;Port=$1;Username=postgres;Database=postgres'"
}

if [[ ! -x "$BIN/pg_ctl" || ! -x "$BIN/initdb" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    log "PostgreSQL ${PG_VERSION} is not installed in $BIN; install Debian's postgresql-${PG_VERSION} (as root) and retry"
    exit 1
  fi
  log "installing postgresql-${PG_VERSION} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q "postgresql-${PG_VERSION}" >&2; then
    apt-get update -q >&2
    apt-get install -y -q "postgresql-${PG_VERSION}" >&2
  fi
fi

# Who runs the server: this user, or an unprivileged one when this is root.
if [[ $(id -u) -eq 0 ]]; then
  if id postgres >/dev/null 2>&1; then RUN_AS=postgres; else RUN_AS=nobody; fi
  as_server_user() { runuser -u "$RUN_AS" -- "$@"; }
else
  RUN_AS=$(id -un)
  as_server_user() { "$@"; }
fi

# Already running (from an earlier call)? Report it again.
if [[ -f "$DIR/port" && -f "$DIR/data/postmaster.pid" ]] && as_server_user "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  export_line "$(cat "$DIR/port")"
  exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR"
chown "$RUN_AS" "$DIR" 2>/dev/null || true
chmod 700 "$DIR"

log "initdb in $DIR/data as $RUN_AS"
as_server_user "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2
  exit 1
}
cat >"$DIR/data/pg_hba.conf" <<'HBA'
# Throw-away test server: local connections are trusted, except the user the tests use to check a failed login.
local all all                            trust
host  all tandem_auth_test 127.0.0.1/32  scram-sha-256
host  all all              127.0.0.1/32  trust
HBA
chown "$RUN_AS" "$DIR/data/pg_hba.conf" 2>/dev/null || true

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for ((port = FIRST_PORT; port < FIRST_PORT + 50; port++)); do
  port_in_use "$port" && continue
  log "starting PostgreSQL ${PG_VERSION} on 127.0.0.1:$port"
  if as_server_user "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -p $port -k $DIR -c max_connections=200" start >&2; then
    echo "$port" >"$DIR/port"
    export_line "$port"
    exit 0
  fi
  # Lost a race for the port, or the server failed: show why and try the next port.
  tail -n 5 "$DIR/server.log" >&2 || true
done
log "no free port in ${FIRST_PORT}..$((FIRST_PORT + 49)); see $DIR/server.log"
exit 1
