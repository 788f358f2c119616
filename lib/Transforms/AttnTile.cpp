//===- AttnTile.cpp - attn.attention to a fused online-softmax loop nest --===//
//
// See the pass description in Passes.td. The kernel function this builds:
//
//   for w in [begin, end):                     (b, h, Q tile) = unflatten(w)
//     m = -inf, l = 0, acc = 0                 per row of the Q tile
//     for each KV tile range of the mask:      (empty tiles are not in any)
//       for t in range:                        masked or unmasked body
//         S   = scale * log2(e) * Q K_t^T      (+ softcap, ALiBi, mask)
//         m'  = max(m, rowmax(S));  P = exp2(S - m')
//         l   = exp2(m - m') * l + rowsum(P)
//         acc = exp2(m - m') * acc + P V_t;    m = m'
//     O = acc / l;  LSE = (m + log2(l)) * ln(2)   (0 and -inf if l == 0)
//
//===----------------------------------------------------------------------===//

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/Passes.h"
#include "attngen/Transforms/Rope.h"
#include "attngen/Transforms/SpecFunction.h"
#include "attngen/Transforms/SplitKvMerge.h"
#include "attngen/Transforms/TileRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
/// Tile sizes when the spec says "auto": a 128-row Q tile amortizes the
/// staging of each 64-key K/V tile; both stay in L2 up to head dim 256
/// (measured in bench/cpu, see bench/cpu/README.md).
constexpr int64_t kAutoBlockM = 128;
constexpr int64_t kAutoBlockN = 64;
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
    if (!vector)
      return f32(b, value);
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
    if (element.getType().isF32())
      return element;
    return arith::ExtFOp::create(b, b.getF32Type(), element);
  }
  /// W elements of row `key` of K or V (`tensor`) from column `column`, as
  /// f32 (16-bit caches are widened in registers).
  Value loadKvVectorF32(ImplicitLocOpBuilder &b, Value tensor, Value key,
                        Value column) {
    Value row = vector::LoadOp::create(b, vectorType(elementType), tensor,
                                       kvIndices(b, key, column));
    if (elementType.isF32())
      return row;
    return arith::ExtFOp::create(b, vectorType(b.getF32Type()), row);
  }
  /// for iv in [lb, ub) step `step` with loop-carried values; `body`
  /// returns the yields.
  ValueRange forLoop(
      ImplicitLocOpBuilder &b, Value lb, Value ub, ValueRange inits,
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
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
  std::pair<Value, Value> queryTensorRow(ImplicitLocOpBuilder &b,
                                         Value query) {
    return tileRows().tensorRow(b, query);
  }
  /// Split-KV: this work item's chunk of KV tiles [splitBegin, splitEnd).
  Value split, splitBegin, splitEnd;
  // Scratch buffers (see the class comment).
  Value qTile, keyT, valueTile, scoreRows, accumulator, rowMax, rowSum;
  Value lanes;
};

/// The register-blocked loop shared by S = Q K^T and acc += P V: for x in
/// [0, extent), acc[j * count + i] += splat(lhs(x, j)) * rhs(x, i) for the
/// kRowsPerBlock rows j and `count` vectors i, accumulators in registers.
ValueRange TiledKernelBuilder::emitOuterProducts(
    ImplicitLocOpBuilder &b, Value extent, ValueRange inits, int64_t count,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> lhsScalar,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> rhsVector) {
  return forLoop(
      b, index(b, 0), extent, inits,
      [&](ImplicitLocOpBuilder &b, Value x,
          ValueRange partial) -> SmallVector<Value> {
        SmallVector<Value> rhs;
        for (int64_t i = 0; i < count; ++i)
          rhs.push_back(rhsVector(b, x, i));
        SmallVector<Value> next;
        for (int64_t j = 0; j < kRowsPerBlock; ++j) {
          Value lhs = splat(b, lhsScalar(b, x, j));
          for (int64_t i = 0; i < count; ++i)
            next.push_back(
                math::FmaOp::create(b, lhs, rhs[i], partial[j * count + i]));
        }
        return next;
      });
}

/// s2 = log2(e) * score(q.k) on a vector of keys: the scaled score,
/// soft-capped, plus the ALiBi bias, in base-2 units so softmax uses exp2.
Value TiledKernelBuilder::emitScore(ImplicitLocOpBuilder &b, Value dot,
                                    Value query, Value rowSlope, Value keys) {
  Type type = dot.getType();
  double scale = op.getScale().convertToDouble();
  double softcap = op.getSoftcap().convertToDouble();
  if (isScoreLinear())
    return dot; // qTile holds q * scale * log2(e)
  Value score = arith::MulFOp::create(b, dot, constantLike(b, type, scale));
  if (softcap > 0.0) {
    // s = c * tanh(s / c)
    Value tanh = math::TanhOp::create(
        b, arith::MulFOp::create(b, score, constantLike(b, type, 1.0 / softcap)));
    score = arith::MulFOp::create(b, tanh, constantLike(b, type, softcap));
  }
  if (op.getAlibi()) {
    // s -= slope_h * |i + off - j|
    Value diagonal = splat(b, arith::AddIOp::create(b, query, offset));
    Value distance = arith::SubIOp::create(b, diagonal, keys);
    // |d| = max(d, -d), in integers (no library call on any target).
    Value signedDistance =
        arith::IndexCastOp::create(b, vectorType(b.getI64Type()), distance);
    Value absDistance = arith::MaxSIOp::create(
        b, signedDistance,
        arith::SubIOp::create(
            b,
            arith::ConstantOp::create(
                b, DenseElementsAttr::get(
                       cast<VectorType>(signedDistance.getType()),
                       APInt(64, 0))),
            signedDistance));
    Value distanceF32 = arith::SIToFPOp::create(b, type, absDistance);
    score = arith::SubFOp::create(
        b, score, arith::MulFOp::create(b, splat(b, rowSlope), distanceF32));
  }
  return arith::MulFOp::create(b, score, constantLike(b, type, kLog2E));
}

