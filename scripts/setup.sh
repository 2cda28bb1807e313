#!/usr/bin/env bash
# scripts/setup.sh — install workq's build and test dependencies on Debian 12.
# Idempotent: checks each package with dpkg-query and runs apt-get only when
# something is missing (and apt-get update only then). Runs as root, or via
# sudo when not root and sudo exists.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build g++
  relacy-dev libgtest-dev libbenchmark-dev
  libcds-dev libck-dev libtbb-dev libgc-dev
  clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing: ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "setup: not root and no sudo; cannot install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"
