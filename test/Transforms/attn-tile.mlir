// RUN: attn-opt %s -split-input-file --attn-tile="block-m=32 block-n=16" --canonicalize --cse | FileCheck %s
// RUN: attn-opt %s -split-input-file --attn-tile | FileCheck %s --check-prefix=DEFAULT
// RUN: attn-opt %s -split-input-file --attn-tile="block-m=32 block-n=16" --canonicalize --cse | FileCheck %s --check-prefix=DIRECT

// A work item of at most 4 rows (decode) with a 16-bit cache reads K and V
// directly: per key, a prefetch of key + 16 (the next tile), one K vector for
// the 4 rows' FMAs, one horizontal sum per row; P V loads V vectors from the
// cache. Larger work items stage (K in 8 x 8 blocks of 8 row loads).
// DIRECT-LABEL: func.func @causal
// DIRECT: %[[ONE:.+]] = arith.cmpi sle, %{{.+}}, %c4 : index
// DIRECT-NEXT: scf.if %[[ONE]] {
// DIRECT: memref.prefetch %arg1
// DIRECT: vector.load %arg1[{{.+}}] : memref<?x?x2x8xf16>, vector<8xf16>
// DIRECT-COUNT-4: math.fma
// DIRECT-COUNT-4: vector.reduction <add>
// DIRECT: vector.load %arg2[{{.+}}] : memref<?x?x2x8xf16>, vector<8xf16>
// DIRECT: } else {
// DIRECT-COUNT-8: vector.load %arg1[{{.+}}] : memref<?x?x2x8xf16>, vector<8xf16>

// Causal, bottom-right (off = seqlen_k - seqlen_q), GQA 4:2. For the Q tile of
// rows [m0, mLast], BM = 32, BN = 16:
//   may-visible keys  [0, min(Sk - 1, mLast + off)]  -> tiles [0, end)
//   all-visible keys  [0, min(Sk - 1, m0 + off)]     -> full tiles [0, fullEnd)
//   end     = ceil((min(Sk - 1, mLast + off) + 1) / BN)
//   fullEnd = floor((min(Sk - 1, m0 + off) + 1) / BN)
// No key has a lower bound, so there is no leading boundary loop: one loop
// over full tiles without mask code, one over boundary tiles with it.