/// keyT[d, c] = K[b, firstKey + c, kv_head, d] and
/// valueTile[c, dv] = V[b, firstKey + c, kv_head, dv] as f32, c < numKeys.
/// When head_dim is a multiple of the vector width W, K is transposed in
/// W x W blocks in registers (W contiguous loads, a vector.transpose, W
/// contiguous stores); the keys past the last whole block go one by one.
void TiledKernelBuilder::emitStageKv(ImplicitLocOpBuilder &b, Value firstKey,
                                     Value numKeys) {
  Value zero = index(b, 0);
  int64_t headDim = op.getHeadDim();
  Value firstScalarKey = zero;
  if (headDim % width == 0) {
    firstScalarKey = arith::MulIOp::create(
        b, arith::FloorDivSIOp::create(b, numKeys, index(b, width)),
        index(b, width));
    auto blockType = VectorType::get({width, width}, b.getF32Type());
    forLoop(
        b, zero, firstScalarKey, {},
        [&](ImplicitLocOpBuilder &b, Value c0,
            ValueRange) -> SmallVector<Value> {
          forLoop(
              b, zero, index(b, headDim), {},
              [&](ImplicitLocOpBuilder &b, Value d0,
                  ValueRange) -> SmallVector<Value> {
                Value block = constantLike(b, blockType, 0.0);
                for (int64_t i = 0; i < width; ++i) {
                  Value key = arith::AddIOp::create(
                      b, firstKey, arith::AddIOp::create(b, c0, index(b, i)));
                  block = vector::InsertOp::create(
                      b, loadKvVectorF32(b, args.key, key, d0), block, i);
                }
                Value transposed =
                    vector::TransposeOp::create(b, block, {1, 0});
                for (int64_t j = 0; j < width; ++j) {
                  Value column = vector::ExtractOp::create(b, transposed, j);
                  vector::StoreOp::create(
                      b, column, keyT,
                      ValueRange{arith::AddIOp::create(b, d0, index(b, j)),
                                 c0});
                }
                return {};
              },
              width);
          return {};
        },
        width);
  }
  forLoop(b, firstScalarKey, numKeys, {},
          [&](ImplicitLocOpBuilder &b, Value c,
              ValueRange) -> SmallVector<Value> {
            Value key = arith::AddIOp::create(b, firstKey, c);
            forLoop(b, zero, index(b, headDim), {},
                    [&](ImplicitLocOpBuilder &b, Value d,
                        ValueRange) -> SmallVector<Value> {
                      Value k = loadF32(b, args.key, kvIndices(b, key, d));
                      memref::StoreOp::create(b, k, keyT, ValueRange{d, c});
                      return {};
                    });
            return {};
          });
  forLoop(b, zero, numKeys, {}, [&](ImplicitLocOpBuilder &b, Value c,
                                    ValueRange) -> SmallVector<Value> {
    Value key = arith::AddIOp::create(b, firstKey, c);
    // The next tile's rows load while this tile is computed.
    emitPrefetchKeyRow(b, arith::AddIOp::create(b, key, index(b, blockN)));
    // Whole vectors of W elements, widened to f32 in registers; the rest of
    // a row one by one.
    int64_t headDimV = op.getHeadDimV();
    int64_t vectorColumns = headDimV / width * width;
    for (int64_t dv = 0; dv < vectorColumns; dv += width) {
      vector::StoreOp::create(b,
                              loadKvVectorF32(b, args.value, key, index(b, dv)),
                              valueTile, ValueRange{c, index(b, dv)});
    }
    forLoop(b, index(b, vectorColumns), index(b, headDimV), {},
            [&](ImplicitLocOpBuilder &b, Value dv,
                ValueRange) -> SmallVector<Value> {
              Value v = loadF32(b, args.value, kvIndices(b, key, dv));
              memref::StoreOp::create(b, v, valueTile, ValueRange{c, dv});
              return {};
            });
    return {};
  });
}

/// Prefetches the K and V rows of key `key` if it exists, one prefetch per
/// 64-byte line. A work item's rows of a KV tile are scattered (one head's
/// slice of each cache row, pages anywhere in the pool), which the hardware
/// prefetchers do not follow.
void TiledKernelBuilder::emitPrefetchKeyRow(ImplicitLocOpBuilder &b,
                                            Value key) {
  int64_t bytes = elementType.getIntOrFloatBitWidth() / 8;
  int64_t elementsPerLine = kCacheLineBytes / bytes;
  auto exists = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key, seqlenK),
      /*withElseRegion=*/false);
  ImplicitLocOpBuilder then(b.getLoc(), b.getContext());
  then.setInsertionPoint(exists.thenBlock()->getTerminator());
  for (auto [tensor, dims] : {std::pair(args.key, op.getHeadDim()),
                              std::pair(args.value, op.getHeadDimV())})
    for (int64_t d = 0; d < dims; d += elementsPerLine)
      memref::PrefetchOp::create(then, tensor,
                                 kvIndices(then, key, index(then, d)),
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
}

