#!/usr/bin/env bash
# From a fresh machine to a first diagnosis: Docker engine + images, venv, the lab, a full diagnose of alice.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-docker.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -e . >/dev/null

.venv/bin/ldapcheck lab up --env-out .lab.env
# The lab's .env (mode 0600) holds alice's password; hand it over on stdin, never on the command line.
grep -E '^LAB_PASSWORD=' .lab.env | cut -d= -f2- | tr -d "'" \
  | .venv/bin/ldapcheck diagnose --env-file .lab.env --user alice --password-stdin --project ldapcheck-lab
