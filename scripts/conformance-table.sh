#!/usr/bin/env bash
# Runs the conformance pack against every server of tests/interop.rs (the lab, the Python SDK,
# the TypeScript SDK) and writes the results table it produced into docs/conformance.md.
# Needs the SDK servers: scripts/sdk-setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNNER_UPDATE_CONFORMANCE=1 cargo test --locked -q --test interop -- the_pack_gives_the_documented_outcome_on_every_server
git --no-pager diff --stat -- docs/conformance.md
