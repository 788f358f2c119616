//===- TiledKvTile.cpp - one KV tile, tiled on the CPU --------------------===//
//
// One KV tile for every row of a work item's Q tile: K (transposed) and V
// staged as f32, S = Q K^T and acc += P V in register blocks, the online
// softmax row by row; small work items read the cache directly.
//
//===----------------------------------------------------------------------===//

#include "TiledKernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

namespace mlir::attn::attn_tile {

/// The register-blocked loop shared by S = Q K^T and acc += P V: for x in
/// [0, extent), acc[j * count + i] += splat(lhs(x, j)) * rhs(x, i) for the
/// kRowsPerBlock rows j and `count` vectors i, accumulators in registers.
ValueRange TiledKernelBuilder::emitOuterProducts(
    ImplicitLocOpBuilder &b, Value extent, ValueRange inits, int64_t count,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> lhsScalar,
    function_ref<Value(ImplicitLocOpBuilder &, Value, int64_t)> rhsVector) {
  return forLoop(b, index(b, 0), extent, inits,
                 [&](ImplicitLocOpBuilder &b, Value x,
                     ValueRange partial) -> SmallVector<Value> {
                   SmallVector<Value> rhs;
                   for (int64_t i = 0; i < count; ++i) {
                     rhs.push_back(rhsVector(b, x, i));
                   }
                   SmallVector<Value> next;
                   for (int64_t j = 0; j < kRowsPerBlock; ++j) {
                     Value lhs = splat(b, lhsScalar(b, x, j));
                     for (int64_t i = 0; i < count; ++i) {
                       next.push_back(math::FmaOp::create(
                           b, lhs, rhs[i], partial[j * count + i]));
                     }
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
  if (isScoreLinear()) {
    return dot; // qTile holds q * scale * log2(e)
  }
  Value score = arith::MulFOp::create(b, dot, constantLike(b, type, scale));
  if (softcap > 0.0) {
    // s = c * tanh(s / c)
    Value tanh = math::TanhOp::create(
        b,
        arith::MulFOp::create(b, score, constantLike(b, type, 1.0 / softcap)));
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
                b,
                DenseElementsAttr::get(
                    cast<VectorType>(signedDistance.getType()), APInt(64, 0))),
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
  forLoop(
      b, firstScalarKey, numKeys, {},
      [&](ImplicitLocOpBuilder &b, Value c, ValueRange) -> SmallVector<Value> {
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
  forLoop(
      b, zero, numKeys, {},
      [&](ImplicitLocOpBuilder &b, Value c, ValueRange) -> SmallVector<Value> {
        Value key = arith::AddIOp::create(b, firstKey, c);
        // The next tile's rows load while this tile is computed.
        emitPrefetchKeyRow(b, arith::AddIOp::create(b, key, index(b, blockN)));
        // Whole vectors of W elements, widened to f32 in registers; the rest of
        // a row one by one.
        int64_t headDimV = op.getHeadDimV();
        int64_t vectorColumns = headDimV / width * width;
        for (int64_t dv = 0; dv < vectorColumns; dv += width) {
          vector::StoreOp::create(
              b, loadKvVectorF32(b, args.value, key, index(b, dv)), valueTile,
              ValueRange{c, index(b, dv)});
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
                              std::pair(args.value, op.getHeadDimV())}) {
    for (int64_t d = 0; d < dims; d += elementsPerLine) {
      memref::PrefetchOp::create(then, tensor,
                                 kvIndices(then, key, index(then, d)),
                                 /*isWrite=*/false, /*localityHint=*/3,
                                 /*isDataCache=*/true);
    }
  }
}

/// scoreRows[j, :] = sum_d qTile[r0 + j, d] * keyT[d, :] for the rows of a
/// block, chunks of rows x vectors held in registers across the d loop.
/// With `fuseMax` (full tiles, linear scores) also returns each row's
/// lane-wise max of S, taken while S is still in registers.
SmallVector<Value> TiledKernelBuilder::emitScoreRows(ImplicitLocOpBuilder &b,
                                                     Value r0, bool fuseMax) {
  Type f32Vector = vectorType(b.getF32Type());
  SmallVector<Value> rows, maxima;
  for (int64_t j = 0; j < kRowsPerBlock; ++j) {
    rows.push_back(arith::AddIOp::create(b, r0, index(b, j)));
  }
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
        if (!fuseMax) {
          continue;
        }
        if (maxima.size() <= static_cast<size_t>(j)) {
          maxima.push_back(sum);
        } else {
          maxima[j] = arith::MaximumFOp::create(b, maxima[j], sum);
        }
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
  if (!maxVector) {
    maxVector = forLoop(
        b, zero, index(b, blockN), {negInfVector},
        [&](ImplicitLocOpBuilder &b, Value c,
            ValueRange iter) -> SmallVector<Value> {
          Value keys = arith::AddIOp::create(
              b, splat(b, arith::AddIOp::create(b, firstKey, c)), lanes);
          Value dot = vector::LoadOp::create(b, f32Vector, scoreRows,
                                             ValueRange{scoreRow, c});
          Value score = emitScore(b, dot, query, slopeOfRow, keys);
          if (masked) {
            // The key exists (key < seqlen_k) and the mask shows it: folded
            // into the mask's per-row upper bound, one compare per bound.
            Value visible = mask.emitVisible(b, query, keys, offset,
                                             /*keyBase=*/{}, seqlenK);
            score = arith::SelectOp::create(b, visible, score, negInfVector);
          }
          vector::StoreOp::create(b, score, scoreRows, ValueRange{scoreRow, c});
          return {arith::MaximumFOp::create(b, iter[0], score)};
        },
        width)[0];
  }
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
        Value s = vector::LoadOp::create(b, f32Vector, scoreRows,
                                         ValueRange{scoreRow, c});
        Value p = math::Exp2Op::create(
            b, arith::SubFOp::create(b, s, referenceVector));
        Value pForPv = p;
        if (!elementType.isF32()) {
          pForPv = arith::ExtFOp::create(
              b, f32Vector,
              arith::TruncFOp::create(b, vectorType(elementType), p)
                  .getResult());
        }
        vector::StoreOp::create(b, pForPv, scoreRows, ValueRange{scoreRow, c});
        return {arith::AddFOp::create(b, sum[0], p)};
      },
      width)[0];
  Value tileSum =
      vector::ReductionOp::create(b, vector::CombiningKind::ADD, sumVector);
  Value oldSum = memref::LoadOp::create(b, rowSum, r);
  memref::StoreOp::create(b, math::FmaOp::create(b, rescale, oldSum, tileSum),
                          rowSum, r);
  memref::StoreOp::create(b, newMax, rowMax, r);
  return rescale;
}

/// One KV tile for every row of the Q tile: the online softmax update.
/// Unmasked tiles are full (BN keys, all visible): no mask code. Masked
/// (boundary) tiles evaluate the mask per lane, key < seqlen_k folded into
/// its per-row upper bound.
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
  if (masked) {
    numKeys = arith::MinSIOp::create(
        b, numKeys, arith::SubIOp::create(b, seqlenK, firstKey));
  }
  auto staged = [&](ImplicitLocOpBuilder &b) {
    emitStageKv(b, firstKey, numKeys);
    emitRowBlocks(b, firstKey, numKeys, masked, /*direct=*/false);
  };
  // f32 K/V stage without a conversion; measured (bench/decode), the
  // direct path only pays for 16-bit caches.
  if (elementType.isF32() || op.getHeadDim() % width != 0 ||
      op.getHeadDimV() % width != 0) {
    return staged(b);
  }
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
        for (int64_t j = 0; j < kRowsPerBlock; ++j) {
          memref::StoreOp::create(
              b,
              vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                          partial[j]),
              scoreRows, ValueRange{index(b, j), c});
        }
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
      b, arith::CeilDivSIOp::create(b, numRows, index(b, kRowsPerBlock)),
      index(b, kRowsPerBlock));
  forLoop(
      b, index(b, 0), paddedRows, {},
      [&](ImplicitLocOpBuilder &b, Value r0, ValueRange) -> SmallVector<Value> {
        bool fuseMax = !direct && !masked && isScoreLinear();
        SmallVector<Value> maxima;
        if (!direct) {
          maxima = emitScoreRows(b, r0, fuseMax);
        }
        SmallVector<Value> rows, rescales;
        for (int64_t j = 0; j < kRowsPerBlock; ++j) {
          rows.push_back(arith::AddIOp::create(b, r0, index(b, j)));
          rescales.push_back(
              splat(b, emitSoftmaxRow(b, rows[j], j, firstKey, masked,
                                      fuseMax ? maxima[j] : Value())));
        }

        // acc = a * acc + P V, chunks of rows x vectors in registers across c.
        int64_t numVectors = paddedHeadDimV / width;
        for (int64_t first = 0; first < numVectors; first += kVectorsPerChunk) {
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
                if (!direct) {
                  return vector::LoadOp::create(b, f32Vector, valueTile,
                                                ValueRange{c, column});
                }
                return loadKvVectorF32(b, args.value,
                                       arith::AddIOp::create(b, firstKey, c),
                                       column);
              });
          for (int64_t j = 0; j < kRowsPerBlock; ++j) {
            for (int64_t i = 0; i < count; ++i) {
              vector::StoreOp::create(
                  b, sums[j * count + i], accumulator,
                  ValueRange{rows[j], index(b, (first + i) * width)});
            }
          }
        }
        return {};
      },
      kRowsPerBlock);
}

} // namespace mlir::attn::attn_tile
