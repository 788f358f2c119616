//===- AttnToGPU.cpp - attn.attention to a tensor-core GPU kernel ---------===//
//
// See the pass description in Passes.td. Fragment layouts (PTX ISA,
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
//===----------------------------------------------------------------------===//

#include "attngen/Conversion/Passes.h"
#include "attngen/Dialect/Attn/IR/AttnOps.h"
#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/Rope.h"
#include "attngen/Transforms/SpecFunction.h"
#include "attngen/Transforms/SplitKvMerge.h"
#include "attngen/Transforms/TileRows.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTOGPU
#include "attngen/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr int64_t kWarpSize = 32;
/// Warps per CTA of the split-KV merge kernel (one output row each).
constexpr int64_t kMergeWarps = 4;
/// Warps per CTA of the append kernel, one new (token, kv head) row each,
/// its lanes over the row's 16-byte vectors.
constexpr int64_t kAppendWarps = 4;
/// RoPE pairs per vector op on the GPU (registers stay few).
constexpr int64_t kRopePairsPerChunk = 4;
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;
/// Shared-memory rows are padded by 16 bytes: the 8 rows one ldmatrix
/// matrix reads then start in 8 different bank groups (no conflicts).
constexpr int64_t kRowPadding = 8;
/// How a tile whose rows all exist (firstRow + rows <= rowLimit, known to
/// the caller) is copied by cp.async, each chunk without a bounds check:
/// unrolled (one instruction per chunk at a constant offset) or in a loop
/// over the thread's chunks (one pointer increment per chunk, fewer live
/// values for ptxas to schedule around); Checked: the general copy.
enum class WholeTileCopy { Checked, Unrolled, Loop };

/// Tile copies of at most this many chunks per thread are unrolled.
constexpr int64_t kMaxUnrolledChunks = 32;
/// How far (log2 units) a row max may outgrow the softmax reference before
/// the warp rescales: P <= 2^8 stays exact in f16/bf16 (FlashAttention-4).
constexpr double kStaleMaxLimit = 8.0;
constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

struct GpuTiling {
  int64_t blockM, blockN, numWarps;
  /// 1: a tile's K and V are loaded when it starts; 2: K of the next tile
  /// is loaded while the current one finishes (FlashAttention-2's overlap).
  int64_t numStages;
};

/// 16-row slabs of the Q tile per warp.
int64_t slabsPerWarpOf(const GpuTiling &tiling) {
  return tiling.blockM / (kMmaM * tiling.numWarps);
}

/// 32-bit registers of one 16-row slab's S and O accumulators (4 per 16x8
/// fragment).
int64_t accumulatorRegistersPerSlab(AttentionOp op, const GpuTiling &tiling) {
  return 4 * (tiling.blockN / kMmaN +
              llvm::alignTo(op.getHeadDimV(), kMmaK) / kMmaN);
}

/// Accumulator registers a warp's slabs may take, from ptxas -v (sm_80,
/// sm_90) over head dims 32-128 at 128 x 64 and 128 x 128 on 4 warps, causal
/// or not, with windows, softcap and ALiBi: 192 (FlashAttention-2's 128 x 64
/// tile for d = 128, 128 x 128 for d = 64) assemble without spills for plain
/// scores and power-of-two head dims; other head dims (88-120 at 128 x 64, 56
/// and 59 at 128 x 128 spilled 4-64 bytes at 152-184: padding columns and
/// partial rows cost registers) get 144; softcap and ALiBi, whose per-score
/// terms need registers of their own, 128.
int64_t accumulatorRegisterBudget(AttentionOp op) {
  bool plainScores = op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi();
  bool powerOfTwoDims = llvm::isPowerOf2_64(op.getHeadDim()) &&
                        llvm::isPowerOf2_64(op.getHeadDimV());
  return !plainScores ? 128 : (powerOfTwoDims ? 192 : 144);
}

/// `tiling: "auto"`, from sweeps of every tiling that assembles without
/// spills (bench/gpu/make_specs.py --sweep, bench/decode's decode_sweep;
/// results for an H200 and an H100 are in bench/gpu and bench/decode):
/// - KV-cache kernels are memory-bound (decode reads each cache row once):
///   small CTAs of 32 rows on 2 warps keep the most cache bytes in flight
///   per multiprocessor (0.90 of the copy bandwidth vs 0.68 for 64 x 64 on
///   4 warps, at batch 64 on the H200);
/// - head dim 128 (plain scores, no sinks): FlashAttention-2's 128 x 64 on
///   4 warps, two 16-row slabs per warp that share every K and V fragment:
///   on an H100 at seqlen 8k 323 vs 274 TFLOP/s for 64 x 64 non-causal, 274
///   vs 258 causal. Only where ptxas assembles it without spills at 255
///   registers on sm_80 and sm_90: head_dim_v 128 with smaller head_dims
///   spilled 8-24 bytes, and sinks, a second key range in the boundary
///   tiles' mask, 16-432 bytes (streaming_llm);
/// - otherwise 64 x 64 on 4 warps, one slab per warp, for every head dim:
///   its accumulators fit, and for head dims above 128 it is 15% faster
///   than 64 x 32. (d = 64 at 128 x 128 on 4 warps measured 2-9% faster
///   but its non-causal kernel spills 8 bytes on sm_90.)
GpuTiling autoTiling(AttentionOp op) {
  if (op.hasKvCache())
    return {32, 64, 2, 2};
  GpuTiling twoSlabs{128, 64, 4, 2};
  if (op.getHeadDim() == 128 && op.getHeadDimV() == 128 &&
      op.getSinkTokens() == 0 &&
      slabsPerWarpOf(twoSlabs) * accumulatorRegistersPerSlab(op, twoSlabs) <=
          accumulatorRegisterBudget(op))
    return twoSlabs;
  return {64, 64, 4, 2};
}

/// The online softmax state of one 16-row slab of one warp: per thread, the
/// running max and partial sum of its two rows (g and g + 8) and the O
/// accumulator fragments.
struct SlabState {
  Value rowMax[2], rowSum[2];
  SmallVector<Value> output; // Dvp / 8 x vector<2x2xf32>
};

class GpuKernelBuilder {
public:
  GpuKernelBuilder(AttentionOp op, GpuTiling tiling)
      : op(op), mask(MaskModel::fromOp(op)), tiling(tiling),
        elementType(op.getQuery().getType().getElementType()),
        headDim(op.getHeadDim()), headDimV(op.getHeadDimV()),
        paddedHeadDim(llvm::alignTo(headDim, kMmaK)),
        paddedHeadDimV(llvm::alignTo(headDimV, kMmaK)),
        slabsPerWarp(slabsPerWarpOf(tiling)), packGqa(op.packsGqa()) {
    // 32-bit registers per thread: 4 per 16x16 Q fragment, 4 per 16x8
    // accumulator of S and of O, for each slab.
    int64_t accumulatorRegisters =
        slabsPerWarp * accumulatorRegistersPerSlab(op, tiling);
    int64_t queryRegisters = slabsPerWarp * 4 * (paddedHeadDim / kMmaK);
    keepQueryInRegisters = accumulatorRegisters + queryRegisters <= 160;
  }

  /// Bytes of dynamic shared memory: Q tile, K tile and V tile; the O tile
  /// reuses them at the end.
  int64_t sharedMemoryBytes() const {
    int64_t tiles = 2 * (tiling.blockM * (paddedHeadDim + kRowPadding) +
                         tiling.blockN * (paddedHeadDim + kRowPadding) +
                         tiling.blockN * (paddedHeadDimV + kRowPadding));
    return std::max(tiles, outputTileBytes());
  }
  int64_t outputTileBytes() const {
    return 2 * tiling.blockM * (paddedHeadDimV + kRowPadding);
  }

  void build(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func);

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

