#!/usr/bin/env bash
# gpu-sweeps.sh: one sitting of the resumable science sweeps on a lent GPU machine, and bringing its cells home.
#
#   scripts/gpu-sweeps.sh run [EXPERIMENT…]   on the GPU machine (no Go there; gpu/ from `scripts/gpu-check.sh prepare`
#                                   carried): runs each experiment in turn (default: mnist-012) on the CUDA PJRT plugin
#                                   from a copy of the checkout's results/, starting no cell after the deadline
#                                   (GPU_SWEEPS_DEADLINE, 420 s, less the longest cell seen so far), and writes the
#                                   cells it made, and nothing else, to $OUT/<experiment>/cells/ with its log. Every
#                                   cell records its build and backend (xla:cuda), so a sweep may mix sittings here
#                                   and there; the summaries say which cells ran where.
#   scripts/gpu-sweeps.sh import DIR          here: copies DIR/<experiment>/cells/*.json into results/<experiment>/cells/
#                                   (never over a stored cell) and re-renders those experiments (--report-only).
#   scripts/gpu-sweeps.sh dry-run             both on this CPU: `run` with BACKEND (default xla:cpu, else go) and a
#                                   60 s deadline on the quick settings into a temporary results copy, then `import`
#                                   into another copy, checking that only new cells come back.
# Environment: BACKEND (default: xla:<the CUDA plugin found>), SITE_PACKAGES, PYTHON, GPU_SWEEPS_DEADLINE,
# GPU_SWEEPS_LONGEST (the longest cell expected before one is seen, 60 s), EXTRA
# (more flags for every experiment, e.g. --quick in the dry run).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-}
[ $# -gt 0 ] && shift
# shellcheck source=cuda-env.sh
. "$root/scripts/cuda-env.sh"

run() {
  local out=${OUT:-$root/bench/results/gpu-sweeps} deadline=${GPU_SWEEPS_DEADLINE:-420} t0 work bin sp plugin backend
  local experiments=("$@")
  [ ${#experiments[@]} -gt 0 ] || experiments=(mnist-012)
  t0=$(date +%s)
  mkdir -p "$out"
  log=$out/gpu-sweeps-log.txt
  : > "$log"
  [ -f gpu/bin.tar.gz ] || { echo "gpu/bin.tar.gz missing: run scripts/gpu-check.sh prepare first (and carry gpu/)" | tee -a "$log"; exit 1; }
  work=$(mktemp -d)
  bin=$work/bin
  mkdir -p "$bin" && tar -C "$bin" -xzf gpu/bin.tar.gz simclr
  backend=${BACKEND:-}
  if [ -z "$backend" ]; then
    sp=${SITE_PACKAGES:-$("${PYTHON:-python3}" -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)}
    plugin=$(ls "$sp"/jax_plugins/xla_cuda*/xla_cuda_plugin.so 2>/dev/null | head -1)
    [ -n "$plugin" ] || { echo "no CUDA PJRT plugin under ${sp:-site-packages}: nothing to run" | tee -a "$log"; exit 1; }
    cuda_env "$sp"
    backend="xla:$plugin"
  fi
  echo "gpu-sweeps: deadline ${deadline}s, backend $backend, experiments ${experiments[*]}" | tee -a "$log"
  "$bin/simclr" info --backend "$backend" >> "$log" 2>&1 || { echo "simclr info failed on $backend (log above)" | tee -a "$log"; exit 1; }
  local longest=${GPU_SWEEPS_LONGEST:-60} e left rc
  for e in "${experiments[@]}"; do
    mkdir -p "$work/results"
    [ -d "results/$e" ] && cp -r "results/$e" "$work/results/"
    left=$(( deadline - ($(date +%s) - t0) - longest ))
    if [ "$left" -lt 10 ]; then
      echo "$e: skipped, ${left}s left before the deadline less the longest cell (${longest}s)" | tee -a "$log"
      continue
    fi
    # shellcheck disable=SC2086 # EXTRA is a list of flags
    timeout $(( left + longest + 30 )) "$bin/simclr" experiment "$e" -o "$work/results" --backend "$backend" --for "${left}s" ${EXTRA:-} >> "$log" 2>&1
    rc=$?
    echo "$e: exit $rc" | tee -a "$log"
    # The cells this sitting made: those not in the checkout.
    local f n=0
    mkdir -p "$out/$e/cells"
    for f in "$work/results/$e"/cells/*.json; do
      [ -f "$f" ] || continue
      if [ ! -f "results/$e/cells/$(basename "$f")" ]; then
        cp "$f" "$out/$e/cells/" && n=$((n + 1))
      fi
    done
    echo "$e: $n new cells in $out/$e/cells" | tee -a "$log"
    # The longest cell of this sitting bounds when the next experiment may still start one.
    local s
    s=$(grep -oE ': [0-9]+(\.[0-9]+)? s' "$log" | grep -oE '[0-9]+' | sort -n | tail -1)
    [ -n "$s" ] && [ "$s" -gt "$longest" ] && longest=$s
  done
  rm -rf "$work"
  echo "gpu-sweeps: done in $(( $(date +%s) - t0 )) s" | tee -a "$log"
}

import() {
  local dir=${1:?usage: scripts/gpu-sweeps.sh import DIR} e f n skipped bin=${SIMCLR:-bin/simclr}
  [ -x "$bin" ] || scripts/build.sh "$bin" >/dev/null || exit 1
  for e in "$dir"/*/; do
    e=$(basename "$e")
    [ -d "$dir/$e/cells" ] || continue
    mkdir -p "results/$e/cells"
    n=0 skipped=0
    for f in "$dir/$e"/cells/*.json; do
      [ -f "$f" ] || continue
      if [ -e "results/$e/cells/$(basename "$f")" ]; then
        skipped=$((skipped + 1))
      else
        cp "$f" "results/$e/cells/" && n=$((n + 1))
      fi
    done
    echo "$e: $n cells imported, $skipped already stored (left as they were)"
    # shellcheck disable=SC2086
    [ "$n" -gt 0 ] && { "$bin" experiment "$e" -o results --report-only ${EXTRA:-} > /dev/null || echo "$e: re-render failed"; }
  done
}

dry_run() {
  local tmp rc
  tmp=$(mktemp -d)
  echo "building gpu/bin.tar.gz with the cgo binary only…"
  mkdir -p gpu "$tmp/bin"
  CGO_ENABLED=1 GOEXPERIMENT=simd go build -trimpath -o "$tmp/bin/simclr" ./cmd/simclr || return 1
  [ -f gpu/bin.tar.gz ] && cp gpu/bin.tar.gz "$tmp/saved-bin.tar.gz"
  tar -C "$tmp/bin" -czf gpu/bin.tar.gz simclr
  local backend=${BACKEND:-xla:cpu}
  "$tmp/bin/simclr" info --backend "$backend" > /dev/null 2>&1 || backend=go
  # Run against a copy of the checkout whose results hold no mnist-012 cells, at the quick settings.
  mkdir -p "$tmp/checkout" && cp -r scripts gpu "$tmp/checkout/" && mkdir -p "$tmp/checkout/results"
  (cd "$tmp/checkout" && OUT="$tmp/out" BACKEND=$backend GPU_SWEEPS_DEADLINE=60 GPU_SWEEPS_LONGEST=10 EXTRA=--quick bash scripts/gpu-sweeps.sh run mnist-012)
  rc=$?
  ls "$tmp/out/mnist-012/cells" 2>/dev/null | head
  mkdir -p "$tmp/home/results" && cp -r scripts "$tmp/home/"
  (cd "$tmp/home" && SIMCLR="$tmp/bin/simclr" EXTRA=--quick bash scripts/gpu-sweeps.sh import "$tmp/out" && ls results/mnist-012)
  if [ -f "$tmp/saved-bin.tar.gz" ]; then cp "$tmp/saved-bin.tar.gz" gpu/bin.tar.gz; else rm -f gpu/bin.tar.gz; fi
  rm -rf "$tmp"
  return $rc
}

case "$mode" in
  run) run "$@" ;;
  import) import "$@" ;;
  dry-run) dry_run ;;
  *) sed -n '2,18p' "$0"; exit 2 ;;
esac