/// scoreRows[j, :] = sum_d qTile[r0 + j, d] * keyT[d, :] for the rows of a
/// block, chunks of rows x vectors held in registers across the d loop.
/// With `fuseMax` (full tiles, linear scores) also returns each row's
/// lane-wise max of S, taken while S is still in registers.
SmallVector<Value> TiledKernelBuilder::emitScoreRows(ImplicitLocOpBuilder &b,
                                                     Value r0, bool fuseMax) {
  Type f32Vector = vectorType(b.getF32Type());
  SmallVector<Value> rows, maxima;
  for (int64_t j = 0; j < kRowsPerBlock; ++j)
    rows.push_back(arith::AddIOp::create(b, r0, index(b, j)));
  int64_t numVectors = blockN / width;
  for (int64_t first = 0; first < numVectors; first += kVectorsPerChunk) {
    int64_t count = std::min(kVectorsPerChunk, numVectors - first);
    SmallVector<Value> inits(kRowsPerBlock * count,
                             constantLike(b, f32Vector, 0.0));
    ValueRange sums = emitOuterProducts(
        b, index(b, op.getHeadDim()), inits, count,
        [&](ImplicitLocOpBuilder &b, Value d, int64_t j) -> Value {
          return memref::LoadOp::create(b, qTile, ValueRange{rows[j], d});
        },
        [&](ImplicitLocOpBuilder &b, Value d, int64_t i) -> Value {
          return vector::LoadOp::create(
              b, f32Vector, keyT, ValueRange{d, index(b, (first + i) * width)});
        });
    for (int64_t j = 0; j < kRowsPerBlock; ++j) {
      for (int64_t i = 0; i < count; ++i) {
        Value sum = sums[j * count + i];
        vector::StoreOp::create(
            b, sum, scoreRows,
            ValueRange{index(b, j), index(b, (first + i) * width)});
        if (!fuseMax)
          continue;
        if (maxima.size() <= static_cast<size_t>(j))
          maxima.push_back(sum);
        else
          maxima[j] = arith::MaximumFOp::create(b, maxima[j], sum);
      }
    }
  }
  return maxima;
}

/// The softmax part of the update for row r (its scores in row `blockRow`
/// of scoreRows): S = score(S), masked in boundary tiles; m' = max(m,
/// rowmax(S)); P = exp2(S - m') replaces S; l = a * l + rowsum(P). Returns
/// a = exp2(m - m'), the factor that rescales the row's accumulator.
Value TiledKernelBuilder::emitSoftmaxRow(ImplicitLocOpBuilder &b, Value r,
                                         int64_t blockRow, Value firstKey,
                                         bool masked, Value fusedMax) {
  Value zero = index(b, 0);
  Value scoreRow = index(b, blockRow);
  Type f32Vector = vectorType(b.getF32Type());
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  Value negInfVector = constantLike(b, f32Vector, -INFINITY);
  Value row = arith::AddIOp::create(b, firstRow, r);
  Value query = queryOfRow(b, row);
  Value slopeOfRow = rowSlope(b, row);

  // Without a mask and with linear scores, S is final and its max is known.
  Value maxVector = fusedMax;
  if (!maxVector)
    maxVector = forLoop(
      b, zero, index(b, blockN), {negInfVector},
      [&](ImplicitLocOpBuilder &b, Value c,
          ValueRange iter) -> SmallVector<Value> {
        Value keys = arith::AddIOp::create(
            b, splat(b, arith::AddIOp::create(b, firstKey, c)), lanes);
        Value dot =
            vector::LoadOp::create(b, f32Vector, scoreRows, ValueRange{scoreRow, c});
        Value score = emitScore(b, dot, query, slopeOfRow, keys);
        if (masked) {
          Value exists = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                               keys, splat(b, seqlenK));
          Value visible = arith::AndIOp::create(
              b, exists, mask.emitVisible(b, query, keys, offset));
          score = arith::SelectOp::create(b, visible, score, negInfVector);
        }
        vector::StoreOp::create(b, score, scoreRows, ValueRange{scoreRow, c});
        return {arith::MaximumFOp::create(b, iter[0], score)};
      },
      width)[0];
  Value tileMax = vector::ReductionOp::create(
      b, vector::CombiningKind::MAXIMUMF, maxVector);

  // m' = max(m, rowmax(S)); a row with nothing visible yet keeps m' = -inf
  // and uses 0 as its reference so that exp2 gives 0, not NaN.
  Value oldMax = memref::LoadOp::create(b, rowMax, r);
  Value newMax = arith::MaximumFOp::create(b, oldMax, tileMax);
  Value noneVisible =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf);
  Value reference =
      arith::SelectOp::create(b, noneVisible, f32(b, 0.0), newMax);
  Value rescale =
      math::Exp2Op::create(b, arith::SubFOp::create(b, oldMax, reference));

  // P = exp2(S - m'); P.V uses P rounded to the 16-bit input type, as the
  // tensor cores of the GPU kernel do; l sums the unrounded P.
  Value referenceVector = splat(b, reference);
  Value sumVector = forLoop(
      b, zero, index(b, blockN), {constantLike(b, f32Vector, 0.0)},
      [&](ImplicitLocOpBuilder &b, Value c,
          ValueRange sum) -> SmallVector<Value> {
        Value s =
            vector::LoadOp::create(b, f32Vector, scoreRows, ValueRange{scoreRow, c});
        Value p = math::Exp2Op::create(
            b, arith::SubFOp::create(b, s, referenceVector));
        Value pForPv = p;
        if (!elementType.isF32())
          pForPv = arith::ExtFOp::create(
              b, f32Vector,
              arith::TruncFOp::create(b, vectorType(elementType), p)
                  .getResult());
        vector::StoreOp::create(b, pForPv, scoreRows, ValueRange{scoreRow, c});
        return {arith::AddFOp::create(b, sum[0], p)};
      },
      width)[0];
  Value tileSum =
      vector::ReductionOp::create(b, vector::CombiningKind::ADD, sumVector);
  Value oldSum = memref::LoadOp::create(b, rowSum, r);
  memref::StoreOp::create(
      b, math::FmaOp::create(b, rescale, oldSum, tileSum), rowSum, r);
  memref::StoreOp::create(b, newMax, rowMax, r);
  return rescale;
}