  Value sharedTile(ImplicitLocOpBuilder &b, Value base, int64_t &offset,
                   int64_t rows, int64_t cols);
  /// The first three indices of a row of a tile in its tensor: (batch,
  /// query, head) for Q and O, (batch, key, kv head) for per-sequence K/V,
  /// (page, row in page, kv head) for a paged cache.
  using RowIndices =
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)>;
  void emitLoadTile(ImplicitLocOpBuilder &b, Value tile, Value source,
                    RowIndices rowIndices, Value firstRow, Value rowLimit,
                    int64_t rows, int64_t cols, int64_t paddedCols,
                    bool async = false,
                    WholeTileCopy wholeTile = WholeTileCopy::Checked);
  void emitStoreTile(ImplicitLocOpBuilder &b, Value tile, Value dest,
                     RowIndices rowIndices, Value firstRow, Value rowLimit,
                     int64_t rows, int64_t cols);
  /// For every chunk of `width` columns of a rows x (chunksPerRow * width)
  /// tile, spread over the CTA's threads (consecutive threads, consecutive
  /// chunks of a row): body(r, c, rowOffset) with the chunk's tile row and
  /// column. `unroll`: each thread's chunks unrolled where that is short
  /// (the KV loop's copies), and then r = r0 + rowOffset with the thread's
  /// first row r0 < unrolledRowStep(chunksPerRow) and a constant rowOffset;
  /// else a loop (rowOffset none), whose per-chunk index values CSE cannot
  /// share with other tiles' (the Q load before the KV loop and the O store
  /// after it would otherwise keep them live across it).
  void forEachTileChunk(ImplicitLocOpBuilder &b, int64_t rows,
                        int64_t chunksPerRow, int64_t width, bool unroll,
                        function_ref<void(ImplicitLocOpBuilder &, Value, Value,
                                          std::optional<int64_t>)>
                            body);
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
  /// unrolled (the CTA's threads do not cover whole rows).
  int64_t unrolledRowStep(int64_t chunksPerRow) const {
    int64_t numThreads = tiling.numWarps * kWarpSize;
    return numThreads % chunksPerRow == 0 ? numThreads / chunksPerRow : 0;
  }
  /// (batch or page, row, kv head) of key `keyIndex` of this sequence, or,
  /// with keyRows/valueRows, its row there.
  SmallVector<Value> kvRowIndices(ImplicitLocOpBuilder &b, Value keyIndex) {
    if (keyRows)
      return {keyIndex};
    SmallVector<Value> indices(
        emitKeyRow(b, op, key, pageTable, batch, keyIndex, firstKeyRow));
    indices.push_back(kvHead);
    return indices;
  }
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
  /// s2 = log2(e) * score of one dot product; `distance` = query + off -
  /// key (i32), used by ALiBi only.
  Value emitScore(ImplicitLocOpBuilder &b, Value dot, Value rowSlope,
                  Value distance);
  Value emitSlabRow(ImplicitLocOpBuilder &b, int64_t slab);
  SmallVector<Value> emitKvTile(ImplicitLocOpBuilder &b, Value kvTile,
                                Value loopBegin, Value loopEnd, bool masked,
                                ValueRange state);
  void emitLoadKeys(ImplicitLocOpBuilder &b, Value kvTile, bool inUnmaskedLoop);
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
  /// them spill. One-slab kernels get both.
  bool atRegisterCeiling() const { return slabsPerWarp > 1; }
  /// How the K and V tiles of unmasked KV tiles, whose rows all exist, are
  /// copied. One-slab kernels: unrolled, like their checked copies (not
  /// with a page table, whose per-slot page reads the checked copy shares
  /// between chunks). Two-slab kernels with K/V row views, whose checked
  /// copies are loops: K unrolled, and V, on sm_90, in a loop; which ones
  /// from ptxas -v over specs/, the numerics inputs, make_ptxas_grid.py's
  /// two-slab kernels and head counts 8-40 (GQA and MHA, f16 and bf16): V
  /// unrolled as well spilled 12 bytes on sm_80 where the kv row stride is
  /// not a power of two, V in a loop on sm_80 12 bytes for f16 GQA, either
  /// on its own 8 bytes on sm_90, and the variable-length kernels 8 bytes
  /// with any of them.
  WholeTileCopy wholeKeyTileCopy() {
    if (!atRegisterCeiling())
      return op.getPageSize() ? WholeTileCopy::Checked
                              : WholeTileCopy::Unrolled;
    return keyRows && !op.isVarlen() ? WholeTileCopy::Unrolled
                                     : WholeTileCopy::Checked;
  }
  WholeTileCopy wholeValueTileCopy() {
    if (!atRegisterCeiling())
      return wholeKeyTileCopy();
    return keyRows && !op.isVarlen() && op.getTarget() == Target::SM90
               ? WholeTileCopy::Loop
               : WholeTileCopy::Checked;
  }
};

SmallVector<Value> GpuKernelBuilder::flatten(ArrayRef<SlabState> slabs) {
  SmallVector<Value> values;
  for (const SlabState &slab : slabs) {
    values.append({slab.rowMax[0], slab.rowMax[1], slab.rowSum[0],
                   slab.rowSum[1]});
    values.append(slab.output.begin(), slab.output.end());
  }
  return values;
}

SmallVector<SlabState> GpuKernelBuilder::unflatten(ValueRange values) {
  SmallVector<SlabState> slabs(slabsPerWarp);
  int64_t perSlab = 4 + paddedHeadDimV / kMmaN;
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    ValueRange slab = values.slice(s * perSlab, perSlab);
    slabs[s].rowMax[0] = slab[0];
    slabs[s].rowMax[1] = slab[1];
    slabs[s].rowSum[0] = slab[2];
    slabs[s].rowSum[1] = slab[3];
    slabs[s].output.assign(slab.begin() + 4, slab.end());
  }
  return slabs;
}

/// A [rows x (cols + padding)] view of the dynamic shared memory at `offset`
/// bytes, which it advances.
Value GpuKernelBuilder::sharedTile(ImplicitLocOpBuilder &b, Value base,
                                   int64_t &offset, int64_t rows,
                                   int64_t cols) {
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  auto type = MemRefType::get({rows, cols + kRowPadding}, elementType,
                              MemRefLayoutAttrInterface(), workgroup);
  Value view = memref::ViewOp::create(b, type, base, index(b, offset),
                                      ValueRange{});
  offset += rows * (cols + kRowPadding) * 2;
  return view;
}

/// tile[r][c] = source[batch, firstRow + r, head, c] for rows below
/// rowLimit and c < cols, 0 elsewhere (padding rows and columns), by all
/// threads of the CTA; 16-byte vectors when cols is a multiple of 8 (the
/// tensors' base addresses must then be 16-byte aligned, as the runtime
/// checks). `wholeTile`: how a tile whose rows all exist is copied.
void GpuKernelBuilder::emitLoadTile(ImplicitLocOpBuilder &b, Value tile,
                                    Value source, RowIndices rowIndices,
                                    Value firstRow, Value rowLimit,
                                    int64_t rows, int64_t cols,
                                    int64_t paddedCols, bool async,
                                    WholeTileCopy wholeTile) {
  int64_t width = cols % 8 == 0 ? 8 : 1;
  int64_t chunksPerRow = paddedCols / width;
  Type chunkType = width == 1 ? elementType
                              : Type(VectorType::get({width}, elementType));
  auto zero = [&](ImplicitLocOpBuilder &b) -> Value {
    if (width == 1)
      return arith::ConstantFloatOp::create(
          b, cast<FloatType>(elementType), APFloat::getZero(
              cast<FloatType>(elementType).getFloatSemantics()));
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(cast<VectorType>(chunkType),
                                  b.getFloatAttr(elementType, 0.0)));
  };
  // The KV loop's copies unrolled cost 0-16 more registers (ptxas,
  // sm_80/sm_90) for 3 instead of ~23 PTX instructions per chunk.
  bool unroll = async && !atRegisterCeiling();
  // A paged K/V tile (its first row a multiple of `rows`, i.e. block_n)
  // whose unrolled chunks each sit in the page of a constant slot offset:
  // the tile inside one page (page_size a multiple of block_n), or whole
  // pages of whole row steps. Each thread then reads the page table once
  // per distinct slot and tile (1 for pages of 256, 4 instead of 16 for
  // pages of 16 at d128 on 2 warps), and a chunk's row in its page is
  // affine. Past the sequence's length the slot is clamped to the table
  // (the chunk copies 0 bytes from a page of the pool).
  std::optional<int64_t> pageSize = op.getPageSize();
  int64_t rowStep = unrolledRowStep(chunksPerRow);
  bool pagePerSlotOffset =
      unroll && width == 8 && pageSize && rowStep &&
      (*pageSize % rows == 0 ||
       (rows % *pageSize == 0 && *pageSize % rowStep == 0));
  Value firstSlot, firstRowInPage, lastSlot;
  llvm::SmallDenseMap<int64_t, Value> pageOfSlotOffset;
  if (pagePerSlotOffset) {
    firstSlot = arith::DivUIOp::create(b, firstRow, index(b, *pageSize));
    firstRowInPage = arith::RemUIOp::create(b, firstRow, index(b, *pageSize));
    lastSlot = arith::SubIOp::create(b, memref::DimOp::create(b, pageTable, 1),
                                     index(b, 1));
  }
  // A tile whose rows all exist and that has no padding columns: each
  // chunk one cp.async of 16 bytes at an address affine in the thread's
  // chunk index (the rows' stride is static); 3 PTX instructions per chunk
  // unrolled, 7 in the loop, ~22 for the checked loop below.
  int64_t numThreads = tiling.numWarps * kWarpSize;
  int64_t numChunks = rows * chunksPerRow;
  if (async && width == 8 && wholeTile != WholeTileCopy::Checked &&
      cols == paddedCols && rowStep && numChunks % numThreads == 0 &&
      numChunks / numThreads <= kMaxUnrolledChunks) {
    auto copyChunk = [&](ImplicitLocOpBuilder &b, Value r, Value c) {
      SmallVector<Value> indices =
          rowIndices(b, arith::AddIOp::create(b, firstRow, r));
      indices.push_back(c);
      nvgpu::DeviceAsyncCopyOp::create(
          b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tile,
          ValueRange{r, c}, source, indices, b.getIndexAttr(width),
          /*srcElements=*/Value(), b.getUnitAttr());
    };
    if (wholeTile == WholeTileCopy::Unrolled) {
      forEachTileChunk(b, rows, chunksPerRow, width, /*unroll=*/true,
                       [&](ImplicitLocOpBuilder &b, Value r, Value c,
                           std::optional<int64_t>) { copyChunk(b, r, c); });
      return;
    }
    // Chunk i of the thread: its first row + i * rowStep, its column.
    Value threadRow, column;
    std::tie(threadRow, column) = emitThreadChunk(b, chunksPerRow, width);
    scf::ForOp::create(
        b, index(b, 0), index(b, numChunks / numThreads), index(b, 1),
        ValueRange{},
        [&](OpBuilder &nested, Location loc, Value i, ValueRange) {
          ImplicitLocOpBuilder nb(loc, nested);
          copyChunk(nb,
                    arith::AddIOp::create(
                        nb, threadRow,
                        arith::MulIOp::create(nb, i, index(nb, rowStep))),
                    column);
          scf::YieldOp::create(nb);
        });
    return;
  }
  forEachTileChunk(
      b, rows, chunksPerRow, width, unroll,
      [&](ImplicitLocOpBuilder &b, Value r, Value c,
          std::optional<int64_t> rowOffset) {
        Value row = arith::AddIOp::create(b, firstRow, r);
        Value inBounds = arith::AndIOp::create(
            b,
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit),
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, c,
                                  index(b, cols)));
        if (async && width == 8) {
          // cp.async of 16 bytes; a chunk outside the tensor (a row past
          // rowLimit, a padding column) reads 0 bytes and is zero-filled.
          // Unrolled, its address stays affine in the row (never read;
          // the rows' constant offsets fold into the instructions), except
          // that a page table is only read for rows that exist. In the
          // two-slab kernels' loop it is row 0's (the affine form spilled
          // there: ptxas, d128 128 x 64 x 4).
          Value zero = index(b, 0);
          bool unrolled = rowOffset.has_value();
          bool slotKnown = pagePerSlotOffset && unrolled;
          bool affine = unrolled && (!pageSize || slotKnown);
          Value sourceRow =
              affine ? row
                     : arith::SelectOp::create(b, inBounds, row, zero)
                           .getResult();
          Value sourceColumn =
              affine
                  ? c
                  : arith::SelectOp::create(b, inBounds, c, zero).getResult();
          // Selected in i32: the byte count cp.async takes is 32-bit.
          Value sourceElements = arith::IndexCastOp::create(
              b, b.getIndexType(),
              arith::SelectOp::create(b, inBounds, i32(b, width), i32(b, 0)));
          SmallVector<Value> indices;
          if (slotKnown) {
            int64_t slotOffset = *rowOffset / *pageSize;
            Value &page = pageOfSlotOffset[slotOffset];
            if (!page)
              page = emitPageOfSlot(
                  b, source, pageTable, batch,
                  arith::MinSIOp::create(
                      b,
                      arith::AddIOp::create(b, firstSlot, index(b, slotOffset)),
                      lastSlot));
            Value rowInPage = arith::AddIOp::create(
                b, firstRowInPage,
                arith::SubIOp::create(b, r, index(b, slotOffset * *pageSize)));
            indices = {page, rowInPage, kvHead};
          } else {
            indices = rowIndices(b, sourceRow);
          }
          indices.push_back(sourceColumn);
          nvgpu::DeviceAsyncCopyOp::create(
              b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tile,
              ValueRange{r, c}, source, indices, b.getIndexAttr(width),
              sourceElements, b.getUnitAttr());
          return;
        }
        auto loaded = scf::IfOp::create(
            b, inBounds,
            [&](OpBuilder &thenBuilder, Location loc) {
              ImplicitLocOpBuilder b(loc, thenBuilder);
              SmallVector<Value> indices = rowIndices(b, row);
              indices.push_back(c);
              Value v = width == 1
                            ? memref::LoadOp::create(b, source, indices)
                                  .getResult()
                            : vector::LoadOp::create(
                                  b, cast<VectorType>(chunkType), source,
                                  indices, /*nontemporal=*/false,
                                  llvm::Align(16))
                                  .getResult();
              scf::YieldOp::create(b, v);
            },
            [&](OpBuilder &elseBuilder, Location loc) {
              ImplicitLocOpBuilder b(loc, elseBuilder);
              scf::YieldOp::create(b, zero(b));
            });
        if (width == 1)
          memref::StoreOp::create(b, loaded.getResult(0), tile,
                                  ValueRange{r, c});
        else
          vector::StoreOp::create(b, loaded.getResult(0), tile,
                                  ValueRange{r, c}, /*nontemporal=*/false,
                                  llvm::Align(16));
      });
}

