#!/usr/bin/env bash
# stream-bench.sh: the streaming loader's acceptance (issue 25, point 5). Generates N (default 20 000)
# 256×256 JPEGs in 10 class folders (scripts/genimages), trains the small CNN on them on the Go backend with
# --stream auto (20 000 × 96×96×3 bytes = 553 MB at the training size: over the 256 MiB rule, so streamed),
# evaluates (kNN and probe on streamed centre crops), and prints the peak RSS (/usr/bin/time -v, "Maximum
# resident set size") and how busy the step was: the run's own measure, the time each step waited for its
# batch ("data: the steps waited X s … (Y% busy)", metrics.csv's data_wait_s).
#
# usage: scripts/stream-bench.sh [N]        (run from anywhere; needs Go and /usr/bin/time, Debian's time)
#   STREAM_BENCH_DIR=DIR    keep the images in DIR: generated once, reused while DIR/class_00 exists
#   STREAM_BENCH_ARGS=...   extra train flags, after (so overriding) the defaults below, e.g. "--steps 50"
# The busy fraction is a timing: run it on a quiet machine.
set -euo pipefail
n=${1:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
imgs=${STREAM_BENCH_DIR:-$work/images}
(cd "$root" && GOEXPERIMENT=simd go build -o "$work/simclr" ./cmd/simclr && go build -o "$work/genimages" ./scripts/genimages)
if [ ! -d "$imgs/class_00" ]; then
  echo "generating $n JPEGs of 256×256 in $imgs …"
  t0=$(date +%s)
  "$work/genimages" --out "$imgs" --n "$n" --size 256
  echo "  $(( $(date +%s) - t0 )) s, $(du -sh "$imgs" | cut -f1)"
fi
args=(--data "folder:$imgs" --stream auto --image-size 96 --model cnn --channels 16,32 --width 128
      --batch-size 32 --steps 300 --log-every 25 --checkpoint-every 0 --backend go --out-dir "$work/run")
# shellcheck disable=SC2206 # extra flags, split on spaces on purpose
args+=(${STREAM_BENCH_ARGS:-})
echo "simclr train ${args[*]}"
if ! /usr/bin/time -v "$work/simclr" train "${args[@]}" 2> "$work/log"; then
  cat "$work/log"
  exit 1
fi
grep -E '^(training|streaming|data:|done:|kNN accuracy|warning)|features of' "$work/log"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$work/log"
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/log")
busy=$(sed -n 's/.*(\([0-9.]*\)% busy).*/\1/p' "$work/log")
echo "peak RSS $((rss / 1024)) MB (acceptance: < 2048 MB); step busy ${busy:-?}% (acceptance: ≥ 95%), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
