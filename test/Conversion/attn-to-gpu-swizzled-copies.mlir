// RUN: attn-opt %s --attn-to-gpu --canonicalize --cse --loop-invariant-code-motion | FileCheck %s

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