void GpuKernelBuilder::forEachTileChunk(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t chunksPerRow, int64_t width,
    bool unroll,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value,
                      std::optional<int64_t>)>
        body) {
  int64_t numThreads = tiling.numWarps * kWarpSize;
  int64_t numChunks = rows * chunksPerRow;
  int64_t chunksPerThread = llvm::divideCeil(numChunks, numThreads);
  int64_t rowStep = unrolledRowStep(chunksPerRow);
  if (unroll && rowStep && chunksPerThread <= kMaxUnrolledChunks) {
    // Chunk t + i * numThreads of thread t: column (t % chunksPerRow) *
    // width for every i, row t / chunksPerRow + i * rowStep. Unrolled, the
    // column and first row are computed once and each chunk's row is one
    // add: no loop counter, no branch, and the copies can be scheduled
    // among the MMAs.
    auto [firstRow, column] = emitThreadChunk(b, chunksPerRow, width);
    for (int64_t i = 0; i < chunksPerThread; ++i) {
      Value row = arith::AddIOp::create(b, firstRow, index(b, i * rowStep));
      if ((i + 1) * numThreads <= numChunks) {
        body(b, row, column, i * rowStep);
        continue;
      }
      // The last round covers part of the tile: chunk < numChunks, that
      // is row < rows.
      auto inTile =
          scf::IfOp::create(b,
                            arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                                  row, index(b, rows)),
                            /*withElse=*/false);
      ImplicitLocOpBuilder nested(b.getLoc(),
                                  inTile.thenBlock()->getTerminator());
      body(nested, row, column, i * rowStep);
    }
    return;
  }
  scf::ForOp::create(
      b, threadId, index(b, numChunks), index(b, numThreads), ValueRange{},
      [&](OpBuilder &nested, Location loc, Value chunk, ValueRange) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value r = arith::DivUIOp::create(nb, chunk, index(nb, chunksPerRow));
        Value c = arith::MulIOp::create(
            nb, arith::RemUIOp::create(nb, chunk, index(nb, chunksPerRow)),
            index(nb, width));
        body(nb, r, c, std::nullopt);
        scf::YieldOp::create(nb);
      });
}

/// dest[batch, firstRow + r, head, c] = tile[r][c] for rows below rowLimit
/// and c < cols, by all threads of the CTA: consecutive threads take
/// consecutive 16-byte chunks of a row (coalesced) when cols is a multiple
/// of 8, else single elements.
void GpuKernelBuilder::emitStoreTile(ImplicitLocOpBuilder &b, Value tile,
                                     Value dest, RowIndices rowIndices,
                                     Value firstRow, Value rowLimit,
                                     int64_t rows, int64_t cols) {
  int64_t width = cols % 8 == 0 ? 8 : 1;
  int64_t chunksPerRow = llvm::divideCeil(cols, width);
  forEachTileChunk(
      b, rows, chunksPerRow, width, /*unroll=*/false,
      [&](ImplicitLocOpBuilder &b, Value r, Value c, std::optional<int64_t>) {
        Value row = arith::AddIOp::create(b, firstRow, r);
        Value rowExists =
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
        auto ifRow = scf::IfOp::create(b, rowExists, /*withElse=*/false);
        b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
        SmallVector<Value> indices = rowIndices(b, row);
        indices.push_back(c);
        if (width == 1) {
          Value v = memref::LoadOp::create(b, tile, ValueRange{r, c});
          memref::StoreOp::create(b, v, dest, indices);
        } else {
          auto type = VectorType::get({width}, elementType);
          Value v = vector::LoadOp::create(b, type, tile, ValueRange{r, c},
                                           /*nontemporal=*/false,
                                           llvm::Align(16));
          vector::StoreOp::create(b, v, dest, indices,
                                  /*nontemporal=*/false, llvm::Align(16));
        }
        b.setInsertionPointAfter(ifRow);
      });
}

/// Reduces over the 4 lanes of a quad (the lanes holding one row):
/// xor-shuffles by 1 and 2.
Value GpuKernelBuilder::emitQuadReduce(ImplicitLocOpBuilder &b, Value value,
                                       bool isMax) {
  for (int64_t offset : {1, 2}) {
    Value other = gpu::ShuffleOp::create(b, value, i32(b, offset),
                                         i32(b, kWarpSize),
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    value = isMax ? arith::MaximumFOp::create(b, value, other).getResult()
                  : arith::AddFOp::create(b, value, other).getResult();
  }
  return value;
}

/// D = A B + C on one m16n8k16 tensor-core MMA. f16 goes through
/// nvgpu.mma.sync; bf16 (which nvgpu does not lower) through nvvm.mma.sync
/// on the same fragments packed two elements to a 32-bit register.
Value GpuKernelBuilder::emitMma(ImplicitLocOpBuilder &b, Value a,
                                Value bFragment, Value c) {
  if (elementType.isF16())
    return nvgpu::MmaSyncOp::create(b, a, bFragment, c,
                                    ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK});
  // A fragment feeds several MMAs (Q's and P's every key or column tile,
  // K's and V's every slab): it is packed into 32-bit registers once per
  // block (a later use in the same block comes after the packing).
  Block *block = b.getInsertionBlock();
  auto packed = [&](Value fragment, int64_t count) {
    SmallVector<Value, 4> &registers = packedFragments[{fragment, block}];
    if (registers.empty())
      for (int64_t i = 0; i < count; ++i) {
        Value pair = vector::ExtractOp::create(b, fragment, i);
        Value word = vector::BitCastOp::create(
            b, VectorType::get({1}, b.getI32Type()), pair);
        registers.push_back(vector::ExtractOp::create(b, word, 0));
      }
    return SmallVector<Value>(registers.begin(), registers.end());
  };
  // The accumulator's four f32, straight from the MMA of this block that
  // produced it (its result struct's fields, below).
  auto fromMma = [&](vector::FromElementsOp vector) {
    return vector && vector->getBlock() == block &&
           llvm::all_of(vector.getElements(), [](Value element) {
             auto field = element.getDefiningOp<LLVM::ExtractValueOp>();
             return field && field.getContainer().getDefiningOp<NVVM::MmaOp>();
           });
  };
  SmallVector<Value> accumulator;
  if (auto previous = c.getDefiningOp<vector::FromElementsOp>();
      fromMma(previous)) {
    accumulator.assign(previous.getElements().begin(),
                       previous.getElements().end());
  } else {
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        accumulator.push_back(
            vector::ExtractOp::create(b, c, ArrayRef<int64_t>{i, j}));
  }
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value result = NVVM::MmaOp::create(
      b, resultType, packed(a, 4), packed(bFragment, 2), accumulator,
      ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                    NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> elements;
  for (int64_t i = 0; i < 4; ++i)
    elements.push_back(LLVM::ExtractValueOp::create(b, result, i));
  return vector::FromElementsOp::create(b, c.getType(), elements);
}

/// The A fragment of Q for slab `slab` and head-dim block `kb`: ldmatrix.x4
/// at row slabRow + lane % 16, column 16 kb + (lane / 16) * 8.
Value GpuKernelBuilder::emitQueryFragment(ImplicitLocOpBuilder &b,
                                          int64_t slab, int64_t kb) {
  if (keepQueryInRegisters && static_cast<int64_t>(queryFragments.size()) > slab)
    return queryFragments[slab][kb];
  Value slabRow = arith::MulIOp::create(
      b, arith::AddIOp::create(b, index(b, slab * tiling.numWarps), warp),
      index(b, kMmaM));
  Value laneMod16 = arith::RemUIOp::create(b, lane, index(b, 16));
  Value laneColumn = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, lane, index(b, 16)), index(b, 8));
  return nvgpu::LdMatrixOp::create(
      b, VectorType::get({4, 2}, elementType), queryTile,
      ValueRange{arith::AddIOp::create(b, slabRow, laneMod16),
                 arith::AddIOp::create(b, index(b, kb * kMmaK), laneColumn)},
      /*transpose=*/false, /*numTiles=*/4);
}

