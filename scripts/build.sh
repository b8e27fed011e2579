#!/usr/bin/env bash
# Builds bin/simclr (or $1) with the commit it is built from stamped in (train.GitCommit), so that runs started
# from anywhere record the right commit even under GOFLAGS=-buildvcs=false. A modified tree is marked "-dirty".
#   scripts/build.sh [OUTPUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bin/simclr}"
rev="$(git describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)"
GOEXPERIMENT=simd go build -ldflags "-X github.com/gosimclr/gosimclr/train.commit=$rev" -o "$out" ./cmd/simclr
echo "built $out at $rev"
