#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 180), seeded from the captured fixtures.
#   bash fuzz/run.sh [SECONDS] [TARGET ...]
# Corpora grow under ~/.cache/keystone/fuzz/<target>; a crash is saved as fuzz/crash-<target>-* and
# the run exits non-zero.  Needs atheris (pip install atheris) in .venv.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
secs=${1:-180}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(getent zfs bird zerotier settings)
py=${PYTHON:-.venv/bin/python}
declare -A seeds=(
  [getent]="tests/unit/hostfacts/fixtures/getent_*"
  [zfs]="tests/unit/hostfacts/fixtures/zfs_*"
  [bird]="tests/unit/bird/fixtures/* tests/unit/bird/golden/*"
  [zerotier]="tests/unit/zerotier/fixtures/*/*.json"
  [settings]="Pulumi.*.yaml"
)
rc=0
for t in "${targets[@]}"; do
  corpus="${HOME}/.cache/keystone/fuzz/$t"
  mkdir -p "$corpus"
  for f in ${seeds[$t]}; do cp -n "$f" "$corpus/seed-$(basename "$f")" 2>/dev/null || true; done
  echo "[fuzz] $t: ${secs}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)"
  "$py" -m fuzz "$t" -max_total_time="$secs" -artifact_prefix="fuzz/crash-$t-" -print_final_stats=1 \
      -rss_limit_mb=2048 -timeout=10 "$corpus" 2>&1 | grep -E "DONE|stat::number_of_executed_units|stat::peak_rss|Uncaught|Error|crash-|==ERROR" | tail -8
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || { echo "[fuzz] $t: FAILED (exit $status)"; rc=1; }
done
exit $rc
