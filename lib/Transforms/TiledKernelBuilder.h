//===- TiledKernelBuilder.h - the tiled CPU kernel --------------*- C++ -*-===//
//
// Builds attn-tile's kernel function for one attn.attention op: staging of
// Q, K and V tiles into f32 scratch buffers, the register-blocked online
// softmax over KV tiles (TiledKvTile.cpp), and the work item's frame and
// epilogue (TiledKernelBuilder.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_TILEDKERNELBUILDER_H
#define ATTNGEN_TRANSFORMS_TILEDKERNELBUILDER_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/TileRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::attn::attn_tile {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
/// The host CPU's cache line: the granule of software prefetches.
constexpr int64_t kCacheLineBytes = 64;
/// RoPE pairs rotated per vector op (two AVX2 registers of f32).
constexpr int64_t kRopePairsPerChunk = 16;

/// The kernel's operands, in signature order.
struct KernelArgs {
  Value query, key, value, output, lse, slopes, cacheSeqlens, pageTable,
      partialOutput, partialLse, cuSeqlensQ, cuSeqlensK, begin, end;
};

/// Register blocking: rows x vectors of accumulators kept in registers
/// across a reduction loop (4 rows x 2 vectors: 8 FMAs per 6 loads).
constexpr int64_t kRowsPerBlock = 4;
constexpr int64_t kVectorsPerChunk = 2;

/// Builds the tiled kernel of one attn.attention op.
///
/// Per work item, the Q tile is staged as f32 in `qTile[BM][D]`; per KV tile,
/// K is staged transposed as f32 in `keyT[D][BN]` and V in `valueTile[BN][Dvp]`
/// (Dvp = head_dim_v rounded up to the vector width, zero padded). Then each
/// row of the Q tile runs, on vectors of W lanes and four rows at a time (the
/// Q tile is padded with zero rows to a multiple of 4):
///   S row   = sum_d qTile[r, d] * keyT[d, :]     (4 rows x 2 vectors in
///                                                 registers across d)
///   S row   = score(S row), masked in boundary tiles
///   m'      = max(m, rowmax(S));  P = exp2(S - m');  l = a * l + rowsum(P)
///   acc row = a * acc row + sum_c P[c] * valueTile[c, :]
/// with a = exp2(m - m').
class TiledKernelBuilder {
public:
  TiledKernelBuilder(AttentionOp op, int64_t blockM, int64_t blockN,
                     int64_t width)
      : op(op), mask(MaskModel::fromOp(op)), blockM(blockM), blockN(blockN),
        width(width), paddedHeadDimV(llvm::alignTo(op.getHeadDimV(), width)),
        elementType(op.getQuery().getType().getElementType()) {}

