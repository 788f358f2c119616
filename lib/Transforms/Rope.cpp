//===- Rope.cpp - rotary position embedding inside the kernels ------------===//

#include "attngen/Transforms/Rope.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

namespace mlir::attn {

namespace {
constexpr double kPi = 3.14159265358979323846;

/// An f32 constant shaped like `like` (f32 or a vector of f32).
Value constantLike(ImplicitLocOpBuilder &b, Value like, double value) {
  auto attr = b.getF32FloatAttr(static_cast<float>(value));
  if (auto vector = dyn_cast<VectorType>(like.getType())) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vector, attr));
  }
  return arith::ConstantOp::create(b, attr);
}

/// x rounded to the nearest integer (ties to even), for |x| < 2^22: adding
/// 1.5 * 2^23 leaves no fraction bits.
Value roundToInteger(ImplicitLocOpBuilder &b, Value x) {
  Value magic = constantLike(b, x, 12582912.0);
  return arith::SubFOp::create(b, arith::AddFOp::create(b, x, magic), magic);
}

/// c0 + c1 y + c2 y^2 + ... (Horner).
Value polynomial(ImplicitLocOpBuilder &b, Value y, ArrayRef<double> c) {
  Value result = constantLike(b, y, c.back());
  for (double coefficient : llvm::reverse(c.drop_back())) {
    result = math::FmaOp::create(b, result, y, constantLike(b, y, coefficient));
  }
  return result;
}
} // namespace

std::pair<float, float> ropeTurnsPerPosition(RopeAttr rope, int64_t pair) {
  double base = rope.getBase().convertToDouble();
  double turns = std::pow(base, -2.0 * static_cast<double>(pair) /
                                    static_cast<double>(rope.getRotaryDim())) /
                 (2.0 * kPi);
  float hi = static_cast<float>(turns);
  return {hi, static_cast<float>(turns - static_cast<double>(hi))};
}

std::pair<Value, Value> emitRopeCosSin(ImplicitLocOpBuilder &b, Value position,
                                       Value turnsHi, Value turnsLo) {
  // t = frac(position * f) in [-1/2, 1/2]: a + e = position * hi exactly
  // (fma), a - round(a) is exact, and position * lo is tiny.
  Value a = arith::MulFOp::create(b, position, turnsHi);
  Value e =
      math::FmaOp::create(b, position, turnsHi, arith::NegFOp::create(b, a));
  Value t = arith::AddFOp::create(
      b, arith::SubFOp::create(b, a, roundToInteger(b, a)),
      math::FmaOp::create(b, position, turnsLo, e));
  // Quadrant k = round(4t) in [-2, 2]; x = 2 pi (t - k / 4) in [-pi/4, pi/4].
  Value k =
      roundToInteger(b, arith::MulFOp::create(b, t, constantLike(b, t, 4.0)));
  Value x = arith::MulFOp::create(
      b,
      arith::SubFOp::create(
          b, t, arith::MulFOp::create(b, k, constantLike(b, k, 0.25))),
      constantLike(b, t, 2.0 * kPi));
  // Taylor series to x^9 / x^8: errors < 2e-9 and 3e-8 on [-pi/4, pi/4].
  Value x2 = arith::MulFOp::create(b, x, x);
  Value sinX = arith::MulFOp::create(
      b, x,
      polynomial(b, x2, {1.0, -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880}));
  Value cosX =
      polynomial(b, x2, {1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320});
  // angle = x + k pi / 2: k = +-1 swaps sin and cos; the signs follow.
  auto compare = [&](arith::CmpFPredicate predicate, double value) {
    return arith::CmpFOp::create(b, predicate, k, constantLike(b, k, value));
  };
  Value swap = arith::OrIOp::create(b, compare(arith::CmpFPredicate::OEQ, 1.0),
                                    compare(arith::CmpFPredicate::OEQ, -1.0));
  Value cosine = arith::SelectOp::create(b, swap, sinX, cosX);
  Value sine = arith::SelectOp::create(b, swap, cosX, sinX);
  // cos(x + k pi/2) < 0 part: k = 1, +-2;  sin(x + k pi/2) < 0 part: k = -1,
  // +-2.
  Value negateCos =
      arith::OrIOp::create(b, compare(arith::CmpFPredicate::OGE, 1.0),
                           compare(arith::CmpFPredicate::OLE, -2.0));
  Value negateSin =
      arith::OrIOp::create(b, compare(arith::CmpFPredicate::OLE, -1.0),
                           compare(arith::CmpFPredicate::OGE, 2.0));
  cosine = arith::SelectOp::create(b, negateCos,
                                   arith::NegFOp::create(b, cosine), cosine);
  sine = arith::SelectOp::create(b, negateSin, arith::NegFOp::create(b, sine),
                                 sine);
  return {cosine, sine};
}

