#!/usr/bin/env bash
# Benchmark: how late fixed-rate passes start under load. CLIENTS clients, started over 1 s, each
# `call: heartbeat` every 1 s for SECONDS against the lab in its own process; prints the p50, p99
# and max of every pass's lateness (from the client files), and the CPU time each side took.
#
# Usage: scripts/bench-lateness.sh [CLIENTS] [SECONDS]   (default 1000 clients, 10 s; the issue's
# figure is 60 s)
source "$(dirname "$0")/bench-lab.sh"
clients="${1:-1000}"
seconds="${2:-10}"
ulimit -n 65536 2> /dev/null || true
bench_lab_start
cat > "$work/lateness.yaml" <<YAML
name: lateness
connections:
  lab: { mcp: { url: "$mcp_url" } }
clients:
  beating:
    count: $clients
    ramp_up: 1s
    steps:
      - initialize: {}
      - repeat: { every: 1s, for: ${seconds}s }
        steps:
          - call: heartbeat
YAML
# Every pass's lateness is read from the client files, so they must keep every pass; a build
# from before `--record` keeps them all anyway.
record=()
[[ "$("$bin" run --help)" == *--record* ]] && record=(--record all)
# CPU seconds (user + system) of the lab so far, from /proc.
lab_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$lab_pid/stat"; }
lab_before="$(lab_cpu)"
/usr/bin/time -f '%e %U %S' -o "$work/time" \
    "$bin" run "$work/lateness.yaml" --out "$work/out" --quiet "${record[@]}" > /dev/null || true
lab_after="$(lab_cpu)"
# Lateness is mostly the wait for a CPU, which the lab shares: both sides' CPU, to read it by.
read -r wall user system < "$work/time"
python3 -c "import sys; w, u, s, a, b = map(float, sys.argv[1:]); print(f'CPU over {w:.1f} s: runner {u + s:.1f} s, lab {b - a:.1f} s')" \
    "$wall" "$user" "$system" "$lab_before" "$lab_after"
python3 - "$work/out" "$clients" <<'PY'
import glob, json, sys
late = []
for path in glob.glob(sys.argv[1] + "/client_*.json"):
    for step in json.load(open(path))["steps"]:
        late += [i["lateness_ms"] for i in step.get("iterations", []) if i.get("lateness_ms") is not None]
late.sort()
pick = lambda q: late[min(len(late) - 1, int(q * len(late)))]
print(f"{sys.argv[2]} clients, {len(late)} passes: lateness p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {late[-1]:.2f} ms")
PY
