//===- MaskAnalysis.cpp - tile classification of attention masks ----------===//

#include "attngen/Transforms/MaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::attn;

MaskModel MaskModel::fromOp(AttentionOp op) {
  int64_t left = op.getWindowLeft();
  int64_t right = op.getWindowRight();
  // Causal is the window (-1, 0), intersected with the given one.
  if (op.getMask() == MaskKind::Causal) {
    right = right == -1 ? 0 : std::min<int64_t>(right, 0);
  }

  MaskModel model;
  KeyInterval window;
  if (left != -1) {
    window.lower.push_back({/*rowRelative=*/true, -left});
  }
  if (right != -1) {
    window.upper.push_back({/*rowRelative=*/true, right});
  }

  // Sinks: keys [0, n) stay visible past the left edge, still subject to the
  // right bound. Their interval starts at key 0, before the window's.
  if (int64_t sinks = op.getSinkTokens(); sinks > 0 && left != -1) {
    KeyInterval sinkInterval;
    sinkInterval.upper.push_back({/*rowRelative=*/false, sinks - 1});
    sinkInterval.upper.append(window.upper.begin(), window.upper.end());
    model.intervals.push_back(sinkInterval);
  }
  model.intervals.push_back(window);
  return model;
}

static Value emitBound(ImplicitLocOpBuilder &b, const KeyBound &bound,
                       Value row, Value offset) {
  Value constant = arith::ConstantIndexOp::create(b, bound.constant);
  if (!bound.rowRelative) {
    return constant;
  }
  Value shifted = arith::AddIOp::create(b, row, offset);
  return arith::AddIOp::create(b, shifted, constant);
}

/// max over `terms` at `row`, or `fallback` when there are none.
static Value emitLower(ImplicitLocOpBuilder &b, ArrayRef<KeyBound> terms,
                       Value row, Value offset, Value fallback) {
  Value result = fallback;
  for (const KeyBound &term : terms) {
    result = arith::MaxSIOp::create(b, result, emitBound(b, term, row, offset));
  }
  return result;
}

/// min over `terms` at `row`, or `fallback` when there are none.
static Value emitUpper(ImplicitLocOpBuilder &b, ArrayRef<KeyBound> terms,
                       Value row, Value offset, Value fallback) {
  Value result = fallback;
  for (const KeyBound &term : terms) {
    result = arith::MinSIOp::create(b, result, emitBound(b, term, row, offset));
  }
  return result;
}

SmallVector<KvTileRanges> MaskModel::emitTileRanges(ImplicitLocOpBuilder &b,
                                                    Value firstRow,
                                                    Value lastRow, Value offset,
                                                    Value seqlenK,
                                                    int64_t blockN) const {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  Value block = arith::ConstantIndexOp::create(b, blockN);
  Value lastKey = arith::SubIOp::create(b, seqlenK, one);
  auto floorTile = [&](Value key) {
    return arith::FloorDivSIOp::create(b, key, block).getResult();
  };
  auto ceilTile = [&](Value key) {
    return arith::CeilDivSIOp::create(b, key, block).getResult();
  };
  auto clamp = [&](Value value, Value lo, Value hi) {
    return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, value, lo), hi)
        .getResult();
  };

  SmallVector<KvTileRanges> ranges;
  Value previousEnd = zero;
  for (const KeyInterval &interval : intervals) {
    // may-visible keys [lowAny, highAny]; all-visible keys [lowAll, highAll].
    Value lowAny = emitLower(b, interval.lower, firstRow, offset, zero);
    Value lowAll = emitLower(b, interval.lower, lastRow, offset, zero);
    Value highAny = emitUpper(b, interval.upper, lastRow, offset, lastKey);
    Value highAll = emitUpper(b, interval.upper, firstRow, offset, lastKey);

    // Tiles [floor(lowAny / BN), ceil((highAny + 1) / BN)) may hold visible
    // keys, none if the interval is empty for every row of the Q tile.
    Value begin = arith::MaxSIOp::create(b, floorTile(lowAny), previousEnd);
    Value highAnyEnd = ceilTile(arith::AddIOp::create(b, highAny, one));
    Value isEmpty =
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, highAny, lowAny);
    Value end = arith::SelectOp::create(
        b, isEmpty, begin, arith::MaxSIOp::create(b, highAnyEnd, begin));
    // Tiles [ceil(lowAll / BN), floor((highAll + 1) / BN)) hold only keys
    // visible to every row.
    Value fullBegin = clamp(ceilTile(lowAll), begin, end);
    Value fullEnd = clamp(floorTile(arith::AddIOp::create(b, highAll, one)),
                          fullBegin, end);
    ranges.push_back(
        {begin, fullBegin, fullEnd, end,
         /*leadingBoundaryIsEmpty=*/interval.lower.empty() && ranges.empty()});
    previousEnd = end;
  }
  return ranges;
}

