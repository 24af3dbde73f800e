#!/usr/bin/env bash
# Benchmark: an arrival group at RATE arrivals per second for SECONDS against the lab in its own
# process. With MODE `mcp` each arrival opens an MCP session, calls `echo` once and closes it
# (four HTTP exchanges, a session row written and ended: the lab's session capacity); with
# `http` it makes one GET of the lab's health endpoint (the runner's schedule, with a server
# that costs little). Prints the arrivals scheduled, started and dropped, the achieved rate
# (started per second over the schedule's full seconds), the start lateness of every arrival
# (p50, p99, max) and the CPU time each side took.
#
# Usage: scripts/bench-arrivals.sh [RATE] [SECONDS] [MODE]   (default 1000/s, 10 s, mcp)
source "$(dirname "$0")/bench-lab.sh"
rate="${1:-1000}"
seconds="${2:-10}"
mode="${3:-mcp}"
ulimit -n 65536 2> /dev/null || true
bench_lab_start
case "$mode" in
    mcp) steps='      - initialize: {}
      - call: echo
        arguments: { text: "arrival {{ client.id }}" }
        expect:
          - $.result.content[0].text: "arrival {{ client.id }}"
      - close: {}' ;;
    http) steps='      - http: { path: /health }
        expect:
          - $.status: 200' ;;
    *) echo "MODE is mcp or http, not $mode" >&2; exit 2 ;;
esac
cat > "$work/arrivals.yaml" <<YAML
name: arrivals
connections:
  lab: { mcp: { url: "$mcp_url" } }
  health: { http: { base_url: "${mcp_url%/mcp}" } }
clients:
  visitors:
    arrivals: { rate: $rate/s, for: ${seconds}s, max_active: 5000 }
    steps:
$steps
YAML
lab_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$lab_pid/stat"; }
lab_before="$(lab_cpu)"
/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" run "$work/arrivals.yaml" --out "$work/out" --quiet > "$work/run.log" 2>&1 || true
lab_after="$(lab_cpu)"
read -r wall user system rss < "$work/time" || { cat "$work/time" "$work/run.log"; exit 1; }
python3 -c "import sys; w, u, s, m, a, b = map(float, sys.argv[1:]); print(f'CPU over {w:.1f} s: runner {u + s:.1f} s, lab {b - a:.1f} s; runner peak RSS {m / 1024:.0f} MB')" \
    "$wall" "$user" "$system" "$rss" "$lab_before" "$lab_after"
python3 - "$work/out" "$rate" "$seconds" <<'PY'
import json, sys
out, rate, seconds = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
group = json.load(open(out + "/arrivals_visitors.json"))
full = [p["started"] for p in group["series"] if 0 < p["second"] < seconds]
achieved = sum(full) / len(full) if full else 0.0
late = group.get("lateness_ms") or {"p50": 0, "p99": 0, "max": 0}
print(f"{rate:g}/s for {seconds} s: {group['scheduled']} scheduled, {group['started']} started, "
      f"{group['dropped']} dropped, {group['failed']} failed; achieved {achieved:.1f}/s "
      f"(seconds 1 to {seconds - 1}); start lateness p50 {late['p50']:.2f} ms, p99 {late['p99']:.2f} ms, "
      f"max {late['max']:.2f} ms; peak active {group['peak_active']}")
PY
