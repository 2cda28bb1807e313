#!/usr/bin/env bash
# scripts/demo.sh — the main job: install dependencies, build the `release`
# preset, and run the reference marker (build/release/src/workq-mark) when it
# exists, else the parallel_sum example. Arguments are passed through.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "${WORKQ_BUILD_JOBS:-2}"

MARK=build/release/src/workq-mark
EXAMPLE=build/release/examples/parallel_sum
if [[ -x "$MARK" ]]; then
  echo "==> $MARK $*"
  exec "$MARK" "$@"
fi
echo "==> $EXAMPLE $*"
exec "$EXAMPLE" "$@"