/// s2 = log2(e) * score: scaled, soft-capped, ALiBi-biased (as on the CPU).
/// tanh(x) = 1 - 2 / (2^(2 x log2 e) + 1): one ex2.approx and one
/// div.approx (the divide's `afn`) instead of a rational polynomial, as
/// FlashAttention's softcap spends one multifunction instruction. Absolute
/// error about 1e-7 (the rounding of 1 - q), so relative error grows only
/// for |x| below ~1e-4, where it shifts a softcapped score by about
/// softcap * 1e-7; exactly +-1 for large |x| (2^inf = inf, 2^-inf = 0).
static Value emitFastTanh(ImplicitLocOpBuilder &b, Value x) {
  Type f32 = b.getF32Type();
  auto constant = [&](double v) {
    return arith::ConstantOp::create(b, b.getFloatAttr(f32, v));
  };
  Value power = math::Exp2Op::create(
      b, arith::MulFOp::create(b, x, constant(2.0 * kLog2E)));
  Value quotient = arith::DivFOp::create(
      b, constant(2.0), arith::AddFOp::create(b, power, constant(1.0)),
      arith::FastMathFlags::afn);
  return arith::SubFOp::create(b, constant(1.0), quotient);
}

Value GpuKernelBuilder::emitScore(ImplicitLocOpBuilder &b, Value dot,
                                  Value rowSlope, Value distance) {
  double scale = op.getScale().convertToDouble();
  double softcap = op.getSoftcap().convertToDouble();
  if (softcap == 0.0 && !op.getAlibi())
    return arith::MulFOp::create(b, dot, f32(b, scale * kLog2E));
  Value score = arith::MulFOp::create(b, dot, f32(b, scale));
  if (softcap > 0.0) {
    Value tanh =
        emitFastTanh(b, arith::MulFOp::create(b, score, f32(b, 1.0 / softcap)));
    score = arith::MulFOp::create(b, tanh, f32(b, softcap));
  }
  if (op.getAlibi()) {
    // |d| = max(d, -d), in integers (no libdevice call).
    Value absDistance = arith::MaxSIOp::create(
        b, distance, arith::SubIOp::create(b, i32(b, 0), distance));
    score = arith::SubFOp::create(
        b, score,
        arith::MulFOp::create(
            b, rowSlope,
            arith::SIToFPOp::create(b, b.getF32Type(), absDistance)));
  }
  return arith::MulFOp::create(b, score, f32(b, kLog2E));
}

/// The first row of slab `slab` of this warp.
Value GpuKernelBuilder::emitSlabRow(ImplicitLocOpBuilder &b, int64_t slab) {
  return arith::AddIOp::create(
      b, firstRow,
      arith::MulIOp::create(
          b, arith::AddIOp::create(b, index(b, slab * tiling.numWarps), warp),
          index(b, kMmaM)));
}

/// K rows [kvTile * block_n, +block_n) into the K buffer by cp.async;
/// `inUnmaskedLoop`: the tile is one of a loop over unmasked tiles, which
/// end at or before seqlen_k.
void GpuKernelBuilder::emitLoadKeys(ImplicitLocOpBuilder &b, Value kvTile,
                                    bool inUnmaskedLoop) {
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, tiling.blockN));
  emitLoadTile(
      b, keyTile, keyRows ? keyRows : key,
      [&](ImplicitLocOpBuilder &b, Value row) { return kvRowIndices(b, row); },
      firstKey, seqlenK, tiling.blockN, headDim, paddedHeadDim,
      /*async=*/true,
      inUnmaskedLoop ? wholeKeyTileCopy() : WholeTileCopy::Checked);
}

