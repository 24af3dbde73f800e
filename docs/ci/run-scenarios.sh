#!/usr/bin/env bash
# The same as docs/ci/github-actions.yml for any other CI system: start the server under test,
# wait for it, run the scenarios, and exit with runner's exit code (0 passed, 1 failed, 2 invalid
# scenarios, 130/143 stopped). The results folder, junit.xml included, is left for the CI
# system to keep. Needs `runner` on PATH and PostgreSQL at DATABASE_URL.
#
# Usage: SERVER_CMD="npm start" docs/ci/run-scenarios.sh [SCENARIOS_DIR] [RESULTS_DIR]
set -euo pipefail
scenarios="${1:-scenarios}"
results="${2:-results}"
: "${SERVER_CMD:?set SERVER_CMD to the command that starts the server under test}"
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database of the server}"
MCP_URL="${MCP_URL:-http://127.0.0.1:8000/mcp}"

bash -c "$SERVER_CMD" > server.log 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT

# Any HTTP answer on the MCP endpoint means it listens; give up after 60 s.
for _ in $(seq 60); do
    curl -s -o /dev/null "$MCP_URL" && break
    kill -0 "$server" 2> /dev/null || { echo "the server exited:" >&2; cat server.log >&2; exit 1; }
    sleep 1
done
curl -s -o /dev/null "$MCP_URL" || { echo "no answer on $MCP_URL after 60 s" >&2; exit 1; }

status=0
runner run "$scenarios" \
    --set mcp_url="$MCP_URL" \
    --set database_url="$DATABASE_URL" \
    --out "$results" \
    --progress never || status=$?
echo "results: $results/ (junit.xml in each scenario's folder)"
exit "$status"
