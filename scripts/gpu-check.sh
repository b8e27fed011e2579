#!/usr/bin/env bash
# gpu-check.sh: gosimclr on an NVIDIA GPU through XLA/PJRT, in one call that fits the device tool's limits.
#
#   scripts/gpu-check.sh prepare   on a developer machine (Go, cgo, gcc): builds gpu/ — the cgo simclr binary and
#                                  the two test binaries (gzipped), the CIFAR-10 JPEG copy, the PyTorch peer — for
#                                  the device tool to carry (gpu/ is git-ignored; well under 64 MiB)
#   scripts/gpu-check.sh run       on the GPU machine (no Go there), under one deadline (GPU_CHECK_DEADLINE, 480 s):
#                                  preflight (no Go: the plugin's PJRT API version read with ctypes, its RPATH, the
#                                  CUDA libraries, libdevice, nvidia-smi, the environment), simclr info, the
#                                  reference checks on a short list (TestGPUSubset: 20 compiled graphs, autotuning
#                                  off), simclr bench, the CNN step again in bfloat16 (--dtype bfloat16: mixed
#                                  precision, doc/precision.md), one CIFAR-10 epoch of the ResNet-18 recipe, the
#                                  PyTorch peer.
#                                  If info fails it is rerun once with library-loading diagnostics and the Go steps
#                                  are skipped; the peer still runs. Whatever happens, a trap writes the summary
#                                  gpu-results.json and every step's full output (gpu-check-logs.tar.gz) to $OUT.
#   scripts/gpu-check.sh dry-run [found|missing|info-fails|all]
#                                  prepare, then run against a fake site-packages tree on this CPU: "found" has a
#                                  fake CUDA plugin (the Go steps then use the Go backend with tiny sizes),
#                                  "missing" none, "info-fails" makes info fail on the fake plugin. Default: all.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-}

# Budgets in seconds, each step capped by what is left of the deadline. Their sum is the planned budget.
B_PREFLIGHT=30 B_INFO=40 B_DIAG=20 B_CHECKS=120 B_BENCH=90 B_BF16=20 B_EPOCH=100 B_PEER=60
GRAPHS=20 # compiled by the checks: losses TestGPUSubset 12, models TestGPUSubset 8

