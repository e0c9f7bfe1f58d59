#!/usr/bin/env bash
# Keystone's test command: every tier (unit, program, providers on the real guest, BIRD in network
# namespaces, policy, end to end).  The first run builds and caches the test guest (~7 min).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
if [ ! -x .venv/bin/python ]; then
  echo "[test] no .venv: running the set-up first"
  bash scripts/setup.sh || exit 1
fi
# The real Pulumi CLI for the engine tier (cached: instant when present; builds it when missing).
bash scripts/build-engine.sh >/dev/null || { echo "[test] the Pulumi CLI could not be installed or built"; exit 1; }
# Authentik's published API schema for the tests' Authentik server (cached: instant when present).
bash scripts/authentik-schema.sh >/dev/null || { echo "[test] Authentik's API schema could not be installed"; exit 1; }
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "[test] pytest collected no tests: that is a failure"
  exit 1
fi
exit "$rc"