/// One KV tile for every row of the Q tile: the online softmax update.
/// Unmasked tiles are full (BN keys, all visible): no mask code. Masked
/// (boundary) tiles evaluate the mask and key < seqlen_k per lane.
///
/// A work item of at most kRowsPerBlock rows (decode: one query per q head
/// of a GQA group) uses each staged K and V element once, so staging (a
/// widening copy, and K's transpose) would cost more than it saves: with a
/// 16-bit cache and head dims of whole vectors it reads the cache directly
/// instead, S by dot products along d.
void TiledKernelBuilder::emitKvTile(ImplicitLocOpBuilder &b, Value kvTile,
                                    bool masked) {
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, blockN));
  Value numKeys = index(b, blockN);
  if (masked)
    numKeys = arith::MinSIOp::create(
        b, numKeys, arith::SubIOp::create(b, seqlenK, firstKey));
  auto staged = [&](ImplicitLocOpBuilder &b) {
    emitStageKv(b, firstKey, numKeys);
    emitRowBlocks(b, firstKey, numKeys, masked, /*direct=*/false);
  };
  // f32 K/V stage without a conversion; measured (bench/decode), the
  // direct path only pays for 16-bit caches.
  if (elementType.isF32() || op.getHeadDim() % width != 0 ||
      op.getHeadDimV() % width != 0)
    return staged(b);
  auto oneBlock =
      scf::IfOp::create(b,
                        arith::CmpIOp::create(b, arith::CmpIPredicate::sle,
                                              numRows, index(b, kRowsPerBlock)),
                        /*withElseRegion=*/true);
  ImplicitLocOpBuilder thenBuilder(b.getLoc(), b.getContext());
  thenBuilder.setInsertionPoint(oneBlock.thenBlock()->getTerminator());
  emitDirectScores(thenBuilder, firstKey, numKeys);
  emitRowBlocks(thenBuilder, firstKey, numKeys, masked, /*direct=*/true);
  ImplicitLocOpBuilder elseBuilder(b.getLoc(), b.getContext());
  elseBuilder.setInsertionPoint(oneBlock.elseBlock()->getTerminator());
  staged(elseBuilder);
}

/// scoreRows[j, c] = qTile[j, :] . K[firstKey + c, :] for the first row
/// block and keys c < numKeys, straight from the cache: per key, W-lane
/// partial dot products of the block's rows across d (each K vector loaded
/// once for all rows), then one horizontal sum per row. Also prefetches the
/// next tile's rows, as emitStageKv does.
void TiledKernelBuilder::emitDirectScores(ImplicitLocOpBuilder &b,
                                          Value firstKey, Value numKeys) {
  Type f32Vector = vectorType(b.getF32Type());
  forLoop(
      b, index(b, 0), numKeys, {},
      [&](ImplicitLocOpBuilder &b, Value c, ValueRange) -> SmallVector<Value> {
        Value key = arith::AddIOp::create(b, firstKey, c);
        emitPrefetchKeyRow(b, arith::AddIOp::create(b, key, index(b, blockN)));
        SmallVector<Value> inits(kRowsPerBlock,
                                 constantLike(b, f32Vector, 0.0));
        ValueRange partial = forLoop(
            b, index(b, 0), index(b, op.getHeadDim()), inits,
            [&](ImplicitLocOpBuilder &b, Value d,
                ValueRange acc) -> SmallVector<Value> {
              Value k = loadKvVectorF32(b, args.key, key, d);
              SmallVector<Value> next;
              for (int64_t j = 0; j < kRowsPerBlock; ++j) {
                Value q = vector::LoadOp::create(b, f32Vector, qTile,
                                                 ValueRange{index(b, j), d});
                next.push_back(math::FmaOp::create(b, q, k, acc[j]));
              }
              return next;
            },
            width);
        for (int64_t j = 0; j < kRowsPerBlock; ++j)
          memref::StoreOp::create(
              b,
              vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                          partial[j]),
              scoreRows, ValueRange{index(b, j), c});
        return {};
      });
}

/// The softmax and acc = a * acc + P V for every block of kRowsPerBlock rows
/// (the Q tile's padding rows are zeros). S comes from scoreRows when
/// `direct` (emitDirectScores filled it for the one block) and from the
/// staged K otherwise; V from the cache or from the staged tile likewise.
void TiledKernelBuilder::emitRowBlocks(ImplicitLocOpBuilder &b, Value firstKey,
                                       Value numKeys, bool masked,
                                       bool direct) {
  Type f32Vector = vectorType(b.getF32Type());
  Value paddedRows = arith::MulIOp::create(
      b,
      arith::CeilDivSIOp::create(b, numRows, index(b, kRowsPerBlock)),
      index(b, kRowsPerBlock));
  forLoop(
      b, index(b, 0), paddedRows, {},
      [&](ImplicitLocOpBuilder &b, Value r0, ValueRange) -> SmallVector<Value> {
        bool fuseMax = !direct && !masked && isScoreLinear();
        SmallVector<Value> maxima;
        if (!direct)
          maxima = emitScoreRows(b, r0, fuseMax);
        SmallVector<Value> rows, rescales;
        for (int64_t j = 0; j < kRowsPerBlock; ++j) {
          rows.push_back(arith::AddIOp::create(b, r0, index(b, j)));
          rescales.push_back(splat(
              b, emitSoftmaxRow(b, rows[j], j, firstKey, masked,
                                fuseMax ? maxima[j] : Value())));
        }

        // acc = a * acc + P V, chunks of rows x vectors in registers across c.
        int64_t numVectors = paddedHeadDimV / width;
        for (int64_t first = 0; first < numVectors;
             first += kVectorsPerChunk) {
          int64_t count = std::min(kVectorsPerChunk, numVectors - first);
          SmallVector<Value> inits;
          for (int64_t j = 0; j < kRowsPerBlock; ++j) {
            for (int64_t i = 0; i < count; ++i) {
              Value acc = vector::LoadOp::create(
                  b, f32Vector, accumulator,
                  ValueRange{rows[j], index(b, (first + i) * width)});
              inits.push_back(arith::MulFOp::create(b, acc, rescales[j]));
            }
          }
          ValueRange sums = emitOuterProducts(
              b, numKeys, inits, count,
              [&](ImplicitLocOpBuilder &b, Value c, int64_t j) -> Value {
                return memref::LoadOp::create(b, scoreRows,
                                              ValueRange{index(b, j), c});
              },
              [&](ImplicitLocOpBuilder &b, Value c, int64_t i) -> Value {
                Value column = index(b, (first + i) * width);
                if (!direct)
                  return vector::LoadOp::create(b, f32Vector, valueTile,
                                                ValueRange{c, column});
                return loadKvVectorF32(b, args.value,
                                       arith::AddIOp::create(b, firstKey, c),
                                       column);
              });
          for (int64_t j = 0; j < kRowsPerBlock; ++j)
            for (int64_t i = 0; i < count; ++i)
              vector::StoreOp::create(
                  b, sums[j * count + i], accumulator,
                  ValueRange{rows[j], index(b, (first + i) * width)});
        }
        return {};
      },
      kRowsPerBlock);
}