/// One KV tile of a loop over [loopBegin, loopEnd): stage K and V, S = Q K^T
/// on tensor cores, the online softmax in registers, O += P V on tensor
/// cores.
///
/// cp.async groups, committed in this order by every thread (some empty):
///   num_stages 1: K(j), V(j); S waits for K(j), PV for V(j).
///   num_stages 2: K(j) (only in a loop's first iteration; else it came
///     with the previous one), V(j), then K(j + 1) after the last slab's
///     softmax (every warp has read K(j) by the barrier before it). S waits
///     for K(j) with V(j) in flight; PV waits for V(j) with K(j + 1) in
///     flight, so the next tile's K loads during this one's PV.
///     (FlashAttention-2 issues K(j + 1) before the softmax; here that keeps
///     more values live across the branch and ptxas spills on some specs.)
SmallVector<Value> GpuKernelBuilder::emitKvTile(ImplicitLocOpBuilder &b,
                                                Value kvTile, Value loopBegin,
                                                Value loopEnd, bool masked,
                                                ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  int64_t blockN = tiling.blockN;
  bool prefetch = tiling.numStages >= 2;
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, blockN));
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  auto commitGroup = [&]() -> Value {
    return nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, ValueRange{});
  };
  // Waits until at most `pending` of the latest groups are in flight.
  auto waitGroups = [&](Value token, int64_t pending) {
    nvgpu::DeviceAsyncWaitOp::create(b, token, b.getI32IntegerAttr(pending));
  };
  // Runs `body` when `condition` holds (uniform across the CTA).
  auto emitIf = [&](Value condition,
                    llvm::function_ref<void(ImplicitLocOpBuilder &)> body) {
    auto ifOp = scf::IfOp::create(b, condition, /*withElseRegion=*/false);
    ImplicitLocOpBuilder thenBuilder(b.getLoc(), b.getContext());
    thenBuilder.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body(thenBuilder);
  };

  // Every warp is done with the previous tile's V (and, without prefetch,
  // K) before they are replaced.
  gpu::BarrierOp::create(b);
  if (prefetch)
    emitIf(
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kvTile, loopBegin),
        [&](ImplicitLocOpBuilder &nb) { emitLoadKeys(nb, kvTile, !masked); });
  else
    emitLoadKeys(b, kvTile, !masked);
  commitGroup();
  emitLoadTile(
      b, valueTile, valueRows ? valueRows : value,
      [&](ImplicitLocOpBuilder &b, Value row) { return kvRowIndices(b, row); },
      firstKey, seqlenK, blockN, headDimV, paddedHeadDimV,
      /*async=*/true, masked ? WholeTileCopy::Checked : wholeValueTileCopy());
  Value valueGroup = commitGroup();
  // All groups but V(j)'s have landed: K(j) is in shared memory.
  waitGroups(valueGroup, 1);
  gpu::BarrierOp::create(b);

  auto fragmentType = [&](int64_t rows) {
    return VectorType::get({rows, 2}, elementType);
  };
  auto accumulatorType = VectorType::get({2, 2}, b.getF32Type());
  Value zeroAccumulator = arith::ConstantOp::create(
      b, DenseElementsAttr::get(accumulatorType, 0.0f));
  int64_t numKeyTiles = blockN / kMmaN;
  Value laneMod8 = arith::RemUIOp::create(b, lane, index(b, 8));
  Value laneHalf = arith::MulIOp::create(
      b,
      arith::RemUIOp::create(b, arith::DivUIOp::create(b, lane, index(b, 8)),
                             index(b, 2)),
      index(b, 8));
  Value laneMod16 = arith::RemUIOp::create(b, lane, index(b, 16));
  // ldmatrix.x4: lanes 8i..8i+7 address matrix i.
  Value laneSixteenth = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, lane, index(b, 16)), index(b, 8));
  // Fragment `half` (0 or 1) of an x4 load's two B fragments.
  auto halfOf = [&](Value pair, int64_t half) -> Value {
    return vector::ExtractStridedSliceOp::create(
        b, pair, ArrayRef<int64_t>{2 * half, 0}, ArrayRef<int64_t>{2, 2},
        ArrayRef<int64_t>{1, 1});
  };
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  int64_t keySteps = paddedHeadDim / kMmaK;
  double scale = op.getScale().convertToDouble();
  bool linearScores =
      op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi() && scale > 0.0;
  Value scoreScale = f32(b, scale * kLog2E);

  // S = Q K^T for all of the warp's slabs at once: one 16x8 f32 accumulator
  // per slab and 8 keys. Every K fragment read from shared memory feeds the
  // MMAs of every slab (two slabs: per MMA, half the ldmatrix traffic of
  // slab by slab). k16 step by k16 step, so that only one Q fragment per
  // slab is live; one ldmatrix.x4 gives the B fragments of two key tiles
  // (matrices: keys 8nt + 8(i / 2), columns 16kb + 8(i % 2)).
  SmallVector<SmallVector<Value>> scores(
      slabsPerWarp, SmallVector<Value>(numKeyTiles, zeroAccumulator));
  Value keyPairRow = arith::AddIOp::create(
      b, laneMod8,
      arith::MulIOp::create(b, arith::DivUIOp::create(b, lane, index(b, 16)),
                            index(b, 8)));
  for (int64_t kb = 0; kb < keySteps; ++kb) {
    SmallVector<Value> slabQuery;
    for (int64_t s = 0; s < slabsPerWarp; ++s)
      slabQuery.push_back(emitQueryFragment(b, s, kb));
    Value keyColumn = arith::AddIOp::create(b, index(b, kb * kMmaK), laneHalf);
    for (int64_t nt = 0; nt < numKeyTiles; nt += 2) {
      Value pair = nvgpu::LdMatrixOp::create(
          b, fragmentType(4), keyTile,
          ValueRange{arith::AddIOp::create(b, index(b, nt * kMmaN), keyPairRow),
                     keyColumn},
          /*transpose=*/false, /*numTiles=*/4);
      for (int64_t s = 0; s < slabsPerWarp; ++s)
        for (int64_t half = 0; half < 2; ++half)
          scores[s][nt + half] = emitMma(b, slabQuery[s], halfOf(pair, half),
                                         scores[s][nt + half]);
    }
  }

  // The online softmax, slab by slab. P leaves as the A operands of the
  // second MMA, rounded to the input type: per slab and 16 keys,
  // {S(2kb)[0], S(2kb)[1], S(2kb+1)[0], S(2kb+1)[1]}.
  SmallVector<SmallVector<Value>> probabilityFragments(slabsPerWarp);
  Value keyBase = arith::AddIOp::create(
      b, firstKey, arith::MulIOp::create(b, threadInGroup, index(b, 2)));
  // c < seqlen_k - keyBase: the key exists.
  Value keyLimit = arith::IndexCastOp::create(
      b, b.getI32Type(), arith::SubIOp::create(b, seqlenK, keyBase));
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    // Element (i, j) of key tile nt: row = slab row + g + 8i, key =
    // keyBase + c with keyBase = firstKey + 2t and c = 8nt + j. Masks and
    // ALiBi distances compare per-row values (relative to keyBase, in i32)
    // against the constant c: no per-element index arithmetic, and nothing
    // per element stays live across the slabs.
    Value slabRow = emitSlabRow(b, s);
    SmallVector<Value> values(numKeyTiles * 4);
    Value tileMax[2] = {negInf, negInf};
    for (int64_t nt = 0; nt < numKeyTiles; ++nt) {
      for (int64_t i = 0; i < 2; ++i) {
        Value row = arith::AddIOp::create(
            b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
        Value query = queryOfRow(b, row);
        Value slopeOfRow = rowSlope(b, row);
        // (query + off) - keyBase: the key distance of c = 0.
        Value rowDistance =
            op.getAlibi()
                ? arith::IndexCastOp::create(
                      b, b.getI32Type(),
                      arith::SubIOp::create(
                          b, arith::AddIOp::create(b, query, offset), keyBase))
                      .getResult()
                : Value();
        for (int64_t j = 0; j < 2; ++j) {
          int64_t keyOffset = nt * kMmaN + j;
          Value dot = vector::ExtractOp::create(b, scores[s][nt],
                                                ArrayRef<int64_t>{i, j});
          // Plain scores (s = dot * scale * log2 e) stay raw dot products
          // here: the row max is taken on them and scaled once per row, and
          // each P is one FMA and an exp2 (FlashAttention's form).
          Value distance =
              rowDistance
                  ? arith::SubIOp::create(b, rowDistance, i32(b, keyOffset))
                        .getResult()
                  : Value();
          Value score =
              linearScores ? dot : emitScore(b, dot, slopeOfRow, distance);
          if (masked) {
            Value key = i32(b, keyOffset);
            Value exists = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                 key, keyLimit);
            Value visible = arith::AndIOp::create(
                b, exists, mask.emitVisible(b, query, key, offset, keyBase));
            score = arith::SelectOp::create(b, visible, score, negInf);
          }
          values[nt * 4 + i * 2 + j] = score;
          tileMax[i] = arith::MaximumFOp::create(b, tileMax[i], score);
        }
      }
    }
    // The reference m of a row (P = exp2(s - m), O and l relative to it)
    // moves to max(m, rowmax(S)). In one-slab kernels it moves only when
    // some row of the warp grew by more than kStaleMaxLimit
    // (FlashAttention-4's conditional rescaling): otherwise P <=
    // 2^kStaleMaxLimit, O / l and m + log2 l are unchanged, and the warp
    // skips O *= exp2(m - m') (1 for every row). A row that grew from -inf
    // always moves. Reference 0 for rows with nothing visible.
    bool staleReference = !atRegisterCeiling();
    Value newMax[2], anyGrows;
    for (int64_t i = 0; i < 2; ++i) {
      Value rowTileMax = emitQuadReduce(b, tileMax[i], /*isMax=*/true);
      if (linearScores)
        rowTileMax = arith::MulFOp::create(b, rowTileMax, scoreScale);
      newMax[i] = arith::MaximumFOp::create(b, slabs[s].rowMax[i], rowTileMax);
      if (!staleReference)
        continue;
      // -inf -> finite: +inf > limit; -inf -> -inf: NaN, false.
      Value grows = arith::CmpFOp::create(
          b, arith::CmpFPredicate::OGT,
          arith::SubFOp::create(b, newMax[i], slabs[s].rowMax[i]),
          f32(b, kStaleMaxLimit));
      anyGrows = anyGrows ? arith::OrIOp::create(b, anyGrows, grows) : grows;
    }
    Value warpRescales =
        staleReference
            ? NVVM::VoteSyncOp::create(b, b.getI1Type(), i32(b, -1), anyGrows,
                                       NVVM::VoteSyncKind::any)
                  .getResult()
            : Value();
    Value reference[2], rescale[2], negReference[2];
    for (int64_t i = 0; i < 2; ++i) {
      Value kept = staleReference
                       ? arith::SelectOp::create(b, warpRescales, newMax[i],
                                                 slabs[s].rowMax[i])
                             .getResult()
                       : newMax[i];
      Value noneVisible =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, kept, negInf);
      reference[i] = arith::SelectOp::create(b, noneVisible, f32(b, 0.0), kept);
      rescale[i] = math::Exp2Op::create(
          b, arith::SubFOp::create(b, slabs[s].rowMax[i], reference[i]));
      negReference[i] = arith::NegFOp::create(b, reference[i]);
      slabs[s].rowMax[i] = kept;
    }
    // P = exp2(S - m'); each thread sums its part of the row (quads combine
    // once, at the end).
    Value partialSum[2] = {nullptr, nullptr};
    SmallVector<Value> probabilities(values.size());
    for (int64_t e = 0; e < static_cast<int64_t>(values.size()); ++e) {
      int64_t i = (e / 2) % 2;
      Value shifted =
          linearScores
              ? Value(math::FmaOp::create(b, values[e], scoreScale,
                                          negReference[i]))
              : Value(arith::SubFOp::create(b, values[e], reference[i]));
      Value p = math::Exp2Op::create(b, shifted);
      partialSum[i] =
          partialSum[i] ? arith::AddFOp::create(b, partialSum[i], p) : p;
      probabilities[e] = p;
    }
    for (int64_t i = 0; i < 2; ++i)
      slabs[s].rowSum[i] = math::FmaOp::create(b, rescale[i],
                                               slabs[s].rowSum[i],
                                               partialSum[i]);
    // Rounded to the input type as vectors: pairs become one
    // cvt.rn.{bf16,f16}x2.f32 each.
    for (int64_t kb = 0; kb < blockN / kMmaK; ++kb)
      probabilityFragments[s].push_back(arith::TruncFOp::create(
          b, fragmentType(4),
          vector::FromElementsOp::create(
              b, VectorType::get({4, 2}, b.getF32Type()),
              ArrayRef<Value>(probabilities).slice(2 * kb * 4, 8))));
    // O *= rescale, row by row (when the warp's references moved).
    auto rescaleOutput = [&](ImplicitLocOpBuilder &b) {
      Value rescaleFragment = vector::FromElementsOp::create(
          b, accumulatorType,
          ValueRange{rescale[0], rescale[0], rescale[1], rescale[1]});
      SmallVector<Value> output;
      for (Value acc : slabs[s].output)
        output.push_back(arith::MulFOp::create(b, acc, rescaleFragment));
      return output;
    };
    if (!staleReference) {
      slabs[s].output = rescaleOutput(b);
      continue;
    }
    auto rescaled = scf::IfOp::create(
        b, warpRescales,
        [&](OpBuilder &thenBuilder, Location loc) {
          ImplicitLocOpBuilder tb(loc, thenBuilder);
          scf::YieldOp::create(tb, rescaleOutput(tb));
        },
        [&](OpBuilder &elseBuilder, Location loc) {
          scf::YieldOp::create(elseBuilder, loc, slabs[s].output);
        });
    slabs[s].output.assign(rescaled.getResults().begin(),
                           rescaled.getResults().end());
  }

  bool nextKeysInFlight = false;
  if (prefetch) {
    // Every warp has read K(j): load K(j + 1) during PV.
    gpu::BarrierOp::create(b);
    Value nextTile = arith::AddIOp::create(b, kvTile, index(b, 1));
    emitIf(
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, nextTile, loopEnd),
        [&](ImplicitLocOpBuilder &nb) { emitLoadKeys(nb, nextTile, !masked); });
    commitGroup();
    nextKeysInFlight = true;
  }
  // V(j)'s group has landed and is visible to all; K(j + 1)'s may still be
  // in flight.
  waitGroups(valueGroup, nextKeysInFlight ? 1 : 0);
  gpu::BarrierOp::create(b);

  // O += P V for all slabs at once: B fragments from V by
  // ldmatrix.x4.trans, two n8 columns of V per load (matrices at rows
  // 16kb + 8(i % 2), columns 8dt + 8(i / 2)), each feeding every slab.
  for (int64_t kb = 0; kb < blockN / kMmaK; ++kb) {
    Value valueRow = arith::AddIOp::create(b, index(b, kb * kMmaK), laneMod16);
    for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; dt += 2) {
      Value pair = nvgpu::LdMatrixOp::create(
          b, fragmentType(4), valueTile,
          ValueRange{valueRow, arith::AddIOp::create(b, index(b, dt * kMmaN),
                                                     laneSixteenth)},
          /*transpose=*/true, /*numTiles=*/4);
      for (int64_t s = 0; s < slabsPerWarp; ++s)
        for (int64_t half = 0; half < 2; ++half)
          slabs[s].output[dt + half] =
              emitMma(b, probabilityFragments[s][kb], halfOf(pair, half),
                      slabs[s].output[dt + half]);
    }
  }
  return flatten(slabs);
}

