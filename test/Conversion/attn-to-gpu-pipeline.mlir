// RUN: attn-opt %s -split-input-file --attn-to-gpu --canonicalize --cse | FileCheck %s

// num_stages 4: a ring of 3 K and 3 V buffers, tile t in buffer t % 3,
// two tiles ahead of the one computed. Shared memory: Q 64 x 64 x 2 B =
// 8192, then K's buffers (3 x 8192) at 8192, V's at 32768 -> 57344 bytes.
// CHECK-LABEL: gpu.func @ring
// CHECK-SAME: attn.shared_memory_bytes = 57344 : i64
// CHECK: %[[SMEM:.+]] = gpu.dynamic_shared_memory
// The prologue: Q by cp.async, a group; then the head copies of the first
// KV loop [LB, UB), which Q's fragments need not wait for: tiles LB and
// LB + 1 (those in the loop), K and V, a group each; wait for Q's group
// only (all but the newest 2), one barrier, Q's fragments.
// CHECK: nvgpu.device_async_copy %{{.+}}, %[[QS:.+]][%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if
// CHECK: %[[SLOT0:.+]] = arith.remui %[[LB:[^ ]+]], %c3
// CHECK: %[[SLOT0BYTES:.+]] = arith.muli %[[SLOT0]], %c8192
// CHECK: %[[K0SHIFT:.+]] = arith.addi %[[SLOT0BYTES]], %c8192
// CHECK: %[[K0:.+]] = memref.view %[[SMEM]][%[[K0SHIFT]]][]
// CHECK-COUNT-4: nvgpu.device_async_copy %{{.+}}, %[[K0]]
// CHECK: %[[V0SHIFT:.+]] = arith.addi %[[SLOT0BYTES]], %c32768
// CHECK: %[[V0:.+]] = memref.view %[[SMEM]][%[[V0SHIFT]]][]
// CHECK-COUNT-4: nvgpu.device_async_copy %{{.+}}, %[[V0]]
// CHECK: nvvm.cp.async.commit.group
// CHECK: %[[LB1:.+]] = arith.addi %[[LB]], %c1
// CHECK: arith.cmpi slt, %[[LB1]], %[[UB:[^ ]+]] : index
// CHECK: arith.remui %[[LB1]], %c3
// CHECK-COUNT-8: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 2
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.ldmatrix %[[QS]]
// In the loop's first tile: wait for all but the newest group (tile j has
// landed), one barrier; this first loop copies nothing there.
// CHECK: scf.for %[[J:.+]] = %[[LB]] to %[[UB]] step %c1 iter_args
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[J]], %[[LB]]
// CHECK: scf.if %[[FIRST]]
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// Every tile: tile j + 2 into the buffer of tile j - 1 (every warp is done
// with it: the barrier before), one group, in flight during the compute.
// CHECK: %[[J2:.+]] = arith.addi %[[J]], %c2
// CHECK: %[[IN2:.+]] = arith.cmpi slt, %[[J2]], %[[UB]]
// CHECK: scf.if %[[IN2]]
// CHECK: arith.remui %[[J2]], %c3
// CHECK-COUNT-8: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// Tile j's buffers: S from K's, O += P V from V's, no barrier between.
// CHECK: %[[SLOT:.+]] = arith.remui %[[J]], %c3
// CHECK: %[[SLOTBYTES:.+]] = arith.muli %[[SLOT]], %c8192
// CHECK: %[[KSHIFT:.+]] = arith.addi %[[SLOTBYTES]], %c8192
// CHECK: %[[KS:.+]] = memref.view %[[SMEM]][%[[KSHIFT]]][]
// CHECK: %[[VSHIFT:.+]] = arith.addi %[[SLOTBYTES]], %c32768
// CHECK: %[[VS:.+]] = memref.view %[[SMEM]][%[[VSHIFT]]][]
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-16: nvgpu.ldmatrix %[[KS]]
// CHECK-NOT: gpu.barrier
// CHECK-NOT: nvvm.cp.async.wait.group
// CHECK-COUNT-16: nvgpu.ldmatrix %[[VS]]
// Then wait for all but the newest group (tile j + 1 has landed) and one
// barrier (visible to all; every warp is done with tile j).
// CHECK: nvgpu.mma.sync
// CHECK: nvgpu.mma.sync
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield
func.func @ring(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 4> target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}

// -----

// num_stages 3: two buffers each, one tile ahead; every wait retires all
// groups. Q 8192 + 2 x (8192 + 8192) = 40960 bytes.
// CHECK-LABEL: gpu.func @double_buffered
// CHECK-SAME: attn.shared_memory_bytes = 40960 : i64
// CHECK: scf.for %[[J:.+]] = %[[LB:[^ ]+]] to %[[UB:[^ ]+]] step %c1 iter_args
// CHECK: scf.if
// CHECK: arith.remui %[[J]], %c2
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: %[[J1:.+]] = arith.addi %[[J]], %c1
// CHECK: arith.remui %[[J1]], %c2
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: scf.yield
func.func @double_buffered(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 3> target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}