/// O = acc / l and LSE = (m + log2(l)) * ln(2); rows with l == 0 (no visible
/// key) get O = 0 and LSE = -inf.
void TiledKernelBuilder::emitFinalize(ImplicitLocOpBuilder &b) {
  Value zero = index(b, 0);
  forLoop(b, zero, numRows, {}, [&](ImplicitLocOpBuilder &b, Value r,
                                    ValueRange) -> SmallVector<Value> {
    Value row = arith::AddIOp::create(b, firstRow, r);
    Value head = headOfRow(b, row);
    auto [tensorBatch, query] = queryTensorRow(b, queryOfRow(b, row));
    Value sum = memref::LoadOp::create(b, rowSum, r);
    Value anyVisible =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, f32(b, 0.0));
    Value inverse = arith::SelectOp::create(
        b, anyVisible, arith::DivFOp::create(b, f32(b, 1.0), sum),
        f32(b, 0.0));
    forLoop(b, zero, index(b, op.getHeadDimV()), {},
            [&](ImplicitLocOpBuilder &b, Value dv,
                ValueRange) -> SmallVector<Value> {
              Value acc = memref::LoadOp::create(b, accumulator,
                                                 ValueRange{r, dv});
              Value out = arith::MulFOp::create(b, acc, inverse);
              if (split) {
                // This chunk's O, normalized by its own sum, in f32.
                memref::StoreOp::create(
                    b, out, args.partialOutput,
                    ValueRange{split, tensorBatch, query, head, dv});
                return {};
              }
              if (!elementType.isF32())
                out = arith::TruncFOp::create(b, elementType, out);
              memref::StoreOp::create(b, out, args.output,
                                      ValueRange{tensorBatch, query, head, dv});
              return {};
            });
    if (split || args.lse) {
      // LSE = (m + log2 l) ln 2, -inf without a visible key; split-KV
      // chunks always write theirs, for the merge.
      Value max = memref::LoadOp::create(b, rowMax, r);
      Value lse = arith::MulFOp::create(
          b, arith::AddFOp::create(b, max, math::Log2Op::create(b, sum)),
          f32(b, kLn2));
      lse = arith::SelectOp::create(
          b, anyVisible, lse, f32(b, -std::numeric_limits<double>::infinity()));
      if (split)
        memref::StoreOp::create(b, lse, args.partialLse,
                                ValueRange{split, tensorBatch, head, query});
      else
        memref::StoreOp::create(b, lse, args.lse,
                                ValueRange{tensorBatch, head, query});
    }
    return {};
  });
}