/// One row's softmax totals after its last KV tile: l summed over the quad,
/// whether any key was visible, and 1 / l (0 without a visible key).
GpuKernelBuilder::RowTotals
GpuKernelBuilder::emitRowTotals(ImplicitLocOpBuilder &b, Value partialSum) {
  RowTotals totals;
  totals.sum = emitQuadReduce(b, partialSum, /*isMax=*/false);
  totals.anyVisible = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                            totals.sum, f32(b, 0));
  totals.inverse = arith::SelectOp::create(
      b, totals.anyVisible, arith::DivFOp::create(b, f32(b, 1.0), totals.sum),
      f32(b, 0.0));
  return totals;
}

/// LSE = (m + log2 l) ln 2, -inf without a visible key.
Value GpuKernelBuilder::emitRowLse(ImplicitLocOpBuilder &b, Value rowMax,
                                   const RowTotals &totals) {
  Value logSum = arith::MulFOp::create(
      b, arith::AddFOp::create(b, rowMax, math::Log2Op::create(b, totals.sum)),
      f32(b, kLn2));
  return arith::SelectOp::create(
      b, totals.anyVisible, logSum,
      f32(b, -std::numeric_limits<double>::infinity()));
}

/// O = acc / l (0 without a visible key), LSE = (m + log2 l) ln 2 (-inf).
/// O goes through shared memory: each thread writes its accumulator pairs
/// into an O tile (4-byte stores, conflict-free with the padded rows), then
/// the CTA copies whole rows out with coalesced 16-byte stores.
void GpuKernelBuilder::emitFinalize(ImplicitLocOpBuilder &b,
                                    ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  // Every warp is done with Q, K and V in shared memory.
  gpu::BarrierOp::create(b);
  int64_t sharedOffset = 0;
  Value outputTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockM,
                                paddedHeadDimV);
  auto pairType = VectorType::get({2}, elementType);
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    Value slabRow = emitSlabRow(b, s);
    Value slabFirstRow = arith::SubIOp::create(b, slabRow, firstRow);
    for (int64_t i = 0; i < 2; ++i) {
      Value row = arith::AddIOp::create(
          b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      Value tileRow = arith::AddIOp::create(
          b, slabFirstRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      RowTotals totals = emitRowTotals(b, slabs[s].rowSum[i]);
      for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; ++dt) {
        Value column = arith::AddIOp::create(
            b, arith::MulIOp::create(b, threadInGroup, index(b, 2)),
            index(b, dt * kMmaN));
        SmallVector<Value> pair;
        for (int64_t j = 0; j < 2; ++j) {
          Value acc = vector::ExtractOp::create(b, slabs[s].output[dt],
                                                ArrayRef<int64_t>{i, j});
          pair.push_back(arith::TruncFOp::create(
              b, elementType, arith::MulFOp::create(b, acc, totals.inverse)));
        }
        vector::StoreOp::create(
            b, vector::FromElementsOp::create(b, pairType, pair), outputTile,
            ValueRange{tileRow, column});
      }
      if (op.returnsLse()) {
        // One lane of the quad writes the row's LSE.
        Value rowExists =
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
        Value firstOfQuad = arith::CmpIOp::create(
            b, arith::CmpIPredicate::eq, threadInGroup, index(b, 0));
        auto ifWriter = scf::IfOp::create(
            b, arith::AndIOp::create(b, rowExists, firstOfQuad), false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifWriter.thenBlock()->getTerminator());
        auto [tensorBatch, queryIndex] = queryTensorRow(b, queryOfRow(b, row));
        memref::StoreOp::create(
            b, emitRowLse(b, slabs[s].rowMax[i], totals), lse,
            ValueRange{tensorBatch, headOfRow(b, row), queryIndex});
      }
    }
  }
  gpu::BarrierOp::create(b);
  emitStoreTile(
      b, outputTile, output,
      [&](ImplicitLocOpBuilder &b, Value row) {
        return queryRowIndices(b, row);
      },
      firstRow, rowLimit, tiling.blockM, headDimV);
}

