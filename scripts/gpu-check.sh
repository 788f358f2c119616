#!/usr/bin/env bash
# The GPU checks of a session that is lent a GPU machine, in two halves:
#
#   bash scripts/gpu-check.sh prepare [TARGET]   # here, where attngen is built
#   bash scripts/gpu-check.sh run OUT_DIR        # on the GPU machine
#
# `prepare` compiles, with this checkout's attngen, every f16/bf16 spec of
# specs/, a head-dim grid and bench/gpu's specs for TARGET (default sm_90)
# into gpu-bundle/ (git-ignored), next to a copy of libattnrt.so. The GPU
# machine needs neither LLVM nor MLIR: `run` loads those packages through
# libattnrt, as an engine would, and writes to OUT_DIR
#   device.txt      nvidia-smi's card and driver
#   numerics.log    every package vs the float64 reference (odd shapes)
#   sanitizer.log   compute-sanitizer memcheck and racecheck on a few kernels
#   results-*.csv/png  bench/gpu/run_bench.py against SDPA and FlexAttention
# Each stage has a time limit so that the whole run fits in about 9 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
bundle=gpu-bundle

case "$mode" in
prepare)
  target=${2:-sm_90}
  attngen=build/bin/attngen
  [[ -x $attngen ]] || { echo "gpu-check: build attngen first (bash scripts/test.sh)" >&2; exit 1; }
  rm -rf "$bundle" && mkdir -p "$bundle/numerics" "$bundle/bench" "$bundle/specs"
  cp -L build/runtime/libattnrt.so "$bundle/libattnrt.so"
  for spec in specs/*.json; do
    name=$(basename "$spec" .json)
    if grep -q '"dtype": "f32"' "$spec"; then continue; fi
    $attngen compile "$spec" --target "$target" -o "$bundle/numerics/$name.attnpkg"
  done
  # sm_80 PTX runs on newer cards too (JIT-compiled by the driver).
  $attngen compile specs/llama3_8b.json --target sm_80 -o "$bundle/numerics/llama3_8b_sm80.attnpkg"
  # Head dims off the multiples of 8 and 16, dv != d, up to 256.
  /usr/bin/python3 - "$bundle/specs" <<'PY'
import json, sys
for base, dims in (("specs/causal_bottom_right.json", ["32", "40", "59", "80", "96", "111", "160", "192", "224", "256", "192:128", "59:40"]),
                   ("specs/softcap.json", ["59", "111", "256"])):
    for item in dims:
        d, _, dv = item.partition(":")
        spec = json.load(open(base))
        spec.update(name=f"{spec['name']}_d{d}_dv{dv or d}", head_dim=int(d), head_dim_v=int(dv or d))
        json.dump(spec, open(f"{sys.argv[1]}/{spec['name']}.json", "w"))
PY
  for spec in "$bundle"/specs/*.json; do
    $attngen compile "$spec" --target "$target" -o "$bundle/numerics/$(basename "$spec" .json).attnpkg"
  done
  /usr/bin/python3 bench/gpu/make_specs.py "$bundle/specs/bench"
  for spec in "$bundle"/specs/bench/*.json; do
    $attngen compile "$spec" --target "$target" -o "$bundle/bench/$(basename "$spec" .json).attnpkg"
  done
  du -sh "$bundle"
  ;;
run)
  out=${2:?usage: gpu-check.sh run OUT_DIR}
  mkdir -p "$out"
  [[ -f $bundle/libattnrt.so ]] || { echo "gpu-check: no $bundle (run 'prepare' and carry it)" >&2; exit 1; }
  export PYTHONUNBUFFERED=1
  lib=$PWD/$bundle/libattnrt.so
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/device.txt"
  timeout 240 python3 test/numerics/check_cuda_package.py "$lib" "$bundle"/numerics/*.attnpkg \
    --shapes 1x17,17x17,113x203,203x113,1x2048,1023x1024 --batch 2 2>&1 | tee "$out/numerics.log" | grep -v '^ok' || true
  if command -v compute-sanitizer >/dev/null; then
    for tool in memcheck racecheck; do
      for package in mha llama3_8b window_sinks causal_bottom_right_d59_dv59; do
        echo "== $tool $package" >>"$out/sanitizer.log"
        timeout 60 compute-sanitizer --tool "$tool" --error-exitcode 9 python3 test/numerics/check_cuda_package.py \
          "$lib" "$bundle/numerics/$package.attnpkg" --shapes 113x203 --batch 1 >>"$out/sanitizer.log" 2>&1 \
          && echo "ok" >>"$out/sanitizer.log" || echo "FAILED ($?)" >>"$out/sanitizer.log"
      done
    done
    grep -E '^==|^ok|FAILED|ERROR SUMMARY' "$out/sanitizer.log" || true
  fi
  timeout 300 python3 bench/gpu/run_bench.py "$lib" "$bundle/bench" --out "$out" --reps 10 2>&1 | tee "$out/bench.log" || true
  ;;
*)
  echo "usage: gpu-check.sh prepare [sm_80|sm_90] | run OUT_DIR" >&2
  exit 1
  ;;
esac
