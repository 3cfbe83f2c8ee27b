#!/usr/bin/env bash
# One-time (idempotent) set-up of liftnet on a fresh Debian machine, run as root:
#   * Debian's libamplsolver-dev (ASL headers and library for PyNumero),
#   * a virtual environment .venv with liftnet, its dependencies, torch and the test tools,
#   * PyNumero's ASL interface library (for Pyomo's `cyipopt` solver),
#   * numba's compiled code, in its disk cache.
# Re-running is fast: every step is skipped when its product is already there and
# pyproject.toml has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.liftnet-setup-stamp"

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. ASL from Debian (needed to build PyNumero's libpynumero_ASL).
ASL_LIB=/usr/lib/x86_64-linux-gnu/libamplsolver.so
ASL_INC=/usr/include/ampl-netlib-solvers
if [ ! -e "$ASL_LIB" ] || [ ! -d "$ASL_INC" ]; then
    log "installing libamplsolver-dev"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y -qq libamplsolver-dev >/dev/null
fi

# 2. Virtual environment and Python packages.
want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ ! -x "$PY" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi
if [ "$want" != "$have" ]; then
    log "installing liftnet and dependencies into .venv"
    pipq() { "$PY" -m pip install -q "$@" 2> >(grep -v -e "is ignored: it is neither" -e "^ *$" >&2); }
    pipq --upgrade pip setuptools wheel
    pipq "torch==2.13.0"
    pipq -e ".[test,torch]"
fi

# 3. PyNumero's ASL library (Pyomo's cyipopt interface needs it).
if ! "$PY" -c "from pyomo.contrib.pynumero.asl import AmplInterface as A; import sys; sys.exit(0 if A.available() else 1)" 2>/dev/null; then
    log "building PyNumero ASL library"
    "$PY" -m pyomo.contrib.pynumero.build \
        -DASL_INCLUDE_DIR="$ASL_INC" -DASL_LIBRARY="$ASL_LIB" >/tmp/liftnet-pynumero-build.log 2>&1 \
        || { cat /tmp/liftnet-pynumero-build.log >&2; exit 1; }
fi
echo "$want" >"$STAMP"

# 4. numba's compiled kernels and inner loop, into its disk cache (liftnet/solvers/__pycache__):
# about 40 s the first time (the compiled group OWL-QN of small problems is most of it), then
# a second to load; the demo, the tests and every solve load them from there. numba rebuilds
# what changed (liftnet/solvers/kernels.py: _drop_stale_cache).
"$PY" -c "import numpy as np; from liftnet.solvers.alm import warm_up; warm_up(np.float64); warm_up(np.float32)"
