// RUN: attn-opt %s -split-input-file --attn-to-gpu --canonicalize --cse | FileCheck %s

// Causal f16 GQA, d = 64 at 64 x 64 on 4 warps: BM = 64 rows (4 warps x
// one 16-row slab), BN = 64 keys, two stages (`tiling: "auto"` picks three
// here: attn-to-gpu-auto-tiling.mlir). Shared memory, swizzled (one slab per
// warp), unpadded: Q 64 x 64 x 2 B = 8192, K the same, V the same -> 24576
// bytes.
// CHECK-LABEL: gpu.module @attn_kernels
// CHECK: gpu.func @causal(%[[Q:[^:]+]]: memref<?x?x4x64xf16>, %[[K:[^:]+]]: memref<?x?x2x64xf16>, %[[V:[^:]+]]: memref<?x?x2x64xf16>, %[[O:[^:]+]]: memref<?x?x4x64xf16>, %{{.+}}: memref<?x4x?xf32>, %{{.+}}: memref<4xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?x?xi32>, %{{.+}}: memref<?x?x?x4x64xf32>, %{{.+}}: memref<?x?x4x?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xi32>) kernel
// CHECK-SAME: attn.shared_memory_bytes = 24576 : i64
// CHECK-SAME: attn.tile_sizes = array<i64: 64, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// Grid: (Q tile, q head, batch); kv head = q head / 2.
// CHECK-DAG: %[[TILE:.+]] = gpu.block_id x
// CHECK-DAG: %[[HEAD:.+]] = gpu.block_id y
// CHECK-DAG: %[[BATCH:.+]] = gpu.block_id z
// CHECK-DAG: %[[KVHEAD:.+]] = arith.divui %[[HEAD]], %c2
// Causal: the row tiles in reverse order, the heaviest first (tile =
// gridDim.x - 1 - x, as ~x + gridDim.x); its first row = tile * 64.
// CHECK-DAG: %[[NTILES:.+]] = gpu.grid_dim x
// CHECK-DAG: %[[NOTX:.+]] = arith.xori %[[TILE]], %c-1 : index
// CHECK-DAG: %[[REVERSED:.+]] = arith.addi %[[NOTX]], %[[NTILES]] : index
// CHECK-DAG: arith.muli %[[REVERSED]], %c64 : index
// CHECK: %[[SMEM:.+]] = gpu.dynamic_shared_memory
// CHECK: %[[QS:.+]] = memref.view %[[SMEM]][%c0][] : {{.+}} to memref<64x64xf16, #gpu.address_space<workgroup>>
// CHECK: %[[KS:.+]] = memref.view %[[SMEM]][%c8192][]
// CHECK: %[[VS:.+]] = memref.view %[[SMEM]][%c16384][]
// Q tile to shared by cp.async (16-byte chunks, a loop over the tile),
// one group; then, FlashAttention-2's prologue, K of the first KV loop's
// first tile (where that loop runs; checked: its rows may pass seqlen_k),
// its own group, in flight with Q's; wait for Q's group only, one barrier,
// then Q's A fragments (ldmatrix.x4, 4 per slab for d = 64) into
// registers. Swizzled: row r's 16-byte chunk k sits at chunk k ^ (r % 8);
// lane l reads row r = 16 warp + l % 16 at column 16 kb + 8 (l / 16), i.e.
// (16 kb ^ (8 (r % 8) & 48)) + (8 (l / 16) ^ (8 (r % 8) & 15)): one XOR
// with a constant per k-step.
// CHECK: scf.for
// CHECK: nvgpu.device_async_copy %[[Q]][%[[BATCH]], %{{.+}}, %[[HEAD]], %{{.+}}], %[[QS]][%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.if
// CHECK-COUNT-4: nvgpu.device_async_copy %[[K]]
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 1
// CHECK-NEXT: gpu.barrier
// CHECK: %[[QROW:.+]] = arith.addi
// CHECK: %[[RMOD8:.+]] = arith.remui %[[QROW]], %c8
// CHECK: %[[XOR:.+]] = arith.muli %[[RMOD8]], %c8
// CHECK: %[[XORHIGH:.+]] = arith.andi %[[XOR]], %c48
// CHECK: %[[XORLOW:.+]] = arith.andi %[[XOR]], %c15
// CHECK: %[[LOW:.+]] = arith.xori %{{.+}}, %[[XORLOW]]
// CHECK: %[[COL0:.+]] = arith.addi %[[XORHIGH]], %[[LOW]]
// CHECK: nvgpu.ldmatrix %[[QS]][%[[QROW]], %[[COL0]]]
// CHECK: %[[HIGH1:.+]] = arith.xori %[[XORHIGH]], %c16
// CHECK: %[[COL1:.+]] = arith.addi %[[HIGH1]], %[[LOW]]
// CHECK: nvgpu.ldmatrix %[[QS]][%[[QROW]], %[[COL1]]]
// CHECK-COUNT-2: nvgpu.ldmatrix %[[QS]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = false}
// Full KV tiles (num_stages 2), FlashAttention-2's two barriers per tile:
// K(j) came with the previous tile (or, in this first loop, before it);
// wait for it, barrier B1 (K(j) visible, every warp done with V(j - 1));
// then V(j), a second group; S = Q K^T on mma.sync (8 key tiles x 4
// head-dim blocks), no mask compare. A tile is 64 rows x 8 chunks over
// 128 threads: 4 copies per thread, unrolled (no loop). One-slab kernels
// keep the checked copy here too, though these tiles' rows all exist
// (unchecked, window d64 ran 12-22% slower on an H100): a chunk's source
// row is not selected (past seqlen_k it would copy 0 bytes from an
// address never read), only the element count is, in i32.
// CHECK: scf.for %[[J:.+]] = %{{[^ ]+}} to %[[UB:[^ ]+]] step
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: scf.for
// CHECK-NOT: arith.select %{{[0-9]+}}, %{{[0-9]+}}, %c0 : index
// CHECK: arith.select %{{.+}}, %c8_i32, %c0_i32 : i32
// CHECK-COUNT-4: nvgpu.device_async_copy %[[V]][%[[BATCH]], %{{.+}}, %[[KVHEAD]], %{{.+}}], %[[VS]][%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: gpu.barrier
// K's B fragments of two key tiles per ldmatrix.x4, split in halves, both
// multiplied by the same Q fragment (k16 step by k16 step).
// CHECK: %[[KPAIR:.+]] = nvgpu.ldmatrix %[[KS]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = false} : {{.+}} -> vector<4x2xf16>
// CHECK: %[[KLO:.+]] = vector.extract_strided_slice %[[KPAIR]] {offsets = [0, 0], sizes = [2, 2], strides = [1, 1]}
// CHECK: nvgpu.mma.sync(%[[QFRAG:.+]], %[[KLO]], %{{.+}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: %[[KHI:.+]] = vector.extract_strided_slice %[[KPAIR]] {offsets = [2, 0], sizes = [2, 2], strides = [1, 1]}
// CHECK: nvgpu.mma.sync(%[[QFRAG]], %[[KHI]], %{{.+}})
// CHECK-NOT: arith.cmpi sge, %{{.+}}, %c{{[0-9]+}}_i32
// Right after S (FlashAttention-2's order; one-slab kernels): wait for
// V(j) (overlapped with S), barrier B2 (V(j) visible, every warp has read
// K(j)); K(j + 1) starts loading if the loop has a next tile, as its own
// group, in flight during the softmax and O += P V.
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: %[[NEXT:.+]] = arith.addi %[[J]], %c1
// CHECK: %[[HASNEXT:.+]] = arith.cmpi slt, %[[NEXT]], %[[UB]]
// CHECK: scf.if %[[HASNEXT]]
// CHECK-NOT: scf.for
// CHECK-NOT: arith.select %{{[0-9]+}}, %{{[0-9]+}}, %c0 : index
// CHECK: arith.select %{{.+}}, %c8_i32, %c0_i32 : i32
// CHECK-COUNT-4: nvgpu.device_async_copy %[[K]][%[[BATCH]], %{{.+}}, %[[KVHEAD]], %{{.+}}], %[[KS]][%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK-NOT: gpu.barrier
// Row max and sum over the 4 lanes of a quad: xor shuffles by 1 and 2.
// CHECK: gpu.shuffle xor %{{.+}}, %c1_i32, %c32_i32
// CHECK: gpu.shuffle xor %{{.+}}, %c2_i32, %c32_i32
// CHECK-NOT: arith.cmpi sge, %{{.+}}, %c{{[0-9]+}}_i32
// The softmax reference of the warp's rows moves (and O is rescaled) only
// when some row grew by more than 8 (log2 units): a vote over the warp.
// CHECK: %[[GROWS:.+]] = arith.cmpf ogt, %{{.+}}, %cst{{.*}} : f32
// CHECK: %[[MOVES:.+]] = nvvm.vote.sync  any %c-1_i32, %{{.+}} -> i1
// CHECK: arith.select %[[MOVES]]
// P = exp2(s * c - m') with the row max taken on the raw dot products
// (scaled once per row): one FMA and an exp2 per score.
// CHECK: math.fma
// CHECK: math.exp2
// P is rounded to f16 as the A fragments of the second MMA.
// CHECK: %[[PROBS:.+]] = vector.from_elements {{.+}} : vector<4x2xf32>
// CHECK: arith.truncf %[[PROBS]] : vector<4x2xf32> to vector<4x2xf16>
// CHECK: scf.if %[[MOVES]] -> (vector<2x2xf32>, {{.+}}) {
// CHECK-COUNT-8: arith.mulf %{{.+}}, %{{.+}} : vector<2x2xf32>
// CHECK: } else {
// O += P V: B fragments of V from ldmatrix.x4.trans (two n8 columns per
// load).
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix %[[VS]][%{{.+}}, %{{.+}}] {numTiles = 4 : i32, transpose = true}
// CHECK: nvgpu.mma.sync
// CHECK-NOT: arith.cmpi sge, %{{.+}}, %c{{[0-9]+}}_i32
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
// Boundary tiles, whose last rows may lie past seqlen_k, copy K and V
// checked: a chunk's source row is not selected (past seqlen_k it copies 0
// bytes, zero-filled, from an address never read); only the element count
// is, in i32. They evaluate key < seqlen_k and j <= i + off per element
// as one bound per row, min(i + off, seqlen_k - 1) relative to the thread's
// first key (i32), against each score's constant key offset c = 8 nt + j:
// one compare and one select per score. Each absolute bound is clamped to
// [-1, 2^31 - 1] (no key compares differently) while still an index, the
// same for every tile, so that the subtraction of the first key is in i32.
// CHECK: scf.for
// CHECK-NOT: arith.select %{{[0-9]+}}, %{{[0-9]+}}, %c0 : index
// CHECK: arith.select %{{.+}}, %c8_i32, %c0_i32 : i32
// CHECK-COUNT-4: nvgpu.device_async_copy %[[K]][%[[BATCH]], %{{.+}}, %[[KVHEAD]], %{{.+}}], %[[KS]][%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK: arith.minsi %{{.+}}, %c2147483647 : index
// CHECK-NEXT: arith.maxsi %{{.+}}, %c-1 : index
// CHECK-NEXT: %[[LASTKEYABS:.+]] = arith.index_cast %{{.+}} : index to i32
// CHECK-NEXT: %[[LASTKEY:.+]] = arith.subi %[[LASTKEYABS]], %[[BASE:.+]] : i32
// CHECK: arith.minsi %{{.+}}, %c2147483647 : index
// CHECK-NEXT: arith.maxsi %{{.+}}, %c-1 : index
// CHECK-NEXT: %[[ROWABS:.+]] = arith.index_cast %{{.+}} : index to i32
// CHECK-NEXT: %[[ROWBOUND:.+]] = arith.subi %[[ROWABS]], %[[BASE]] : i32
// CHECK-NEXT: %[[BOUND:.+]] = arith.minsi %[[ROWBOUND]], %[[LASTKEY]] : i32
// CHECK-NEXT: %[[VISIBLE0:.+]] = arith.cmpi sge, %[[BOUND]], %c0_i32 : i32
// CHECK-NEXT: arith.select %[[VISIBLE0]], %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: vector.extract
// CHECK-NEXT: %[[VISIBLE1:.+]] = arith.cmpi sge, %[[BOUND]], %c1_i32 : i32
// CHECK-NEXT: arith.select %[[VISIBLE1]], %{{.+}}, %{{.+}} : f32
// CHECK: scf.yield
// O = acc / l, staged through a shared O tile (reusing the Q tile's
// memory; CSE makes it the same view): 2-element stores of each thread's
// fragments, a barrier, then coalesced 16-byte stores of the rows that exist.
// CHECK: gpu.barrier
// CHECK: arith.divf
// CHECK: vector.store %{{.+}}, %[[QS]][%{{.+}}, %{{.+}}] {alignment = 4 : i64} : memref<64x64xf16, #gpu.address_space<workgroup>>, vector<2xf16>
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK: scf.if
// CHECK: %[[CHUNK:.+]] = vector.load %[[QS]][%{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<64x64xf16, #gpu.address_space<workgroup>>, vector<8xf16>
// CHECK: vector.store %[[CHUNK]], %[[O]][%[[BATCH]], %{{.+}}, %[[HEAD]], %{{.+}}] {alignment = 16 : i64} : memref<?x?x4x64xf16>, vector<8xf16>
func.func @causal(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x2x64xf16>, %v: tensor<?x?x2x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}

