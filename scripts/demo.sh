#!/usr/bin/env bash
# The main job: build attngen, compile a real model's spec (Llama-3-8B
# prefill, causal GQA) to PTX for sm_80, run it on the CPU backend and on the
# GPU emulator, and compare both with the float64 reference.
# Usage: bash scripts/demo.sh [SPEC] (default: specs/llama3_8b.json)
set -euo pipefail
cd "$(dirname "$0")/.."
spec="${1:-specs/llama3_8b.json}"

cmake -S . -B build -G Ninja > /dev/null
cmake --build build --target attngen attn-opt

echo "== attngen compile $spec --emit spec-ir"
build/bin/attngen compile "$spec" --emit spec-ir -o build/demo.spec.mlir
cat build/demo.spec.mlir

echo "== attngen compile $spec --target sm_80 --emit ptx"
build/bin/attngen compile "$spec" --target sm_80 --emit ptx -o build/demo.sm_80.ptx
echo "build/demo.sm_80.ptx: $(wc -l < build/demo.sm_80.ptx) lines," \
  "$(grep -c 'mma.sync.aligned.m16n8k16' build/demo.sm_80.ptx) mma.sync," \
  "$(grep -c 'ldmatrix' build/demo.sm_80.ptx) ldmatrix," \
  "$(grep -c 'cp.async.cg' build/demo.sm_80.ptx) cp.async"
if [ -x /usr/local/cuda/bin/ptxas ]; then
  /usr/local/cuda/bin/ptxas -arch=sm_80 -v build/demo.sm_80.ptx -o /dev/null 2>&1 \
    | grep -E "registers|spill"
fi

echo "== attngen run --backend cpu vs the float64 reference"
/usr/bin/python3 test/numerics/check_attention.py build/bin/attngen "$spec" build/demo \
  --shapes 113x203,203x113,1x257

echo "== attngen run --backend gpu-sim (the sm_80 kernel, emulated) vs the reference"
/usr/bin/python3 test/numerics/check_attention.py build/bin/attngen "$spec" build/demo \
  --shapes 17x33,113x203 --backend gpu-sim

echo "== attngen bench --backend cpu"
build/bin/attngen bench "$spec" --batch 1 --seqlen-q 512 --seqlen-k 512 --reps 3