  /// Emits the kernel body at `b`'s insertion point.
  void build(ImplicitLocOpBuilder &b, const KernelArgs &args);

private:
  Value index(ImplicitLocOpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }
  VectorType vectorType(Type element) {
    return VectorType::get({width}, element);
  }
  Value f32(ImplicitLocOpBuilder &b, double value) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                          APFloat(static_cast<float>(value)));
  }
  /// A constant of `type` (f32 or a vector of f32) equal to `value`.
  Value constantLike(ImplicitLocOpBuilder &b, Type type, double value) {
    auto vector = dyn_cast<VectorType>(type);
    if (!vector) {
      return f32(b, value);
    }
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(vector, static_cast<float>(value)));
  }
  Value splat(ImplicitLocOpBuilder &b, Value scalar) {
    return vector::BroadcastOp::create(b, vectorType(scalar.getType()), scalar);
  }
  /// K/V indices of key `key` of the work item's sequence, column `dim`.
  SmallVector<Value> kvIndices(ImplicitLocOpBuilder &b, Value key, Value dim) {
    SmallVector<Value> indices(
        emitKeyRow(b, op, args.key, args.pageTable, batch, key, firstKeyRow));
    indices.append({kvHead, dim});
    return indices;
  }
  /// Loads an element of a kernel operand as f32.
  Value loadF32(ImplicitLocOpBuilder &b, Value memref, ValueRange indices) {
    Value element = memref::LoadOp::create(b, memref, indices);
    if (element.getType().isF32()) {
      return element;
    }
    return arith::ExtFOp::create(b, b.getF32Type(), element);
  }
  /// W elements of row `key` of K or V (`tensor`) from column `column`, as
  /// f32 (16-bit caches are widened in registers).
  Value loadKvVectorF32(ImplicitLocOpBuilder &b, Value tensor, Value key,
                        Value column) {
    Value row = vector::LoadOp::create(b, vectorType(elementType), tensor,
                                       kvIndices(b, key, column));
    if (elementType.isF32()) {
      return row;
    }
    return arith::ExtFOp::create(b, vectorType(b.getF32Type()), row);
  }
  /// for iv in [lb, ub) step `step` with loop-carried values; `body`
  /// returns the yields.
  ValueRange forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub,
                     ValueRange inits,
                     function_ref<SmallVector<Value>(ImplicitLocOpBuilder &,
                                                     Value, ValueRange)>
                         body,
                     int64_t step = 1) {
    auto loop = scf::ForOp::create(
        b, lb, ub, index(b, step), inits,
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iterArgs) {
          ImplicitLocOpBuilder nb(loc, nested);
          SmallVector<Value> yields = body(nb, iv, iterArgs);
          scf::YieldOp::create(nb, yields);
        });
    return loop.getResults();
  }

  ValueRange emitOuterProducts(
      ImplicitLocOpBuilder &b, Value extent, ValueRange inits, int64_t count,
      function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> lhsScalar,
      function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> rhsVector);
  Value emitScore(ImplicitLocOpBuilder &b, Value dot, Value query,
                  Value rowSlope, Value keys);
  /// What the work item's tile rows are (TileRows.h).
  TileRows tileRows() {
    return {op, batch, qHead, kvHead, firstQueryRow, args.slopes, slope};
  }
  Value queryOfRow(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().query(b, row);
  }
  Value headOfRow(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().head(b, row);
  }
  Value rowSlope(ImplicitLocOpBuilder &b, Value row) {
    return tileRows().slopeOf(b, row);
  }
  void emitStageKv(ImplicitLocOpBuilder &b, Value firstKey, Value numKeys);
  void emitPrefetchKeyRow(ImplicitLocOpBuilder &b, Value key);
  SmallVector<Value> emitScoreRows(ImplicitLocOpBuilder &b,
                                   Value firstRowOfBlock, bool fuseMax);
  Value emitSoftmaxRow(ImplicitLocOpBuilder &b, Value r, int64_t blockRow,
                       Value firstKey, bool masked, Value fusedMax);
  /// Without softcap and ALiBi the score is linear in q, so the staged Q
  /// carries scale * log2(e) and S needs no further transform.
  bool isScoreLinear() {
    return op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi();
  }
  void emitKvTile(ImplicitLocOpBuilder &b, Value kvTile, bool masked);
  void emitDirectScores(ImplicitLocOpBuilder &b, Value firstKey, Value numKeys);
  void emitRowBlocks(ImplicitLocOpBuilder &b, Value firstKey, Value numKeys,
                     bool masked, bool direct);
  void emitFinalize(ImplicitLocOpBuilder &b);

  AttentionOp op;
  MaskModel mask;
  int64_t blockM, blockN, width, paddedHeadDimV;
  Type elementType;

  // Values of the work item being built.
  KernelArgs args;
  Value batch, qHead, kvHead, firstRow, numRows, offset, seqlenK, slope;
  /// Variable-length batches: the rows where this sequence's queries and
  /// keys start in the packed tensors.
  Value firstQueryRow, firstKeyRow;
  /// (batch, sequence row) of query `query` of this item's sequence in Q, O
  /// and LSE: (batch, query), or (0, first row + query) when packed.
  std::pair<Value, Value> queryTensorRow(ImplicitLocOpBuilder &b, Value query) {
    return tileRows().tensorRow(b, query);
  }
  /// Split-KV: this work item's chunk of KV tiles [splitBegin, splitEnd).
  Value split, splitBegin, splitEnd;
  // Scratch buffers (see the class comment).
  Value qTile, keyT, valueTile, scoreRows, accumulator, rowMax, rowSum;
  Value lanes;
};

} // namespace mlir::attn::attn_tile

#endif // ATTNGEN_TRANSFORMS_TILEDKERNELBUILDER_H
