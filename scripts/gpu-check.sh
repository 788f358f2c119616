#!/usr/bin/env bash
# The GPU checks of a session that is lent a GPU machine, in two halves:
#
#   bash scripts/gpu-check.sh prepare [TARGET]   # here, where attngen is built
#   bash scripts/gpu-check.sh run OUT_DIR        # on the GPU machine
#
# `prepare` compiles, with this checkout's attngen, every f16/bf16 spec of
# specs/, a head-dim grid, a KV-cache grid (FlashAttention's kvcache shapes),
# bench/gpu's and bench/decode's specs for TARGET (default sm_90) into
# gpu-bundle/ (git-ignored), next to a copy of libattnrt.so. The GPU machine
# needs neither LLVM nor MLIR: `run` loads those packages through libattnrt,
# as an engine would, and writes to OUT_DIR
#   run.log         the card, the driver and every stage's summary
#   numerics.log    every package vs the float64 reference (odd shapes)
#   sanitizer.log   compute-sanitizer memcheck and racecheck on a few kernels
#   results-<card>.csv           bench/gpu against SDPA (flash, cuDNN)
#   flex/results-<card>.csv      bench/gpu against FlexAttention (head dim 128)
#   results-gpu-<card>.csv       bench/decode: decode vs the card's copy bandwidth
#   bash scripts/gpu-check.sh sweep OUT_DIR [prefill] [decode] [profile] [decode-profile] [baseline]
# measures for tuning: the tilings `tiling: "auto"` chooses among
# (results-<card>.csv, results-gpu-<card>-sweep.csv), an Nsight Compute
# profile of one attngen kernel (ATTNGEN_PROFILE_SPEC, default causal_d128)
# and SDPA's flash kernel on the same shape (ncu-<spec>.txt, the reports,
# and their SASS source pages per opcode: ncu-<spec>-*-source.txt), the
# time of each kernel of a batch-1 decode call (ncu-decode-<spec>.txt) and,
# when
# `prepare` ran with ATTNGEN_BASELINE="PATH" or "LABEL=PATH LABEL=PATH"
# (the attngen of older commits: scripts/build-attngen-at.sh REV), bench/gpu's
# kernels from every compiler timed back to back (baseline[-LABEL]/ and
# current/ CSVs): an A/B of kernel changes made without a GPU
# (ATTNGEN_BENCH_HEAD_DIMS, default 64,80,96,128,256: bench/gpu's head dims).
# (`python3 bench/gpu/plot_results.py CSV` draws a bench/gpu CSV.)
# `run OUT_DIR numerics bench` runs only the stages named.
# Each stage has a time limit so that the whole run fits in about 6 minutes.
# Both end by packing every file they wrote into OUT_DIR/results.tar.gz
# (the device tool returns at most 8 files); the files stay beside it where
# there are 8 or fewer, else only run.log: `tar -xzf results.tar.gz` here.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
bundle=gpu-bundle
kv_shapes=1x128,1x339,3x1024,64x800,3x799,64x2048,16x20000
shapes=1x17,17x17,113x203,203x113,1x2048,1023x1024

# Every file under OUT_DIR into OUT_DIR/results.tar.gz; the files stay too
# where there are few enough to come back one by one.
pack_results() {
  local out=$1
  tar -czf "$out.tar.gz" -C "$out" . && mv "$out.tar.gz" "$out/results.tar.gz"
  local count
  count=$(find "$out" -type f | wc -l)
  if (( count > 8 )); then
    find "$out" -type f ! -name results.tar.gz ! -name run.log -delete
  fi
  echo "gpu-check: $out/results.tar.gz ($count files)"
}

