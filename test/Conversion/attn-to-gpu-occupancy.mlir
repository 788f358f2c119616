// RUN: attn-opt %s -split-input-file --attn-to-gpu | FileCheck %s

// The CTAs per multiprocessor each kernel asks ptxas for (nvvm.minctasm,
// minCtasPerMultiprocessor in GpuTiling.cpp), which caps its registers at
// 64 Ki / (CTAs * threads): one where the accumulators need up to 255
// registers; for one slab of at most 80 accumulator registers and head dims
// that are multiples of 16 up to 96, and for one causal slab of 128 keys at
// head dims up to 64, three CTAs of 4 warps (168 registers) where shared
// memory holds them.

// Causal d80 (auto: 64 x 64 on 4 warps, three stages): 32 + 40 accumulator
// registers, 50 KiB of shared memory; three CTAs on both targets.
// CHECK-LABEL: gpu.func @causal_d80_sm90
// CHECK-SAME: attn.shared_memory_bytes = 51200
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d80_sm90(%q: tensor<?x?x8x80xbf16>, %k: tensor<?x?x8x80xbf16>, %v: tensor<?x?x8x80xbf16>) -> tensor<?x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16> -> tensor<?x?x8x80xbf16>
  return %o : tensor<?x?x8x80xbf16>
}

// -----

// CHECK-LABEL: gpu.func @causal_d80_sm80
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d80_sm80(%q: tensor<?x?x8x80xbf16>, %k: tensor<?x?x8x80xbf16>, %v: tensor<?x?x8x80xbf16>) -> tensor<?x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_80)
      : tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16> -> tensor<?x?x8x80xbf16>
  return %o : tensor<?x?x8x80xbf16>
}

// -----

// Six stages at d80: 110 KiB per CTA (plus 1 KiB the system reserves) leave
// room for two CTAs in an H100's 228 KiB, one in an A100's 164 KiB.
// CHECK-LABEL: gpu.func @stages6_d80_sm90
// CHECK-SAME: attn.shared_memory_bytes = 112640
// CHECK-SAME: nvvm.minctasm = 2 : i32
func.func @stages6_d80_sm90(%q: tensor<?x?x8x80xbf16>, %k: tensor<?x?x8x80xbf16>, %v: tensor<?x?x8x80xbf16>) -> tensor<?x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 6> target(sm_90)
      : tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16> -> tensor<?x?x8x80xbf16>
  return %o : tensor<?x?x8x80xbf16>
}

// -----

// CHECK-LABEL: gpu.func @stages6_d80_sm80
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @stages6_d80_sm80(%q: tensor<?x?x8x80xbf16>, %k: tensor<?x?x8x80xbf16>, %v: tensor<?x?x8x80xbf16>) -> tensor<?x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 6> target(sm_80)
      : tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16> -> tensor<?x?x8x80xbf16>
  return %o : tensor<?x?x8x80xbf16>
}

// -----

// Head dim 96 at 64 x 64 on sm_90 (auto): 32 + 48 accumulator registers,
// within the limit.
// CHECK-LABEL: gpu.func @causal_d96_64x64
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d96_64x64(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// Head dim 112 at 64 x 64: 32 + 56, over the limit (d128's 32 + 64 spilled
// 8-144 bytes at 168 registers).
// CHECK-LABEL: gpu.func @causal_d112_64x64
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d112_64x64(%q: tensor<?x?x8x112xbf16>, %k: tensor<?x?x8x112xbf16>, %v: tensor<?x?x8x112xbf16>) -> tensor<?x?x8x112xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(112, 112) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x112xbf16>, tensor<?x?x8x112xbf16>, tensor<?x?x8x112xbf16> -> tensor<?x?x8x112xbf16>
  return %o : tensor<?x?x8x112xbf16>
}

// -----

// Head dim 72 pads its columns to 80 (d59's kernels, padded to 64, spilled
// 96-368 bytes at 168 registers): one CTA.
// CHECK-LABEL: gpu.func @causal_d72
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d72(%q: tensor<?x?x8x72xbf16>, %k: tensor<?x?x8x72xbf16>, %v: tensor<?x?x8x72xbf16>) -> tensor<?x?x8x72xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(72, 72) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.1) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x72xbf16>, tensor<?x?x8x72xbf16>, tensor<?x?x8x72xbf16> -> tensor<?x?x8x72xbf16>
  return %o : tensor<?x?x8x72xbf16>
}

// -----

