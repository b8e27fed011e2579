#!/usr/bin/env bash
# gpu-check.sh: gosimclr on an NVIDIA GPU through XLA/PJRT, in one short call (about 8 minutes at most).
#
#   scripts/gpu-check.sh prepare   on a developer machine (Go, cgo): builds gpu/ — the cgo simclr binary, the
#                                  graph-vs-reference test binaries and the CIFAR-10 JPEG copy — for the device
#                                  tool to carry (gpu/ is git-ignored; binaries gzipped to stay under 64 MiB)
#   scripts/gpu-check.sh run       on the GPU machine (no Go there): simclr info with the CUDA plugin, the loss and
#                                  gradient tests against the reference on xla:cuda, simclr bench for mlp and
#                                  resnet18, one epoch of SimCLR ResNet-18 on CIFAR-10 (batch 512, augmentations
#                                  on the GPU), and scripts/peer_pytorch.py on the same GPU. Writes
#                                  gpu-results.json and gpu-log.txt into $OUT (else bench/results/).
#   scripts/gpu-check.sh dry-run   prepare, then run everything on the Go backend with tiny sizes: checks the
#                                  script on a machine without a GPU.
#
# If go-xla cannot execute on the plugin, every step prints the exact error and the script goes on.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-}

prepare() {
  set -e
  rm -rf gpu && mkdir -p gpu
  local bin
  bin=$(mktemp -d)
  echo "building the cgo binary and test binaries (GOEXPERIMENT=simd, CGO_ENABLED=1)…"
  CGO_ENABLED=1 GOEXPERIMENT=simd go build -trimpath -ldflags='-s -w' -o "$bin/simclr" ./cmd/simclr
  CGO_ENABLED=1 GOEXPERIMENT=simd go test -c -trimpath -ldflags='-s -w' -o "$bin/losses.test" ./losses
  CGO_ENABLED=1 GOEXPERIMENT=simd go test -c -trimpath -ldflags='-s -w' -o "$bin/models.test" ./models
  tar -C "$bin" -czf gpu/bin.tar.gz simclr losses.test models.test # the device tool carries 64 MiB at most
  rm -rf "$bin"
  local cifar
  for cifar in "$root/../shared/datasets/cifar10-jpg.tar.gz" "$root/shared/datasets/cifar10-jpg.tar.gz" "${CIFAR10_DIR:-/nonexistent}/cifar10-jpg.tar.gz"; do
    [ -f "$cifar" ] && { cp "$cifar" gpu/cifar10-jpg.tar.gz; break; }
  done
  [ -f gpu/cifar10-jpg.tar.gz ] || echo "warning: no CIFAR-10 JPEG copy found; the epoch step will be skipped"
  cp scripts/peer_pytorch.py gpu/
  du -sh gpu
  set +e
}

# step NAME TIMEOUT CMD…: runs CMD with a timeout, logging its output and status; never stops the script.
step() {
  local name=$1 limit=$2; shift 2
  echo "=== $name: $*" | tee -a "$log"
  local t0=$(date +%s%N)
  timeout "$limit" "$@" > "$work/$name.out" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  tail -n 40 "$work/$name.out" | tee -a "$log"
  echo "=== $name: exit $rc after ${secs}s" | tee -a "$log"
  echo "{\"step\": \"$name\", \"exit\": $rc, \"seconds\": $secs}" >> "$work/steps.jsonl"
  return $rc
}

