#!/usr/bin/env bash
# Installs the pinned JAX that `simclr bench --peer jax` and scripts/peer_jax.py run on: a virtual environment at
#   ${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv
# holding jax==0.11.2 and jaxlib==0.11.2 (CPU) and their dependencies, every wheel checked against the sha256 hashes
# of scripts/jax-peer-requirements.txt (pip --require-hashes, binary wheels only).
#
# jax 0.11.2 needs Python >= 3.12; the hashes are for CPython 3.12 and 3.13 on manylinux x86_64. The Python is
# $PYTHON if set, else the first of python3 (if >= 3.12), python3.12, python3.13 on PATH, pyenv's 3.12.x/3.13.x,
# /usr/bin/python3.12, /usr/bin/python3.13 that runs and is >= 3.12.
# Usage: scripts/install-jax-peer.sh [--force]   (--force: remove and recreate an existing venv)
# Prints the venv's python at the end; simclr bench --peer jax looks there first.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REQ="$HERE/jax-peer-requirements.txt"
VENV="${GOSIMCLR_HOME:-$HOME/.local/share/gosimclr}/jax-venv"

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 12), (3, 13)) else 1)' >/dev/null 2>&1; }
find_python() {
  local c
  if [ -n "${PYTHON:-}" ]; then
    ok "$PYTHON" || { echo "install-jax-peer: PYTHON=$PYTHON is not CPython 3.12 or 3.13" >&2; return 1; }
    echo "$PYTHON"; return
  fi
  local root; root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for c in python3 python3.12 python3.13 "$root"/versions/3.12*/bin/python3 "$root"/versions/3.13*/bin/python3 \
           /usr/bin/python3.12 /usr/bin/python3.13 /usr/local/bin/python3.12 /usr/local/bin/python3.13; do
    if ok "$c"; then command -v "$c"; return; fi
  done
  echo "install-jax-peer: no CPython 3.12 or 3.13 found (jax 0.11.2 needs >= 3.12); set PYTHON=..." >&2
  return 1
}

if [ "${1:-}" = --force ]; then rm -rf "$VENV"; fi
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import jax, sys; sys.exit(jax.__version__ != "0.11.2")' 2>/dev/null; then
  echo "install-jax-peer: $VENV already has jax 0.11.2 (--force to reinstall)"
else
  PY=$(find_python)
  echo "install-jax-peer: creating $VENV with $PY ($("$PY" --version 2>&1))"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --require-hashes --only-binary=:all: -r "$REQ"
fi
"$VENV/bin/python" -c 'import jax, jaxlib; print("install-jax-peer: jax", jax.__version__, "jaxlib", jaxlib.__version__, "devices", jax.devices())'
echo "$VENV/bin/python"
