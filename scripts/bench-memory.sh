#!/usr/bin/env bash
# Benchmark: what the runner holds. Peak RSS and the results folder of 10 clients making SMALL
# and then LARGE calls in all (growth per call is the difference over the extra calls), and the
# RSS of IDLE connected MCP clients against 10 (per idle client, the difference over the extra
# clients). The lab runs in its own process, on loopback.
#
# Usage: scripts/bench-memory.sh [SMALL] [LARGE] [IDLE]   (default 10000 100000 1000 calls/clients;
# the issue's figures are 10000 1000000 10000)
source "$(dirname "$0")/bench-lab.sh"
small="${1:-10000}"
large="${2:-100000}"
idle="${3:-1000}"
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
      - wait: 3s
YAML
}
idle_scenario "$work/idle-10.yaml" 10
idle_scenario "$work/idle-$idle.yaml" "$idle"
rss_few="$(peak "$work/idle-10.yaml" "$work/out-idle-10")"
rss_many="$(peak "$work/idle-$idle.yaml" "$work/out-idle-$idle")"
echo "idle MCP clients: 10 → $((rss_few / 1024)) MB, $idle → $((rss_many / 1024)) MB, per client $(( (rss_many - rss_few) / (idle - 10) )) KB"