// -----

// bf16 goes through nvvm.mma.sync (nvgpu does not lower bf16 MMAs): the
// fragments are packed two elements per 32-bit register.
// CHECK-LABEL: gpu.func @bf16_lse
// CHECK: nvvm.mma.sync A[{{.+}}] B[{{.+}}] C[{{.+}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// LSE = (m + log2 l) ln 2, written by the first lane of each quad.
// CHECK: math.log2
// CHECK: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x8x?xf32>
func.func @bf16_lse(%q: tensor<?x?x8x128xbf16>, %k: tensor<?x?x8x128xbf16>, %v: tensor<?x?x8x128xbf16>) -> (tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0) target(sm_80)
      : tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16> -> tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>
  return %o, %lse : tensor<?x?x8x128xbf16>, tensor<?x8x?xf32>
}

// -----

// block_m 128 with 4 warps gives each warp two slabs (FlashAttention-2's
// tile for d = 128: 2 x 4 x (8 + 16) = 192 accumulator registers). S for
// both slabs comes from the same K fragments: each ldmatrix.x4 of K feeds
// four MMAs (two key tiles x two slabs), each of V four too (two n8
// columns x two slabs). Q is re-read from shared memory per k16 step.
// At the register ceiling, bounds-checked K/V copies stay loops and O is
// rescaled every tile (no vote, no branch). In the loop over unmasked
// tiles, whose rows all exist, K is copied unrolled and unchecked: 64 rows
// x 16 chunks over 128 threads, 8 cp.async per thread with no element
// count (V, and K in the masked tiles, keep the loop).
// CHECK-LABEL: gpu.func @two_slabs
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 4>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// K and V rows of the CTA's sequence and kv head as [rows, 128] views,
// their base computed once: fewer 64-bit values live through the KV loop
// (one-slab kernels keep the indices, above).
// CHECK: %[[KROWS:.+]] = memref.subview %{{.+}}[%{{.+}}, 0, %{{.+}}, 0] [1, %{{.+}}, 1, 128] [1, 1, 1, 1] : memref<?x?x8x128xf16> to memref<?x128xf16, strided<[1024, 1], offset: ?>>
// CHECK: %[[VROWS:.+]] = memref.subview
// Four barriers per tile here (two spilled on sm_80; twoBarriersPerTile).
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK-NOT: scf.for
// CHECK-COUNT-8: nvgpu.device_async_copy %[[KROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-NEXT: arith.muli %{{.+}}, %c64 : index
// CHECK-NEXT: scf.for
// CHECK: nvgpu.device_async_copy %[[VROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
// CHECK: %[[QS0:.+]] = nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: %[[QS1:.+]] = nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: %[[KP:.+]] = nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK: %[[KLO:.+]] = vector.extract_strided_slice %[[KP]] {offsets = [0, 0]
// CHECK: nvgpu.mma.sync(%[[QS0]], %[[KLO]],
// CHECK: %[[KHI:.+]] = vector.extract_strided_slice %[[KP]] {offsets = [2, 0]
// CHECK: nvgpu.mma.sync(%[[QS0]], %[[KHI]],
// CHECK: nvgpu.mma.sync(%[[QS1]], %[[KLO]],
// CHECK: nvgpu.mma.sync(%[[QS1]], %[[KHI]],
// CHECK: %[[VP:.+]] = nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK: %[[VLO:.+]] = vector.extract_strided_slice %[[VP]] {offsets = [0, 0]
// CHECK: nvgpu.mma.sync(%[[P0:.+]], %[[VLO]],
// CHECK: %[[VHI:.+]] = vector.extract_strided_slice %[[VP]] {offsets = [2, 0]
// CHECK: nvgpu.mma.sync(%[[P0]], %[[VHI]],
// CHECK: nvgpu.mma.sync(%[[P1:.+]], %[[VLO]],
// CHECK: nvgpu.mma.sync(%[[P1]], %[[VHI]],
// CHECK-NOT: nvvm.vote.sync
func.func @two_slabs(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// Two slabs of 128 x 48 at d = 96 on sm_90: 2 x 4 x (6 + 12) = 144
// accumulator registers, which leave room for the lazy rescale's branch
// (rescalesLazily; on sm_80 it spilled): each slab votes, and O is rescaled
// only when the vote says so.
// CHECK-LABEL: gpu.func @two_slabs_lazy_rescale
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 48, 4>
// CHECK: %[[MOVES0:.+]] = nvvm.vote.sync  any %c-1_i32, %{{.+}} -> i1
// CHECK: scf.if %[[MOVES0]]
// CHECK: %[[MOVES1:.+]] = nvvm.vote.sync  any %c-1_i32, %{{.+}} -> i1
// CHECK: scf.if %[[MOVES1]]
func.func @two_slabs_lazy_rescale(%q: tensor<?x?x4x96xbf16>, %k: tensor<?x?x2x96xbf16>, %v: tensor<?x?x2x96xbf16>) -> tensor<?x?x4x96xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(96, 96) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.102) softcap(0.0)
      tiling <block_m = 128, block_n = 48, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x96xbf16>, tensor<?x?x2x96xbf16>, tensor<?x?x2x96xbf16> -> tensor<?x?x4x96xbf16>
  return %o : tensor<?x?x4x96xbf16>
}