// CHECK-LABEL: func.func @causal(
// CHECK-SAME: %[[Q:[^:]+]]: memref<?x?x4x8xf16>, %[[K:[^:]+]]: memref<?x?x2x8xf16>, %[[V:[^:]+]]: memref<?x?x2x8xf16>,
// CHECK-SAME: %[[O:[^:]+]]: memref<?x?x4x8xf16>, %{{.+}}: memref<?x4x?xf32>, %{{.+}}: memref<4xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?x?xi32>, %{{.+}}: memref<?x?x?x4x8xf32>, %{{.+}}: memref<?x?x4x?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xi32>, %[[BEGIN:[^:]+]]: index, %[[END:[^:]+]]: index)
// CHECK-SAME: attn.tile_sizes = array<i64: 32, 16>
// CHECK-DAG: %[[SQ:.+]] = memref.dim %[[Q]], %c1
// CHECK-DAG: %[[SK:.+]] = memref.dim %[[K]], %c1
// CHECK: %[[OFF:.+]] = arith.subi %[[SK]], %[[SQ]]
// CHECK: scf.for %[[ITEM:.+]] = %[[BEGIN]] to %[[END]]
// item = ((b * Hq) + h) * numQTiles + qTile; kv head = h / 2.
// CHECK:   %[[HEAD:.+]] = arith.remui %{{.+}}, %c4
// CHECK:   %[[KVHEAD:.+]] = arith.divui %[[HEAD]], %c2
// CHECK:   %[[M0:.+]] = arith.muli %{{.+}}, %c32
// CHECK:   %[[ROWS:.+]] = arith.minsi %{{.+}}, %c32
// CHECK:   %[[LASTKEY:.+]] = arith.subi %[[SK]], %c1
// CHECK:   %[[HIANY:.+]] = arith.minsi %[[LASTKEY]], %{{.+}}
// CHECK:   %[[M0OFF:.+]] = arith.addi %[[M0]], %[[OFF]]
// CHECK:   %[[HIALL:.+]] = arith.minsi %[[LASTKEY]], %[[M0OFF]]
// CHECK:   %[[HIANY1:.+]] = arith.addi %[[HIANY]], %c1
// CHECK:   arith.ceildivsi %[[HIANY1]], %c16
// CHECK:   %[[HIALL1:.+]] = arith.addi %[[HIALL]], %c1
// CHECK:   arith.floordivsi %[[HIALL1]], %c16
// Full tiles: K^T staged as f32 in 8 x 8 blocks (8 vector loads of K rows,
// transposed in registers), V staged as f32 in 8-lane vectors (16 keys, a
// constant trip count), each key's step also prefetching the K and V rows of
// key + 16 (the next tile) if it exists; S = Q K^T with 4 rows x 2 vectors
// of 8 lanes in registers across d; no mask code anywhere in the loop.
// CHECK:   scf.for %{{.+}} = %[[FULLBEGIN:.+]] to %[[FULLEND:.+]] step %c1 {
// CHECK:     scf.for %{{.+}} = %c0 to %c16 step %c8 {
// CHECK-COUNT-8: vector.load %[[K]][%{{.+}}, %{{.+}}, %[[KVHEAD]], %c0] : memref<?x?x2x8xf16>, vector<8xf16>
// CHECK:     scf.for %{{.+}} = %c0 to %c16 step %c1 {
// CHECK:         memref.prefetch %[[K]][%{{.+}}, %[[NEXT:.+]], %[[KVHEAD]], %c0], read, locality<3>, data
// CHECK:         memref.prefetch %[[V]][%{{.+}}, %[[NEXT]], %[[KVHEAD]], %c0], read, locality<3>, data
// CHECK:       vector.load %[[V]][%{{.+}}, %{{.+}}, %[[KVHEAD]], %c0] : memref<?x?x2x8xf16>, vector<8xf16>
// CHECK:     scf.for %{{.+}} = %c0 to %{{.+}} step %c4 {
// CHECK:       scf.for {{.+}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK-COUNT-8: math.fma {{.+}} : vector<8xf32>
// The scale (and log2 e) is folded into the staged Q, so S is final: its
// row max is taken while S is in registers.
// CHECK-NOT:   arith.cmpi
// CHECK:       arith.maximumf {{.+}} : vector<8xf32>
// m' = max(m, rowmax(S)); P = exp2(S - m'), rounded to f16 for P.V; l += rowsum(P)
// CHECK:       vector.reduction <maximumf>
// CHECK-NOT:   arith.cmpi
// CHECK:       math.exp2 {{.+}} : vector<8xf32>
// CHECK:       arith.truncf {{.+}} : vector<8xf32> to vector<8xf16>
// CHECK:       vector.reduction <add>
// CHECK-NOT:   arith.cmpi
// acc = a * acc + P V over the tile's keys.
// CHECK:       scf.for %{{.+}} = %c0 to %c16 step %c1 iter_args
// CHECK:         vector.load %{{.+}} : memref<16x8xf32>, vector<8xf32>
// CHECK-NOT:   arith.cmpi
// Boundary tiles: keys clipped to seqlen_k; per lane, j <= min(i + off,
// Sk - 1): key < seqlen_k folded into the row's bound, one compare per lane.
// CHECK:   scf.for %{{.+}} = %[[FULLEND]] to %{{.+}} step %c1 {
// CHECK:     arith.subi %[[SK]], %{{.+}}
// CHECK:     arith.minsi %{{.+}}, %c16
// CHECK:       %[[ROWBOUND:.+]] = arith.minsi %{{.+}}, %[[LASTKEY]] : index
// CHECK-NEXT:  %[[BOUNDS:.+]] = vector.broadcast %[[ROWBOUND]] : index to vector<8xindex>
// CHECK-NEXT:  %[[VISIBLE:.+]] = arith.cmpi sle, %{{.+}}, %[[BOUNDS]] : vector<8xindex>
// CHECK-NEXT:  arith.select %[[VISIBLE]], %{{.+}}, %{{.+}} : vector<8xi1>, vector<8xf32>
// O = acc / l (0 when l == 0), written as f16.
// CHECK:   arith.cmpf ogt
// CHECK:   arith.divf
// CHECK:   memref.store %{{.+}}, %[[O]]
func.func @causal(%q: tensor<?x?x4x8xf16>, %k: tensor<?x?x2x8xf16>, %v: tensor<?x?x2x8xf16>) -> tensor<?x?x4x8xf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(8, 8) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x4x8xf16>, tensor<?x?x2x8xf16>, tensor<?x?x2x8xf16> -> tensor<?x?x4x8xf16>
  return %o : tensor<?x?x4x8xf16>
}

