#!/usr/bin/env bash
# scripts/demo.sh — the main job: install dependencies, build the `release`
# preset, and run the reference marker (build/release/src/workq-mark) when it
# exists, else the parallel_sum example. Arguments are passed through.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/setup.sh
cmake --preset release

# Build only what the demo runs: workq-mark when the project defines it, else
# the example (`ninja -t targets` lists the targets of the generated build).
MARK=build/release/src/workq-mark
EXAMPLE=build/release/examples/parallel_sum
JOBS=${WORKQ_BUILD_JOBS:-2}
if ninja -C build/release -t targets all 2>/dev/null | grep -q '^src/workq-mark:'; then
  cmake --build --preset release -j "$JOBS" --target workq-mark
else
  cmake --build --preset release -j "$JOBS" --target parallel_sum
fi
if [[ -x "$MARK" ]]; then
  echo "==> $MARK $*"
  exec "$MARK" "$@"
fi
echo "==> $EXAMPLE $*"
exec "$EXAMPLE" "$@"