// Non-causal d64 (auto: 128 x 128, two slabs per warp): 192 accumulator
// registers, one CTA (FlashAttention-2's launch bounds).
// CHECK-LABEL: gpu.func @noncausal_d64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @noncausal_d64(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// Head dim 128 at 64 x 32: 16 + 64 accumulator registers, but d128's O
// takes 64 of them (with softcap it spilled 16 bytes at 168 registers).
// CHECK-LABEL: gpu.func @softcap_d128_64x32
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 32, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @softcap_d128_64x32(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(30.0)
      tiling <block_m = 64, block_n = 32, num_warps = 4, num_stages = 4> target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Varlen with a window, sink tokens and softcap at d96 (auto: 64 x 64, 80
// accumulator registers): three features that need registers of their own,
// which spilled 4 bytes at 168 registers: one CTA. At d80 (72) three.
// CHECK-LABEL: gpu.func @varlen_window_sinks_softcap_d96
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @varlen_window_sinks_softcap_d96(%q: tensor<1x?x8x96xbf16>, %k: tensor<1x?x8x96xbf16>, %v: tensor<1x?x8x96xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(70, 0) sinks(2) scale(0.1) softcap(20.0)
      target(sm_90)
      : tensor<1x?x8x96xbf16>, tensor<1x?x8x96xbf16>, tensor<1x?x8x96xbf16> -> tensor<1x?x8x96xbf16>
  return %o : tensor<1x?x8x96xbf16>
}

// -----

// CHECK-LABEL: gpu.func @varlen_window_sinks_softcap_d80
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @varlen_window_sinks_softcap_d80(%q: tensor<1x?x8x80xbf16>, %k: tensor<1x?x8x80xbf16>, %v: tensor<1x?x8x80xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(70, 0) sinks(2) scale(0.1) softcap(20.0)
      target(sm_90)
      : tensor<1x?x8x80xbf16>, tensor<1x?x8x80xbf16>, tensor<1x?x8x80xbf16> -> tensor<1x?x8x80xbf16>
  return %o : tensor<1x?x8x80xbf16>
}

// -----

// A window and softcap at d96, two such features: three CTAs.
// CHECK-LABEL: gpu.func @window_softcap_d96
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @window_softcap_d96(%q: tensor<?x?x8x96xbf16>, %k: tensor<?x?x8x96xbf16>, %v: tensor<?x?x8x96xbf16>) -> tensor<?x?x8x96xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(causal, bottom_right) window(70, 0) sinks(0) scale(0.1) softcap(20.0)
      target(sm_90)
      : tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16>, tensor<?x?x8x96xbf16> -> tensor<?x?x8x96xbf16>
  return %o : tensor<?x?x8x96xbf16>
}

// -----

// Sinks count apart from the window they extend: a window, sinks and softcap
// at d96 spilled 28-40 bytes at 168 registers (sm_90): one CTA. Without
// sinks (above) three, and at d80 (72 accumulator registers) three.
// CHECK-LABEL: gpu.func @window_sinks_softcap_d96
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @window_sinks_softcap_d96(%q: tensor<?x?x9x96xbf16>, %k: tensor<?x?x3x96xbf16>, %v: tensor<?x?x3x96xbf16>) -> tensor<?x?x9x96xbf16> {
  %o = attn.attention %q, %k, %v heads(9, 3) head_dims(96, 96) mask(none, top_left) window(100, 40) sinks(17) scale(1.0) softcap(30.0)
      target(sm_90)
      : tensor<?x?x9x96xbf16>, tensor<?x?x3x96xbf16>, tensor<?x?x3x96xbf16> -> tensor<?x?x9x96xbf16>
  return %o : tensor<?x?x9x96xbf16>
}

// -----

// CHECK-LABEL: gpu.func @window_sinks_softcap_d80
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @window_sinks_softcap_d80(%q: tensor<?x?x9x80xbf16>, %k: tensor<?x?x3x80xbf16>, %v: tensor<?x?x3x80xbf16>) -> tensor<?x?x9x80xbf16> {
  %o = attn.attention %q, %k, %v heads(9, 3) head_dims(80, 80) mask(none, top_left) window(100, 40) sinks(17) scale(1.0) softcap(30.0)
      target(sm_90)
      : tensor<?x?x9x80xbf16>, tensor<?x?x3x80xbf16>, tensor<?x?x3x80xbf16> -> tensor<?x?x9x80xbf16>
  return %o : tensor<?x?x9x80xbf16>
}

// -----

// Two slabs per warp (32 x 48 on one warp, d32): 80 accumulator registers,
// but Q's second slab and its softmax state too; a KV-cache kernel of this
// tiling spilled 8 bytes at 168 registers on sm_80: one CTA.
// CHECK-LABEL: gpu.func @two_slabs_d32
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 48, 1>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @two_slabs_d32(%q: tensor<?x?x4x32xf16>, %k: tensor<?x?x2x32xf16>, %v: tensor<?x?x2x32xf16>) -> tensor<?x?x4x32xf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(32, 32) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.17) softcap(0.0)
      tiling <block_m = 32, block_n = 48, num_warps = 1, num_stages = 3> target(sm_80)
      : tensor<?x?x4x32xf16>, tensor<?x?x2x32xf16>, tensor<?x?x2x32xf16> -> tensor<?x?x4x32xf16>
  return %o : tensor<?x?x4x32xf16>
}

