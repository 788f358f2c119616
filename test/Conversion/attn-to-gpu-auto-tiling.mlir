// RUN: attn-opt %s -split-input-file --attn-to-gpu | FileCheck %s

// `tiling: "auto"` for prefill kernels (autoTiling in GpuTiling.cpp): the
// tile sizes of each kernel, block_m x block_n x num_warps, its number of
// stages, and its shared memory, which follows from them (a ring of two K
// and two V buffers with three stages).

// Causal head dim 128: one slab of 64 x 128 on 4 warps (two stages: Q 16
// KiB, K and V 32 KiB each).
// CHECK-LABEL: gpu.func @causal_d128
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.shared_memory_bytes = 81920
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
func.func @causal_d128(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Non-causal head dim 128, plain scores: FlashAttention-2's 128 x 64 on 4
// warps (two 16-row slabs per warp).
// CHECK-LABEL: gpu.func @noncausal_d128
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
func.func @noncausal_d128(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Sinks (a second key range in the boundary tiles' mask) or a window at
// head dim 128: one slab of 64 x 64, as fast as 64 x 128 on an H100 and
// half the kernel to compile (Q, K and V 16 KiB each).
// CHECK-LABEL: gpu.func @causal_d128_sinks
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.shared_memory_bytes = 49152
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_d128_sinks(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(4) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// CHECK-LABEL: gpu.func @window_d128
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @window_d128(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(1024, 0) sinks(0) scale(0.1) softcap(0.0)
      target(sm_80)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Below head dim 113 a window keeps 64 x 128 (d96: 7-18% faster than 64 x
// 64, causal).
// CHECK-LABEL: gpu.func @window_d112
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
func.func @window_d112(%q: tensor<?x?x8x112xbf16>, %k: tensor<?x?x8x112xbf16>, %v: tensor<?x?x8x112xbf16>) -> tensor<?x?x8x112xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(112, 112) mask(causal, bottom_right) window(1024, 0) sinks(0) scale(0.1) softcap(0.0)
      target(sm_80)
      : tensor<?x?x8x112xbf16>, tensor<?x?x8x112xbf16>, tensor<?x?x8x112xbf16> -> tensor<?x?x8x112xbf16>
  return %o : tensor<?x?x8x112xbf16>
}

// -----

// Softcap's per-score terms need registers of their own: one slab.
// CHECK-LABEL: gpu.func @causal_d128_softcap
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
func.func @causal_d128_softcap(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(30.0)
      target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// head_dim_v 128 with a smaller head_dim: the wider of the two picks.
// CHECK-LABEL: gpu.func @causal_d64_dv128
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
func.func @causal_d64_dv128(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Head dims up to 64 (d = dv, plain scores, no mask over keys, fixed
// lengths): FlashAttention-2's 128 x 128 on 4 warps.
// CHECK-LABEL: gpu.func @noncausal_d64
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 4>
func.func @noncausal_d64(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// Causal head dims 48 and 64 on sm_90 (plain scores, no window or sinks,
// fixed lengths): one slab of 64 x 128 with three stages (Q 8 KiB, two K and
// two V buffers of 16 KiB), three CTAs per multiprocessor.
// CHECK-LABEL: gpu.func @causal_gqa_d64_sm90
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 73728
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_gqa_d64_sm90(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x2x64xbf16>, %v: tensor<?x?x2x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 2) head_dims(64, 64) mask(causal, top_left) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// Head dim 32 keeps 64 x 64 (64 x 128 was 1-9% slower on an H200).
// CHECK-LABEL: gpu.func @causal_d64_dv32_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_d64_dv32_sm90(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x32xbf16>) -> tensor<?x?x8x32xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 32) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x32xbf16> -> tensor<?x?x8x32xbf16>
  return %o : tensor<?x?x8x32xbf16>
}

// -----

// Padded columns (d56 pads to 64) cost registers: 64 x 64 with three stages.
// CHECK-LABEL: gpu.func @causal_d56_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_d56_sm90(%q: tensor<?x?x8x56xbf16>, %k: tensor<?x?x8x56xbf16>, %v: tensor<?x?x8x56xbf16>) -> tensor<?x?x8x56xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(56, 56) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x56xbf16>, tensor<?x?x8x56xbf16>, tensor<?x?x8x56xbf16> -> tensor<?x?x8x56xbf16>
  return %o : tensor<?x?x8x56xbf16>
}

// -----

// Masked head dims up to 80 (causal on sm_80, windows, softcap, ALiBi,
// varlen, head_dim_v != head_dim): one slab of 64 x 64 with three stages (Q 4 KiB,
// two K and two V buffers of 4 KiB).
// CHECK-LABEL: gpu.func @causal_gqa_d32
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 20480
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_gqa_d32(%q: tensor<?x?x8x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>) -> tensor<?x?x8x32xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 2) head_dims(32, 32) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_80)
      : tensor<?x?x8x32xbf16>, tensor<?x?x2x32xbf16>, tensor<?x?x2x32xbf16> -> tensor<?x?x8x32xbf16>
  return %o : tensor<?x?x8x32xbf16>
}

// -----

// CHECK-LABEL: gpu.func @window_d64
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 40960
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @window_d64(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(256, 0) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// CHECK-LABEL: gpu.func @noncausal_d64_dv32
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 32768
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @noncausal_d64_dv32(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x32xbf16>) -> tensor<?x?x8x32xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 32) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x32xbf16> -> tensor<?x?x8x32xbf16>
  return %o : tensor<?x?x8x32xbf16>
}

// -----

// CHECK-LABEL: gpu.func @causal_d64_softcap
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 40960
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_d64_softcap(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(30.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// CHECK-LABEL: gpu.func @varlen_d64
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 40960
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @varlen_d64(%q: tensor<1x?x8x64xbf16>, %k: tensor<1x?x8x64xbf16>, %v: tensor<1x?x8x64xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<1x?x8x64xbf16>, tensor<1x?x8x64xbf16>, tensor<1x?x8x64xbf16> -> tensor<1x?x8x64xbf16>
  return %o : tensor<1x?x8x64xbf16>
}

// -----

// Head dims 81-96 on sm_90, multiples of 16 (with any mask and scores):
// one slab of 64 x 64 with three stages (Q 12 KiB, two K and two V
// buffers of 12 KiB each), three CTAs per multiprocessor.
// CHECK-LABEL: gpu.func @causal_d96_sm90
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 61440
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d96_sm90(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// CHECK-LABEL: gpu.func @noncausal_d96_dv64_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @noncausal_d96_dv64_sm90(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// sm_80 (not measured) and padded head dims (d88's GQA kernel spilled at
// 128 x 48): one slab of 64 x 128, one CTA.
// CHECK-LABEL: gpu.func @causal_d96_sm80
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d96_sm80(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_80)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// CHECK-LABEL: gpu.func @causal_d88_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
func.func @causal_d88_sm90(%q: tensor<?x?x8x88xbf16>, %k: tensor<?x?x8x88xbf16>, %v: tensor<?x?x8x88xbf16>) -> tensor<?x?x8x88xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(88, 88) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x88xbf16>, tensor<?x?x8x88xbf16>, tensor<?x?x8x88xbf16> -> tensor<?x?x8x88xbf16>
  return %o : tensor<?x?x8x88xbf16>
}

// -----

// CHECK-LABEL: gpu.func @window_d96_sm90
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @window_d96_sm90(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(256, 0) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// CHECK-LABEL: gpu.func @softcap_d96_sm90
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @softcap_d96_sm90(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(30.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// Head dim 256: one slab of 64 x 64, two stages (Q, K and V 32 KiB each).
// CHECK-LABEL: gpu.func @causal_d256
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.shared_memory_bytes = 98304
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @causal_d256(%q: tensor<?x?x8x256xbf16>, %k: tensor<?x?x8x256xbf16>, %v: tensor<?x?x8x256xbf16>) -> tensor<?x?x8x256xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(256, 256) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x256xbf16>, tensor<?x?x8x256xbf16>, tensor<?x?x8x256xbf16> -> tensor<?x?x8x256xbf16>
  return %o : tensor<?x?x8x256xbf16>
}

// -----

// KV caches: 32 rows on 2 warps, 64 keys per tile, at head dim 256 too
// (whose K and V tiles, 32 chunks of 16 bytes per thread, are copied in a
// loop: unrolled, they spilled 16-368 bytes).
// CHECK-LABEL: gpu.func @cache_d192
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 64, 2>
func.func @cache_d192(%q: tensor<?x?x8x192xbf16>, %k: tensor<?x?x4x192xbf16>, %v: tensor<?x?x4x192xbf16>, %l: tensor<?xi32>) -> tensor<?x?x8x192xbf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 4) head_dims(192, 192) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.07) softcap(0.0) target(sm_90)
      : tensor<?x?x8x192xbf16>, tensor<?x?x4x192xbf16>, tensor<?x?x4x192xbf16> -> tensor<?x?x8x192xbf16>
  return %o : tensor<?x?x8x192xbf16>
}

// -----

// CHECK-LABEL: gpu.func @cache_d256
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 64, 2>
func.func @cache_d256(%q: tensor<?x?x8x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>, %l: tensor<?xi32>) -> tensor<?x?x8x256xbf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 4) head_dims(256, 256) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) target(sm_90)
      : tensor<?x?x8x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x8x256xbf16>
  return %o : tensor<?x?x8x256xbf16>
}

// -----

// ALiBi with a window or sinks in a KV cache: 32 keys per tile up to head
// dim 128 (64 spilled 4-56 bytes), 64 above (32 spilled at head dim 192).
// CHECK-LABEL: gpu.func @cache_alibi_window_d128
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 32, 2>
func.func @cache_alibi_window_d128(%q: tensor<?x?x6x128xf16>, %k: tensor<?x?x2x128xf16>, %v: tensor<?x?x2x128xf16>, %l: tensor<?xi32>) -> tensor<?x?x6x128xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(6, 2) head_dims(128, 128) mask(causal, bottom_right) window(33, 5) sinks(17) scale(0.088) softcap(0.0) alibi target(sm_90)
      : tensor<?x?x6x128xf16>, tensor<?x?x2x128xf16>, tensor<?x?x2x128xf16> -> tensor<?x?x6x128xf16>
  return %o : tensor<?x?x6x128xf16>
}