// DEFAULT-LABEL: func.func @causal(
// Tile sizes from the op's tiling, else 128 x 64 (auto).
// DEFAULT-SAME: attn.tile_sizes = array<i64: 128, 64>

// -----

// Top-left causal sliding window (left 100) with 4 sinks: two intervals,
//   sinks:  keys [0, min(3, i)]            (upper bounds 3 and i + 0)
//   window: keys [i - 100, i]
// For rows [m0, mLast] the window's empty tiles lie left of floor((m0 - 100) / BN)
// and are never visited; its full tiles are
//   [ceil((mLast - 100) / BN), floor((min(Sk - 1, m0) + 1) / BN)).
// The window's loops start after the sink tiles end.

// CHECK-LABEL: func.func @window_sinks(
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} {
// The sink interval's upper bound: min(Sk - 1, 3, row).
// CHECK:   arith.minsi %{{.+}}, %c3
// The window's lower bounds: m0 - 100 (any row) and mLast - 100 (all rows).
// CHECK:   %[[LOANY:.+]] = arith.addi %[[M0:.+]], %c-100
// CHECK:   arith.maxsi %[[LOANY]], %c0
// CHECK:   arith.addi %{{.+}}, %c-101
// Loops: sink full, sink boundary, window leading boundary, window full,
// window trailing boundary.
// CHECK:   scf.for
// CHECK:   scf.for
// CHECK:   scf.for
// CHECK:   scf.for
// CHECK:   scf.for
// Boundary tiles evaluate both intervals per lane:
// (j <= 3 and j <= i) or (j >= i - 100 and j <= i).
// CHECK:     arith.cmpi sle, %{{.+}}, %cst{{.*}} : vector<8xindex>
// CHECK:     arith.cmpi sle, {{.+}} : vector<8xindex>
// CHECK:     arith.cmpi sge, {{.+}} : vector<8xindex>
// CHECK:     arith.ori {{.+}} : vector<8xi1>
func.func @window_sinks(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x4x8xf32>, %v: tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(8, 8) mask(causal, top_left) window(100, -1) sinks(4) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32> -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// No mask: one interval [0, Sk - 1]: every tile but the last partial one is
// full; the only per-lane test is key <= seqlen_k - 1 in the last tile.
// CHECK-LABEL: func.func @full
// CHECK: %[[SK:.+]] = memref.dim %arg1, %c1
// CHECK: %[[LASTKEY:.+]] = arith.subi %[[SK]], %c1 : index
// CHECK-NOT: arith.cmpi {{.+}} : vector<8xindex>
// CHECK: %[[BOUNDS:.+]] = vector.broadcast %[[LASTKEY]] : index to vector<8xindex>
// CHECK-NEXT: arith.cmpi sle, %{{.+}}, %[[BOUNDS]] : vector<8xindex>
// CHECK-NOT: arith.cmpi sge, {{.+}} : vector<8xindex>
// CHECK-NOT: arith.cmpi slt, {{.+}} : vector<8xindex>
// CHECK: return
func.func @full(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x4x8xf32>, %v: tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(8, 8) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32> -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// split_kv: work item = (Q tile, batch, head) * num_splits + split, with
// num_splits the workspace's leading dimension; each item clips its KV tile
// loops to its chunk and writes its normalized O and LSE to the workspace;
// @<name>_merge combines the chunks of each row by their LSEs.
// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[PO:[^:]+]]: memref<?x?x?x4x8xf32>, %[[PL:[^:]+]]: memref<?x?x4x?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xi32>, %{{.+}}: index, %{{.+}}: index)
// CHECK: %[[SPLITS:.+]] = memref.dim %[[PL]], %c0
// CHECK: arith.remui %{{.+}}, %[[SPLITS]]
// CHECK: arith.ceildivsi %{{.+}}, %[[SPLITS]]
// CHECK: memref.store %{{.+}}, %[[PO]][
// CHECK: memref.store %{{.+}}, %[[PL]][
// CHECK-LABEL: func.func @split_merge(
// CHECK-SAME: memref<?x?x4x8xf16>, %{{.+}}: memref<?x4x?xf32>, %{{.+}}: memref<?x?x?x4x8xf32>, %{{.+}}: memref<?x?x4x?xf32>, %{{.+}}: index, %{{.+}}: index)
// CHECK-SAME: llvm.emit_c_interface
// CHECK: arith.maximumf
// CHECK: math.exp2
// CHECK: arith.divf
// CHECK: memref.store
// CHECK: math.log2
func.func @split(%q: tensor<?x?x4x8xf16>, %k: tensor<?x?x4x8xf16>, %v: tensor<?x?x4x8xf16>) -> (tensor<?x?x4x8xf16>, tensor<?x4x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v heads(4, 4) head_dims(8, 8) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.35) softcap(0.0) split_kv(0) target(cpu)
      : tensor<?x?x4x8xf16>, tensor<?x?x4x8xf16>, tensor<?x?x4x8xf16> -> tensor<?x?x4x8xf16>, tensor<?x4x?xf32>
  return %o, %lse : tensor<?x?x4x8xf16>, tensor<?x4x?xf32>
}

// -----

// Appending with RoPE: the kernel counts cache_seqlens[b] + seqlen_q keys
// and rotates each staged Q row (non-interleaved: two half-row loads, the
// angle's exact product via fma); @<name>_append stores the new rows at
// cache_seqlens[b] + j, the key rotated, only when the row is inside the
// cache.
// CHECK-LABEL: func.func @append_rope(
// CHECK: %[[LEN:.+]] = memref.load %{{.+}}[%{{.+}}] : memref<?xi32>
// CHECK: %[[CAST:.+]] = arith.index_cast %[[LEN]]
// CHECK: arith.addi %[[CAST]], %{{.+}}
// CHECK: math.fma
// CHECK: vector.load %{{.+}} : memref<32x8xf32>, vector<2xf32>
// CHECK: vector.load %{{.+}} : memref<32x8xf32>, vector<2xf32>
// CHECK-LABEL: func.func @append_rope_append(
// CHECK-SAME: %[[KN:[^:]+]]: memref<?x?x2x8xf16>, %[[VN:[^:]+]]: memref<?x?x2x8xf16>, %[[K:[^:]+]]: memref<?x?x2x8xf16>, %[[V:[^:]+]]: memref<?x?x2x8xf16>
// CHECK-SAME: llvm.emit_c_interface
// CHECK: scf.if
// CHECK: vector.load %[[KN]]{{.+}} vector<2xf16>
// CHECK: vector.store %{{.+}}, %[[K]]
// CHECK: vector.load %[[KN]]{{.+}} vector<4xf16>
// CHECK: vector.store %{{.+}}, %[[K]]
// CHECK: vector.load %[[VN]]{{.+}} vector<8xf16>
// CHECK: vector.store %{{.+}}, %[[V]]
func.func @append_rope(%q: tensor<?x?x4x8xf16>, %k: tensor<?x?x2x8xf16>, %v: tensor<?x?x2x8xf16>, %l: tensor<?xi32>, %kn: tensor<?x?x2x8xf16>, %vn: tensor<?x?x2x8xf16>) -> tensor<?x?x4x8xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) append(%kn, %vn : tensor<?x?x2x8xf16>, tensor<?x?x2x8xf16>) heads(4, 2) head_dims(8, 8) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.35) softcap(0.0) rope <base = 10000.0, rotary_dim = 4> target(cpu)
      : tensor<?x?x4x8xf16>, tensor<?x?x2x8xf16>, tensor<?x?x2x8xf16> -> tensor<?x?x4x8xf16>
  return %o : tensor<?x?x4x8xf16>
}