Value emitQueryPosition(ImplicitLocOpBuilder &b, Value seqlenK, Value seqlenQ,
                        Value query) {
  return arith::AddIOp::create(b, arith::SubIOp::create(b, seqlenK, seqlenQ),
                               query);
}

std::pair<Value, Value> emitRotatePair(ImplicitLocOpBuilder &b, Value x1,
                                       Value x2, Value cos, Value sin) {
  Value y1 = arith::SubFOp::create(b, arith::MulFOp::create(b, x1, cos),
                                   arith::MulFOp::create(b, x2, sin));
  Value y2 = arith::AddFOp::create(b, arith::MulFOp::create(b, x2, cos),
                                   arith::MulFOp::create(b, x1, sin));
  return {y1, y2};
}

namespace {
/// The turns per position of pairs [first, first + count) as vector<count x
/// f32> constants (hi, lo).
std::pair<Value, Value> chunkTurns(ImplicitLocOpBuilder &b, RopeAttr rope,
                                   int64_t first, int64_t count) {
  SmallVector<float> hi, lo;
  for (int64_t pair = first; pair < first + count; ++pair) {
    auto [turnsHi, turnsLo] = ropeTurnsPerPosition(rope, pair);
    hi.push_back(turnsHi);
    lo.push_back(turnsLo);
  }
  auto type = VectorType::get({count}, b.getF32Type());
  return {arith::ConstantOp::create(
              b, DenseElementsAttr::get(type, ArrayRef<float>(hi))),
          arith::ConstantOp::create(
              b, DenseElementsAttr::get(type, ArrayRef<float>(lo)))};
}

/// `position` (an index) as f32, emitRopeCosSin's operand.
Value positionAsF32(ImplicitLocOpBuilder &b, Value position) {
  return arith::SIToFPOp::create(
      b, b.getF32Type(),
      arith::IndexCastOp::create(b, b.getI32Type(), position));
}

/// Rotates the `count` pairs from pair `first` (an index) of a row at
/// `positionF32` with their turns per position (vector<count x f32>).
void emitRotatePairs(ImplicitLocOpBuilder &b, RopeAttr rope, Value positionF32,
                     Value source, ValueRange sourceIndices, Value destination,
                     ValueRange destinationIndices, Value first, int64_t count,
                     Value turnsHi, Value turnsLo) {
  int64_t numPairs = rope.getRotaryDim() / 2;
  Type f32 = b.getF32Type();
  Type sourceElement = cast<MemRefType>(source.getType()).getElementType();
  Type destinationElement =
      cast<MemRefType>(destination.getType()).getElementType();
  // Column `column` (+ `offset`) of the row, as an index list of the memref.
  auto at = [&](ValueRange row, Value column, int64_t offset) {
    SmallVector<Value> indices(row);
    indices.back() = arith::AddIOp::create(
        b, arith::AddIOp::create(b, indices.back(), column),
        arith::ConstantIndexOp::create(b, offset));
    return indices;
  };
  auto load = [&](Value column, int64_t offset, int64_t width) -> Value {
    Value loaded =
        vector::LoadOp::create(b, VectorType::get({width}, sourceElement),
                               source, at(sourceIndices, column, offset));
    if (sourceElement == f32) {
      return loaded;
    }
    return arith::ExtFOp::create(b, VectorType::get({width}, f32), loaded);
  };
  auto store = [&](Value values, Value column, int64_t offset) {
    auto type = cast<VectorType>(values.getType());
    if (destinationElement != f32) {
      values = arith::TruncFOp::create(
          b, VectorType::get(type.getShape(), destinationElement), values);
    }
    vector::StoreOp::create(b, values, destination,
                            at(destinationIndices, column, offset));
  };
  auto chunkType = VectorType::get({count}, f32);
  Value positions = vector::BroadcastOp::create(b, chunkType, positionF32);
  auto [cos, sin] = emitRopeCosSin(b, positions, turnsHi, turnsLo);
  if (rope.getInterleaved()) {
    // Pairs (x[2p], x[2p + 1]): one load, split into even and odd lanes.
    Value column =
        arith::MulIOp::create(b, first, arith::ConstantIndexOp::create(b, 2));
    auto halves = vector::DeinterleaveOp::create(b, load(column, 0, 2 * count));
    auto [y1, y2] =
        emitRotatePair(b, halves.getRes1(), halves.getRes2(), cos, sin);
    store(vector::InterleaveOp::create(b, y1, y2), column, 0);
  } else {
    // Pairs (x[p], x[p + rotary_dim / 2]).
    auto [y1, y2] = emitRotatePair(b, load(first, 0, count),
                                   load(first, numPairs, count), cos, sin);
    store(y1, first, 0);
    store(y2, first, numPairs);
  }
}
} // namespace