void TiledKernelBuilder::build(ImplicitLocOpBuilder &b,
                               const KernelArgs &kernelArgs) {
  args = kernelArgs;
  int64_t numQHeads = op.getNumQHeads();
  int64_t headDim = op.getHeadDim();
  Value zero = index(b, 0), one = index(b, 1);
  // Sequences: the batch, or the cu_seqlens entries of a variable-length
  // batch, whose longest sequence sets the number of Q tiles.
  Value numSequences =
      op.isVarlen()
          ? arith::SubIOp::create(
                b, memref::DimOp::create(b, args.cuSeqlensQ, 0), one)
                .getResult()
          : memref::DimOp::create(b, args.query, 0).getResult();
  Value seqlenQ = memref::DimOp::create(b, args.query, 1);
  auto sequenceLength = [&](ImplicitLocOpBuilder &b, Value offsets,
                            Value sequence) -> std::pair<Value, Value> {
    auto load = [&](Value at) -> Value {
      return arith::IndexCastOp::create(
          b, b.getIndexType(), memref::LoadOp::create(b, offsets, at));
    };
    Value start = load(sequence);
    Value next = load(arith::AddIOp::create(b, sequence, one));
    return {start, arith::MaxSIOp::create(
                       b, arith::SubIOp::create(b, next, start), zero)};
  };
  if (op.isVarlen())
    seqlenQ = forLoop(b, zero, numSequences, {zero},
                      [&](ImplicitLocOpBuilder &b, Value s,
                          ValueRange longest) -> SmallVector<Value> {
                        return {arith::MaxSIOp::create(
                            b, longest[0],
                            sequenceLength(b, args.cuSeqlensQ, s).second)};
                      })[0];
  // off = seqlen_k - seqlen_q aligns the last query with the last key.
  auto alignOffset = [&](ImplicitLocOpBuilder &b) {
    offset = op.getCausalAlign() == CausalAlign::BottomRight
                 ? arith::SubIOp::create(b, seqlenK, seqlenQ).getResult()
                 : index(b, 0);
  };
  if (!op.hasKvCache() && !op.isVarlen()) {
    seqlenK = memref::DimOp::create(b, args.key, 1);
    alignOffset(b);
  }
  // Rows: queries, or (query, head) pairs of a kv head when packing GQA.
  int64_t heads = op.packsGqa() ? op.getNumKvHeads() : numQHeads;
  Value numRowsTotal =
      op.packsGqa()
          ? arith::MulIOp::create(b, seqlenQ, index(b, op.getGroupSize()))
                .getResult()
          : seqlenQ;
  Value numQTiles =
      arith::CeilDivSIOp::create(b, numRowsTotal, index(b, blockM));
  // Split-KV: every (Q tile, batch, head) is num_splits work items.
  bool splitKv = op.getSplitKv().has_value();
  Value numSplits =
      splitKv ? memref::DimOp::create(b, args.partialLse, 0).getResult() : one;

  // Per-call scratch: one work item at a time uses it.
  Type f32Type = b.getF32Type();
  auto allocateScratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(
               b, MemRefType::get(shape, f32Type), ValueRange{},
               b.getI64IntegerAttr(64))
        .getResult();
  };
  qTile = allocateScratch({blockM, headDim});
  keyT = allocateScratch({headDim, blockN});
  valueTile = allocateScratch({blockN, paddedHeadDimV});
  scoreRows = allocateScratch({kRowsPerBlock, blockN});
  accumulator = allocateScratch({blockM, paddedHeadDimV});
  rowMax = allocateScratch({blockM});
  rowSum = allocateScratch({blockM});
  SmallVector<APInt> laneIndices;
  for (int64_t lane = 0; lane < width; ++lane)
    laneIndices.push_back(APInt(64, lane));
  lanes = arith::ConstantOp::create(
      b, DenseElementsAttr::get(vectorType(b.getIndexType()), laneIndices));
  // The padding columns of valueTile are never staged: keep them 0 so the
  // padding lanes of acc stay finite.
  if (paddedHeadDimV != op.getHeadDimV()) {
    forLoop(b, zero, index(b, blockN), {}, [&](ImplicitLocOpBuilder &b,
                                               Value c,
                                               ValueRange) -> SmallVector<Value> {
      forLoop(b, index(b, op.getHeadDimV()), index(b, paddedHeadDimV), {},
              [&](ImplicitLocOpBuilder &b, Value dv,
                  ValueRange) -> SmallVector<Value> {
                memref::StoreOp::create(b, f32(b, 0.0), valueTile,
                                        ValueRange{c, dv});
                return {};
              });
      return {};
    });
  }

  forLoop(b, args.begin, args.end, {}, [&](ImplicitLocOpBuilder &b,
                                           Value item,
                                           ValueRange) -> SmallVector<Value> {
    // item = ((num_q_tiles - 1 - q_tile) * batch_size + batch) * heads + head
    // (q heads, or kv heads when packing GQA; times num_splits + split for
    // split-KV)
    // Q tiles run last to first: under causal masks the late tiles cost the
    // most, and handing them out first balances the threads. Heads sharing
    // a kv head are neighbours, so their K/V tiles are reused from cache.
    if (splitKv) {
      split = arith::RemUIOp::create(b, item, numSplits);
      item = arith::DivUIOp::create(b, item, numSplits);
    }
    Value batchHeads =
        arith::MulIOp::create(b, numSequences, index(b, heads));
    Value batchHead = arith::RemUIOp::create(b, item, batchHeads);
    Value qTileIndex = arith::SubIOp::create(
        b, arith::SubIOp::create(b, numQTiles, one),
        arith::DivUIOp::create(b, item, batchHeads));
    Value headIndex = arith::RemUIOp::create(b, batchHead, index(b, heads));
    batch = arith::DivUIOp::create(b, batchHead, index(b, heads));
    // GQA/MQA: q head h reads kv head h / (num_q_heads / num_kv_heads).
    if (op.packsGqa()) {
      kvHead = headIndex;
    } else {
      qHead = headIndex;
      kvHead = arith::DivUIOp::create(b, qHead, index(b, op.getGroupSize()));
    }
    firstRow = arith::MulIOp::create(b, qTileIndex, index(b, blockM));
    Value rowsOfSequence = numRowsTotal;
    if (op.isVarlen()) {
      // This sequence's queries and keys in the packed tensors; tiles past
      // its length have no rows.
      std::tie(firstQueryRow, rowsOfSequence) =
          sequenceLength(b, args.cuSeqlensQ, batch);
      seqlenQ = rowsOfSequence;
      if (op.packsGqa())
        rowsOfSequence =
            arith::MulIOp::create(b, seqlenQ, index(b, op.getGroupSize()));
      // Keys: packed like the queries, or the sequence's cache (below).
      if (!op.hasKvCache()) {
        std::tie(firstKeyRow, seqlenK) =
            sequenceLength(b, args.cuSeqlensK, batch);
        alignOffset(b);
      }
    }
    numRows = arith::MaxSIOp::create(
        b,
        arith::MinSIOp::create(
            b, index(b, blockM),
            arith::SubIOp::create(b, rowsOfSequence, firstRow)),
        zero);
    // Tiles past a (shorter) sequence's end have nothing to do.
    auto hasRows = scf::IfOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, numRows, zero),
        /*withElseRegion=*/false);
    b.setInsertionPoint(hasRows.thenBlock()->getTerminator());
    Value lastRow = arith::SubIOp::create(
        b, arith::AddIOp::create(b, firstRow, numRows), one);
    if (args.slopes && !op.packsGqa())
      slope = memref::LoadOp::create(b, args.slopes, qHead);
    if (op.hasKvCache()) {
      // This sequence's keys: cache_seqlens[b], clamped to the cache.
      seqlenK = emitSequenceKeyCount(b, op, args.key, args.cacheSeqlens,
                                     args.pageTable, batch, seqlenQ);
      alignOffset(b);
    }

    // m = -inf, l = 0, acc = 0; qTile = Q rows as f32, and zero rows up to
    // a whole number of row blocks.
    Value negInf = f32(b, -std::numeric_limits<double>::infinity());
    Value paddedRows = arith::MulIOp::create(
        b, arith::CeilDivSIOp::create(b, numRows, index(b, kRowsPerBlock)),
        index(b, kRowsPerBlock));
    forLoop(b, zero, paddedRows, {}, [&](ImplicitLocOpBuilder &b, Value r,
                                         ValueRange) -> SmallVector<Value> {
      memref::StoreOp::create(b, negInf, rowMax, r);
      memref::StoreOp::create(b, f32(b, 0.0), rowSum, r);
      forLoop(b, zero, index(b, paddedHeadDimV), {},
              [&](ImplicitLocOpBuilder &b, Value dv,
                  ValueRange) -> SmallVector<Value> {
                memref::StoreOp::create(b, f32(b, 0.0), accumulator,
                                        ValueRange{r, dv});
                return {};
              });
      Value row = arith::AddIOp::create(b, firstRow, r);
      Value isPadding =
          arith::CmpIOp::create(b, arith::CmpIPredicate::sge, r, numRows);
      // Padding rows read row 0 of the tile (always in bounds), then zero it.
      Value sourceRow = arith::SelectOp::create(b, isPadding, firstRow, row);
      forLoop(b, zero, index(b, headDim), {},
              [&](ImplicitLocOpBuilder &b, Value d,
                  ValueRange) -> SmallVector<Value> {
                auto [tensorBatch, query] =
                    queryTensorRow(b, queryOfRow(b, sourceRow));
                Value q = loadF32(b, args.query,
                                  {tensorBatch, query, headOfRow(b, sourceRow),
                                   d});
                if (isScoreLinear())
                  q = arith::MulFOp::create(
                      b, q,
                      f32(b, op.getScale().convertToDouble() * kLog2E));
                q = arith::SelectOp::create(b, isPadding, f32(b, 0.0), q);
                memref::StoreOp::create(b, q, qTile, ValueRange{r, d});
                return {};
              });
      // RoPE (linear, so after the scale). Padding rows are zero and stay
      // zero.
      if (RopeAttr rope = op.getRopeAttr()) {
        Value position =
            emitQueryPosition(b, seqlenK, seqlenQ, queryOfRow(b, sourceRow));
        emitRotateRow(b, rope, position, qTile, {r, zero}, qTile, {r, zero},
                      kRopePairsPerChunk);
      }
      return {};
    });

    if (splitKv) {
      // Chunk s of the KV tiles: [s * c, min((s + 1) * c, tiles)) with
      // c = ceil(tiles / num_splits); every loop below is clipped to it.
      Value numKvTiles =
          arith::CeilDivSIOp::create(b, seqlenK, index(b, blockN));
      Value chunk = arith::CeilDivSIOp::create(b, numKvTiles, numSplits);
      splitBegin = arith::MulIOp::create(b, split, chunk);
      splitEnd = arith::MinSIOp::create(
          b, arith::AddIOp::create(b, splitBegin, chunk), numKvTiles);
    }
    for (const KvTileRanges &range : mask.emitTileRanges(
             b, queryOfRow(b, firstRow), queryOfRow(b, lastRow), offset,
             seqlenK, blockN)) {
      auto emitTiles = [&](Value lb, Value ub, bool masked) {
        if (splitKv) {
          lb = arith::MaxSIOp::create(b, lb, splitBegin);
          ub = arith::MaxSIOp::create(b, lb,
                                      arith::MinSIOp::create(b, ub, splitEnd));
        }
        forLoop(b, lb, ub, {},
                [&](ImplicitLocOpBuilder &b, Value tile,
                    ValueRange) -> SmallVector<Value> {
                  emitKvTile(b, tile, masked);
                  return {};
                });
      };
      if (!range.leadingBoundaryIsEmpty)
        emitTiles(range.begin, range.fullBegin, /*masked=*/true);
      emitTiles(range.fullBegin, range.fullEnd, /*masked=*/false);
      emitTiles(range.fullEnd, range.end, /*masked=*/true);
    }
    emitFinalize(b);
    b.setInsertionPointAfter(hasRows);
    return {};
  });
}

