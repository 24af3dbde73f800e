#!/usr/bin/env bash
# Benchmark: what the runner holds. Peak RSS and the results folder of 10 clients making SMALL
# and then LARGE calls in all (growth per call is the difference over the extra calls), and the
# RSS of IDLE connected MCP clients against 10, while they wait and at the peak, which includes
# writing their results (per idle client, the difference over the extra clients). The lab runs in
# its own process, on loopback.
#
# Usage: scripts/bench-memory.sh [SMALL] [LARGE] [IDLE]   (default 10000 100000 1000 calls/clients;
# the issue's figures are 10000 1000000 10000)
source "$(dirname "$0")/bench-lab.sh"
small="${1:-10000}"
large="${2:-100000}"
idle="${3:-1000}"
[ "$idle" -gt 10 ] || { echo "IDLE is measured against 10 clients: give more than 10"; exit 2; }
ulimit -n 65536 2> /dev/null || true
bench_lab_start

# Peak RSS in KB of `runner run FILE`, its results in OUT.
peak() {
    local file="$1" out="$2"
    rm -rf "$out"
    /usr/bin/time -f '%M' -o "$work/rss" "$bin" run "$file" --out "$out" --quiet > /dev/null
    cat "$work/rss"
}

calls() {
    local total="$1"
    calls_scenario "$work/calls-$total.yaml" 10 $((total / 10))
    local rss bytes
    rss="$(peak "$work/calls-$total.yaml" "$work/out-$total")"
    bytes="$(du -sb "$work/out-$total" | cut -f1)"
    echo "$rss $bytes"
}
read -r rss_small bytes_small <<< "$(calls "$small")"
read -r rss_large bytes_large <<< "$(calls "$large")"
extra=$((large - small))
echo "10 clients, $small calls: peak RSS $((rss_small / 1024)) MB, results $((bytes_small / 1024)) KB"
echo "10 clients, $large calls: peak RSS $((rss_large / 1024)) MB, results $((bytes_large / 1024)) KB"
echo "per extra call: RSS $(( (rss_large - rss_small) * 1024 / extra )) B, results $(( (bytes_large - bytes_small) / extra )) B"

idle_scenario() {
    cat > "$1" <<YAML
name: idle-$2
connections:
  lab: { mcp: { url: "$mcp_url" } }
clients:
  idle:
    count: $2
    ramp_up: 2s
    steps:
      - initialize: {}
      - wait: 8s
YAML
}

# Peak RSS in KB of an idle run, and its RSS 9 s in: every client has initialized and waits (10 s
# after the start the first ones end and their results are written).
idle_rss() {
    local file="$1" out="$2"
    rm -rf "$out"
    /usr/bin/time -f '%M' -o "$work/rss" "$bin" run "$file" --out "$out" --quiet > /dev/null &
    local timer=$!
    sleep 9
    local runner
    runner="$(pgrep -P "$timer" | head -1)"
    awk '/VmRSS/ { print $2 }' "/proc/$runner/status"
    wait "$timer"
    cat "$work/rss"
}
idle_scenario "$work/idle-10.yaml" 10
idle_scenario "$work/idle-$idle.yaml" "$idle"
{ read -r idle_few; read -r peak_few; } <<< "$(idle_rss "$work/idle-10.yaml" "$work/out-idle-10")"
{ read -r idle_many; read -r peak_many; } <<< "$(idle_rss "$work/idle-$idle.yaml" "$work/out-idle-$idle")"
echo "idle MCP clients, while waiting: 10 → $((idle_few / 1024)) MB, $idle → $((idle_many / 1024)) MB, per client $(( (idle_many - idle_few) / (idle - 10) )) KB"
echo "idle MCP clients, peak (results written at the end included): 10 → $((peak_few / 1024)) MB, $idle → $((peak_many / 1024)) MB, per client $(( (peak_many - peak_few) / (idle - 10) )) KB"
