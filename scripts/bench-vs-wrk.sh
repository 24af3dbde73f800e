#!/usr/bin/env bash
# Benchmark: MCP `tools/call` echo per second through the lab, runner against wrk, side by side.
# The lab runs in its own process. wrk posts the same JSON-RPC call over 10 connections, each on
# a session of its own; the runner runs 10 clients, each on its own session and connection, in a
# closed loop, and checks every answer (wrk checks none). They run alternately, PAIRS pairs, each
# pair's ratio printed, then their median.
#
# Usage: scripts/bench-vs-wrk.sh [PAIRS] [SECONDS]   (default 3 pairs, wrk 5 s; the runner makes
# as many calls as wrk made per connection in the same pair, so both run about as long)
source "$(dirname "$0")/bench-lab.sh"
pairs="${1:-3}"
seconds="${2:-5}"
command -v wrk > /dev/null || { echo "needs wrk (Debian package wrk)"; exit 1; }
bench_lab_start
version="2025-11-25"

# Ten sessions for wrk, one per connection as the runner's clients have: initialize, then
# notifications/initialized, as a client must.
open_session() {
    local headers="$work/headers" session
    curl -sf -D "$headers" -o /dev/null "$mcp_url" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$version\",\"capabilities\":{},\"clientInfo\":{\"name\":\"wrk\",\"version\":\"1\"}}}"
    session="$(grep -i '^mcp-session-id:' "$headers" | cut -d' ' -f2 | tr -d '\r')"
    curl -sf -o /dev/null "$mcp_url" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $session" \
        -H "MCP-Protocol-Version: $version" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo "$session"
}
sessions=""
for _ in $(seq 10); do sessions+="\"$(open_session)\","; done
cat > "$work/call.lua" <<LUA
local sessions = { $sessions }
local started = 0
function setup(thread)
    started = started + 1
    thread:set("session", sessions[started])
end
function init(args)
    wrk.headers["Mcp-Session-Id"] = session
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "$version"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"call"}}}'
LUA

ratios=()
for pair in $(seq "$pairs"); do
    out="$(wrk -t10 -c10 -d"${seconds}s" -s "$work/call.lua" "$mcp_url")"
    if grep -q 'Non-2xx' <<< "$out"; then echo "$out"; exit 1; fi
    wrk_rate="$(awk '/^Requests\/sec:/ { print $2 }' <<< "$out")"
    per_client="$(python3 -c "print(max(100, int($wrk_rate * $seconds / 10)))")"
    calls_scenario "$work/runner.yaml" 10 "$per_client"
    rm -rf "$work/out"
    "$bin" run "$work/runner.yaml" --out "$work/out" --quiet > /dev/null
    runner_rate="$(report_value "$work/out" "round(10 * $per_client / (r['elapsed_ms'] / 1000))")"
    ratio="$(python3 -c "print(round($runner_rate / $wrk_rate, 2))")"
    ratios+=("$ratio")
    echo "pair $pair: wrk $wrk_rate calls/s, runner $runner_rate calls/s (10 × $per_client), ratio $ratio"
done
echo "median ratio: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
