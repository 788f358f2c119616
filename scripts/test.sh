#!/usr/bin/env bash
# Configures, builds and runs every test (lit, GoogleTest, the format check)
# through ctest.
# Usage: bash scripts/test.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"

cmake -S . -B "$build_dir" -G Ninja
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
