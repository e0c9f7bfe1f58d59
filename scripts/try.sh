#!/usr/bin/env bash
# Try Keystone in one command, on a fresh Debian bookworm machine: the sample roster applied to the
# dev stack on the project's own test guest, then who now exists where.
#
#   1. set-up (scripts/setup.sh: Debian packages, .venv, the Pulumi CLI; idempotent)
#   2. the test guest on 127.0.0.1:2222 (python -m guest up; Pulumi.dev.yaml points at it)
#   3. a local file backend inside the project, .keystone-try/state (git-ignored), opened with
#      ?metadata=skip (docs/engine.md), and the dev stack on it (stack init dev when absent)
#   4. the roster validated, then `preview` and `up --yes` of the dev stack with the policy pack
#   5. the people report (python -m ops people-report --stack dev)
#
# The passphrase of this backend's secrets is a throw-away, fixed and public: keystone-try-dev-only.
# It protects nothing and is for this dev stack on this backend only; real stacks use the README's
# quickstart with a backend and passphrase of their own.  A second run applies nothing and says
# "no changes".  Environment: KEYSTONE_TRY_DIR (default .keystone-try) holds the backend;
# PULUMI_BACKEND_URL, when set, points the run at another backend instead (e.g. a team backend).
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=dev
TRY_DIR=${KEYSTONE_TRY_DIR:-$PWD/.keystone-try}
say() { printf '\n[try] %s (at %ss)\n' "$*" "$SECONDS"; }

say "set-up (Debian packages, .venv, Pulumi CLI)"
bash scripts/setup.sh

say "the test guest (python -m guest up)"
.venv/bin/python -m guest up

mkdir -p "$TRY_DIR/state"
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-"file://$TRY_DIR/state?metadata=skip"}
export PULUMI_CONFIG_PASSPHRASE=keystone-try-dev-only   # throw-away: this dev stack only (see above)
export PULUMI_SKIP_UPDATE_CHECK=true
unset PULUMI_ACCESS_TOKEN
engine() { .venv/bin/python -m engine "$@" --non-interactive; }

say "backend ${PULUMI_BACKEND_URL}, stack ${STACK}"
if ! engine stack select "$STACK" >/dev/null 2>&1; then
  engine stack init "$STACK"
fi

say "the roster (python -m roster validate)"
.venv/bin/python -m roster validate roster/roster.yaml --min-uid 1000 --hosts guest

events="$TRY_DIR/events"
mkdir -p "$events"
export PULUMI_DEBUG_COMMANDS=true   # --event-log: the engine's own account of each step

say "preview (the exact diff of the roster on ${STACK})"
engine preview --stack "$STACK" --diff --policy-pack policy --event-log "$events/preview.jsonl"
planned=$(.venv/bin/python -m engine.events "$events/preview.jsonl")

say "up"
engine up --stack "$STACK" --yes --skip-preview --suppress-outputs --policy-pack policy \
  --event-log "$events/up.jsonl"
applied=$(.venv/bin/python -m engine.events "$events/up.jsonl")

say "who now exists where (python -m ops people-report --stack ${STACK})"
.venv/bin/python -m ops people-report --stack "$STACK"

if [ "$applied" = "no changes" ]; then
  say "no changes: the dev stack already matched the roster (preview: ${planned})"
else
  say "applied: ${applied} (preview: ${planned})"
fi
