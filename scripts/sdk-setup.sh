#!/usr/bin/env bash
# Installs the official SDK servers that tests/interop.rs runs the conformance pack against:
# the Python SDK (`mcp`, pinned with its dependencies in tests/sdk/python/requirements.txt) into
# tests/sdk/python/.venv, and the TypeScript SDK (`@modelcontextprotocol/sdk`, pinned in
# tests/sdk/typescript/package-lock.json) into tests/sdk/typescript/node_modules; and the
# Python packages the tests read the runner's outputs with (junitparser, for junit.xml; pinned in
# tests/tools/requirements.txt) into tests/tools/.venv.
# Needs Python >= 3.10 with venv and pip, and Node >= 18 with npm. CI (.ci/run) runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x tests/sdk/python/.venv/bin/python ]; then
    "$python" -m venv tests/sdk/python/.venv
fi
tests/sdk/python/.venv/bin/pip install -q --disable-pip-version-check -r tests/sdk/python/requirements.txt
if [ ! -x tests/tools/.venv/bin/python ]; then
    "$python" -m venv tests/tools/.venv
fi
tests/tools/.venv/bin/pip install -q --disable-pip-version-check -r tests/tools/requirements.txt

(cd tests/sdk/typescript && npm ci --no-audit --no-fund --loglevel=error)
