//===- AttentionKernelBuilder.h - builds the attention kernel ---*- C++ -*-===//
//
// Builds the body of one attention kernel (one CTA per Q tile, head and
// batch) from an attn.attention op. Fragment layouts (PTX ISA,
// mma.m16n8k16, g = lane / 4, t = lane % 4):
//   A (16x16): a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..],
//              a3 = A[g+8][2t+8..]                 -> vector<4x2xT>
//   B (16x8):  b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g] -> vector<2x2xT>
//   C (16x8):  c[0] = C[g][2t..2t+1], c[1] = C[g+8][2t..2t+1]
//                                                   -> vector<2x2xf32>
// ldmatrix.x4 gives matrix i to register i; lane l addresses row l % 8 of
// matrix l / 8. So for A at (r0, c0): row r0 + l % 16, column c0 + (l / 16) *
// 8; for B from K[key][d] (B = K^T): key n0 + l % 8, d c0 + ((l / 8) % 2) * 8
// (.x2); for B from V[key][dv] (B = V, .trans): key k0 + l % 16, dv n0.
// Two neighbouring 16x8 S accumulators are exactly one 16x16 A operand:
//   A_P(kb) = {S(2kb)[0], S(2kb)[1], S(2kb+1)[0], S(2kb+1)[1]}.
//
// The builder's parts, one file each: AttentionKernelBuilder.cpp (kernel
// arguments, the Q tile and the loops over KV tiles), TileCopies.cpp
// (global <-> shared tiles, cp.async), WarpPrimitives.cpp (quad
// reductions, MMAs, Q fragments, scores), KvTile.cpp (one KV tile: QK^T,
// online softmax, PV), Epilogue.cpp (O and LSE).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_CONVERSION_ATTNTOGPU_ATTENTIONKERNELBUILDER_H
#define ATTNGEN_CONVERSION_ATTNTOGPU_ATTENTIONKERNELBUILDER_H

#include "GpuTiling.h"

#include "attngen/Conversion/Passes.h"
#include "attngen/Dialect/Attn/IR/AttnOps.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/TileRows.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::attn::attn_to_gpu {

/// RoPE pairs per vector op on the GPU (registers stay few).
constexpr int64_t kRopePairsPerChunk = 4;
/// Padded shared-memory rows (two-slab kernels' Q, see swizzledQueryTile):
/// 16 more bytes per row put the 8 rows one ldmatrix matrix reads in 8
/// different bank groups.
constexpr int64_t kRowPadding = 8;
/// The width in elements of the windows whose chunks a swizzled shared
/// tile with `cols` columns permutes (SharedTileLayout.cpp).
int64_t swizzleWindowWidth(int64_t cols);
/// Maps every access to a logical [rows x cols] shared tile onto its
/// swizzled layout (SharedTileLayout.cpp) and erases the logical view.
LogicalResult swizzleSharedTile(memref::ViewOp view);
/// Reduces `value` over each group of `lanes` consecutive lanes (a power of
/// two up to 32) by xor shuffles, the max when `isMax` and else the sum;
/// every lane of a group gets its group's result.
Value emitLaneGroupReduce(ImplicitLocOpBuilder &b, Value value, bool isMax,
                          int64_t lanes);
/// How a tile whose rows all exist (firstRow + rows <= rowLimit, known to
/// the caller) is copied by cp.async, each chunk without a bounds check:
/// unrolled (one instruction per chunk at a constant offset) or in a loop
/// over the thread's chunks (one pointer increment per chunk, fewer live
/// values for ptxas to schedule around); Checked: the general copy.
enum class WholeTileCopy { Checked, Unrolled, Loop };

/// Tile copies of at most this many chunks per thread are unrolled. At 32
/// (a 64-key tile of head dim 256 on 2 warps: KV-cache kernels' auto
/// tiling) ptxas spilled 16-368 bytes in 6 of 14 kernels (contiguous
/// caches, softcap, ALiBi; sm_80 and sm_90), in a loop none; 24 (head dim
/// 192 there) assemble without spills.
constexpr int64_t kMaxUnrolledChunks = 24;
/// How far (log2 units) a row max may outgrow the softmax reference before
/// the warp rescales: P <= 2^8 stays exact in f16/bf16 (FlashAttention-4).
constexpr double kStaleMaxLimit = 8.0;
constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// The online softmax state of one 16-row slab of one warp: per thread, the
/// running max and partial sum of its two rows (g and g + 8) and the O
/// accumulator fragments.
struct SlabState {
  Value rowMax[2], rowSum[2];
  SmallVector<Value> output; // Dvp / 8 x vector<2x2xf32>
};