case "$mode" in
prepare)
  target=${2:-sm_90}
  attngen=build/bin/attngen
  [[ -x $attngen ]] || { echo "gpu-check: build attngen first (bash scripts/test.sh)" >&2; exit 1; }
  rm -rf "$bundle" && mkdir -p "$bundle"/{numerics,kv,bench,decode,sweep,decode-sweep,specs/kv}
  cp -L build/runtime/libattnrt.so "$bundle/libattnrt.so"
  for spec in specs/*.json; do
    name=$(basename "$spec" .json)
    if grep -q '"dtype": "f32"' "$spec"; then continue; fi
    group=numerics
    if grep -q '"kv_cache"' "$spec"; then group=kv; fi
    $attngen compile "$spec" --target "$target" -o "$bundle/$group/$name.attnpkg"
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
  # The KV-cache grid: head dims 32 to 256, pages of 16 and 256, split 1 and
  # auto, appending with RoPE, windows, sinks, softcap, ALiBi.
  /usr/bin/python3 - "$bundle/specs/kv" <<'PY'
import json, sys
inputs = "test/numerics/Inputs/"
grid = (("kv_paged16_bf16", (32, 59, 64, 80, 128, 256), (1, "auto")),
        ("kv_append_rope_paged_bf16", (32, 59, 80, 128, 256), ("auto",)),
        ("kv_paged256_f16", (59, 128), (1, "auto")),
        ("kv_rope_paged_f16", (64,), (1,)),
        ("kv_append_paged_f16", (64,), (3,)),
        ("kv_append_window_softcap_bf16", (96,), (2,)))
for base, dims, splits in grid:
    for d in dims:
        for split in splits:
            spec = json.load(open(inputs + base + ".json"))
            dv = spec.get("head_dim_v", d) if d == spec["head_dim"] else d
            spec.update(name=f"{base}_d{d}_split{split}", head_dim=d, head_dim_v=dv, split_kv=split)
            json.dump(spec, open(f"{sys.argv[1]}/{spec['name']}.json", "w"))
PY
  for spec in "$bundle"/specs/kv/*.json; do
    $attngen compile "$spec" --target "$target" -o "$bundle/kv/$(basename "$spec" .json).attnpkg"
  done
  # Packed (varlen) batches with empty and length-1 sequences, over a KV
  # cache (appending too) or not; explicit tilings with two slabs per warp
  # (FlashAttention-2's 128 x 64 on 4 warps), one stage and rings of 2-4
  # K/V buffers (num_stages 3-5).
  for spec in test/numerics/Inputs/varlen_*.json test/numerics/Inputs/two_slabs*.json \
              test/numerics/Inputs/one_stage.json test/numerics/Inputs/stages*.json; do
    if grep -q '"dtype": "f32"' "$spec"; then continue; fi
    group=numerics
    if grep -q '"kv_cache"' "$spec"; then group=kv; fi
    $attngen compile "$spec" --target "$target" -o "$bundle/$group/$(basename "$spec" .json).attnpkg"
  done
  /usr/bin/python3 bench/decode/run_gpu_bench.py specs "$bundle/specs/decode" --target "$target"
  /usr/bin/python3 bench/decode/run_gpu_bench.py specs "$bundle/specs/decode-sweep" --target "$target" --sweep
  /usr/bin/python3 bench/gpu/make_specs.py "$bundle/specs/sweep" --sweep
  for group in decode decode-sweep sweep; do
    for spec in "$bundle/specs/$group"/*.json; do
      $attngen compile "$spec" --target "$target" -o "$bundle/$group/$(basename "$spec" .json).attnpkg"
    done
  done
  /usr/bin/python3 bench/gpu/make_specs.py "$bundle/specs/bench" \
    --head-dims "${ATTNGEN_BENCH_HEAD_DIMS:-64,80,96,128,256}"
  for spec in "$bundle"/specs/bench/*.json; do
    $attngen compile "$spec" --target "$target" -o "$bundle/bench/$(basename "$spec" .json).attnpkg"
  done
  # ATTNGEN_BASELINE: older compilers, space-separated, each PATH or
  # LABEL=PATH; their packages go to baseline/ or baseline-LABEL/.
  for entry in ${ATTNGEN_BASELINE:-}; do
    label=baseline compiler=$entry
    if [[ $entry == *=* ]]; then label=baseline-${entry%%=*} compiler=${entry#*=}; fi
    mkdir -p "$bundle/$label"
    for spec in "$bundle"/specs/bench/*.json; do
      "$compiler" compile "$spec" --target "$target" -o "$bundle/$label/$(basename "$spec" .json).attnpkg"
    done
  done
  du -sh "$bundle"
  ;;
run)
  # Stages: numerics (with compute-sanitizer), bench, decode, flex; all by
  # default, or those named after OUT_DIR (e.g. to leave FlexAttention's
  # per-shape compiles out of a short lease).
  out=${2:?usage: gpu-check.sh run OUT_DIR [numerics] [bench] [decode] [flex]}
  shift 2
  stages=" ${*:-numerics bench decode flex} "
  wants() { [[ $stages == *" $1 "* ]]; }
  mkdir -p "$out/flex" "$out/sweep"
  [[ -f $bundle/libattnrt.so ]] || { echo "gpu-check: no $bundle (run 'prepare' and carry it)" >&2; exit 1; }
  export PYTHONUNBUFFERED=1
  lib=$PWD/$bundle/libattnrt.so
  log=$out/run.log
  stage() { echo "== $1 $(date +%T)" | tee -a "$log"; }
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log" || true
  if wants numerics; then
    stage "numerics (4 shards) and compute-sanitizer, side by side"
    work=$(mktemp -d)
    packages=("$bundle"/numerics/*.attnpkg "$bundle"/kv/*.attnpkg)
    for shard in 0 1 2 3; do
      (
        mine=()
        for i in "${!packages[@]}"; do (( i % 4 == shard )) && mine+=("${packages[$i]}"); done
        plain=() kv=()
        for p in "${mine[@]}"; do [[ $p == */kv/* ]] && kv+=("$p") || plain+=("$p"); done
        export OMP_NUM_THREADS=3 OPENBLAS_NUM_THREADS=3
        check=test/numerics/check_cuda_package.py
        { [[ ${#plain[@]} -eq 0 ]] || timeout 90 python3 $check "$lib" "${plain[@]}" --shapes $shapes --batch 2
          [[ ${#kv[@]} -eq 0 ]] || timeout 60 python3 $check "$lib" "${kv[@]}" --shapes $kv_shapes --batch 2
        } >"$work/numerics-$shard.log" 2>&1 || true
      ) &
    done
    (
      for run in "memcheck kv/llama3_8b_decode_rope_append 1x339" "memcheck numerics/mha 113x203" \
                 "memcheck numerics/causal_bottom_right_d59_dv59 113x203" \
                 "memcheck numerics/two_slabs_noncausal 113x203" \
                 "memcheck kv/kv_paged16_bf16_d128_splitauto 3x799" \
                 "racecheck numerics/llama3_8b 113x203" "racecheck kv/llama3_8b_decode_paged 1x339" \
                 "racecheck numerics/stages4_bf16 113x203" \
                 "racecheck numerics/causal_bottom_right_d96_dv96 113x203"; do
        read -r tool package shape <<<"$run"
        echo "== $tool $package $shape" >>"$out/sanitizer.log"
        timeout 40 compute-sanitizer --tool "$tool" --error-exitcode 9 python3 test/numerics/check_cuda_package.py \
          "$lib" "$bundle/$package.attnpkg" --shapes "$shape" --batch 1 >>"$out/sanitizer.log" 2>&1 \
          && echo "ok" >>"$out/sanitizer.log" || echo "FAILED ($?)" >>"$out/sanitizer.log"
      done
    ) &
    wait
    cat "$work"/numerics-*.log >"$out/numerics.log"
    grep -v '^ok' "$out/numerics.log" | head -60 | tee -a "$log" || true
    grep -E '^==|^ok|FAILED|ERROR SUMMARY' "$out/sanitizer.log" | tee -a "$log" || true
  fi
  if wants bench; then
    stage "bench/gpu vs SDPA"
    timeout 120 python3 bench/gpu/run_bench.py "$lib" "$bundle/bench" --out "$out" --reps 10 \
      --flex-head-dims "" 2>&1 | tee -a "$log" || true
  fi
  if wants decode; then
    stage "bench/decode"
    timeout 75 python3 bench/decode/run_gpu_bench.py run "$lib" "$bundle/decode" --out "$out" \
      2>&1 | tee -a "$log" || true
  fi
  if wants flex; then
    stage "bench/gpu vs FlexAttention (head dim 128)"
    timeout 110 python3 bench/gpu/run_bench.py "$lib" "$bundle/bench" --out "$out/flex" --reps 10 \
      --flex-head-dims 128 --seqlens 2048,8192 --variants causal,window,softcap,alibi,gqa,noncausal \
      2>&1 | tee -a "$log" || true
  fi
  if wants numerics; then
    stage "summary"
    { grep -h ' passed, ' "$out/numerics.log"; grep -c '^FAIL' "$out/numerics.log"
      grep -E '^==|^ok|FAILED' "$out/sanitizer.log"; } 2>&1 | tee -a "$log" || true
  fi
  pack_results "$out"
  ;;
sweep)
  # Measurements for tuning, by stage: prefill (bench/gpu's tilings),
  # decode (bench/decode's tilings and split counts), profile (Nsight
  # Compute on attngen's causal d128 kernel and SDPA's flash kernel),
  # decode-profile (Nsight Compute's time per kernel of a decode call).
  out=${2:?usage: gpu-check.sh sweep OUT_DIR [prefill] [decode] [profile] [decode-profile] [baseline]}
  shift 2
  mkdir -p "$out"
  export PYTHONUNBUFFERED=1
  lib=$PWD/$bundle/libattnrt.so
  stages=("$@")
  [[ ${#stages[@]} -gt 0 ]] || stages=(prefill decode profile decode-profile baseline)
  for what in "${stages[@]}"; do
    case $what in
    prefill)
      timeout 150 python3 bench/gpu/run_bench.py "$lib" "$bundle/sweep" --out "$out" --reps 10 \
        --flex-head-dims "" --seqlens 1024,8192 || true ;;
    decode)
      timeout 60 python3 bench/decode/run_gpu_bench.py run "$lib" "$bundle/decode-sweep" --out "$out" \
        --shapes 1:131072,8:8192,64:8192 --tag sweep || true ;;
    profile)
      # ATTNGEN_PROFILE_SPEC (a bench/gpu spec, default causal_d128) next to
      # SDPA's FA2 kernel on the same shape: every section (stall reasons,
      # excess shared wavefronts and global sectors in Source Counters).
      # The report of each (ncu-<spec>-<kernel>.ncu-rep) and its SASS
      # source page summed per opcode (ncu-<spec>-<kernel>-source.txt:
      # where stalls, excess shared wavefronts and L2 sectors are).
      spec=${ATTNGEN_PROFILE_SPEC:-causal_d128}
      one=$(mktemp -d) && cp -r "$bundle/bench/$spec.attnpkg" "$one/"
      for kernel in "$spec" flash_fwd; do
        report=$out/ncu-$spec-$kernel
        timeout 90 ncu --set full --import-source no -k "regex:$kernel" -c 1 -o "$report" \
          python3 bench/gpu/run_bench.py "$lib" "$one" --out "$(mktemp -d)" --reps 1 \
          --variants "${spec%_d*}" --seqlens 4096 --flex-head-dims "" >>"$out/ncu-$spec.txt" 2>&1 || true
        [[ -f $report.ncu-rep ]] || continue
        timeout 60 ncu --import "$report.ncu-rep" --print-details all >>"$out/ncu-$spec.txt" 2>&1 || true
        timeout 60 ncu --import "$report.ncu-rep" --page source --csv --print-source sass \
          >"$report-source.csv" 2>>"$out/ncu-$spec.txt" &&
          python3 bench/gpu/summarize_ncu_source.py "$report-source.csv" >"$report-source.txt" || true
      done ;;
    decode-profile)
      # Nsight Compute's duration of each kernel of a batch-1 split decode
      # call (attention, merge) and of its RoPE + append form (append,
      # attention, merge): ncu-decode-<spec>.txt.
      for spec in decode_bf16_split decode_bf16_split_rope_append; do
        one=$(mktemp -d) && cp -r "$bundle/decode/$spec.attnpkg" "$one/"
        timeout 40 ncu --section SpeedOfLight --section LaunchStats -k regex:decode_bf16 -c 6 \
          python3 bench/decode/run_gpu_bench.py run "$lib" "$one" --shapes 1:16384 --reps 1 \
          --out "$(mktemp -d)" >"$out/ncu-decode-$spec.txt" 2>&1 || true
      done ;;
    baseline)
      sides=()
      for dir in "$bundle"/baseline*/; do [[ -d $dir ]] && sides+=("$(basename "$dir")"); done
      [[ ${#sides[@]} -gt 0 ]] || { echo "gpu-check: no baseline packages (prepare with ATTNGEN_BASELINE)" >&2; continue; }
      for side in "${sides[@]}" bench; do
        timeout 90 python3 bench/gpu/run_bench.py "$lib" "$bundle/$side" --out "$out/${side/#bench/current}" \
          --reps 10 --flex-head-dims "" --seqlens 1024,8192 || true
      done ;;
    esac
  done
  pack_results "$out"
  ;;
*)
  echo "usage: gpu-check.sh prepare [sm_80|sm_90] | run OUT_DIR [numerics|bench|decode|flex]... | sweep OUT_DIR [prefill|decode|profile|decode-profile|baseline]..." >&2
  exit 1
  ;;
esac
