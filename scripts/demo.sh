#!/usr/bin/env bash
# The main job: set up (idempotent) and train a sparse leaky-ReLU net on the digits with the ALM.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/liftnet demo "$@"
