#!/usr/bin/env bash
# Fuzzes the running API from its own OpenAPI document with schemathesis: every check and
# every phase (examples, coverage, fuzzing, stateful), configured by scripts/schemathesis.toml,
# which says where and why an expectation differs from a check's default. Starts `cadre serve`
# (the debug build) on a free port, on SQLite in a temporary directory or on $DATABASE_URL
# when set. schemathesis is installed from PyPI into a virtual environment of the project's
# own under target/, never into the machine's Python.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION='schemathesis>=4.32,<5'
VENV=target/schemathesis/venv
KEY="sk-orch-schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
if [[ ! -x "$VENV/bin/st" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$SCHEMATHESIS_VERSION"
fi

dir=$(mktemp -d /tmp/cadre-st.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"; }
CADRE_BIND="127.0.0.1:$port" CADRE_DATA_DIR="$dir/data" CADRE_BOOTSTRAP_KEY="$KEY" \
    CADRE_RATE_LIMIT__PER_SECOND=1000000 CADRE_RATE_LIMIT__BURST=1000000 \
    target/debug/cadre serve >"$dir/server.log" 2>&1 &
server=$!
trap cleanup EXIT

# The jobs, nodes and key that scripts/schemathesis.toml gives the operations on one resource.
api="http://127.0.0.1:$port/api/v1"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
post() { curl -sSf -X POST "$api$1" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$2"; }
# A field of the JSON on stdin, by its dotted path (`tree.children.0.id`).
field() {
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if key.isdigit() else value[key]
print(value)' "$1"
}
job=$(post /recursion/job '{"request": "a job for schemathesis to probe", "plan": {"name": "root", "children": [
    {"name": "wait", "run": {"type": "sleep", "ms": 3600000}},
    {"name": "also", "run": {"type": "sleep", "ms": 3600000}}]}}')
usage_job=$(post /recursion/job '{"request": "a job for schemathesis to report usage to", "plan":
    {"name": "reporter", "run": {"type": "sleep", "ms": 3600000}}}')
gated_job=$(post /recursion/job '{"request": "a job waiting for an approval", "plan": {"name": "gated",
    "approval": {"before": true, "approvers": ["scope:admin"], "allow_self": true}, "run": {"type": "noop"}}}')
export CADRE_ST_JOB CADRE_ST_ROOT CADRE_ST_WORKER CADRE_ST_KEY_ID CADRE_ST_USAGE_JOB CADRE_ST_USAGE_NODE CADRE_ST_APPROVAL
CADRE_ST_JOB=$(field job_id <<<"$job")
CADRE_ST_ROOT=$(field root_node_id <<<"$job")
CADRE_ST_WORKER=$(curl -sSf "$api/recursion/job/$CADRE_ST_JOB" -H "Authorization: Bearer $KEY" | field tree.children.0.id)
CADRE_ST_USAGE_JOB=$(field job_id <<<"$usage_job")
CADRE_ST_USAGE_NODE=$(field root_node_id <<<"$usage_job")
for _ in $(seq 50); do
    CADRE_ST_APPROVAL=$(curl -sSf "$api/approvals?job_id=$(field job_id <<<"$gated_job")&mine=false" \
        -H "Authorization: Bearer $KEY" | python3 -c 'import json, sys; a = json.load(sys.stdin)["approvals"]; print(a[0]["id"] if a else "")')
    [[ -n "$CADRE_ST_APPROVAL" ]] && break
    sleep 0.1
done
CADRE_ST_KEY_ID=$(post /keys '{"name": "revoked-by-schemathesis", "scopes": ["read"]}' | field id)
export CADRE_ST_AGENT CADRE_ST_MESSAGE
CADRE_ST_MESSAGE=$(post "/recursion/job/$CADRE_ST_JOB/messages" "{\"to\": \"$CADRE_ST_WORKER\", \"body\": \"probe\"}" | field id)
CADRE_ST_AGENT=$(post /agents '{"name": "probed-by-schemathesis", "run": {"type": "command", "argv": ["true"]}}' | field name)
# An agent for the mail routes alone (the agent operations may delete the one above), with a
# message waiting in its mailbox.
export CADRE_ST_MAIL_AGENT CADRE_ST_AGENT_MESSAGE
CADRE_ST_MAIL_AGENT=$(post /agents '{"name": "mailed-by-schemathesis", "run": {"type": "command", "argv": ["true"]}}' | field name)
CADRE_ST_AGENT_MESSAGE=$(post "/agents/$CADRE_ST_MAIL_AGENT/messages" '{"body": "probe"}' | field id)
# A job in a throwaway repository whose one worker runs throughout: its branch answers the diff.
repo="$dir/repo"
git init --quiet --initial-branch=main "$repo"
echo probe >"$repo/probe.txt"
git -C "$repo" add probe.txt
git -C "$repo" -c user.name=st -c user.email=st@localhost -c commit.gpgsign=false commit --quiet -m probe
ws_job=$(post /recursion/job "{\"request\": \"a job in a workspace\", \"workspace\": {\"repo\": \"$repo\", \"base\": \"main\"},
    \"plan\": {\"name\": \"editor\", \"run\": {\"type\": \"command\", \"argv\": [\"sleep\", \"3600\"]}}}")
export CADRE_ST_WS_JOB CADRE_ST_WS_NODE
CADRE_ST_WS_JOB=$(field job_id <<<"$ws_job")
CADRE_ST_WS_NODE=$(field root_node_id <<<"$ws_job")
for _ in $(seq 50); do
    curl -sf "$api/recursion/job/$CADRE_ST_WS_JOB/nodes/$CADRE_ST_WS_NODE/diff" -H "Authorization: Bearer $KEY" >/dev/null && break
    sleep 0.1
done

status=0
"$VENV/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --wait-for-schema 30 -H "Authorization: Bearer $KEY" | tee "$dir/st.log" || status=$?
# The operations whose plans or keys have rules JSON Schema cannot state, and the dry run on a
# server without a decomposer, the answer to a job that asked nothing, and decisions on a request
# decided by the first of them, agents, and removing the workspace of a job that runs (see the toml): the
# only ones allowed to refuse every generated body.
EXPLAINED_MISMATCHES='^  - POST /api/v1/(recursion/job|recursion/job/\{id\}/nodes/\{node_id\}/children|recursion/plan|recursion/job/\{id\}/answer|recursion/job/\{id\}/resume|keys|approvals/\{id\}/decision|agents)$|^  - PATCH /api/v1/agents/\{name\}$|^  - DELETE /api/v1/recursion/job/\{id\}/workspace$'
unexplained=$(sed -n '/^Schema validation mismatch/,/^💡/p' "$dir/st.log" | grep '^  - ' | grep -Ev "$EXPLAINED_MISMATCHES" || true)
if [[ -n "$unexplained" ]]; then
    echo "schemathesis: these operations refused all generated data, and nothing explains why:" >&2
    echo "$unexplained" >&2
    status=1
fi
# A message's recipient is a generated id and the one stored message is soon acknowledged, so
# sending and giving back answer 404 throughout (see the toml); nothing else may.
EXPLAINED_MISSING='^  - POST /api/v1/recursion/job/\{id\}/messages(/\{msg_id\}/(ack|nack))?$|^  - POST /api/v1/agents/\{name\}/messages/\{msg_id\}/(ack|nack)$'
missing=$(sed -n '/^Missing test data/,/^💡/p' "$dir/st.log" | grep '^  - ' | grep -Ev "$EXPLAINED_MISSING" || true)
if [[ -n "$missing" ]]; then
    echo "schemathesis: these operations only ever answered 404, and nothing explains why:" >&2
    echo "$missing" >&2
    status=1
fi
if [[ $status -ne 0 ]]; then
    echo "schemathesis failed; the server's log:" >&2
    tail -n 50 "$dir/server.log" >&2
fi
exit $status
