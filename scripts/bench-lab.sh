# Sourced by the load benchmarks: builds the release binary and starts `runner lab` in its own
# process on a free loopback port, with an SQLite store in a temp folder that goes on exit.
#
# After `bench_lab_start [LAB FLAGS…]`: $bin (the runner), $work (the temp folder), $mcp_url.
# RUNNER=PATH measures that binary (another commit's, for a before/after pair) against this
# tree's lab, so both sides of a pair meet the same server.
# `calls_scenario FILE CLIENTS CALLS` writes a closed-loop scenario: each client initializes,
# then makes CALLS `echo` calls, each checked.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked --quiet --bin runner
lab_bin="$PWD/target/release/runner"
bin="${RUNNER:-$lab_bin}"
work="$(mktemp -d)"
lab_pid=""
trap '[ -n "$lab_pid" ] && kill "$lab_pid" 2> /dev/null; rm -rf "$work"' EXIT

bench_lab_start() {
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$lab_bin" lab --listen "127.0.0.1:$port" --database "sqlite://$work/lab.db" "$@" > "$work/lab.log" 2>&1 &
    lab_pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/health" > /dev/null || { cat "$work/lab.log"; exit 1; }
    mcp_url="http://127.0.0.1:$port/mcp"
}

calls_scenario() {
    local file="$1" clients="$2" calls="$3"
    cat > "$file" <<YAML
name: calls-$clients-$calls
connections:
  lab: { mcp: { url: "$mcp_url" } }
clients:
  callers:
    count: $clients
    steps:
      - initialize: {}
      - repeat: { times: $calls }
        steps:
          - call: echo
            arguments: { text: "call {{ iteration }}" }
            expect:
              - \$.result.content[0].text: "call {{ iteration }}"
YAML
}

# A value of a scenario's report.json: `report_value DIR 'r["elapsed_ms"]'`.
report_value() {
    python3 -c "import json, sys; r = json.load(open(sys.argv[1] + '/report.json')); print($2)" "$1"
}