class AttentionKernelBuilder {
public:
  AttentionKernelBuilder(AttentionOp op, GpuTiling tiling)
      : op(op), mask(MaskModel::fromOp(op)), tiling(tiling),
        elementType(op.getQuery().getType().getElementType()),
        headDim(op.getHeadDim()), headDimV(op.getHeadDimV()),
        paddedHeadDim(llvm::alignTo(headDim, kMmaK)),
        paddedHeadDimV(llvm::alignTo(headDimV, kMmaK)),
        slabsPerWarp(slabsPerWarpOf(tiling)), packGqa(op.packsGqa()) {
    // 32-bit registers per thread: 4 per 16x16 Q fragment, 4 per 16x8
    // accumulator of S and of O, for each slab.
    int64_t accumulatorRegisters = accumulatorRegistersPerWarp(op, tiling);
    int64_t queryRegisters = slabsPerWarp * 4 * (paddedHeadDim / kMmaK);
    keepQueryInRegisters = accumulatorRegisters + queryRegisters <= 160;
  }

  /// Bytes of dynamic shared memory: Q tile, K and V buffers; the O tile
  /// reuses them at the end.
  int64_t sharedMemoryBytes() const {
    int64_t queryPadding = swizzledQueryTile() ? 0 : kRowPadding;
    int64_t kvPadding = swizzledKvTiles() ? 0 : kRowPadding;
    int64_t tiles =
        2 * (tiling.blockM * (paddedHeadDim + queryPadding) +
             kvBufferCountOf(tiling) * tiling.blockN *
                 (paddedHeadDim + kvPadding + paddedHeadDimV + kvPadding));
    return std::max(tiles, outputTileBytes());
  }
  /// The O tile takes Q's layout.
  int64_t outputTileBytes() const {
    int64_t padding = swizzledQueryTile() ? 0 : kRowPadding;
    return 2 * tiling.blockM * (paddedHeadDimV + padding);
  }

  LogicalResult build(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func);

private:
  Value index(ImplicitLocOpBuilder &b, int64_t v) {
    return arith::ConstantIndexOp::create(b, v);
  }
  Value f32(ImplicitLocOpBuilder &b, double v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  }
  Value i32(ImplicitLocOpBuilder &b, int64_t v) {
    return arith::ConstantIntOp::create(b, v, 32);
  }