struct AttnTilePass : public mlir::attn::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;

  LogicalResult tileFunction(func::FuncOp func, AttentionOp op);
  void buildMergeFunction(OpBuilder &builder, AttentionOp op,
                          const std::string &name, ArrayRef<Type> kernelTypes);
  void buildAppendFunction(OpBuilder &builder, AttentionOp op,
                           const std::string &name, ArrayRef<Type> kernelTypes);
  void runOnOperation() override;
};

LogicalResult AttnTilePass::tileFunction(func::FuncOp func, AttentionOp op) {
  if (failed(verifySpecFunction(func, op, "attn-tile")))
    return failure();

  int64_t blockMSize = blockM, blockNSize = blockN;
  if (TilingAttr tiling = op.getTilingAttr()) {
    blockMSize = blockMSize ? blockMSize : tiling.getBlockM();
    blockNSize = blockNSize ? blockNSize : tiling.getBlockN();
  }
  blockMSize = blockMSize ? blockMSize : kAutoBlockM;
  blockNSize = blockNSize ? blockNSize : kAutoBlockN;
  if (blockMSize < 1 || blockNSize < 1)
    return op.emitOpError() << "tile sizes must be positive, got block-m = "
                            << blockMSize << ", block-n = " << blockNSize;
  if (vectorWidth < 1 || vectorWidth > 16 || !llvm::isPowerOf2_64(vectorWidth) ||
      blockNSize % vectorWidth != 0)
    return op.emitOpError() << "vector-width must be a power of two in [1, 16] "
                               "dividing block-n, got vector-width = "
                            << vectorWidth << ", block-n = " << blockNSize;

  // (q, k, v, o, lse, slopes, cache_seqlens, page_table, partial_o,
  //  partial_lse, cu_seqlens_q, cu_seqlens_k, begin, end)
  OpBuilder builder(func);
  SmallVector<Type> argTypes = {
      toKernelMemRef(op.getQuery().getType()), toKernelMemRef(op.getKey().getType()),
      toKernelMemRef(op.getValue().getType()), toKernelMemRef(op.getOutput().getType())};
  // One signature for every variant, so hosts call every kernel alike: the
  // LSE and slope buffers are unused when the op has no LSE or no ALiBi.
  argTypes.push_back(MemRefType::get(
      {ShapedType::kDynamic, op.getNumQHeads(), ShapedType::kDynamic},
      builder.getF32Type()));
  argTypes.push_back(
      MemRefType::get({op.getNumQHeads()}, builder.getF32Type()));
  argTypes.append(kvCacheKernelMemRefs(builder.getContext()));
  argTypes.append(splitKvKernelMemRefs(op));
  argTypes.append(varlenKernelMemRefs(builder.getContext()));
  argTypes.push_back(builder.getIndexType());
  argTypes.push_back(builder.getIndexType());

  auto kernel = func::FuncOp::create(builder, func.getLoc(), func.getName(),
                                     builder.getFunctionType(argTypes, {}));
  kernel->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  kernel->setAttr("attn.tile_sizes",
                  builder.getDenseI64ArrayAttr({blockMSize, blockNSize}));
  Block *entry = kernel.addEntryBlock();
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  b.setInsertionPointToStart(entry);

  // Map the op's operands to kernel arguments by their argument position.
  auto kernelArg = [&](Value specArg) {
    return entry->getArgument(cast<BlockArgument>(specArg).getArgNumber());
  };
  KernelArgs args;
  args.query = kernelArg(op.getQuery());
  args.key = kernelArg(op.getKey());
  args.value = kernelArg(op.getValue());
  args.output = entry->getArgument(3);
  if (op.returnsLse())
    args.lse = entry->getArgument(4);
  if (op.getAlibi())
    args.slopes = entry->getArgument(5);
  if (op.hasKvCache())
    args.cacheSeqlens = entry->getArgument(6);
  if (op.isPaged())
    args.pageTable = entry->getArgument(7);
  if (op.getSplitKv()) {
    args.partialOutput = entry->getArgument(8);
    args.partialLse = entry->getArgument(9);
  }
  if (op.isVarlen())
    args.cuSeqlensQ = entry->getArgument(10);
  if (op.getCuSeqlensK())
    args.cuSeqlensK = entry->getArgument(11);
  args.begin = entry->getArgument(12);
  args.end = entry->getArgument(13);

  TiledKernelBuilder(op, blockMSize, blockNSize, vectorWidth).build(b, args);
  func::ReturnOp::create(b);
  if (op.getSplitKv())
    buildMergeFunction(builder, op, func.getName().str() + "_merge",
                       argTypes);
  if (op.appendsKv())
    buildAppendFunction(builder, op, func.getName().str() + "_append",
                        argTypes);
  func.erase();
  return success();
}