Value MaskModel::emitVisible(ImplicitLocOpBuilder &b, Value row, Value key,
                             Value offset, Value keyBase,
                             Value keyCount) const {
  // Bounds are per row; compare them against every lane of a vector of keys.
  auto keyVector = dyn_cast<VectorType>(key.getType());
  Type keyElement = getElementTypeOrSelf(key.getType());
  // keyBase in the key's type: the keys' base, in [0, max) with max the
  // type's largest value (keys, 2^31 - 1 for i32, are below it).
  Value narrowBase = keyBase;
  if (keyBase && keyBase.getType() != keyElement) {
    narrowBase = arith::IndexCastOp::create(b, keyElement, keyBase);
  }
  // A per-row bound B in the key's type, relative to keyBase: B - keyBase.
  // Narrowed, B is first clamped to [-1, max], which no key j in [0, max)
  // compares differently against (j <= B, j >= B); B - keyBase then cannot
  // overflow, and the clamp, per row, is the same for every KV tile.
  auto inKeyType = [&](Value bound) -> Value {
    if (bound.getType() != keyElement) {
      unsigned bits = keyElement.getIntOrFloatBitWidth();
      bound = arith::MaxSIOp::create(
          b,
          arith::MinSIOp::create(
              b, bound,
              arith::ConstantIndexOp::create(
                  b, APInt::getSignedMaxValue(bits).getSExtValue())),
          arith::ConstantIndexOp::create(b, -1));
      bound = arith::IndexCastOp::create(b, keyElement, bound);
    }
    if (narrowBase) {
      bound = arith::SubIOp::create(b, bound, narrowBase);
    }
    return bound;
  };
  // A scalar bound compared against every lane of a vector of keys.
  auto likeKey = [&](Value bound) -> Value {
    if (!keyVector) {
      return bound;
    }
    return vector::BroadcastOp::create(b, keyVector, bound);
  };
  Type i1 = b.getI1Type();
  Type maskType =
      keyVector ? Type(VectorType::get(keyVector.getShape(), i1)) : i1;
  // keyCount - 1 in the key's type, the same for every row.
  Value lastKey = keyCount
                      ? inKeyType(arith::SubIOp::create(
                            b, keyCount, arith::ConstantIndexOp::create(b, 1)))
                      : Value();
  Value anyInterval;
  for (const KeyInterval &interval : intervals) {
    Value inside =
        keyVector
            ? arith::ConstantOp::create(
                  b, DenseElementsAttr::get(cast<VectorType>(maskType), true))
                  .getResult()
            : arith::ConstantIntOp::create(b, 1, 1).getResult();
    for (const KeyBound &term : interval.lower) {
      inside = arith::AndIOp::create(
          b, inside,
          arith::CmpIOp::create(
              b, arith::CmpIPredicate::sge, key,
              likeKey(inKeyType(emitBound(b, term, row, offset)))));
    }
    // j <= min(upper bounds..., keyCount - 1): the last bound takes the
    // key count. (Taken before subtracting keyBase, the min is the same for
    // every tile, but ptxas then scheduled the masked loops worse: window
    // d96's trailing one 1181 -> 1245 SASS instructions.)
    for (auto [i, term] : llvm::enumerate(interval.upper)) {
      Value bound = inKeyType(emitBound(b, term, row, offset));
      if (lastKey && i + 1 == interval.upper.size()) {
        bound = arith::MinSIOp::create(b, bound, lastKey);
      }
      inside = arith::AndIOp::create(
          b, inside,
          arith::CmpIOp::create(b, arith::CmpIPredicate::sle, key,
                                likeKey(bound)));
    }
    if (lastKey && interval.upper.empty()) {
      inside = arith::AndIOp::create(
          b, inside,
          arith::CmpIOp::create(b, arith::CmpIPredicate::sle, key,
                                likeKey(lastKey)));
    }
    anyInterval = anyInterval
                      ? arith::OrIOp::create(b, anyInterval, inside).getResult()
                      : inside;
  }
  return anyInterval;
}
