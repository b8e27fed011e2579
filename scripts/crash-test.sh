#!/usr/bin/env bash
# crash-test.sh: kill a short training with SIGKILL at 20 random moments, resuming it each time, and check
# that every interrupted state, resumed to the end, gives the same final parameters and metrics.csv (apart
# from the seconds column) as an uninterrupted run. Prints "N passed, N failed".
#
# usage: scripts/crash-test.sh [kills]      (run from anywhere; needs Go)
#        CRASH_TEST_ARGS="--backend xla:cpu --devices 4" CRASH_TEST_AFTER=2,6 scripts/crash-test.sh 5
#        (extra train flags; each kill comes a random MIN to MAX seconds after the start, default 0.15,0.75:
#        an XLA run needs seconds to load its plugin and compile before its first checkpoint)
set -uo pipefail
kills=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/simclr
(cd "$root" && GOEXPERIMENT=simd go build -o "$bin" ./cmd/simclr) || { echo "build failed"; echo "0 passed, $kills failed"; exit 1; }

args=(--data clusters --model mlp --depth 2 --width 64 --batch-size 64 --steps 1200 --checkpoint-every 20
      --keep-checkpoints 3 --log-every 10 --seed 3 --eval=false)
# shellcheck disable=SC2206 # extra flags, split on spaces on purpose
args+=(${CRASH_TEST_ARGS:-})
metrics() { cut -d, -f1-4,6-10,12- "$1/metrics.csv"; } # without the timing columns seconds and images_per_s

"$bin" train "${args[@]}" --out-dir "$work/ref" 2>/dev/null || { echo "reference run failed"; echo "0 passed, $kills failed"; exit 1; }

run=$work/run
passed=0 failed=0
start_run() { # resume if a checkpoint exists, else start afresh (what a user would do); a finished run
  # (params.ckpt written) starts over, so that every kill interrupts a run in progress
  if [ -f "$run/params.ckpt" ]; then
    "$bin" train "${args[@]}" --out-dir "$run" --overwrite 2>>"$work/log" &
  elif compgen -G "$run/ckpt-*.ckpt" >/dev/null; then
    "$bin" train --resume "$run" 2>>"$work/log" &
  else
    "$bin" train "${args[@]}" --out-dir "$run" --overwrite 2>>"$work/log" &
  fi
  pid=$!
}
for i in $(seq 1 "$kills"); do
  start_run
  sleep "$(awk -v s="$RANDOM" -v w="${CRASH_TEST_AFTER:-0.15,0.75}" 'BEGIN { srand(s); split(w, a, ","); printf "%.2f", a[1] + rand() * (a[2] - a[1]) }')"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  # Resume a copy of this interrupted state to the end and compare with the uninterrupted run.
  copy=$work/copy-$i
  cp -r "$run" "$copy" 2>/dev/null || mkdir -p "$copy"
  if [ -f "$copy/params.ckpt" ]; then # killed after it finished: nothing to resume, compare as it is
    : >"$copy.log"
  elif compgen -G "$copy/ckpt-*.ckpt" >/dev/null; then
    "$bin" train --resume "$copy" 2>"$copy.log"
  else
    "$bin" train "${args[@]}" --out-dir "$copy" --overwrite 2>"$copy.log"
  fi
  rc=$?
  step=$(grep -o 'resuming from .*(step [0-9]*)' "$copy.log" | grep -o '[0-9]*)' | tr -d ')')
  if [ $rc -eq 0 ] && cmp -s "$work/ref/params.ckpt" "$copy/params.ckpt" && diff -q <(metrics "$work/ref") <(metrics "$copy") >/dev/null; then
    passed=$((passed + 1)); echo "kill $i: resumed from step ${step:-0}: identical"
  else
    failed=$((failed + 1)); echo "kill $i: resumed from step ${step:-0}: DIFFERENT (exit $rc; log $copy.log)"
    tail -3 "$copy.log"
  fi
  rm -rf "$copy" "$copy.log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