void GpuKernelBuilder::build(ImplicitLocOpBuilder &b, gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  query = entry.getArgument(0);
  key = entry.getArgument(1);
  value = entry.getArgument(2);
  output = entry.getArgument(3);
  lse = entry.getArgument(4);
  slopes = entry.getArgument(5);
  cacheSeqlens = entry.getArgument(6);
  pageTable = entry.getArgument(7);
  partialOutput = entry.getArgument(8);
  partialLse = entry.getArgument(9);
  cuSeqlensQ = entry.getArgument(10);
  cuSeqlensK = entry.getArgument(11);

  // Grid (row tile, q head or, with GQA packing, kv head, batch); block
  // 32 * num_warps threads. Split-KV: x = row tile * num_splits + split.
  Value qTileIndex = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  if (op.getSplitKv()) {
    numSplits = memref::DimOp::create(b, partialLse, 0);
    split = arith::RemUIOp::create(b, qTileIndex, numSplits);
    qTileIndex = arith::DivUIOp::create(b, qTileIndex, numSplits);
  }
  Value headIndex = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  threadId = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, threadId, index(b, kWarpSize));
  warp = arith::DivUIOp::create(b, threadId, index(b, kWarpSize));
  group = arith::DivUIOp::create(b, lane, index(b, 4));
  threadInGroup = arith::RemUIOp::create(b, lane, index(b, 4));
  // GQA/MQA: q head h reads kv head h / (num_q_heads / num_kv_heads).
  if (packGqa) {
    kvHead = headIndex;
  } else {
    qHead = headIndex;
    kvHead = arith::DivUIOp::create(b, qHead, index(b, op.getGroupSize()));
  }
  seqlenQ = memref::DimOp::create(b, query, 1);
  if (op.isVarlen()) {
    // This CTA's sequence in the packed tensors: rows [cu[b], cu[b + 1]).
    auto bounds = [&](Value offsets) -> std::pair<Value, Value> {
      auto load = [&](Value at) -> Value {
        return arith::IndexCastOp::create(
            b, b.getIndexType(), memref::LoadOp::create(b, offsets, at));
      };
      Value start = load(batch);
      Value next = load(arith::AddIOp::create(b, batch, index(b, 1)));
      return {start, arith::MaxSIOp::create(
                         b, arith::SubIOp::create(b, next, start), index(b, 0))};
    };
    std::tie(firstQueryRow, seqlenQ) = bounds(cuSeqlensQ);
    // Keys: packed like the queries, or the sequence's cache (below).
    if (!op.hasKvCache())
      std::tie(firstKeyRow, seqlenK) = bounds(cuSeqlensK);
  }
  rowLimit = packGqa ? arith::MulIOp::create(b, seqlenQ,
                                             index(b, op.getGroupSize()))
                           .getResult()
                     : seqlenQ;
  // This sequence's keys (cache_seqlens[b], clamped to the cache, for KV
  // caches).
  if (op.hasKvCache() || !op.isVarlen())
    seqlenK = emitSequenceKeyCount(b, op, key, cacheSeqlens, pageTable, batch,
                                   seqlenQ);
  offset = op.getCausalAlign() == CausalAlign::BottomRight
               ? arith::SubIOp::create(b, seqlenK, seqlenQ).getResult()
               : index(b, 0);
  firstRow = arith::MulIOp::create(b, qTileIndex, index(b, tiling.blockM));
  Value lastRow = arith::SubIOp::create(
      b,
      arith::MinSIOp::create(
          b, arith::AddIOp::create(b, firstRow, index(b, tiling.blockM)),
          rowLimit),
      index(b, 1));
  if (op.getAlibi() && !packGqa)
    slope = memref::LoadOp::create(b, slopes, qHead);
  // The grid covers the longest sequence of a varlen batch: CTAs past the
  // end of a shorter one have nothing to do (uniform for the whole CTA).
  auto hasRows = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, firstRow, rowLimit),
      /*withElseRegion=*/false);
  b.setInsertionPoint(hasRows.thenBlock()->getTerminator());

  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  sharedBase = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                         MemRefLayoutAttrInterface(), workgroup));
  int64_t sharedOffset = 0;
  queryTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockM,
                         paddedHeadDim);
  keyTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockN,
                       paddedHeadDim);
  valueTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockN,
                         paddedHeadDimV);

  if (!op.getPageSize() && atRegisterCeiling()) {
    // Two slabs per warp: K and V rows of this CTA's sequence and kv head
    // as [rows, dim] views, whose base is computed once; the KV loop's
    // copies add only the row (fewer 64-bit values live through it than
    // batch and head indices: the non-causal d = 128 kernel at 128 x 64 on 4
    // warps stopped spilling on sm_90). One-slab kernels keep the indices:
    // there the views cost 0-16 registers (ptxas, sm_80/sm_90).
    SmallVector<Value, 2> origin =
        emitKeyRow(b, op, key, pageTable, batch, index(b, 0), firstKeyRow);
    auto rowsOf = [&](Value tensor, int64_t dim) -> Value {
      auto type = cast<MemRefType>(tensor.getType());
      SmallVector<OpFoldResult> offsets{origin[0], origin[1], kvHead,
                                        b.getIndexAttr(0)};
      Value rows = arith::SubIOp::create(b, memref::DimOp::create(b, tensor, 1),
                                         origin[1]);
      SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), rows,
                                      b.getIndexAttr(1), b.getIndexAttr(dim)};
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      auto resultType = memref::SubViewOp::inferRankReducedResultType(
          {ShapedType::kDynamic, dim}, type, offsets, sizes, strides);
      return memref::SubViewOp::create(b, cast<MemRefType>(resultType), tensor,
                                       offsets, sizes, strides);
    };
    keyRows = rowsOf(key, headDim);
    valueRows = rowsOf(value, headDimV);
  }
  // Q tile -> shared -> A fragments (in registers when they fit).
  emitLoadTile(
      b, queryTile, query,
      [&](ImplicitLocOpBuilder &b, Value row) {
        return queryRowIndices(b, row);
      },
      firstRow, rowLimit, tiling.blockM, headDim, paddedHeadDim);
  gpu::BarrierOp::create(b);
  if (RopeAttr rope = op.getRopeAttr()) {
    // RoPE in shared memory: lane l rotates rows l, l + 32, ... and warp w
    // the chunks c with c % num_warps == w (a warp-uniform branch), so a
    // decode tile of a few rows still spreads over every warp. Rotated q is
    // rounded to the 16-bit type, as FlashAttention's rotary kernels do.
    Value rows =
        arith::MinSIOp::create(b, index(b, tiling.blockM),
                               arith::SubIOp::create(b, rowLimit, firstRow));
    auto loop = scf::ForOp::create(b, lane, rows, index(b, kWarpSize));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value r = loop.getInductionVar();
      Value position = emitQueryPosition(
          b, seqlenK, seqlenQ,
          queryOfRow(b, arith::AddIOp::create(b, firstRow, r)));
      emitRotateRow(b, rope, position, queryTile, {r, index(b, 0)}, queryTile,
                    {r, index(b, 0)}, kRopePairsPerChunk,
                    [&](ImplicitLocOpBuilder &b, int64_t chunk) -> Value {
                      return arith::CmpIOp::create(
                          b, arith::CmpIPredicate::eq, warp,
                          index(b, chunk % tiling.numWarps));
                    });
    }
    gpu::BarrierOp::create(b);
  }
  if (keepQueryInRegisters) {
    for (int64_t slab = 0; slab < slabsPerWarp; ++slab) {
      SmallVector<Value> fragments;
      for (int64_t kb = 0; kb < paddedHeadDim / kMmaK; ++kb)
        fragments.push_back(emitQueryFragment(b, slab, kb));
      queryFragments.push_back(fragments);
    }
  }

  // m = -inf, l = 0, O = 0.
  SmallVector<SlabState> initial(slabsPerWarp);
  Value zeroAccumulator = arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({2, 2}, b.getF32Type()), 0.0f));
  for (SlabState &slab : initial) {
    slab.rowMax[0] = slab.rowMax[1] =
        f32(b, -std::numeric_limits<double>::infinity());
    slab.rowSum[0] = slab.rowSum[1] = f32(b, 0.0);
    slab.output.assign(paddedHeadDimV / kMmaN, zeroAccumulator);
  }
  SmallVector<Value> state = flatten(initial);

  if (split) {
    // Chunk s of the KV tiles: [s * c, min((s + 1) * c, tiles)) with
    // c = ceil(tiles / num_splits); every loop below is clipped to it.
    Value numKvTiles =
        arith::CeilDivSIOp::create(b, seqlenK, index(b, tiling.blockN));
    Value chunk = arith::CeilDivSIOp::create(b, numKvTiles, numSplits);
    splitBegin = arith::MulIOp::create(b, split, chunk);
    splitEnd = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, splitBegin, chunk), numKvTiles);
  }
  // The mask depends on the tile's query range.
  for (const KvTileRanges &range : mask.emitTileRanges(
           b, queryOfRow(b, firstRow), queryOfRow(b, lastRow), offset, seqlenK,
           tiling.blockN)) {
    auto emitTiles = [&](Value lb, Value ub, bool masked) {
      if (split) {
        lb = arith::MaxSIOp::create(b, lb, splitBegin);
        ub = arith::MaxSIOp::create(b, lb,
                                    arith::MinSIOp::create(b, ub, splitEnd));
      }
      auto loop = scf::ForOp::create(
          b, lb, ub, index(b, 1), state,
          [&](OpBuilder &nested, Location loc, Value tile, ValueRange iter) {
            ImplicitLocOpBuilder nb(loc, nested);
            scf::YieldOp::create(nb,
                                 emitKvTile(nb, tile, lb, ub, masked, iter));
          });
      state.assign(loop.getResults().begin(), loop.getResults().end());
    };
    if (!range.leadingBoundaryIsEmpty)
      emitTiles(range.begin, range.fullBegin, /*masked=*/true);
    emitTiles(range.fullBegin, range.fullEnd, /*masked=*/false);
    emitTiles(range.fullEnd, range.end, /*masked=*/true);
  }
  if (split) {
    // A call whose keys come in one chunk needs no merge: its CTA writes O
    // and the LSE itself (the manifest's merge.skipped_for_one_chunk), and
    // the launcher skips the merge and the workspace.
    auto oneChunk =
        scf::IfOp::create(b,
                          arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                numSplits, index(b, 1)),
                          /*withElseRegion=*/true);
    ImplicitLocOpBuilder thenBuilder(b.getLoc(),
                                     oneChunk.thenBlock()->getTerminator());
    emitFinalize(thenBuilder, state);
    ImplicitLocOpBuilder elseBuilder(b.getLoc(),
                                     oneChunk.elseBlock()->getTerminator());
    emitPartialFinalize(elseBuilder, state);
  } else {
    emitFinalize(b, state);
  }
  b.setInsertionPointAfter(hasRows);
  gpu::ReturnOp::create(b);
}

/// Split-KV: this chunk's O, normalized by its own sum, and its LSE (-inf
/// without a visible key) in f32, straight from the accumulators to the
/// workspace (few rows per call: no staging).
void GpuKernelBuilder::emitPartialFinalize(ImplicitLocOpBuilder &b,
                                           ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    Value slabRow = emitSlabRow(b, s);
    for (int64_t i = 0; i < 2; ++i) {
      Value row = arith::AddIOp::create(
          b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      RowTotals totals = emitRowTotals(b, slabs[s].rowSum[i]);
      Value rowExists =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
      auto ifRow = scf::IfOp::create(b, rowExists, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
      Value head = headOfRow(b, row);
      auto [tensorBatch, queryIndex] = queryTensorRow(b, queryOfRow(b, row));
      for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; ++dt) {
        for (int64_t j = 0; j < 2; ++j) {
          OpBuilder::InsertionGuard columnGuard(b);
          Value column = arith::AddIOp::create(
              b, arith::MulIOp::create(b, threadInGroup, index(b, 2)),
              index(b, dt * kMmaN + j));
          if (dt * kMmaN + kMmaN > headDimV) {
            auto ifColumn = scf::IfOp::create(
                b,
                arith::CmpIOp::create(b, arith::CmpIPredicate::slt, column,
                                      index(b, headDimV)),
                false);
            b.setInsertionPoint(ifColumn.thenBlock()->getTerminator());
          }
          Value acc = vector::ExtractOp::create(b, slabs[s].output[dt],
                                                ArrayRef<int64_t>{i, j});
          memref::StoreOp::create(
              b, arith::MulFOp::create(b, acc, totals.inverse), partialOutput,
              ValueRange{split, tensorBatch, queryIndex, head, column});
        }
      }
      auto ifWriter = scf::IfOp::create(
          b,
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, threadInGroup,
                                index(b, 0)),
          false);
      b.setInsertionPoint(ifWriter.thenBlock()->getTerminator());
      memref::StoreOp::create(b, emitRowLse(b, slabs[s].rowMax[i], totals),
                              partialLse,
                              ValueRange{split, tensorBatch, head, queryIndex});
    }
  }
}

struct AttnToGPUPass : public mlir::attn::impl::AttnToGPUBase<AttnToGPUPass> {
  using AttnToGPUBase::AttnToGPUBase;

