// RUN: attn-opt %s --attn-to-gpu --canonicalize --cse | FileCheck %s

// A two-slab kernel (d96 at 128 x 48 on sm_90, causal) copies the K and V
// tiles of its masked loop as its unmasked loop does where all of a tile's
// rows exist ((j + 1) * 48 <= seqlen_k: every tile of the causal diagonal
// but seqlen_k's last), and checked (a loop over the tile's chunks, each
// with its element count) only otherwise.
// CHECK-LABEL: gpu.func @causal_d96_sm90
// CHECK: %[[SK:.+]] = memref.dim %arg1, %c1
// The unmasked loop, then the masked one.
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 iter_args
// CHECK: scf.for %[[TILE:.+]] = %{{.+}} to %{{.+}} step %c1 iter_args
// CHECK: %[[FIRST:.+]] = arith.muli %[[TILE]], %c48 : index
// K of the loop's first tile: six unrolled copies per thread (576 chunks
// of 16 bytes on 96 threads, whole rows each), or the checked loop.
// CHECK: %[[END:.+]] = arith.addi %[[FIRST]], %c48 : index
// CHECK-NEXT: %[[WHOLE:.+]] = arith.cmpi sle, %[[END]], %[[SK]] : index
// CHECK-NEXT: scf.if %[[WHOLE]] {
// CHECK-COUNT-6: nvgpu.device_async_copy %{{.+}}, 8 {bypassL1}
// CHECK: } else {
// CHECK-NEXT: scf.for %{{.+}} = %thread_id_x to %c576 step %c128 {
// CHECK: nvgpu.device_async_copy %{{.+}}, 8, %{{.+}} {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// V of tile j: a loop of six unchecked copies, or the checked loop.
// CHECK: %[[VWHOLE:.+]] = arith.cmpi sle, %{{.+}}, %[[SK]] : index
// CHECK-NEXT: scf.if %[[VWHOLE]] {
// CHECK: scf.for %{{.+}} = %c0 to %c6 step %c1 {
// CHECK: nvgpu.device_async_copy %{{.+}}, 8 {bypassL1}
// CHECK: } else {
// CHECK-NEXT: scf.for %{{.+}} = %thread_id_x to %c576 step %c128 {
// CHECK: nvgpu.device_async_copy %{{.+}}, 8, %{{.+}} {bypassL1}
// CHECK: gpu.return
func.func @causal_d96_sm90(%q: tensor<?x?x4x96xbf16>, %k: tensor<?x?x2x96xbf16>, %v: tensor<?x?x2x96xbf16>) -> tensor<?x?x4x96xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.102) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x96xbf16>, tensor<?x?x2x96xbf16>, tensor<?x?x2x96xbf16> -> tensor<?x?x4x96xbf16>
  return %o : tensor<?x?x4x96xbf16>
}