// -----

// CHECK-LABEL: gpu.func @cache_alibi_window_d192
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 64, 2>
func.func @cache_alibi_window_d192(%q: tensor<?x?x6x192xf16>, %k: tensor<?x?x2x192xf16>, %v: tensor<?x?x2x192xf16>, %l: tensor<?xi32>) -> tensor<?x?x6x192xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(6, 2) head_dims(192, 192) mask(causal, bottom_right) window(33, 5) sinks(17) scale(0.072) softcap(0.0) alibi target(sm_80)
      : tensor<?x?x6x192xf16>, tensor<?x?x2x192xf16>, tensor<?x?x2x192xf16> -> tensor<?x?x6x192xf16>
  return %o : tensor<?x?x6x192xf16>
}

// -----

// ALiBi without a window keeps 64 keys.
// CHECK-LABEL: gpu.func @cache_alibi_d128
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 64, 2>
func.func @cache_alibi_d128(%q: tensor<?x?x6x128xf16>, %k: tensor<?x?x2x128xf16>, %v: tensor<?x?x2x128xf16>, %l: tensor<?xi32>) -> tensor<?x?x6x128xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(6, 2) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0) alibi target(sm_90)
      : tensor<?x?x6x128xf16>, tensor<?x?x2x128xf16>, tensor<?x?x2x128xf16> -> tensor<?x?x6x128xf16>
  return %o : tensor<?x?x6x128xf16>
}