// -----

// On sm_90 the unmasked tiles' V is copied without bounds too, in a loop of
// 8 chunks per thread (unrolled, it spills on sm_80; see wholeValueTileCopy),
// and each KV tile has two barriers (sm_80's two-slab kernels keep four,
// above: two spilled there; see twoBarriersPerTile): B1 after K(j) has
// landed, before V(j) is issued; B2 after V(j) has landed, before K(j + 1).
// CHECK-LABEL: gpu.func @two_slabs_sm90
// CHECK: %[[KROWS:.+]] = memref.subview
// CHECK: %[[VROWS:.+]] = memref.subview
// Q's load loop (padded two-slab kernels copy Q synchronously; the first
// KV tile's barrier makes it visible), then the unmasked tiles' loop.
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: scf.if
// CHECK-COUNT-8: nvgpu.device_async_copy %[[KROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: arith.select
// CHECK: scf.for %{{.+}} = %c0 to %c8 step %c1 {
// CHECK-NOT: arith.select
// CHECK: nvgpu.device_async_copy %[[VROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: gpu.barrier
// CHECK: nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK-NOT: gpu.barrier
// CHECK: scf.yield
func.func @two_slabs_sm90(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// d = 64 on sm_90 at 128 x 128: with a causal mask V stays checked
// in the unmasked tiles, an element count per chunk (in the unchecked loop
// ptxas spilled 8 bytes there); without one V is in the unchecked loop.
// CHECK-LABEL: gpu.func @wide_two_slabs_causal_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 4>
// CHECK: %[[KROWS:.+]] = memref.subview
// CHECK: %[[VROWS:.+]] = memref.subview
// CHECK: scf.for
// CHECK-NOT: gpu.barrier
// CHECK: scf.for
// CHECK: scf.if
// CHECK-COUNT-8: nvgpu.device_async_copy %[[KROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
// CHECK: nvvm.cp.async.wait.group
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: arith.muli %{{.+}}, %c128 : index
// CHECK-NEXT: scf.for
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: arith.select %{{.+}}, %c8_i32, %c0_i32 : i32
// CHECK-NOT: nvvm.cp.async.commit.group
// CHECK: nvgpu.device_async_copy %[[VROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8, %{{.+}} {bypassL1}
func.func @wide_two_slabs_causal_sm90(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 128, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// CHECK-LABEL: gpu.func @wide_two_slabs_noncausal_sm90
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 128, 4>
// CHECK: %[[KROWS:.+]] = memref.subview
// CHECK: %[[VROWS:.+]] = memref.subview
// CHECK: scf.for
// CHECK: nvvm.cp.async.wait.group
// CHECK-NEXT: gpu.barrier
// CHECK-NOT: arith.select
// CHECK: scf.for %{{.+}} = %c0 to %c8 step %c1 {
// CHECK-NOT: arith.select
// CHECK: nvgpu.device_async_copy %[[VROWS]][%{{.+}}, %{{.+}}], %{{.+}}[%{{.+}}, %{{.+}}], 8 {bypassL1}
func.func @wide_two_slabs_noncausal_sm90(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xbf16>) -> tensor<?x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}
// -----

// With softcap, whose per-score terms need registers of their own, two slabs
// of 192 accumulator registers would spill: 8 warps share the Q tile.
// CHECK-LABEL: gpu.func @two_slabs_softcap
// CHECK-SAME: attn.tile_sizes = array<i64: 128, 64, 8>
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
func.func @two_slabs_softcap(%q: tensor<?x?x8x128xf16>, %k: tensor<?x?x8x128xf16>, %v: tensor<?x?x8x128xf16>) -> tensor<?x?x8x128xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(128, 128) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(30.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16>, tensor<?x?x8x128xf16> -> tensor<?x?x8x128xf16>
  return %o : tensor<?x?x8x128xf16>
}

// -----

// num_stages = 1: no prefetch. Each tile loads its own K and V; PV waits for
// every group.
// CHECK-LABEL: gpu.func @one_stage
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK-NOT: scf.if
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 1
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: nvvm.cp.async.wait.group 0
func.func @one_stage(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 1> target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}

// -----

// GQA packing for KV caches: the grid's y is the kv head; tile row r holds
// query r / 4 of q head kv_head * 4 + r % 4, for Q's loads, the mask and
// O's stores. Lengths come from cache_seqlens[batch]. KV-cache kernels are
// memory-bound: the auto tiling is 32 x 64 rows on 2 warps.
// CHECK-LABEL: gpu.func @packed_decode
// CHECK-SAME: attn.pack_gqa
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 64, 2>, known_block_size = array<i32: 64, 1, 1>
// CHECK-DAG: %[[KVHEAD:.+]] = gpu.block_id y
// CHECK-DAG: %[[BATCH:.+]] = gpu.block_id z
// CHECK: %[[LENGTH:.+]] = memref.load %{{.+}}[%[[BATCH]]] : memref<?xi32>
// CHECK: %[[HEADBASE:.+]] = arith.muli %[[KVHEAD]], %c4
// CHECK: arith.divui %{{.+}}, %c4
// CHECK: arith.remui %{{.+}}, %c4
// CHECK: vector.load
func.func @packed_decode(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x2x64xf16>, %v: tensor<?x?x2x64xf16>, %l: tensor<?xi32>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// Split-KV: x = row tile * num_splits + split (num_splits: the workspace's
// leading dimension); each CTA writes its chunk's O and LSE to the
// workspace, and @split_merge combines them.
// CHECK-LABEL: gpu.func @split(
// CHECK-SAME: %[[PO:[^:]+]]: memref<?x?x?x4x64xf32>, %[[PL:[^:]+]]: memref<?x?x4x?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xi32>) kernel
// CHECK-SAME: attn.merge_kernel = "split_merge"
// CHECK: %[[X:.+]] = gpu.block_id x
// Not causal: every row tile has the same keys, in block order.
// CHECK-NOT: gpu.grid_dim
// CHECK: %[[SPLITS:.+]] = memref.dim %[[PL]], %c0
// CHECK: arith.remui %[[X]], %[[SPLITS]]
// CHECK: memref.store %{{.+}}, %[[PO]][
// CHECK: memref.store %{{.+}}, %[[PL]][
// The merge, one warp per row and latency-bound: lanes over chunks (from
// the lane, by 32) for the max of the LSEs and the sum of the weights, each
// a warp reduction (xor shuffles by 1 to 16); then lanes over columns (d =
// 64: lane and lane + 32) in steps of 16 chunks whose 16 LSE and 32 O
// loads all come before the step's 32 FMAs, then one chunk at a time.
// CHECK-LABEL: gpu.func @split_merge(
// CHECK-SAME: memref<?x?x4x64xf16>, %{{.+}}: memref<?x4x?xf32>, %{{.+}}: memref<?x?x?x4x64xf32>, %[[MLSE:[^:]+]]: memref<?x?x4x?xf32>) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: %[[MTID:.+]] = gpu.thread_id x
// CHECK: %[[MLANE:.+]] = arith.remui %[[MTID]], %c32
// CHECK: %[[CHUNKS:.+]] = memref.dim %[[MLSE]], %c0
// CHECK: scf.for %{{.+}} = %[[MLANE]] to %[[CHUNKS]] step %c32
// CHECK: arith.maximumf
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: scf.for %{{.+}} = %[[MLANE]] to %[[CHUNKS]] step %c32
// CHECK: math.exp2
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: %[[STEPS:.+]]:2 = scf.for %{{.+}} = %c0 to %{{.+}} step %c16
// CHECK-NOT: math.fma
// CHECK: %[[LAST:.+]] = arith.addi %{{.+}}, %c15
// CHECK-NOT: math.fma
// CHECK: memref.load %{{.+}}[%[[LAST]],
// CHECK: memref.load %{{.+}}[%[[LAST]],
// CHECK: memref.load %{{.+}}[%[[LAST]],
// CHECK-NOT: memref.load
// CHECK-COUNT-32: math.fma
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[CHUNKS]] step %c1 iter_args(%{{.+}} = %[[STEPS]]#0, %{{.+}} = %[[STEPS]]#1)
func.func @split(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) split_kv(4) target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}

// -----

// Appending with RoPE: the Q tile is rotated in shared memory between its
// load and the ldmatrix reads, a barrier after: (row, chunk of 4 pairs)
// items over the CTA's 64 threads in a loop with one copy of the rotation,
// 8 rows of a chunk per 8 threads (item t: row 8 (t / 64) + t % 8, chunk
// (t / 8) % 8), the chunk's turns per position selected among the 8
// chunks' constants. The key count is cache_seqlens[b] + seqlen_q, and
// @<name>_append (one warp per new row, 4 per CTA) stores the rotated keys
// (lane l rotates chunks l, l + 32, ... in a loop) and the values (its
// 16-byte vectors, numbered after the 8 rotated chunks: lanes 8-15) into
// the cache; the attention kernel names it.
// CHECK-LABEL: gpu.func @append_rope(
// CHECK-SAME: attn.append_kernel = "append_rope_append"
// CHECK: %[[ATID:.+]] = gpu.thread_id x
// CHECK: gpu.barrier
// CHECK: %[[GROUPS:.+]] = arith.ceildivsi %{{.+}}, %c8
// CHECK: %[[ITEMS:.+]] = arith.muli %[[GROUPS]], %c64
// CHECK: scf.for %[[ITEM:.+]] = %[[ATID]] to %[[ITEMS]] step %c64
// CHECK: arith.remui %[[ITEM]], %c8
// CHECK: arith.divui %[[ITEM]], %c64
// CHECK: scf.if
// CHECK: arith.cmpi eq, %{{.+}}, %c7
// CHECK: math.fma
// CHECK: vector.store %{{.+}}, %{{.+}} : memref<32x64xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK: vector.store %{{.+}}, %{{.+}} : memref<32x64xf16, #gpu.address_space<workgroup>>, vector<4xf16>
// CHECK-NOT: math.fma
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix
// CHECK-LABEL: gpu.func @append_rope_append(
// CHECK-SAME: memref<?x?x2x64xf16>, %{{.+}}: memref<?x?x2x64xf16>, %{{.+}}: memref<?x?x2x64xf16>, %{{.+}}: memref<?x?x2x64xf16>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?x?xi32>, %{{.+}}: memref<?xi32>)
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK: %[[TID:.+]] = gpu.thread_id x
// CHECK: %[[LANE:.+]] = arith.remui %[[TID]], %c32
// CHECK: %[[WARP:.+]] = arith.divui %[[TID]], %c32
// CHECK: %[[FIRST:.+]] = arith.muli %{{.+}}, %c4
// CHECK: arith.addi %[[FIRST]], %[[WARP]]
// CHECK: scf.if
// CHECK: scf.for %[[CHUNK:.+]] = %[[LANE]] to %c8 step %c32
// CHECK: arith.cmpi eq, %[[CHUNK]], %c7
// CHECK: math.fma
// CHECK: vector.store
// CHECK: vector.store
// CHECK-NOT: math.fma
// CHECK: arith.cmpi eq, %[[LANE]], %c8
// CHECK: vector.store
// CHECK: arith.cmpi eq, %[[LANE]], %c9
func.func @append_rope(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x2x64xf16>, %v: tensor<?x?x2x64xf16>, %l: tensor<?xi32>, %kn: tensor<?x?x2x64xf16>, %vn: tensor<?x?x2x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) append(%kn, %vn : tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 10000.0, rotary_dim = 64> target(sm_80)
      : tensor<?x?x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// A paged cache (pages of 16 keys), d = 64, the KV-cache tiling (32 x 64 on
// 2 warps): a thread's 8 unrolled chunks of a K or V tile are rows
// r0 + 8i, two to a page, so it reads the page table once per page (4 per
// tile), at slots clamped to the table's width, and each page feeds two
// copies.
// CHECK-LABEL: gpu.func @paged(
// CHECK-SAME: %[[V:[^:]+]]: memref<?x16x2x64xbf16>, %{{[^:]+}}: memref<?x?x8x64xbf16>
// CHECK-SAME: %[[TABLE:[^:]+]]: memref<?x?xi32>
// CHECK: scf.for %{{.+}} iter_args
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// CHECK: %[[SLOT0:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK-NEXT: memref.load %[[TABLE]][%{{.+}}, %[[SLOT0]]]
// CHECK-NOT: memref.load
// CHECK: nvgpu.device_async_copy %[[V]]
// CHECK-NOT: memref.load
// CHECK: nvgpu.device_async_copy %[[V]]
// CHECK: %[[SLOT1:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK-NEXT: memref.load %[[TABLE]][%{{.+}}, %[[SLOT1]]]
// CHECK-NOT: memref.load
// CHECK: nvgpu.device_async_copy %[[V]]
// CHECK-NOT: memref.load
// CHECK: nvgpu.device_async_copy %[[V]]
// CHECK-COUNT-2: memref.load %[[TABLE]]
// CHECK-NOT: memref.load
// CHECK: nvvm.cp.async.commit.group
func.func @paged(%q: tensor<?x?x8x64xbf16>, %pk: tensor<?x16x2x64xbf16>, %pv: tensor<?x16x2x64xbf16>, %l: tensor<?xi32>, %t: tensor<?x?xi32>) -> tensor<?x?x8x64xbf16> {
  %p = attn.attention %q, %pk, %pv cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) page_size(16) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x8x64xbf16>, tensor<?x16x2x64xbf16>, tensor<?x16x2x64xbf16> -> tensor<?x?x8x64xbf16>
  return %p : tensor<?x?x8x64xbf16>
}

// -----

// ALiBi: s2 = log2(e) * scale * dot - log2(e) * slope * |i + off - j|. A
// row's distance to the thread's first key is converted to f32 once; per
// score one subtract of the key's constant offset, and one FMA whose |.| is
// an operand modifier (no integer abs and conversion per score).
// CHECK-LABEL: gpu.func @alibi_scores
// CHECK: scf.for {{.+}} iter_args
// CHECK: %[[ROW:.+]] = arith.sitofp %{{.+}} : i32 to f32
// CHECK: %[[FIRST:.+]] = math.absf %[[ROW]] : f32
// CHECK: %[[NEGSLOPE:.+]] = arith.negf %{{.+}} : f32
// CHECK: math.fma %[[NEGSLOPE]], %[[FIRST]], %{{.+}} : f32
// CHECK: %[[DIST:.+]] = arith.subf %[[ROW]], %cst{{.*}} : f32
// CHECK: %[[ABS:.+]] = math.absf %[[DIST]] : f32
// CHECK: math.fma %[[NEGSLOPE]], %[[ABS]], %{{.+}} : f32
func.func @alibi_scores(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) alibi target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}

