#!/usr/bin/env bash
# The main job: build attngen and compile a real model's spec (Llama-3-8B
# prefill) to the attn dialect, then check it parses back in attn-opt.
# Usage: bash scripts/demo.sh [SPEC] (default: specs/llama3_8b.json)
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${1:-specs/llama3_8b.json}"

cmake -S . -B build -G Ninja > /dev/null
cmake --build build --target attngen attn-opt

echo "== attngen compile $spec --emit spec-ir"
build/bin/attngen compile "$spec" --emit spec-ir -o build/demo.spec.mlir
cat build/demo.spec.mlir
build/bin/attn-opt build/demo.spec.mlir > /dev/null
echo "== ok: the spec IR verifies in attn-opt"
