#!/usr/bin/env bash
# scripts/demo.sh — the main job: install dependencies, build the `release`
# preset's reference marker and run it (`workq-mark`; arguments are passed
# through, e.g. `scripts/demo.sh --help` or `--workers=2 --mutators=0`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

bash scripts/setup.sh
cmake --preset release
cmake --build --preset release -j "${WORKQ_BUILD_JOBS:-2}" --target workq-mark
echo "==> build/release/src/workq-mark $*"
exec build/release/src/workq-mark "$@"