void emitRotateRow(ImplicitLocOpBuilder &b, RopeAttr rope, Value position,
                   Value source, ValueRange sourceIndices, Value destination,
                   ValueRange destinationIndices, int64_t pairsPerChunk) {
  int64_t numPairs = rope.getRotaryDim() / 2;
  Value positionF32 = positionAsF32(b, position);
  for (int64_t first = 0; first < numPairs; first += pairsPerChunk) {
    int64_t count = std::min(pairsPerChunk, numPairs - first);
    auto [turnsHi, turnsLo] = chunkTurns(b, rope, first, count);
    emitRotatePairs(b, rope, positionF32, source, sourceIndices, destination,
                    destinationIndices,
                    arith::ConstantIndexOp::create(b, first), count, turnsHi,
                    turnsLo);
  }
}

int64_t ropeChunkPairs(RopeAttr rope, int64_t maxPairs) {
  int64_t numPairs = rope.getRotaryDim() / 2;
  int64_t pairs = maxPairs;
  while (numPairs % pairs != 0) {
    --pairs;
  }
  return pairs;
}

void emitRotateRowChunk(ImplicitLocOpBuilder &b, RopeAttr rope, Value position,
                        Value source, ValueRange sourceIndices,
                        Value destination, ValueRange destinationIndices,
                        int64_t pairsPerChunk, Value chunk) {
  int64_t numPairs = rope.getRotaryDim() / 2;
  assert(numPairs % pairsPerChunk == 0 && "chunks must tile the pairs");
  // The chunk's turns: a select over the chunks' constants (a few
  // instructions per chunk instead of a copy of the rotation per chunk).
  auto [turnsHi, turnsLo] = chunkTurns(b, rope, 0, pairsPerChunk);
  auto conditionType = VectorType::get({pairsPerChunk}, b.getI1Type());
  for (int64_t c = 1; c < numPairs / pairsPerChunk; ++c) {
    auto [hi, lo] = chunkTurns(b, rope, c * pairsPerChunk, pairsPerChunk);
    Value isChunk = vector::BroadcastOp::create(
        b, conditionType,
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, chunk,
                              arith::ConstantIndexOp::create(b, c)));
    turnsHi = arith::SelectOp::create(b, isChunk, hi, turnsHi);
    turnsLo = arith::SelectOp::create(b, isChunk, lo, turnsLo);
  }
  Value first = arith::MulIOp::create(
      b, chunk, arith::ConstantIndexOp::create(b, pairsPerChunk));
  emitRotatePairs(b, rope, positionAsF32(b, position), source, sourceIndices,
                  destination, destinationIndices, first, pairsPerChunk,
                  turnsHi, turnsLo);
}

} // namespace mlir::attn
