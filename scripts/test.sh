#!/usr/bin/env bash
# The test command (README, "Run the tests"). On a fresh machine it prepares everything itself:
# a Docker engine and the local base image (scripts/ensure-docker.sh), the virtualenv, then lint,
# type checks and the full suite; the suite builds the lab images it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

echo "== ruff"
.venv/bin/ruff check ldapcheck testing tests bench scripts
.venv/bin/ruff format --check ldapcheck testing tests bench scripts
echo "== mypy"
.venv/bin/mypy
echo "== import contracts"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/pytest "$@"