// -----

// Tiles of more than 24 16-byte chunks per thread are copied in a loop, not
// unrolled: K and V of a KV cache at head dim 256 (auto: 32 x 64 on 2 warps,
// 2048 chunks for 64 threads; unrolled, ptxas spilled 16-368 bytes).
// CHECK-LABEL: gpu.func @cache_d256_copy_loop
// CHECK: scf.for %{{.+}} = %thread_id_x to %c2048 step %c64 {
// CHECK: nvgpu.device_async_copy %arg1
// CHECK: scf.for %{{.+}} = %thread_id_x to %c2048 step %c64 {
// CHECK: nvgpu.device_async_copy %arg2
func.func @cache_d256_copy_loop(%q: tensor<?x?x8x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>, %l: tensor<?xi32>) -> tensor<?x?x8x256xbf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) target(sm_90)
      : tensor<?x?x8x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x8x256xbf16>
  return %o : tensor<?x?x8x256xbf16>
}

// -----

// A two-slab varlen kernel (non-causal d128: 128 x 64 on 4 warps) loads its
// sequence's query rows from cu_seqlens_q again after the KV loops, for the
// O store, instead of keeping them live through them (its masked loop
// spilled 12 bytes).
// CHECK-LABEL: gpu.func @varlen_two_slabs_query_rows
// CHECK: memref.load %[[CUQ:arg10]][%block_id_z] : memref<?xi32>
// CHECK: scf.for {{.+}} iter_args
// CHECK: scf.for {{.+}} iter_args
// CHECK: %[[START:.+]] = memref.load %[[CUQ]][%block_id_z] : memref<?xi32>
// CHECK: %[[FIRST:.+]] = arith.index_cast %[[START]] : i32 to index
// CHECK: arith.addi %[[FIRST]], %{{.+}} : index
func.func @varlen_two_slabs_query_rows(%q: tensor<1x?x8x128xf16>, %k: tensor<1x?x8x128xf16>, %v: tensor<1x?x8x128xf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x128xf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(128, 128) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.088) softcap(0.0)
      target(sm_90)
      : tensor<1x?x8x128xf16>, tensor<1x?x8x128xf16>, tensor<1x?x8x128xf16> -> tensor<1x?x8x128xf16>
  return %o : tensor<1x?x8x128xf16>
}