  LogicalResult lowerFunction(func::FuncOp func, AttentionOp op,
                              gpu::GPUModuleOp gpuModule);
  void buildAppendKernel(OpBuilder &builder, AttentionOp op,
                         const std::string &name, ArrayRef<Type> kernelTypes);
  void buildMergeKernel(OpBuilder &builder, AttentionOp op,
                        const std::string &name, ArrayRef<Type> kernelTypes);
  void runOnOperation() override;
};

LogicalResult AttnToGPUPass::lowerFunction(func::FuncOp func, AttentionOp op,
                                           gpu::GPUModuleOp gpuModule) {
  // The kernel's parameters come from the op's operands, whatever their
  // position among the function's arguments.
  if (failed(verifySpecFunction(func, op, "attn-to-gpu")))
    return failure();
  Type element = op.getQuery().getType().getElementType();
  if (!element.isF16() && !element.isBF16())
    return op.emitOpError()
           << "the GPU kernel runs f16 and bf16 on tensor cores; " << element
           << " specs run on the CPU target";

  GpuTiling tiling = autoTiling(op);
  if (TilingAttr spec = op.getTilingAttr())
    tiling = {spec.getBlockM(), spec.getBlockN(), spec.getNumWarps(),
              spec.getNumStages()};
  if (numStages)
    tiling.numStages = numStages;
  if (tiling.numStages > 2)
    return op.emitOpError()
           << "num_stages = " << tiling.numStages
           << " needs more than one K and V buffer in shared memory, which "
              "the sm_80 kernel does not have yet; use 1 (no overlap) or 2 "
              "(the next tile's K loads during the current tile)";
  if (blockM)
    tiling.blockM = blockM;
  if (blockN)
    tiling.blockN = blockN;
  if (numWarps)
    tiling.numWarps = numWarps;
  if (tiling.numWarps < 1 || tiling.blockM % (kMmaM * tiling.numWarps) != 0 ||
      tiling.blockN < kMmaK || tiling.blockN % kMmaK != 0)
    return op.emitOpError()
           << "GPU tiling needs block_m a multiple of 16 * num_warps and "
              "block_n a multiple of 16, got block_m = "
           << tiling.blockM << ", block_n = " << tiling.blockN
           << ", num_warps = " << tiling.numWarps;

  // Where a warp's slabs would not fit the register budget, more warps
  // share the Q tile instead.
  while (slabsPerWarpOf(tiling) > 1 &&
         slabsPerWarpOf(tiling) * accumulatorRegistersPerSlab(op, tiling) >
             accumulatorRegisterBudget(op) &&
         tiling.numWarps < 16)
    tiling.numWarps *= 2;

  OpBuilder builder(gpuModule.getBodyRegion());
  builder.setInsertionPointToEnd(gpuModule.getBody());
  SmallVector<Type> argTypes = {
      toKernelMemRef(op.getQuery().getType()), toKernelMemRef(op.getKey().getType()),
      toKernelMemRef(op.getValue().getType()), toKernelMemRef(op.getOutput().getType()),
      MemRefType::get(
          {ShapedType::kDynamic, op.getNumQHeads(), ShapedType::kDynamic},
          builder.getF32Type()),
      MemRefType::get({op.getNumQHeads()}, builder.getF32Type())};
  argTypes.append(kvCacheKernelMemRefs(builder.getContext()));
  argTypes.append(splitKvKernelMemRefs(op));
  argTypes.append(varlenKernelMemRefs(builder.getContext()));
  auto kernel = gpu::GPUFuncOp::create(builder, func.getLoc(), func.getName(),
                                       builder.getFunctionType(argTypes, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  int32_t numThreads = static_cast<int32_t>(tiling.numWarps * kWarpSize);
  kernel.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({numThreads, 1, 1}));
  // One CTA per multiprocessor is enough (FlashAttention-2's launch bounds):
  // without it ptxas caps registers for occupancy and spills the
  // accumulators of the larger kernels.
  kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  builder.getI32IntegerAttr(1));
  GpuKernelBuilder kernelBuilder(op, tiling);
  kernel->setAttr("attn.shared_memory_bytes",
                  builder.getI64IntegerAttr(kernelBuilder.sharedMemoryBytes()));
  kernel->setAttr("attn.tile_sizes",
                  builder.getDenseI64ArrayAttr(
                      {tiling.blockM, tiling.blockN, tiling.numWarps}));
  // Grid (ceil(seqlen_q * group / block_m), num_kv_heads, batch).
  if (op.packsGqa())
    kernel->setAttr("attn.pack_gqa", builder.getUnitAttr());
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  b.setInsertionPointToStart(&kernel.getBody().front());
  kernelBuilder.build(b, kernel);
  if (op.getSplitKv()) {
    // Grid x = row tiles * num_splits; the merge runs after it.
    kernel->setAttr("attn.merge_kernel",
                    builder.getStringAttr(func.getName() + "_merge"));
    buildMergeKernel(builder, op, (func.getName() + "_merge").str(),
                     argTypes);
  }
  if (op.appendsKv()) {
    // Launched before the attention kernel on the same stream.
    kernel->setAttr("attn.append_kernel",
                    builder.getStringAttr(func.getName() + "_append"));
    buildAppendKernel(builder, op, (func.getName() + "_append").str(),
                      argTypes);
  }
  func.erase();
  return success();
}

/// `<name>_append(k_new, v_new, k, v, cache_seqlens, page_table,
/// cu_seqlens_q)`: one warp per new row r = (packed token) * num_kv_heads +
/// h, stored at cache row cache_seqlens[b] + j (the key rotated by RoPE;
/// KvCacheAppend.h), lane l moving the row's vectors n with n % 32 = l (a
/// 128-dim bf16 row: one 16-byte vector of K and one of V per lane); grid
/// (ceil(rows / kAppendWarps)), block 32 * kAppendWarps.
void AttnToGPUPass::buildAppendKernel(OpBuilder &builder, AttentionOp op,
                                      const std::string &name,
                                      ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = appendParameterTypes(op, kernelTypes);
  auto append = gpu::GPUFuncOp::create(builder, loc, name,
                                       builder.getFunctionType(types, {}));
  append->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  append.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {static_cast<int32_t>(kAppendWarps * kWarpSize), 1, 1}));
  Block &entry = append.getBody().front();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&entry);
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  KvAppendOperands operands{entry.getArgument(0), entry.getArgument(1),
                            entry.getArgument(2), entry.getArgument(3),
                            entry.getArgument(4), entry.getArgument(5),
                            entry.getArgument(6)};
  Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            index(kAppendWarps)),
      arith::DivUIOp::create(b, thread, index(kWarpSize)));
  auto ifRow = scf::IfOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row,
                            emitAppendRowCount(b, op, operands)),
      /*withElseRegion=*/false);
  b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
  // Rows start on 16 bytes when the head dims are multiples of 8: the
  // package's input alignment (GpuPackage.cpp) that libattnrt checks.
  emitAppendRow(b, op, operands, row, 2 * kRopePairsPerChunk,
                op.getHeadDim() % 8 == 0 && op.getHeadDimV() % 8 == 0,
                [&](ImplicitLocOpBuilder &nb, int64_t chunk) -> Value {
                  return arith::CmpIOp::create(
                      nb, arith::CmpIPredicate::eq, lane,
                      arith::ConstantIndexOp::create(nb, chunk % kWarpSize));
                });
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

/// `<name>_merge(o, lse, partial_o, partial_lse)`: one warp per output row,
/// row = (b * seqlen_q + i) * num_q_heads + h, lanes over its columns;
/// grid (ceil(rows / kMergeWarps)), block 32 * kMergeWarps.
void AttnToGPUPass::buildMergeKernel(OpBuilder &builder, AttentionOp op,
                                     const std::string &name,
                                     ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = {kernelTypes[3], kernelTypes[4], kernelTypes[8],
                             kernelTypes[9]};
  auto merge = gpu::GPUFuncOp::create(builder, loc, name,
                                      builder.getFunctionType(types, {}));
  merge->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                 builder.getUnitAttr());
  merge.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {static_cast<int32_t>(kMergeWarps * kWarpSize), 1, 1}));
  Block &entry = merge.getBody().front();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&entry);
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  mlir::attn::SplitKvMergeOperands operands{
      entry.getArgument(0), entry.getArgument(1), entry.getArgument(2),
      entry.getArgument(3)};
  Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            index(kMergeWarps)),
      arith::DivUIOp::create(b, thread, index(kWarpSize)));
  Value seqlenQ = memref::DimOp::create(b, operands.output, 1);
  int64_t numQHeads = op.getNumQHeads();
  Value rows = arith::MulIOp::create(
      b,
      arith::MulIOp::create(b, memref::DimOp::create(b, operands.output, 0),
                            seqlenQ),
      index(numQHeads));
  auto ifRow = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, rows),
      /*withElseRegion=*/false);
  b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
  Value head = arith::RemUIOp::create(b, row, index(numQHeads));
  Value rest = arith::DivUIOp::create(b, row, index(numQHeads));
  emitSplitKvMergeRow(
      b, op, operands, arith::DivUIOp::create(b, rest, seqlenQ),
      arith::RemUIOp::create(b, rest, seqlenQ), head, lane, index(kWarpSize),
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, index(0)));
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

void AttnToGPUPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  module.walk([&](AttentionOp op) {
    work.emplace_back(op->getParentOfType<func::FuncOp>(), op);
  });
  if (work.empty())
    return;
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(&getContext()));
  OpBuilder builder(module.getBodyRegion());
  builder.setInsertionPointToEnd(module.getBody());
  auto gpuModule =
      gpu::GPUModuleOp::create(builder, module.getLoc(), "attn_kernels");
  for (auto [func, op] : work) {
    if (!func || failed(lowerFunction(func, op, gpuModule)))
      return signalPassFailure();
  }
}

} // namespace