run() {
  local dry=${1:-}
  out=${OUT:-$root/bench/results}
  mkdir -p "$out"
  work=$(mktemp -d)
  log=$out/gpu-log.txt
  : > "$log"
  [ -f gpu/bin.tar.gz ] || { echo "gpu/bin.tar.gz missing: run scripts/gpu-check.sh prepare first (and carry gpu/)" | tee -a "$log"; exit 1; }
  local bin=$work/bin
  mkdir -p "$bin" && tar -C "$bin" -xzf gpu/bin.tar.gz
  local backend tf32 steps epoch_steps batch peer_device pairs
  if [ -n "$dry" ]; then
    backend=go; tf32=; steps=10; epoch_steps=2; batch=16; peer_device=cpu; pairs="--pairs 8"
  else
    local sp plugin
    sp=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)
    plugin=$(ls "$sp"/jax_plugins/xla_cuda*/xla_cuda_plugin.so 2>/dev/null | head -1)
    echo "site-packages: $sp; CUDA PJRT plugin: ${plugin:-not found}" | tee -a "$log"
    [ -d "$sp/nvidia/cu13" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$sp/nvidia/cu13"
    backend="xla:${plugin:-cuda}"; tf32=",tf32=false"; steps=20; epoch_steps=97; batch=512; peer_device=cuda; pairs=
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$work/gpu.txt" 2>&1
    cat "$work/gpu.txt" | tee -a "$log"
  fi
  step info 60 "$bin/simclr" info --backend "$backend"
  # The graph-vs-reference checks, float32 without TF32 (TF32 rounds matmul inputs to 10 bits: ~1e-3).
  GOMLX_BACKEND="$backend$tf32" step loss-tests 150 "$bin/losses.test" -test.run 'LossMatchesReference|Collinear|Invariances|LowTemperature|MetricsMatch' -test.v
  GOMLX_BACKEND="$backend$tf32" step grad-tests 150 "$bin/models.test" -test.run 'GradientsMatchReference' -test.v
  step bench 240 "$bin/simclr" bench --workload mlp,resnet18 --backend "$backend" --steps "$steps" $pairs --json
  if [ -f gpu/cifar10-jpg.tar.gz ]; then
    step epoch 300 "$bin/simclr" train --data cifar10 --data-dir gpu/cifar10-jpg.tar.gz --model resnet18 --backend "$backend" \
      --batch-size "$batch" --steps "$epoch_steps" --log-every 10 --eval=false --checkpoint-every 0 --out-dir "$work/epoch"
  fi
  step pytorch 200 "${PYTHON:-python3}" gpu/peer_pytorch.py --device "$peer_device" --json --steps "$steps" $pairs
  python3 - "$work" "$out/gpu-results.json" "$batch" "$epoch_steps" <<'PY'
import json, os, sys, glob
work, dest, batch, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def lines(name):
    p = os.path.join(work, name + ".out")
    return open(p).read().splitlines() if os.path.exists(p) else []
def jsonl(name):
    out = []
    for l in lines(name):
        l = l.strip()
        if l.startswith("{"):
            try: out.append(json.loads(l))
            except ValueError: pass
    return out
steps_run = [json.loads(l) for l in open(os.path.join(work, "steps.jsonl"))]
res = {"gpu": open(os.path.join(work, "gpu.txt")).read().strip() if os.path.exists(os.path.join(work, "gpu.txt")) else "none (dry run)",
       "steps": steps_run, "info": lines("info"),
       "tests": {n: [l for l in lines(n) if l.startswith(("--- ", "ok", "FAIL", "PASS"))] for n in ("loss-tests", "grad-tests")},
       "bench": jsonl("bench"), "pytorch": jsonl("pytorch")}
epoch = next((s for s in steps_run if s["step"] == "epoch"), None)
if epoch and epoch["exit"] == 0:
    m = open(os.path.join(work, "epoch", "metrics.csv")).read().splitlines()
    train_s = float(m[-1].split(",")[4])
    res["epoch"] = {"images": batch * steps, "steps": steps, "batch_pairs": batch,
                    "train_seconds": train_s, "wall_seconds": epoch["seconds"],
                    "images_per_s": batch * steps / train_s, "final_loss": float(m[-1].split(",")[1])}
json.dump(res, open(dest, "w"), indent=2)
print("wrote", dest)
PY
  rm -rf "$work"
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  dry-run)
    export OUT=${OUT:-$(mktemp -d)}
    # Debian's python3-torch lives in the system Python, which may not be the python3 on PATH.
    python3 -c 'import torch' 2>/dev/null || { [ -x /usr/bin/python3 ] && export PYTHON=/usr/bin/python3; }
    prepare && run dry && echo "dry run results in $OUT" ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac
