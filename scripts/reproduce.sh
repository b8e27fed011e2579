#!/usr/bin/env bash
# Runs every experiment of issue 4 (simclr experiment all) and writes results/REPORT.md.
#   scripts/reproduce.sh           full versions (hours on 2 cores; each summary.md states its wall time)
#   scripts/reproduce.sh --quick   reduced versions, each under 2 minutes on 2 cores (what results/ holds)
# Extra arguments are passed on, e.g. --out-dir DIR or --backend xla:cpu.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOEXPERIMENT=simd
export GOMLX_BACKEND="${GOMLX_BACKEND:-go}"
scripts/build.sh bin/simclr >&2
exec bin/simclr experiment all "$@"
