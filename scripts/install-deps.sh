#!/usr/bin/env bash
# Installs everything attngen's build and tests need on a fresh Debian 12 machine.
# Idempotent: packages already present are left as they are.
# Usage: bash scripts/install-deps.sh [--bench]
set -euo pipefail

packages=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools liblld-22-dev
  nlohmann-json3-dev libgtest-dev
  cmake ninja-build lld ccache clang-format-22
  python3-numpy
)
# --bench: what bench/ needs on top (numpy on OpenBLAS, plots).
if [ "${1:-}" = "--bench" ]; then
  packages+=(libopenblas0-pthread python3-matplotlib)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
