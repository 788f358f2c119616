// RUN: attn-opt %s -split-input-file --attn-to-gpu | FileCheck %s

// Two 16-row slabs per warp (block_m 128 on 4 warps) share each K and V
// fragment, but hold two slabs of S and O accumulators. Where they pass the
// budget (accumulatorRegisterBudget in GpuTiling.cpp, from ptxas -v over
// make_ptxas_grid.py), num_warps is doubled so that each warp has one slab.
// Each budget is checked at its edge: the last tiling that keeps 4 warps and
// the first that takes 8.

// Plain scores, head_dim == head_dim_v, powers of two: 192. FlashAttention-2's
// 128 x 64 for d128 (2 slabs x 4 x (8 + 16) = 192) keeps 4 warps.
// CHECK-LABEL: gpu.func @plain_d128_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @plain_d128_128x64(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// Sink tokens: 112. 128 x 48 at d64 (2 x 4 x (6 + 8) = 112) keeps 4 warps;
// CHECK-LABEL: gpu.func @sinks_d64_128x48
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 48, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @sinks_d64_128x48(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(1019, 0) sinks(4) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// 128 x 64 (128) goes to 8 warps, one slab each.
// CHECK-LABEL: gpu.func @sinks_d64_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @sinks_d64_128x64(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(1019, 0) sinks(4) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// head_dim_v != head_dim: 144. d64 with dv128 at 128 x 64 (2 x 4 x (8 + 16) =
// 192) spilled 8-32 bytes on 4 warps (sm_90); 8 warps take it.
// CHECK-LABEL: gpu.func @dv128_d64_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @dv128_d64_128x64(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// d128 with dv64 at 128 x 64: 2 x 4 x (8 + 8) = 128, within 144, keeps 4 warps.
// CHECK-LABEL: gpu.func @dv64_d128_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @dv64_d128_128x64(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// block_n not a power of two: 144. d128 at 128 x 48 (176) goes to 8 warps;
// CHECK-LABEL: gpu.func @d128_128x48
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 48, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @d128_128x48(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// d96 at 128 x 48 (144) keeps 4.
// CHECK-LABEL: gpu.func @d96_128x48
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 48, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @d96_128x48(%q: tensor<?x?x8x96xf16>, %k: tensor<?x?x8x96xf16>, %v: tensor<?x?x8x96xf16>) -> tensor<?x?x8x96xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(96, 96) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x96xf16>, tensor<?x?x8x96xf16>, tensor<?x?x8x96xf16> -> tensor<?x?x8x96xf16>
  return %o : tensor<?x?x8x96xf16>
}

// -----

// Varlen with 128 keys per tile: 176. d64 at 128 x 128 (192) goes to 8 warps;
// CHECK-LABEL: gpu.func @varlen_d64_128x128
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @varlen_d64_128x128(%q: tensor<1x?x8x64xf16>, %k: tensor<1x?x8x64xf16>, %v: tensor<1x?x8x64xf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x64xf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<1x?x8x64xf16>, tensor<1x?x8x64xf16>, tensor<1x?x8x64xf16> -> tensor<1x?x8x64xf16>
  return %o : tensor<1x?x8x64xf16>
}

// -----

// varlen at 64 keys keeps 192: d128 at 128 x 64 stays on 4 warps.
// CHECK-LABEL: gpu.func @varlen_d128_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @varlen_d128_128x64(%q: tensor<1x?x8x128xf16>, %k: tensor<1x?x8x128xf16>, %v: tensor<1x?x8x128xf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x128xf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<1x?x8x128xf16>, tensor<1x?x8x128xf16>, tensor<1x?x8x128xf16> -> tensor<1x?x8x128xf16>
  return %o : tensor<1x?x8x128xf16>
}

// -----

