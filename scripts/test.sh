#!/usr/bin/env bash
# scripts/test.sh — build and run every test: unit, stress, Relacy (verify),
# marker tests, the stress suites again under ThreadSanitizer, and an install
# check (a consumer project built against `cmake --install` output).
#
# Works from a clean clone on Debian 12 as root: scripts/setup.sh installs
# whatever is missing. Prints each phase's wall time and the total; exits
# non-zero on the first failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=${WORKQ_TEST_JOBS:-2}
declare -a PHASES=()
declare -a TIMES=()
T_START=$EPOCHREALTIME
CURRENT=""
TMP=""

elapsed() {  # seconds since $1, with two decimals
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

summary() {
  local rc=$?
  echo
  echo "==================== scripts/test.sh: wall time per phase"
  local i
  for i in "${!PHASES[@]}"; do
    printf "  %-28s %9ss\n" "${PHASES[$i]}" "${TIMES[$i]}"
  done
  if [[ -n "$CURRENT" ]]; then
    printf "  %-28s %9ss  <- FAILED\n" "$CURRENT" "$(elapsed "$PHASE_START")"
  fi
  printf "  %-28s %9ss\n" "total" "$(elapsed "$T_START")"
  if [[ $rc -eq 0 ]]; then
    echo "scripts/test.sh: ALL PASSED"
  else
    echo "scripts/test.sh: FAILED (exit $rc) in phase: ${CURRENT:-?}" >&2
  fi
  [[ -n "$TMP" && -d "$TMP" ]] && rm -rf "$TMP"
  exit $rc
}
trap summary EXIT

phase() {  # phase <name> <command...>
  CURRENT=$1
  shift
  echo
  echo "==================== [$CURRENT]"
  PHASE_START=$EPOCHREALTIME
  "$@"
  PHASES+=("$CURRENT")
  TIMES+=("$(elapsed "$PHASE_START")")
  echo "==================== [$CURRENT] done in ${TIMES[-1]}s"
  CURRENT=""
}

# ThreadSanitizer (GCC 12) aborts with "unexpected memory mapping" on kernels
# with high mmap randomisation; running without ASLR avoids that.
no_aslr() {
  if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
    setarch "$(uname -m)" -R "$@"
  else
    "$@"
  fi
}

install_check() {
  TMP=$(mktemp -d)
  cmake --install build/dev --prefix "$TMP/prefix"
  cmake -S tests/install_consumer -B "$TMP/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$TMP/prefix"
  cmake --build "$TMP/build"
  "$TMP/build/workq_consumer"
}

phase "setup" bash scripts/setup.sh
phase "dev: configure" cmake --preset dev
phase "dev: build" cmake --build --preset dev -j "$JOBS"
phase "dev: ctest (all labels)" ctest --preset dev --output-on-failure -j "$JOBS"
phase "tsan: configure" cmake --preset tsan
phase "tsan: build" cmake --build --preset tsan -j "$JOBS"
phase "tsan: ctest -L stress" no_aslr ctest --preset tsan -L stress --output-on-failure -j "$JOBS"
phase "install check" install_check
