#!/usr/bin/env bash
# Side-by-side timing of gosimclr's `simclr bench` on one or more backends against peer frameworks (PyTorch, JAX)
# on the CPU, interleaved round by round and workload by workload, so that a drifting or shared machine hits every
# contender alike. Each measurement is a fresh process: ours is `simclr bench --workload W --pairs P --backend B
# --no-reference --no-peak --json` (for loss the k = 128 line), a peer is scripts/peer_<name>.py --json with the
# same workload, pairs and steps and $(nproc) threads.
#
# Usage: scripts/sidebyside.sh [options] PATH/TO/simclr
#   --rounds R          rounds (default 5)
#   --workloads LIST    workloads, comma- or space-separated (default loss,mlp,cnn; resnet18 takes minutes)
#   --backend LIST      our backends, comma-separated (default go; e.g. go,xla:cpu)
#   --peers LIST        peers, comma-separated, or none (default pytorch,jax)
#   --pairs N           N pairs per step, 2N views (default 256, the bench's size)
#   --steps S           timed steps per measurement (default 20; >= 10)
# Pythons: $PYTORCH_PYTHON (default /usr/bin/python3, Debian's python3-torch) and $JAX_PYTHON (default the venv of
# scripts/install-jax-peer.sh, ${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv/bin/python, else python3).
# Prints each peer's own float32 1024^3 matmul rate (a peer below 50 GFLOP/s is unsound), one line per round and
# workload, then per workload the median ms/step of each contender and, for each (backend, peer) pair, the median
# of the per-round ratios backend/peer with their range; a ratio below 1 means ours is faster.
set -u
ROUNDS=5 WORKLOADS=loss,mlp,cnn BACKENDS=go PEERS=pytorch,jax PAIRS=256 STEPS=20
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --backend|--backends) BACKENDS=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "sidebyside: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
SIMCLR=${1:?usage: scripts/sidebyside.sh [options] PATH/TO/simclr (see --help)}
[ -x "$SIMCLR" ] || { echo "sidebyside: $SIMCLR is not an executable" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=$(nproc)
WORKLOADS=${WORKLOADS//,/ }; BACKENDS=${BACKENDS//,/ }; PEERS=${PEERS//,/ }
[ "$PEERS" = none ] && PEERS=
PY=$(command -v python3 || echo /usr/bin/python3) # for the JSON and the summary: any Python 3

python_for() {
  local c
  case "$1" in
    pytorch) for c in ${PYTORCH_PYTHON:-} /usr/bin/python3 python3; do
               "$c" -c 'import torch' 2>/dev/null && { echo "$c"; return; }; done ;;
    jax) for c in ${JAX_PYTHON:-} "${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv/bin/python" python3; do
           "$c" -c 'import jax' 2>/dev/null && { echo "$c"; return; }; done ;;
    *) echo "sidebyside: unknown peer $1 (want pytorch, jax)" >&2; return 1 ;;
  esac
  echo "sidebyside: no Python with $1 (pytorch: apt-get install python3-torch libopenblas0-pthread;" \
       "jax: scripts/install-jax-peer.sh; or set PYTORCH_PYTHON / JAX_PYTHON)" >&2
  return 1
}
declare -A PEERPY
for p in $PEERS; do
  PEERPY[$p]=$(python_for "$p") || exit 2
  "${PEERPY[$p]}" "$HERE/peer_$p.py" --json --probe --threads "$THREADS" --workload loss --steps 1 --pairs 2 |
    "$PY" -c 'import sys, json
d = json.loads(sys.stdin.readline()); sys.stdin.read()
msg = "peer check: %s %s (%s), %d threads, float32 1024^3 matmul %.0f GFLOP/s" % (
    sys.argv[1], d.get("version", d.get("torch_version")), sys.argv[2], d["threads"], d["gflops"])
print(msg + ("" if d["gflops"] >= 50 else "  << UNSOUND PEER: its times are not to be quoted"))' "$p" "${PEERPY[$p]}"
done
grep -m1 'model name' /proc/cpuinfo
echo "rounds $ROUNDS, workloads $WORKLOADS, backends $BACKENDS, peers ${PEERS:-none}, 2N = $((2 * PAIRS)), $STEPS steps, $THREADS threads"

OUT=$(mktemp); ERR=$(mktemp); trap 'rm -f "$OUT" "$ERR"' EXIT
# ours W B: median ms/step of workload W on backend B (empty if it failed)
ours() {
  "$SIMCLR" bench --workload "$1" --pairs "$PAIRS" --steps "$STEPS" --backend "$2" --no-reference --no-peak --json 2>"$ERR" |
    "$PY" -c 'import sys, json
ms = ""
for l in sys.stdin:
    if not l.startswith("{"): continue
    d = json.loads(l)
    if d.get("backend") == sys.argv[1] and d.get("latent_dim", 128) == 128: ms = "%.3f" % d["ms_per_step"]
print(ms)' "$2"
}
# peer P W: median ms/step of workload W in peer P (empty if it failed)
peer() {
  "${PEERPY[$1]}" "$HERE/peer_$1.py" --json --threads "$THREADS" --workload "$2" --pairs "$PAIRS" --steps "$STEPS" 2>"$ERR" |
    "$PY" -c 'import sys, json
ms = ""
for l in sys.stdin:
    if l.startswith("{"): ms = "%.3f" % json.loads(l)["ms_per_step"]
print(ms)'
}
for r in $(seq "$ROUNDS"); do
  for w in $WORKLOADS; do
    line="$r $w"
    for b in $BACKENDS; do
      v=$(ours "$w" "$b"); line="$line $b=$v"
      [ -n "$v" ] || echo "sidebyside: $w on $b failed: $(tail -n 1 "$ERR" | cut -c1-300)" >&2
    done
    for p in $PEERS; do
      v=$(peer "$p" "$w"); line="$line $p=$v"
      [ -n "$v" ] || echo "sidebyside: $w in $p failed: $(tail -n 1 "$ERR" | cut -c1-300)" >&2
    done
    echo "$line" | tee -a "$OUT"
  done
done
"$PY" - "$OUT" "$BACKENDS" "$PEERS" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
backends, peers = sys.argv[2].split(), sys.argv[3].split()
def val(row, name):
    for kv in row[2:]:
        k, _, v = kv.rpartition("=")
        if k == name and v:
            return float(v)
    return None
print()
for w in dict.fromkeys(r[1] for r in rows):
    wr = [r for r in rows if r[1] == w]
    meds = []
    for name in backends + peers:
        v = [x for x in (val(r, name) for r in wr) if x is not None]
        meds.append(f"{name} {st.median(v):.2f} ms" if v else f"{name} failed")
    print(f"{w}: median ms/step over {len(wr)} rounds: " + ", ".join(meds))
    for b in backends:
        for p in peers:
            q = [val(r, b) / val(r, p) for r in wr if val(r, b) and val(r, p)]
            if q:
                print(f"  {b}/{p}: {st.median(q):.2f}x (rounds {min(q):.2f}-{max(q):.2f}, {len(q)} rounds)")
            else:
                print(f"  {b}/{p}: no round with both")
    for i, p in enumerate(peers):
        for p2 in peers[i + 1:]:
            q = [val(r, p) / val(r, p2) for r in wr if val(r, p) and val(r, p2)]
            if q:
                print(f"  {p}/{p2}: {st.median(q):.2f}x (rounds {min(q):.2f}-{max(q):.2f})")
PY