// KV caches at 128 keys per tile: 176, as for varlen.
// CHECK-LABEL: gpu.func @cache_d64_128x128
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @cache_d64_128x128(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>, %l: tensor<?xi32>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// Rings of K/V buffers (three stages or more): 128. d64 at 128 x 64 (128)
// keeps 4 warps;
// CHECK-LABEL: gpu.func @ring_d64_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @ring_d64_128x64(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// d128 at 128 x 64 (192, FlashAttention-2's tile) with four stages goes to 8
// warps (ptxas spilled 200-256 bytes at 4).
// CHECK-LABEL: gpu.func @ring_d128_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @ring_d128_128x64(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 4> target(sm_90)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// Rings with a window: 112. d64 at 128 x 64 (128) goes to 8 warps;
// CHECK-LABEL: gpu.func @window_ring_d64_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @window_ring_d64_128x64(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(256, 0) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// d64 at 128 x 48 (112) keeps 4.
// CHECK-LABEL: gpu.func @window_ring_d64_128x48
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 48, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
func.func @window_ring_d64_128x48(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(256, 0) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 3> target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// Rings with padded columns: 112. d59 (padded to 64) at 128 x 64 (128) goes
// to 8 warps (ptxas spilled 8-12 bytes on sm_80 at 4).
// CHECK-LABEL: gpu.func @padded_ring_d59_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @padded_ring_d59_128x64(%q: tensor<?x?x8x59xf16>, %k: tensor<?x?x8x59xf16>, %v: tensor<?x?x8x59xf16>) -> tensor<?x?x8x59xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(59, 59) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.13) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 3> target(sm_80)
      : tensor<?x?x8x59xf16>, tensor<?x?x8x59xf16>, tensor<?x?x8x59xf16> -> tensor<?x?x8x59xf16>
  return %o : tensor<?x?x8x59xf16>
}

// -----

// KV caches with a window: 128. 128 x 128 at d32 (2 x 4 x (16 + 4) = 160)
// takes 8 warps, 128 x 64 at d64 (2 x 4 x (8 + 8) = 128) keeps 4.
// CHECK-LABEL: gpu.func @cache_window_d32_128x128
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 8>
func.func @cache_window_d32_128x128(%q: tensor<?x?x4x32xbf16>, %k: tensor<?x?x2x32xbf16>, %v: tensor<?x?x2x32xbf16>, %l: tensor<?xi32>) -> tensor<?x?x4x32xbf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(4, 2) head_dims(32, 32) mask(causal, bottom_right) window(33, -1) sinks(0) scale(0.17) softcap(0.0)
      tiling <block_m = 128, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x32xbf16>, tensor<?x?x2x32xbf16>, tensor<?x?x2x32xbf16> -> tensor<?x?x4x32xbf16>
  return %o : tensor<?x?x4x32xbf16>
}

// -----

// CHECK-LABEL: gpu.func @cache_window_d64_128x64
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
func.func @cache_window_d64_128x64(%q: tensor<?x?x4x64xbf16>, %k: tensor<?x?x2x64xbf16>, %v: tensor<?x?x2x64xbf16>, %l: tensor<?xi32>) -> tensor<?x?x4x64xbf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(4, 2) head_dims(64, 64) mask(causal, bottom_right) window(33, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x64xbf16>, tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16> -> tensor<?x?x4x64xbf16>
  return %o : tensor<?x?x4x64xbf16>
}

// -----

// Above head dim 128 one slab per warp: d192 with head_dim_v 64 at 128 x 32
// (2 x 4 x (4 + 8) = 96, within every budget) takes 8 warps.
// CHECK-LABEL: gpu.func @d192_128x32
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 32, 8>
func.func @d192_128x32(%q: tensor<?x?x4x192xbf16>, %k: tensor<?x?x4x192xbf16>, %v: tensor<?x?x4x64xbf16>) -> tensor<?x?x4x64xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(192, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.072) softcap(0.0)
      tiling <block_m = 128, block_n = 32, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x192xbf16>, tensor<?x?x4x192xbf16>, tensor<?x?x4x64xbf16> -> tensor<?x?x4x64xbf16>
  return %o : tensor<?x?x4x64xbf16>
}
