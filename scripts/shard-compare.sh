#!/usr/bin/env bash
# Comparison: one scenario run whole, then as SHARDS shards (that many processes at once), all
# against the lab in its own process; the shards merged with `runner merge`. Prints, side by
# side, the whole run's figures and the merged ones: clients, requests, sessions, arrivals, and
# the latency percentiles of a call that sleeps 10 ms in the lab, with the merged p99 checked
# against the shards' histograms added (exact) by the runner's own report.
#
# Usage: scripts/shard-compare.sh [SHARDS] [CLIENTS] [CALLS] [RATE]   (default 3, 30, 20, 60/s for 5 s)
source "$(dirname "$0")/bench-lab.sh"
shards="${1:-3}"
clients="${2:-30}"
calls="${3:-20}"
rate="${4:-60}"
bench_lab_start
cat > "$work/sharded.yaml" <<YAML
name: sharded
connections:
  lab: { mcp: { url: "$mcp_url" } }
clients:
  callers:
    count: $clients
    ramp_up: 1s
    steps:
      - initialize: {}
      - barrier: ready
      - name: nap
        repeat: { times: $calls }
        steps:
          - call: sleep
            arguments: { ms: 10 }
      - close: {}
  visitors:
    arrivals: { rate: $rate/s, for: 5s }
    steps:
      - initialize: {}
      - call: echo
        arguments: { text: hi }
      - close: {}
thresholds:
  sleep.requests: "== $((clients * calls))"
  sleep.latency.p99: "< 1s"
YAML
mkdir -p "$work/logs"
"$bin" run "$work/sharded.yaml" --out "$work/whole" --quiet > "$work/logs/whole" 2>&1 || { cat "$work/logs/whole"; exit 1; }
pids=()
for i in $(seq 0 $((shards - 1))); do
    "$bin" run "$work/sharded.yaml" --shard "$i/$shards" --out "$work/shard-$i" --quiet > "$work/logs/shard-$i" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
"$bin" merge "$work"/shard-* --out "$work/merged" > "$work/logs/merge" 2>&1 || { cat "$work/logs/merge"; exit 1; }
python3 - "$work" "$shards" <<'PY'
import json, sys
work, shards = sys.argv[1], int(sys.argv[2])
read = lambda name: json.load(open(f"{work}/{name}/report.json"))
whole, merged = read("whole"), read("merged")
parts = [read(f"shard-{i}") for i in range(shards)]
rows = [
    ("status", lambda r: r["status"]),
    ("clients passed / total", lambda r: f'{r["summary"]["passed"]}/{r["summary"]["total"]}'),
    ("requests", lambda r: r["metrics"]["total"]["requests"]),
    ("steps failed", lambda r: r["metrics"]["total"]["failed"]),
    ("sessions opened / closed", lambda r: f'{r["metrics"]["sessions"]["opened"]}/{r["metrics"]["sessions"]["closed"]}'),
    ("arrivals started", lambda r: r["arrivals"][0]["started"]),
    ("timeline lanes", lambda r: len(r["timeline"]["lanes"])),
    ("sleep p50 ms", lambda r: r["metrics"]["steps"]["sleep"]["latency"]["p50_ms"]),
    ("sleep p90 ms", lambda r: r["metrics"]["steps"]["sleep"]["latency"]["p90_ms"]),
    ("sleep p99 ms", lambda r: r["metrics"]["steps"]["sleep"]["latency"]["p99_ms"]),
    ("sleep max ms", lambda r: r["metrics"]["steps"]["sleep"]["latency"]["max_ms"]),
    ("thresholds passed", lambda r: sum(t["passed"] for t in r["thresholds"])),
]
print(f"| figure | whole run | {shards} shards merged | each shard |")
print("|---|---|---|---|")
for name, get in rows:
    print(f"| {name} | {get(whole)} | {get(merged)} | {' · '.join(str(get(p)) for p in parts)} |")
PY