// -----

// 128 keys per tile (16 x 128 on one warp, d32): 64 + 16 accumulator
// registers, but 64 scores per thread in the softmax; a KV-cache kernel of
// this tiling with ALiBi spilled 8 bytes at 168 registers on sm_80.
// CHECK-LABEL: gpu.func @wide_tile_d32
// CHECK-SAME: attn.tile_sizes = array<i64: 16, 128, 1>
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @wide_tile_d32(%q: tensor<?x?x4x32xf16>, %k: tensor<?x?x2x32xf16>, %v: tensor<?x?x2x32xf16>) -> tensor<?x?x4x32xf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(32, 32) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.17) softcap(0.0)
      tiling <block_m = 16, block_n = 128, num_warps = 1, num_stages = 1> target(sm_80)
      : tensor<?x?x4x32xf16>, tensor<?x?x2x32xf16>, tensor<?x?x2x32xf16> -> tensor<?x?x4x32xf16>
  return %o : tensor<?x?x4x32xf16>
}

// -----

// Causal d64 on sm_90 (auto: 64 x 128 on 4 warps, three stages): 64 + 32
// accumulator registers in one slab of 128 keys (fitsWideCausalKeyTiles),
// 72 KiB of shared memory; three CTAs.
// CHECK-LABEL: gpu.func @causal_d64_sm90
// CHECK-SAME: attn.num_stages = 3
// CHECK-SAME: attn.shared_memory_bytes = 73728
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 128, 4>
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d64_sm90(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// The same tiling on sm_80: two CTAs in an A100's 164 KiB.
// CHECK-LABEL: gpu.func @causal_d64_64x128_sm80
// CHECK-SAME: nvvm.minctasm = 2 : i32
func.func @causal_d64_64x128_sm80(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_80)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// head_dim_v 64 with head_dim 32, two stages (no ring): three CTAs.
// CHECK-LABEL: gpu.func @causal_d32_dv64_64x128
// CHECK-SAME: attn.num_stages = 2
// CHECK-SAME: nvvm.minctasm = 3 : i32
func.func @causal_d32_dv64_64x128(%q: tensor<?x?x8x32xbf16>, %k: tensor<?x?x8x32xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(32, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x32xbf16>, tensor<?x?x8x32xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// One slab of 128 keys per tile spilled at 168 registers without a causal
// mask (4 bytes),
// CHECK-LABEL: gpu.func @noncausal_d64_64x128
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @noncausal_d64_64x128(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// with one stage (44-84 bytes),
// CHECK-LABEL: gpu.func @causal_d64_64x128_one_stage
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d64_64x128_one_stage(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 1> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// with ALiBi (128-416 bytes),
// CHECK-LABEL: gpu.func @causal_d64_64x128_alibi
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d64_64x128_alibi(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) alibi
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// with softcap (168 registers, at the edge; 6% slower at 1k on an H200),
// CHECK-LABEL: gpu.func @causal_d64_64x128_softcap
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d64_64x128_softcap(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(30.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// with a window (168 registers; 2% slower than 64 x 64 on an H200),
// CHECK-LABEL: gpu.func @causal_d64_64x128_window
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d64_64x128_window(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(256, 0) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// nor above head dim 64.
// CHECK-LABEL: gpu.func @causal_d80_64x128
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @causal_d80_64x128(%q: tensor<?x?x8x80xbf16>, %k: tensor<?x?x8x80xbf16>, %v: tensor<?x?x8x80xbf16>) -> tensor<?x?x8x80xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16>, tensor<?x?x8x80xbf16> -> tensor<?x?x8x80xbf16>
  return %o : tensor<?x?x8x80xbf16>
}

// -----

// Nor for variable-length batches (not tried),
// CHECK-LABEL: gpu.func @varlen_causal_d64_64x128
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @varlen_causal_d64_64x128(%q: tensor<1x?x8x64xbf16>, %k: tensor<1x?x8x64xbf16>, %v: tensor<1x?x8x64xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<1x?x8x64xbf16>, tensor<1x?x8x64xbf16>, tensor<1x?x8x64xbf16> -> tensor<1x?x8x64xbf16>
  return %o : tensor<1x?x8x64xbf16>
}

// -----

// or KV caches (4-68 bytes).
// CHECK-LABEL: gpu.func @kv_cache_causal_d64_64x128
// CHECK-SAME: nvvm.minctasm = 1 : i32
func.func @kv_cache_causal_d64_64x128(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x2x64xf16>, %v: tensor<?x?x2x64xf16>, %l: tensor<?xi32>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 128, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}
