#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis: no response may be
# a 5xx, and every response must match the documented schema. Starts `cadre serve` (the debug
# build) on a free port, on SQLite in a temporary directory or on $DATABASE_URL when set.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION='schemathesis>=4.32,<5'
KEY="sk-orch-schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
if ! command -v st >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS_VERSION"
fi

dir=$(mktemp -d /tmp/cadre-st.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"; }
CADRE_BIND="127.0.0.1:$port" CADRE_DATA_DIR="$dir/data" CADRE_BOOTSTRAP_KEY="$KEY" \
    CADRE_RATE_LIMIT__PER_SECOND=1000000 CADRE_RATE_LIMIT__BURST=1000000 \
    target/debug/cadre serve >"$dir/server.log" 2>&1 &
server=$!
trap cleanup EXIT

st run "http://127.0.0.1:$port/api/v1/openapi.json" --wait-for-schema 30 \
    -H "Authorization: Bearer $KEY" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples 30 --workers 2 --seed 20261121
