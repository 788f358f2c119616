#!/usr/bin/env bash
# The main job: build attngen, compile a real model's spec (Llama-3-8B prefill,
# causal GQA) through the pipeline, run it on the CPU backend on odd shapes
# and compare with the float64 reference.
# Usage: bash scripts/demo.sh [SPEC] (default: specs/llama3_8b.json)
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${1:-specs/llama3_8b.json}"

cmake -S . -B build -G Ninja > /dev/null
cmake --build build --target attngen attn-opt

echo "== attngen compile $spec --emit spec-ir"
build/bin/attngen compile "$spec" --emit spec-ir -o build/demo.spec.mlir
cat build/demo.spec.mlir
echo "== attngen compile $spec --target cpu --emit tiled-ir (first lines)"
build/bin/attngen compile "$spec" --target cpu --emit tiled-ir -o build/demo.tiled.mlir
head -n 12 build/demo.tiled.mlir
echo "== attngen run --backend cpu vs the float64 reference"
/usr/bin/python3 test/numerics/check_attention.py build/bin/attngen "$spec" build/demo \
  --shapes 113x203,203x113,1x257
echo "== attngen bench --backend cpu"
build/bin/attngen bench "$spec" --batch 1 --seqlen-q 512 --seqlen-k 512 --reps 3