prepare() {
  set -e
  rm -rf gpu && mkdir -p gpu
  local bin
  bin=$(mktemp -d)
  echo "building the cgo binary and test binaries (GOEXPERIMENT=simd, CGO_ENABLED=1)…"
  CGO_ENABLED=1 GOEXPERIMENT=simd go build -trimpath -ldflags='-s -w' -o "$bin/simclr" ./cmd/simclr
  CGO_ENABLED=1 GOEXPERIMENT=simd go test -c -trimpath -ldflags='-s -w' -o "$bin/losses.test" ./losses
  CGO_ENABLED=1 GOEXPERIMENT=simd go test -c -trimpath -ldflags='-s -w' -o "$bin/models.test" ./models
  tar -C "$bin" -czf gpu/bin.tar.gz simclr losses.test models.test
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

now() { date +%s; }
left() { echo $(( deadline - ($(now) - t_start) )); }

# step NAME BUDGET CMD…: runs CMD under min(BUDGET, time left − 10 s), keeps its whole output in $work/NAME.out,
# logs its tail and status, never stops the script. Returns CMD's status (124: timed out; 125: skipped).
step() {
  local name=$1 budget=$2; shift 2
  local limit=$(( $(left) - 10 ))
  [ "$limit" -gt "$budget" ] && limit=$budget
  if [ "$limit" -lt 5 ]; then
    echo "=== $name: skipped, the deadline is near ($(left) s left)" | tee -a "$log"
    echo "{\"step\": \"$name\", \"exit\": 125, \"seconds\": 0, \"note\": \"skipped: deadline\"}" >> "$work/steps.jsonl"
    return 125
  fi
  echo "=== $name (≤ ${limit}s): $*" | tee -a "$log"
  local t0
  t0=$(date +%s%N)
  timeout -k 5 "$limit" "$@" > "$work/$name.out" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  tail -n 25 "$work/$name.out" | tee -a "$log"
  echo "=== $name: exit $rc after $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s" | tee -a "$log"
  echo "{\"step\": \"$name\", \"exit\": $rc, \"seconds\": $((ms / 1000)).$(printf '%03d' $((ms % 1000)))}" >> "$work/steps.jsonl"
  return $rc
}

skip() { # skip NAME WHY
  echo "=== $1: skipped ($2)" | tee -a "$log"
  echo "{\"step\": \"$1\", \"exit\": 125, \"seconds\": 0, \"note\": \"skipped: $2\"}" >> "$work/steps.jsonl"
}

# finish runs on exit, whatever happened: the summary, then every output in one archive.
finish() {
  local rc=$?
  trap - EXIT
  echo "=== finishing (exit $rc, $(( $(now) - t_start )) s of $deadline)" | tee -a "$log"
  "$py" - "$work" "$out/gpu-results.json" "$deadline" "$planned" "$GRAPHS" <<'PY' 2>>"$log" || echo "summary failed" | tee -a "$log"
import json, os, sys
work, dest, deadline, planned, graphs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def lines(name):
    p = os.path.join(work, name + ".out")
    return open(p, errors="replace").read().splitlines() if os.path.exists(p) else []
def jsonl(name):
    out = []
    for l in lines(name):
        l = l.strip()
        if l.startswith("{"):
            try: out.append(json.loads(l))
            except ValueError: pass
    return out
steps = []
if os.path.exists(os.path.join(work, "steps.jsonl")):
    steps = [json.loads(l) for l in open(os.path.join(work, "steps.jsonl")) if l.strip()]
res = {"deadline_s": deadline, "planned_budget_s": planned, "compiled_graphs_planned": graphs,
       "preflight": jsonl("preflight"), "steps": steps, "info": lines("info"), "info_diagnostics_tail": lines("info-diagnostics")[-60:],
       "tests": {n: [l for l in lines(n) if l.startswith(("--- ", "ok", "FAIL", "PASS")) or "graphs compiled" in l]
                 for n in ("loss-checks", "grad-checks")},
       "bench": jsonl("bench"), "bench_bf16": jsonl("bench-bf16"), "pytorch": jsonl("pytorch")}
m = os.path.join(work, "epoch", "metrics.csv")
if os.path.exists(m):
    rows = [r.split(",") for r in open(m).read().splitlines()]
    head, last = rows[0], rows[-1]
    if len(rows) > 1:
        res["epoch"] = {k: last[head.index(k)] for k in ("step", "loss", "seconds", "epoch", "images_per_s") if k in head}
json.dump(res, open(dest, "w"), indent=2)
print("wrote", dest)
PY
  tar -C "$work" --exclude=./bin --exclude="*.ckpt" -czf "$out/gpu-check-logs.tar.gz" . 2>/dev/null # no binaries, no checkpoints && echo "outputs: $out/gpu-check-logs.tar.gz" | tee -a "$log"
  rm -rf "$work"
  exit "$rc"
}

# preflight_py writes the preflight (no Go: site-packages, the plugin and its PJRT API version with ctypes in a
# child, since a broken plugin may crash, RPATH, CUDA libraries, nvidia-smi, the environment; one JSON object
# a line) to $work/preflight.py.
preflight_py() {
  cat > "$work/preflight.py" <<'PY'
import ctypes, glob, json, os, subprocess, sys
sp = sys.argv[1]
def say(**kw): print(json.dumps(kw), flush=True)
say(site_packages=sp, python=sys.executable, version=sys.version.split()[0])
plugins = sorted(glob.glob(os.path.join(sp, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so")))
say(plugins=plugins)
for p in plugins:
    code = r'''
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
f = lib.GetPjrtApi
f.restype = ctypes.c_void_p
api = f()
if not api:
    print("GetPjrtApi returned NULL"); sys.exit(3)
# PJRT_Api: size_t struct_size; void* extension_start; PJRT_Api_Version {size_t; void*; int major; int minor}
major = ctypes.c_int.from_address(api + 32).value
minor = ctypes.c_int.from_address(api + 36).value
print(f"{major}.{minor}")
'''
    try:
        r = subprocess.run([sys.executable, "-c", code, p], capture_output=True, text=True, timeout=20)
        say(plugin=p, pjrt_api=r.stdout.strip(), exit=r.returncode, stderr=r.stderr.strip()[-400:], go_xla_built_against="0.104")
    except Exception as e:
        say(plugin=p, error=str(e))
    try:
        r = subprocess.run(["readelf", "-d", p], capture_output=True, text=True, timeout=10)
        say(plugin=p, rpath=[l.strip() for l in r.stdout.splitlines() if "RPATH" in l or "RUNPATH" in l])
    except Exception as e:
        say(plugin=p, rpath_error=str(e))
libs = sorted(glob.glob(os.path.join(sp, "nvidia", "*", "lib")))
say(nvidia_lib_dirs=libs, libraries=sorted({os.path.basename(f).split(".so")[0] for d in libs for f in glob.glob(os.path.join(d, "*.so*"))}))
for k in ("LD_LIBRARY_PATH", "XLA_FLAGS", "CUDA_HOME", "PATH", "TF_CPP_MIN_LOG_LEVEL"):
    say(env=k, value=os.environ.get(k, ""))
try:
    r = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], capture_output=True, text=True, timeout=15)
    say(nvidia_smi=r.stdout.strip() or r.stderr.strip(), exit=r.returncode)
except Exception as e:
    say(nvidia_smi_error=str(e))
PY
}

# cuda_env SP (scripts/cuda-env.sh): LD_LIBRARY_PATH, the CUDA data dir, XLA_FLAGS for the plugin under SP.
# shellcheck source=cuda-env.sh
. "$root/scripts/cuda-env.sh"

# run [dry KIND]: the check. dry KIND runs on this CPU against a fake site-packages tree (see dry_run).
run() {
  local dry=${1:-} kind=${2:-}
  out=${OUT:-$root/bench/results}
  mkdir -p "$out"
  work=$(mktemp -d)
  log=$out/gpu-log.txt
  : > "$log"
  t_start=$(now)
  deadline=${GPU_CHECK_DEADLINE:-480}
  planned=$((B_PREFLIGHT + B_INFO + B_DIAG + B_CHECKS + B_BENCH + B_BF16 + B_EPOCH + B_PEER))
  py=${PYTHON:-python3}
  trap finish EXIT
  echo "gpu-check: deadline ${deadline}s, planned budget ${planned}s, $GRAPHS XLA graphs in the checks" | tee -a "$log"
  [ -f gpu/bin.tar.gz ] || { echo "gpu/bin.tar.gz missing: run scripts/gpu-check.sh prepare first (and carry gpu/)" | tee -a "$log"; exit 1; }
  local bin=$work/bin
  mkdir -p "$bin" && tar -C "$bin" -xzf gpu/bin.tar.gz
  local sp plugin backend steps batch peer_device pairs epoch_args
  sp=${SITE_PACKAGES:-$("$py" -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null)}
  preflight_py
  step preflight "$B_PREFLIGHT" "$py" "$work/preflight.py" "$sp"
  plugin=$(ls "$sp"/jax_plugins/xla_cuda*/xla_cuda_plugin.so 2>/dev/null | head -1)
  echo "site-packages: $sp; CUDA PJRT plugin: ${plugin:-not found}" | tee -a "$log"
  cuda_env "$sp"
  backend="xla:${plugin:-cuda}"; steps=10; batch=512; peer_device=cuda; pairs=
  epoch_args=(--config configs/cifar10-resnet18.json --epochs 1 --warmup-steps 0)
  if [ -n "$dry" ]; then
    steps=10; batch=16; peer_device=cpu; pairs="--pairs 8"
    epoch_args=(--config configs/cifar10-resnet18.json --epochs 0 --steps 2 --warmup-steps 0 --batch-size 8)
    [ "$kind" = found ] && backend=go # a fake plugin cannot run graphs: exercise the Go steps on the Go backend
  fi
  local info_ok=1
  if ! step info "$B_INFO" "$bin/simclr" info --backend "$backend"; then
    info_ok=0
    LD_DEBUG=libs step info-diagnostics "$B_DIAG" "$bin/simclr" info --backend "$backend"
  fi
  if [ "$info_ok" = 1 ]; then
    # float32 without TF32 (TF32 rounds matmul inputs to 10 bits: ~1e-3, above the checks' 1e-4).
    local checks=$backend
    [[ $backend == xla* ]] && checks="$backend,tf32=false"
    GOMLX_BACKEND="$checks" step loss-checks $((B_CHECKS / 2)) "$bin/losses.test" -test.run 'GPUSubset' -test.v
    GOMLX_BACKEND="$checks" step grad-checks $((B_CHECKS / 2)) "$bin/models.test" -test.run 'GPUSubset' -test.v
    step bench "$B_BENCH" "$bin/simclr" bench --workload loss,mlp,cnn --backend "$backend" --steps "$steps" $pairs --json --no-peak
    # One line: the CNN step with bfloat16 forward/backward (float32 weights and loss), beside bench's float32 one.
    step bench-bf16 "$B_BF16" "$bin/simclr" bench --workload cnn --dtype bfloat16 --backend "$backend" --steps "$steps" $pairs --json --no-peak --no-reference
    if [ -f gpu/cifar10-jpg.tar.gz ]; then
      step epoch "$B_EPOCH" "$bin/simclr" train "${epoch_args[@]}" --data-dir gpu/cifar10-jpg.tar.gz --backend "$backend" \
        --log-every 10 --eval=false --checkpoint-every 0 --out-dir "$work/epoch" --overwrite
    else
      skip epoch "no CIFAR-10 copy in gpu/"
    fi
  else
    for s in loss-checks grad-checks bench bench-bf16 epoch; do skip "$s" "info failed"; done
  fi
  step pytorch "$B_PEER" "${PEER_PYTHON:-$py}" gpu/peer_pytorch.py --device "$peer_device" --json --probe --steps "$steps" $pairs --workload loss,mlp,cnn
  exit 0
}

# dry_run KIND: a fake site-packages (nvidia/cu13/nvvm/libdevice, and for found/info-fails a fake CUDA plugin
# built with gcc whose GetPjrtApi returns NULL), then run on this CPU.
dry_run() {
  local kind=$1 fake
  fake=$(mktemp -d)
  mkdir -p "$fake/nvidia/cu13/nvvm/libdevice" "$fake/nvidia/cu13/lib"
  if [ "$kind" != missing ]; then
    mkdir -p "$fake/jax_plugins/xla_cuda13"
    echo 'void* GetPjrtApi(void) { return 0; }' > "$fake/fake.c"
    gcc -shared -fPIC -o "$fake/jax_plugins/xla_cuda13/xla_cuda_plugin.so" "$fake/fake.c" || { echo "gcc failed"; return 1; }
  fi
  OUT=$(mktemp -d) SITE_PACKAGES=$fake GPU_CHECK_DEADLINE=${GPU_CHECK_DEADLINE:-480} bash "$0" run-dry "$kind"
  local rc=$?
  rm -rf "$fake"
  return $rc
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  run-dry) run dry "${2:-found}" ;;
  dry-run)
    # Debian's python3-torch lives in the system Python, which may not be the python3 on PATH.
    if ! python3 -c 'import torch' 2>/dev/null && [ -x /usr/bin/python3 ]; then export PYTHON=/usr/bin/python3; fi
    prepare || exit 1
    kinds=${2:-all}
    [ "$kinds" = all ] && kinds="found missing info-fails"
    failed=0
    for k in $kinds; do
      echo "##### dry run: $k"
      t0=$(date +%s)
      dry_run "$k" > "/tmp/gpu-check-dry-$k.log" 2>&1
      rc=$?
      res=$(grep -o 'wrote .*gpu-results.json' "/tmp/gpu-check-dry-$k.log" | tail -1 | cut -d' ' -f2)
      echo "exit $rc in $(( $(date +%s) - t0 )) s; results ${res:-none}; log /tmp/gpu-check-dry-$k.log"
      [ "$rc" = 0 ] && [ -n "$res" ] || failed=$((failed + 1))
    done
    echo "dry runs: $failed failed" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
