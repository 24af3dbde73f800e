#!/usr/bin/env bash
# Benchmark: CPU instructions the runner spends per MCP `call` step, counted by callgrind (stable
# on a noisy machine, unlike times). One client against the lab in its own process: a run of
# 1 call and a run of CALLS + 1 calls; the difference over CALLS is the cost of one call, with
# process start, compiling and the handshake taken out.
#
# Usage: scripts/bench-instructions.sh [CALLS] [--annotate]   (default 1000)
# --annotate also prints the functions that take the most instructions, inclusive.
# FROM=N makes the base run N calls instead of 1, so that costs that stop growing after the first
# calls (the session timeline keeps a lane's first 64 marks, and the reports draw them) are
# taken out with the fixed ones.
source "$(dirname "$0")/bench-lab.sh"
calls="${1:-1000}"
annotate="${2:-}"
command -v valgrind > /dev/null || { echo "needs valgrind (Debian package valgrind)"; exit 1; }
bench_lab_start

count() {
    local n="$1"
    calls_scenario "$work/calls-$n.yaml" 1 "$n"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg-$n.out" \
        "$bin" run "$work/calls-$n.yaml" --out "$work/out-$n" --quiet > /dev/null 2> "$work/vg-$n.log"
    grep -o 'Collected : [0-9]*' "$work/vg-$n.log" | awk '{ print $3 }'
}
from="${FROM:-1}"
one="$(count "$from")"
many="$(count $((calls + from)))"
echo "instructions: $from calls $one, $((calls + from)) calls $many, per call $(( (many - one) / calls ))"
if [ "$annotate" = "--annotate" ]; then
    callgrind_annotate --inclusive=yes "$work/cg-$((calls + from)).out" 2> /dev/null | sed -n "/file:function/,+40p"
    cp "$work/cg-$((calls + from)).out" "${CALLGRIND_OUT:-/dev/null}"
fi
