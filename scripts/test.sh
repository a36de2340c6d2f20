#!/usr/bin/env bash
# Runs every test: formatting, lints, the dashboard's own tests, the unit tests, the API,
# CLI and crash-recovery suites on SQLite and on PostgreSQL, the dashboard end to end in
# Chromium, a store outage, and schemathesis. It starts a throwaway PostgreSQL 15 cluster of
# its own (installing the server from Debian's packages if it is missing) and removes it after.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (%d s in)\n' "$*" "$SECONDS"; }

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
    # Settings go in the configuration file, not on the command line, so that the outage test
    # can stop and start the cluster with a plain `pg_ctl start`.
    printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = 200\nfsync = off\n" \
        "$pg_dir" >>"$pg_dir/data/postgresql.conf"
    local attempt port
    for ((attempt = 1; attempt <= PG_START_ATTEMPTS; attempt++)); do
        port=${CADRE_TEST_PGPORT:-$(free_port)}
        echo "port = $port" >>"$pg_dir/data/postgresql.conf"
        if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start >/dev/null; then
            export CADRE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
            export CADRE_TEST_PG_DATA="$pg_dir/data" CADRE_TEST_PG_BIN="$PGBIN"
            return 0
        fi
        echo "PostgreSQL did not start on port $port (attempt $attempt):" >&2
        cat "$pg_dir/server.log" >&2
    done
    return 1
}

# Debian's Chromium: browsers cannot be downloaded by npm tools here.
ensure_chromium() {
    if [[ ! -x /usr/bin/chromium ]]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
}

# A port nothing listens on now, chosen by the kernel.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "cargo fmt --check"
cargo fmt --all -- --check

# Installed first so that cargo's build script (which builds the dashboard into
# frontend/dist for embedding) finds node_modules current and only runs the Vite build.
step "dashboard: npm ci, eslint, vitest"
(cd frontend && npm ci --no-audit --no-fund && npm run lint && npm test)

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "tests on SQLite (unit, API, CLI, recovery)"
env -u DATABASE_URL -u CADRE_TEST_DATABASE_URL cargo test --locked

step "dashboard end to end in Chromium against the real server"
ensure_chromium
(cd frontend && CADRE_BIN="$PWD/../target/debug/cadre" npm run e2e)

step "schemathesis against a running server on SQLite"
env -u DATABASE_URL scripts/schemathesis.sh

step "starting a throwaway PostgreSQL"
start_postgres

step "API, CLI, recovery and agent tests on PostgreSQL"
cargo test --locked --test api --test cli --test recovery --test agents

step "replicas: several cadre serve over one PostgreSQL"
cargo test --locked --test cluster --test cluster_load --test cluster_shares -- --ignored

step "store outage: PostgreSQL stopped and started again under a running job"
cargo test --locked --test outage -- --ignored

step "schemathesis against a running server on PostgreSQL"
DATABASE_URL="$CADRE_TEST_DATABASE_URL" scripts/schemathesis.sh

step "all tests passed"