  /// A logical [rows x cols] tile of the dynamic shared memory at `offset`
  /// bytes, which it advances past `count` such tiles (a ring of buffers,
  /// of which it returns the first); build() swizzles its accesses at the
  /// end.
  /// `swizzled`: in the swizzled layout (SharedTileLayout.cpp), else with
  /// padded rows.
  Value sharedTile(ImplicitLocOpBuilder &b, Value base, int64_t &offset,
                   int64_t rows, int64_t cols, bool swizzled,
                   int64_t count = 1);
  /// The buffer of the K or V ring (keyTile or valueTile, its first) that KV
  /// tile `kvTile` uses: kvTile % kvBufferCountOf(tiling).
  Value kvBufferOf(ImplicitLocOpBuilder &b, Value ring, Value kvTile);
  /// The first three indices of a row of a tile in its tensor: (batch,
  /// query, head) for Q and O, (batch, key, kv head) for per-sequence K/V,
  /// (page, row in page, kv head) for a paged cache.
  using RowIndices =
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)>;
  void emitLoadTile(ImplicitLocOpBuilder &b, Value tile, Value source,
                    RowIndices rowIndices, Value firstRow, Value rowLimit,
                    int64_t rows, int64_t cols, int64_t paddedCols,
                    bool async = false,
                    WholeTileCopy wholeTile = WholeTileCopy::Checked,
                    bool unrollChecked = true);
  /// dest rows [firstRow, rowLimit) of the tile's first `cols` columns
  /// (of `paddedCols`).
  void emitStoreTile(ImplicitLocOpBuilder &b, Value tile, Value dest,
                     RowIndices rowIndices, Value firstRow, Value rowLimit,
                     int64_t rows, int64_t cols, int64_t paddedCols);
  /// For every chunk of `width` columns of a rows x (chunksPerRow * width)
  /// tile, spread over the CTA's threads: body(r, c, rowOffset) with the
  /// chunk's tile row and column. Consecutive threads take consecutive
  /// chunks in row-major order: 8 of them cover 128 contiguous bytes of a
  /// swizzled tile (SharedTileLayout.cpp).
  /// `unroll`: each thread's chunks unrolled where that is short (the KV
  /// loop's copies), and then r = r0 + rowOffset with the thread's first
  /// row r0 < unrolledRowStep(chunksPerRow) and a constant rowOffset;
  /// else a loop (rowOffset none), whose per-chunk index values CSE cannot
  /// share with other tiles' (the Q load before the KV loop and the O store
  /// after it would otherwise keep them live across it).
  /// `threads`: the threads that copy (the first ones; 0: all of the
  /// CTA's), the caller guarding the others.
  void forEachTileChunk(ImplicitLocOpBuilder &b, int64_t rows,
                        int64_t chunksPerRow, int64_t width, bool unroll,
                        function_ref<void(ImplicitLocOpBuilder &, Value, Value,
                                          std::optional<int64_t>)>
                            body,
                        int64_t threads = 0);
  /// The threads that copy a tile of `rows` rows of `chunksPerRow` chunks
  /// whole rows at a time, unrolled: the CTA's where they cover whole rows,
  /// else the first ones that cover as many rows as divide the tile (head
  /// dim 96, 12 chunks a row: 8 rows of 96 threads of 128; head dim 80: 8
  /// rows of 80). Each thread's chunks then keep one column and rows at
  /// constant offsets. 0 where not even one row fits.
  int64_t wholeRowCopyThreads(int64_t rows, int64_t chunksPerRow) const {
    if (numThreads() % chunksPerRow == 0) {
      return numThreads();
    }
    for (int64_t step = numThreads() / chunksPerRow; step > 0; --step) {
      if (rows % step == 0) {
        return step * chunksPerRow;
      }
    }
    return 0;
  }
  /// Thread t's first chunk of a tile: row t / chunksPerRow, column
  /// (t % chunksPerRow) * width (the column of all its chunks where the
  /// CTA's threads cover whole rows).
  std::pair<Value, Value> emitThreadChunk(ImplicitLocOpBuilder &b,
                                          int64_t chunksPerRow, int64_t width) {
    return {arith::DivUIOp::create(b, threadId, index(b, chunksPerRow)),
            arith::MulIOp::create(
                b, arith::RemUIOp::create(b, threadId, index(b, chunksPerRow)),
                index(b, width))};
  }
  /// Rows between a thread's unrolled chunks; 0 where they are not
  /// unrolled (`threads`, 0: the CTA's, do not cover whole rows).
  int64_t unrolledRowStep(int64_t chunksPerRow, int64_t threads = 0) const {
    if (!threads) {
      threads = numThreads();
    }
    return threads % chunksPerRow == 0 ? threads / chunksPerRow : 0;
  }
  /// The CTA's threads.
  int64_t numThreads() const { return tiling.numWarps * kWarpSize; }
  /// (batch or page, row, kv head) of key `keyIndex` of this sequence, or,
  /// with keyRows/valueRows, its row there.
  SmallVector<Value> kvRowIndices(ImplicitLocOpBuilder &b, Value keyIndex) {
    if (keyRows) {
      return {keyIndex};
    }
    SmallVector<Value> indices(
        emitKeyRow(b, op, key, pageTable, batch, keyIndex, firstKeyRow));
    indices.push_back(kvHead);
    return indices;
  }
  /// This CTA's sequence in a varlen batch's packed tensors, from their
  /// cu_seqlens `offsets`: its first row cu[b] and its length cu[b + 1] -
  /// cu[b] (0 where negative).
  std::pair<Value, Value> emitSequenceRows(ImplicitLocOpBuilder &b,
                                           Value offsets);
  /// The CTA's tile rows that exist: seqlen_q, times the group size where
  /// GQA rows are packed.
  Value emitRowLimit(ImplicitLocOpBuilder &b);
  /// What the CTA's tile rows are (TileRows.h).
  TileRows tileRows() {
    return {op, batch, qHead, kvHead, firstQueryRow, slopes, slope};
  }
  Value queryOfRow(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().query(b, row);
  }
  Value headOfRow(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().head(b, row);
  }
  std::pair<Value, Value> queryTensorRow(ImplicitLocOpBuilder &b,
                                         Value queryIndex) {
    return tileRows().tensorRow(b, queryIndex);
  }
  SmallVector<Value> queryRowIndices(ImplicitLocOpBuilder &b, Value row) {
    auto [tensorBatch, tensorRow] = queryTensorRow(b, queryOfRow(b, row));
    return {tensorBatch, tensorRow, headOfRow(b, row)};
  }
  Value rowSlope(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().slopeOf(b, row);
  }
  Value emitQuadReduce(ImplicitLocOpBuilder &b, Value value, bool isMax);
  Value emitMma(ImplicitLocOpBuilder &b, Value a, Value bFragment, Value c);
  Value emitQueryFragment(ImplicitLocOpBuilder &b, int64_t slab, int64_t kb);
  /// s2 = log2(e) * score of one dot product; ALiBi's `rowSlope2` = log2(e)
  /// * the row's slope and `distance` = query + off - key (f32).
  Value emitScore(ImplicitLocOpBuilder &b, Value dot, Value rowSlope2,
                  Value distance);
  Value emitSlabRow(ImplicitLocOpBuilder &b, int64_t slab);
  SmallVector<Value> emitKvTile(ImplicitLocOpBuilder &b, Value kvTile,
                                Value loopBegin, Value loopEnd,
                                bool issuesHeadCopies, bool masked,
                                ValueRange state);
  void emitLoadKvRows(ImplicitLocOpBuilder &b, Value ring, Value source,
                      Value kvTile, int64_t dim, int64_t paddedDim,
                      WholeTileCopy wholeTile, bool inUnmaskedLoop);
  void emitLoadKeys(ImplicitLocOpBuilder &b, Value kvTile, bool inUnmaskedLoop);
  /// Runs `body` when `condition` holds (uniform across the CTA).
  void emitIf(ImplicitLocOpBuilder &b, Value condition,
              function_ref<void(ImplicitLocOpBuilder &)> body);
  void emitRingTileCopies(ImplicitLocOpBuilder &b, Value kvTile, Value loopEnd,
                          bool inUnmaskedLoop);
  /// The copies a loop over KV tiles [firstTile, loopEnd) issues before its
  /// first tile's wait: with num_stages 2, K(firstTile) (uncommitted); with
  /// a ring, K and V of its first num_stages - 2 tiles, a group each. A
  /// loop's first tile issues them, except in the kernel's first loop,
  /// whose head copies build() issues while Q's is in flight.
  void emitLoopHeadCopies(ImplicitLocOpBuilder &b, Value firstTile,
                          Value loopEnd, bool inUnmaskedLoop);
  void emitLoadValues(ImplicitLocOpBuilder &b, Value kvTile,
                      bool inUnmaskedLoop);
  void emitFinalize(ImplicitLocOpBuilder &b, ValueRange state);
  void emitPartialFinalize(ImplicitLocOpBuilder &b, ValueRange state);
  struct RowTotals {
    Value sum, anyVisible, inverse;
  };
  RowTotals emitRowTotals(ImplicitLocOpBuilder &b, Value partialSum);
  Value emitRowLse(ImplicitLocOpBuilder &b, Value rowMax,
                   const RowTotals &totals);

  SmallVector<Value> flatten(ArrayRef<SlabState> slabs);
  SmallVector<SlabState> unflatten(ValueRange values);

  AttentionOp op;
  MaskModel mask;
  GpuTiling tiling;
  Type elementType;
  int64_t headDim, headDimV, paddedHeadDim, paddedHeadDimV, slabsPerWarp;
  bool packGqa;

  // Kernel arguments and per-CTA values.
  Value query, key, value, output, lse, slopes, cacheSeqlens, pageTable,
      partialOutput, partialLse;
  /// Split-KV: this CTA's chunk, the call's chunk count, and the chunk's KV
  /// tiles [splitBegin, splitEnd).
  Value split, numSplits, splitBegin, splitEnd;
  /// Two-slab kernels without a page table: this CTA's keys and values,
  /// [rows, dim] views of K and V at (sequence, kv head); null otherwise.
  Value keyRows, valueRows;
  /// Variable-length batches: cu_seqlens_q/k and where this CTA's sequence
  /// starts in the packed Q/O/LSE and K/V.
  Value cuSeqlensQ, cuSeqlensK, firstQueryRow, firstKeyRow;
  Value sharedBase, queryTile, keyTile, valueTile;
  /// Every logical shared tile view, for swizzleSharedTile.
  SmallVector<memref::ViewOp> sharedTiles;
  Value batch, qHead, kvHead, firstRow, rowLimit, seqlenQ, seqlenK, offset,
      slope;
  Value threadId, lane, warp, group, threadInGroup;
  /// Q fragments per slab and k-block, loaded once and kept in registers
  /// when the accumulators leave room (else re-read from shared memory).
  SmallVector<SmallVector<Value>> queryFragments;
  bool keepQueryInRegisters;
  /// bf16 MMAs (emitMma): fragments packed into 32-bit registers, per
  /// fragment and block.
  DenseMap<std::pair<Value, Block *>, SmallVector<Value, 4>> packedFragments;
  /// Two slabs per warp fill the 255 registers ptxas allows (252-255 with
  /// the code below), and what saves instructions elsewhere, unrolled
  /// bounds-checked K/V copies and a branch around O's rescaling, makes
  /// them spill. One-slab kernels get both (the branch also the smaller
  /// two-slab kernels: rescalesLazily).
  bool atRegisterCeiling() const { return slabsPerWarp > 1; }
  /// Whether the online softmax keeps a stale reference max and skips O's
  /// rescaling while no row of the warp outgrows it (emitKvTile): one-slab
  /// kernels, and two-slab kernels where twoSlabsRescaleLazily.
  bool rescalesLazily() {
    return !atRegisterCeiling() || twoSlabsRescaleLazily(op, tiling);
  }
  /// The Q tile (and O's, which reuses its memory) in the swizzled layout
  /// (SharedTileLayout.cpp) or with padded rows. Swizzled rows stay 16-byte
  /// aligned to global memory (on an H100, d256's padded K/V copies moved
  /// 1.5x the ideal L2 sectors and 2.6x the shared wavefronts), but its XOR
  /// addressing keeps a base register per 16-column step of a 64-column
  /// window live across the unrolled MMAs: 4 per tile, 12 more in two-slab
  /// kernels with Q, K and V swizzled, which then spilled. Two-
  /// slab kernels whose head dims are not multiples of 64 (XOR windows of
  /// 32 or 16 columns: 2 or 1 such registers) are swizzled: every two-slab
  /// tiling of the bench sweep at head dims 80 and 96 and the numerics
  /// inputs assemble without spills on sm_80 and sm_90, 0-6 registers
  /// more.
  /// Head dims that are not multiples of 8 are copied element by element
  /// (no cp.async to align), and their per-element XORs spilled (sinks,
  /// d59, sm_80).
  bool swizzledQueryTile() const {
    bool narrowWindows = swizzleWindowWidth(paddedHeadDim) < 64 &&
                         swizzleWindowWidth(paddedHeadDimV) < 64;
    return (!atRegisterCeiling() || narrowWindows) && swizzlableHeadDims();
  }
  /// K and V tiles swizzled: wherever Q's is, and in two-slab kernels of
  /// 64-key tiles with fixed-length batches and no KV cache
  /// (FlashAttention-2's 128 x 64 for head dim 128), whose Q keeps padded
  /// rows: their K and V copies are the CTA's global traffic (Q is copied
  /// once), and Q's ldmatrix lanes then need one base register, not 4 (K
  /// and V take 4 each). On an H200, non-causal d128 at 128 x 64 with every
  /// tile swizzled (16 bytes spilled) ran 1.05x its padded kernel at
  /// 8k-16k (this kernel, without the spill, is untimed). ptxas spilled
  /// 8-336 bytes with swizzled K and V where the padded kernel did not: 128
  /// x 128 at d64 (f16, 8 heads, sm_90), 128 x 48, varlen and a paged KV
  /// cache with appends, RoPE and ALiBi (sm_80), and on sm_80 also the
  /// auto tiling of non-causal d128 with one q head (8 bytes), so sm_80
  /// keeps padded K and V there (the kernel timed on H100s until then).
  bool swizzledKvTiles() const {
    AttentionOp attention = op; // Op accessors are not const.
    return swizzledQueryTile() ||
           (atRegisterCeiling() && swizzlableHeadDims() &&
            tiling.blockN == 64 && attention.getTarget() == Target::SM90 &&
            !attention.isVarlen() && !attention.hasKvCache());
  }
  bool swizzlableHeadDims() const {
    return headDim % 8 == 0 && headDimV % 8 == 0;
  }
  /// Two-slab kernels with a padded Q tile: head dims that are multiples
  /// of 64 (FlashAttention-2's 128 x 128 for d64 and 128 x 64 for d128, 192
  /// accumulator registers), where ptxas has no register to spare: Q's
  /// cp.async copy and the key count folded into the mask's bounds
  /// (emitKvTile) each spilled there (4-88 bytes, sm_80 and sm_90).
  bool paddedTwoSlabs() const {
    return atRegisterCeiling() && !swizzledQueryTile();
  }
  /// How the K and V tiles of unmasked KV tiles, whose rows all exist, are
  /// copied. One-slab kernels: their checked copies, already unrolled
  /// (measured on an H100: unchecked, window d64 ran at 151/192 TFLOP/s
  /// at seqlen 1k/8k instead of 184/216, the other one-slab kernels within
  /// noise). Two-slab kernels with K/V row views, whose checked copies are
  /// loops: K unrolled, and V, on sm_90, in a loop; which ones
  /// from ptxas -v over specs/, the numerics inputs, make_ptxas_grid.py's
  /// two-slab kernels and head counts 8-40 (GQA and MHA, f16 and bf16): V
  /// unrolled as well spilled 12 bytes on sm_80 where the kv row stride is
  /// not a power of two, V in a loop on sm_80 12 bytes for f16 GQA, either
  /// on its own 8 bytes on sm_90, and the variable-length kernels 8 bytes
  /// with any of them; V in the loop spilled 8 bytes for causal d64 at 128
  /// x 128 on sm_90 (key tiles of 128 rows with masked boundary tiles),
  /// where V stays checked.
  WholeTileCopy wholeKeyTileCopy() {
    if (!atRegisterCeiling()) {
      return WholeTileCopy::Checked;
    }
    return keyRows && !op.isVarlen() ? WholeTileCopy::Unrolled
                                     : WholeTileCopy::Checked;
  }
  /// With num_stages 2, FlashAttention-2's two barriers per KV tile
  /// (emitKvTile) instead of four. Not where ptxas spilled with them at
  /// 255 registers: two-slab kernels on sm_80 (4 bytes, non-causal and
  /// GQA d128) and varlen two-slab kernels (4 bytes on sm_80 and sm_90).
  bool twoBarriersPerTile() {
    return !atRegisterCeiling() ||
           (op.getTarget() == Target::SM90 && !op.isVarlen());
  }
  /// With two barriers per tile, whether the second one and K(j + 1)'s
  /// copy come before the softmax (FlashAttention-2's order) or after it
  /// (two-slab kernels, at the register ceiling: see emitKvTile).
  bool loadNextKeysBeforeSoftmax() { return !atRegisterCeiling(); }
  WholeTileCopy wholeValueTileCopy() {
    if (!atRegisterCeiling()) {
      return wholeKeyTileCopy();
    }
    bool wideMaskedTiles = tiling.blockN >= 128 && masksKeys(op);
    return keyRows && !op.isVarlen() && op.getTarget() == Target::SM90 &&
                   !wideMaskedTiles
               ? WholeTileCopy::Loop
               : WholeTileCopy::Checked;
  }
};

} // namespace mlir::attn::attn_to_gpu

#endif // ATTNGEN_CONVERSION_ATTNTOGPU_ATTENTIONKERNELBUILDER_H
