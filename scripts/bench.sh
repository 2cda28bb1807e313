#!/usr/bin/env bash
# scripts/bench.sh — build the Google Benchmark suites (Release, no preset)
# and run them, writing JSON to bench/results/<name>.json.
#
#   scripts/bench.sh                 # all benches, ~1-2 minutes
#   scripts/bench.sh --benchmark_filter=IdleWaiter   # extra args go to every bench
#
# Each benchmark fixes its own short min_time (0.2 s) or iteration count, so
# the whole run stays under 3 minutes. Peers (libcds, Concurrency Kit, TBB)
# are compiled in when their packages are installed (scripts/setup.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${WORKQ_BENCH_BUILD:-build/bench}
OUT=bench/results

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DWORKQ_BUILD_BENCH=ON \
  -DWORKQ_BUILD_TESTS=OFF -DWORKQ_BUILD_VERIFY=OFF -DWORKQ_BUILD_MARKER=OFF \
  -DWORKQ_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" --target termination_bench queue_bench mark_bench

mkdir -p "$OUT"
for b in termination_bench queue_bench mark_bench; do
  echo "== $b"
  "$BUILD/bench/$b" --benchmark_out="$OUT/$b.json" --benchmark_out_format=json "$@"
done
# Boehm's marker count is fixed per process (GC_MARKERS, read at GC_INIT):
# a second mark_bench process with one marker, plus its own prefetch baseline.
echo "== mark_bench (GC_MARKERS=1)"
GC_MARKERS=1 "$BUILD/bench/mark_bench" --benchmark_filter='seq_prefetch|boehm' \
  --benchmark_out="$OUT/mark_bench_gc_markers1.json" --benchmark_out_format=json "$@"
echo "results: $OUT/*.json"