// -----

// Head dims that are not multiples of 8 (tiles copied element by element,
// not by cp.async): two stages, no ring.
// CHECK-LABEL: gpu.func @window_d59
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @window_d59(%q: tensor<?x?x4x59xbf16>, %k: tensor<?x?x2x59xbf16>, %v: tensor<?x?x2x59xbf16>) -> tensor<?x?x4x59xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(59, 59) mask(causal, top_left) window(100, 0) sinks(0) scale(0.13) softcap(0.0) target(sm_80)
      : tensor<?x?x4x59xbf16>, tensor<?x?x2x59xbf16>, tensor<?x?x2x59xbf16> -> tensor<?x?x4x59xbf16>
  return %o : tensor<?x?x4x59xbf16>
}

// -----

// K's rows are 16-byte aligned (cp.async): the ring stays.
// CHECK-LABEL: gpu.func @window_d64_dv59
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
func.func @window_d64_dv59(%q: tensor<?x?x4x64xbf16>, %k: tensor<?x?x2x64xbf16>, %v: tensor<?x?x2x59xbf16>) -> tensor<?x?x4x59xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(64, 59) mask(causal, top_left) window(100, 0) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x4x64xbf16>, tensor<?x?x2x64xbf16>, tensor<?x?x2x59xbf16> -> tensor<?x?x4x59xbf16>
  return %o : tensor<?x?x4x59xbf16>
}