/// `<name>_merge(o, lse, partial_o, partial_lse, begin, end)`: combines the
/// split-KV chunks of rows [begin, end), row = (b * seqlen_q + i) *
/// num_q_heads + h, by their log-sum-exps:
///   m = max_s lse_s;  w_s = exp(lse_s - m);  O = sum_s w_s O_s / sum_s w_s;
///   LSE = m + log(sum_s w_s)   (O = 0, LSE = -inf when no chunk saw a key).
void AttnTilePass::buildMergeFunction(OpBuilder &builder, AttentionOp op,
                                      const std::string &name,
                                      ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = {kernelTypes[3], kernelTypes[4], kernelTypes[8],
                             kernelTypes[9], builder.getIndexType(),
                             builder.getIndexType()};
  auto merge = func::FuncOp::create(builder, loc, name,
                                    builder.getFunctionType(types, {}));
  merge->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = merge.addEntryBlock();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(entry);
  SplitKvMergeOperands operands{entry->getArgument(0), entry->getArgument(1),
                                entry->getArgument(2), entry->getArgument(3)};
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  Value seqlenQ = memref::DimOp::create(b, operands.output, 1);
  int64_t numQHeads = op.getNumQHeads();
  auto loop = scf::ForOp::create(b, entry->getArgument(4),
                                 entry->getArgument(5), index(1));
  b.setInsertionPointToStart(loop.getBody());
  Value row = loop.getInductionVar();
  Value head = arith::RemUIOp::create(b, row, index(numQHeads));
  Value rest = arith::DivUIOp::create(b, row, index(numQHeads));
  Value query = arith::RemUIOp::create(b, rest, seqlenQ);
  Value batch = arith::DivUIOp::create(b, rest, seqlenQ);
  emitSplitKvMergeRow(b, op, operands, batch, query, head, index(0), index(1),
                      arith::ConstantIntOp::create(b, 1, 1));
  b.setInsertionPointAfter(loop);
  func::ReturnOp::create(b);
}

/// `<name>_append(k_new, v_new, k, v, cache_seqlens, page_table,
/// cu_seqlens_q, begin, end)`: stores new rows [begin, end), row = (packed
/// token) * num_kv_heads + h, into the cache at row cache_seqlens[b] + j
/// (KvCacheAppend.h), K rotated at that position when the op has RoPE.
/// Hosts run it before the kernel.
void AttnTilePass::buildAppendFunction(OpBuilder &builder, AttentionOp op,
                                       const std::string &name,
                                       ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = appendParameterTypes(op, kernelTypes);
  types.push_back(builder.getIndexType());
  types.push_back(builder.getIndexType());
  auto append = func::FuncOp::create(builder, loc, name,
                                     builder.getFunctionType(types, {}));
  append->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = append.addEntryBlock();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(entry);
  KvAppendOperands operands{entry->getArgument(0), entry->getArgument(1),
                            entry->getArgument(2), entry->getArgument(3),
                            entry->getArgument(4), entry->getArgument(5),
                            entry->getArgument(6)};
  auto loop =
      scf::ForOp::create(b, entry->getArgument(7), entry->getArgument(8),
                         arith::ConstantIndexOp::create(b, 1));
  b.setInsertionPointToStart(loop.getBody());
  emitAppendRow(b, op, operands, loop.getInductionVar(),
                2 * kRopePairsPerChunk);
  b.setInsertionPointAfter(loop);
  func::ReturnOp::create(b);
}

void AttnTilePass::runOnOperation() {
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  getOperation().walk([&](AttentionOp op) {
    work.emplace_back(op->getParentOfType<func::FuncOp>(), op);
  });
  for (auto [func, op] : work) {
    if (!func || failed(tileFunction(func, op)))
      return signalPassFailure();
  }
}

} // namespace
