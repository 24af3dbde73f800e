#!/usr/bin/env bash
# Benchmark: `runner validate` on 1,000 scenario files (the bar is under 1 second).
#
# Usage: scripts/bench-validate.sh [FILES]   (default 1000)
# Builds the release binary, writes FILES copies of the shipped examples and scenarios (each
# renamed so no two are alike) into a temp folder, and times `runner validate` on the folder
# with hyperfine when it is installed, or with `date` over 5 runs otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"

cargo build --release --quiet
bin="$PWD/target/release/runner"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

mapfile -t sources < <(find examples scenarios -name '*.yaml' ! -name '*.vars.yaml' | sort)
for ((i = 0; i < count; i++)); do
    src="${sources[i % ${#sources[@]}]}"
    sed "s/^name: \(.*\)$/name: \1-$i/" "$src" > "$dir/spec-$i.yaml"
done
bytes="$(du -sb "$dir" | cut -f1)"
echo "validating $count files ($bytes bytes) from ${#sources[@]} distinct examples"
"$bin" validate "$dir" > /dev/null

if command -v hyperfine > /dev/null; then
    hyperfine --warmup 2 --runs 10 "$bin validate $dir"
else
    for run in 1 2 3 4 5; do
        start="$(date +%s%N)"
        "$bin" validate "$dir" > /dev/null
        end="$(date +%s%N)"
        echo "run $run: $(( (end - start) / 1000000 )) ms"
    done
fi
