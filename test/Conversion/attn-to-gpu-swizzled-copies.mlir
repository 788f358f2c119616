// RUN: attn-opt %s -split-input-file --attn-to-gpu --canonicalize --cse --loop-invariant-code-motion | FileCheck %s

// A swizzled tile's XOR depends on its row modulo 8 only, so the cp.async
// copies' destination rows drop their addends that are multiples of 8
// before it is computed (SharedTileLayout.cpp): in the loop that copies V
// (head dim 96 on sm_90 at 128 x 48, rows r0 + 8 i), the swizzled column
// is loop-invariant and hoisted, and the body keeps only the row's
// arithmetic and the copy.
// CHECK-LABEL: gpu.func @two_slabs_bn48_sm90
// CHECK: %[[VROWS:.+]] = memref.subview %arg2
// CHECK: scf.for %[[I:.+]] = %c0 to %c6 step %c1 {
// CHECK-NEXT: arith.muli %[[I]], %c8
// CHECK-NEXT: arith.addi
// CHECK-NEXT: arith.addi
// CHECK-NEXT: nvgpu.device_async_copy %[[VROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
// CHECK-NEXT: }
func.func @two_slabs_bn48_sm90(%q: tensor<?x?x4x96xbf16>, %k: tensor<?x?x2x96xbf16>, %v: tensor<?x?x2x96xbf16>) -> tensor<?x?x4x96xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(96, 96) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.102) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x96xbf16>, tensor<?x?x2x96xbf16>, tensor<?x?x2x96xbf16> -> tensor<?x?x4x96xbf16>
  return %o : tensor<?x?x4x96xbf16>
}

// -----

// Two slabs per warp at head dim 128 (FlashAttention-2's 128 x 64): K and V
// swizzled, Q (and O) with rows padded by 16 bytes (swizzledKvTiles: Q's
// XOR address registers spilled there). Shared memory: Q 128 x 136, K and V
// 64 x 128 each (all padded: 69632 bytes).
// CHECK-LABEL: gpu.func @two_slabs_d128_kv_swizzled
// CHECK-SAME: attn.shared_memory_bytes = 67584
// CHECK: memref.view %{{.+}}[%c0{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x136xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view %{{.+}} : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x128xbf16, #gpu.address_space<workgroup>>
// CHECK: arith.xori
func.func @two_slabs_d128_kv_swizzled(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// On sm_80 the same tiling keeps K and V padded as well (swizzled, ptxas
// spilled 8 bytes with one q head): 69632 bytes.
// CHECK-LABEL: gpu.func @two_slabs_d128_sm80_padded
// CHECK-SAME: attn.shared_memory_bytes = 69632
// CHECK: memref.view %{{.+}}[%c0{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<128x136xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.view %{{.+}} : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x136xbf16, #gpu.address_space<workgroup>>
func.func @two_slabs_d128_sm80_padded(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> tensor<?x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>
  return %o : tensor<?x?x8x128xbf16>
}

// -----

// Varlen two-slab kernels keep K and V padded too (swizzled, ptxas spilled
// 64 bytes on sm_80), as do two slabs of 128 keys (d64's 128 x 128: 8
// bytes on sm_90 for f16 with 8 heads).
// CHECK-LABEL: gpu.func @two_slabs_d128_varlen_padded
// CHECK-SAME: attn.shared_memory_bytes = 69632
// CHECK: memref<64x136xbf16, #gpu.address_space<workgroup>>
func.func @two_slabs_d128_varlen_padded(%q: tensor<1x?x8x128xbf16>, %k: tensor<1x?x8x128xbf16>, %v: tensor<1x?x8x128xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x128xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<1x?x8x128xbf16>, tensor<1x?x8x128xbf16>, tensor<1x?x8x128xbf16> -> tensor<1x?x8x128xbf16>
  return %o : tensor<1x?x8x128xbf16>
}

// -----

// CHECK-LABEL: gpu.func @two_slabs_d64_bn128_padded
// CHECK-SAME: attn.shared_memory_bytes = 55296
// CHECK: memref<128x72xf16, #gpu.address_space<workgroup>>
func.func @two_slabs_d64_bn128_padded(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// So do KV-cache kernels of two slabs (a paged cache with appends, RoPE and
// ALiBi spilled 336 bytes on sm_80 with K and V swizzled).
// CHECK-LABEL: gpu.func @two_slabs_kv_cache_padded
// CHECK-SAME: attn.shared_memory_bytes = 69632
// CHECK: memref<64x136xf16, #gpu.address_space<workgroup>>
func.func @two_slabs_kv_cache_padded(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x2x128xf16>, %v: tensor<?x?x2x128xf16>, %l: tensor<?xi32>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 2) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x8x128xf16>, tensor<?x?x2x128xf16>, tensor<?x?x2x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}
