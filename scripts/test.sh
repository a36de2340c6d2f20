#!/usr/bin/env bash
# Runs every test: formatting, lints, the unit tests, and the API and CLI suites on SQLite
# and on PostgreSQL. With no DATABASE_URL it starts a throwaway PostgreSQL 15 cluster of its
# own (installing the server from Debian's packages if it is missing) and removes it after.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
pg_dir=""
# Attempts at starting the cluster on a fresh free port: another PostgreSQL (a CI neighbour,
# an earlier run) may take the port between choosing it and binding it.
PG_START_ATTEMPTS=5

stop_postgres() {
    if [[ -n "$pg_dir" ]]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
    fi
}
trap stop_postgres EXIT

start_postgres() {
    if [[ ! -x "$PGBIN/initdb" ]]; then
        step "installing PostgreSQL"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    pg_dir=$(mktemp -d /tmp/cadre-pg.XXXXXX)
    chown postgres:postgres "$pg_dir"
    runuser -u postgres -- "$PGBIN/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
    local attempt port
    for ((attempt = 1; attempt <= PG_START_ATTEMPTS; attempt++)); do
        port=${CADRE_TEST_PGPORT:-$(free_port)}
        if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
            -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null; then
            export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        echo "PostgreSQL did not start on port $port (attempt $attempt):" >&2
        cat "$pg_dir/server.log" >&2
    done
    return 1
}

# A port nothing listens on now, chosen by the kernel.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "tests on SQLite (unit, API, CLI)"
env -u DATABASE_URL -u CADRE_TEST_DATABASE_URL cargo test --locked

step "schemathesis against a running server on SQLite"
env -u DATABASE_URL scripts/schemathesis.sh

if [[ -z "${DATABASE_URL:-}" ]]; then
    step "starting a throwaway PostgreSQL"
    start_postgres
fi

step "API and CLI tests on PostgreSQL"
CADRE_TEST_DATABASE_URL="$DATABASE_URL" cargo test --locked --test api --test cli

step "schemathesis against a running server on PostgreSQL"
scripts/schemathesis.sh

step "all tests passed"
