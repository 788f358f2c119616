//===- WarpPrimitives.cpp - warp-level pieces of the kernel ---------------===//
//
// Lane-group and quad reductions (the 4 lanes that hold a row), m16n8k16
// tensor-core MMAs (f16 through nvgpu, bf16 through nvvm), Q fragments by
// ldmatrix, and the score modifiers of one dot product.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

namespace mlir::attn::attn_to_gpu {

Value emitLaneGroupReduce(ImplicitLocOpBuilder &b, Value value, bool isMax,
                          int64_t lanes) {
  auto i32 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(b, b.getI32Type(), v);
  };
  for (int64_t offset = 1; offset < lanes; offset *= 2) {
    Value other = gpu::ShuffleOp::create(b, value, i32(offset), i32(kWarpSize),
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    value = isMax ? arith::MaximumFOp::create(b, value, other).getResult()
                  : arith::AddFOp::create(b, value, other).getResult();
  }
  return value;
}

/// Reduces over the 4 lanes of a quad (the lanes holding one row):
/// xor-shuffles by 1 and 2.
Value AttentionKernelBuilder::emitQuadReduce(ImplicitLocOpBuilder &b,
                                             Value value, bool isMax) {
  return emitLaneGroupReduce(b, value, isMax, /*lanes=*/4);
}

/// D = A B + C on one m16n8k16 tensor-core MMA. f16 goes through
/// nvgpu.mma.sync; bf16 (which nvgpu does not lower) through nvvm.mma.sync
/// on the same fragments packed two elements to a 32-bit register.
Value AttentionKernelBuilder::emitMma(ImplicitLocOpBuilder &b, Value a,
                                      Value bFragment, Value c) {
  if (elementType.isF16()) {
    return nvgpu::MmaSyncOp::create(b, a, bFragment, c,
                                    ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK});
  }
  // A fragment feeds several MMAs (Q's and P's every key or column tile,
  // K's and V's every slab): it is packed into 32-bit registers once per
  // block (a later use in the same block comes after the packing).
  Block *block = b.getInsertionBlock();
  auto packed = [&](Value fragment, int64_t count) {
    SmallVector<Value, 4> &registers = packedFragments[{fragment, block}];
    if (registers.empty()) {
      for (int64_t i = 0; i < count; ++i) {
        Value pair = vector::ExtractOp::create(b, fragment, i);
        Value word = vector::BitCastOp::create(
            b, VectorType::get({1}, b.getI32Type()), pair);
        registers.push_back(vector::ExtractOp::create(b, word, 0));
      }
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
    for (int64_t i = 0; i < 2; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        accumulator.push_back(
            vector::ExtractOp::create(b, c, ArrayRef<int64_t>{i, j}));
      }
    }
  }
  Type f32 = b.getF32Type();
  auto resultType =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  Value result = NVVM::MmaOp::create(
      b, resultType, packed(a, 4), packed(bFragment, 2), accumulator,
      ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> elements;
  for (int64_t i = 0; i < 4; ++i) {
    elements.push_back(LLVM::ExtractValueOp::create(b, result, i));
  }
  return vector::FromElementsOp::create(b, c.getType(), elements);
}

/// The A fragment of Q for slab `slab` and head-dim block `kb`: ldmatrix.x4
/// at row slabRow + lane % 16, column 16 kb + (lane / 16) * 8.
Value AttentionKernelBuilder::emitQueryFragment(ImplicitLocOpBuilder &b,
                                                int64_t slab, int64_t kb) {
  if (keepQueryInRegisters &&
      static_cast<int64_t>(queryFragments.size()) > slab) {
    return queryFragments[slab][kb];
  }
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

Value AttentionKernelBuilder::emitScore(ImplicitLocOpBuilder &b, Value dot,
                                        Value rowSlope2, Value distance) {
  double scale = op.getScale().convertToDouble();
  double softcap = op.getSoftcap().convertToDouble();
  // s2 = log2(e) * softcap * tanh(dot * scale / softcap) or log2(e) * dot
  // * scale, minus log2(e) * slope * |distance| (one FMA, |.| its operand
  // modifier). tanh's argument keeps its two multiplies: with dot * (scale
  // / softcap) in one, ptxas spilled 28 bytes for window, sinks and
  // softcap at d96 on sm_90 in 168 registers.
  Value score2;
  if (softcap > 0.0) {
    Value score = arith::MulFOp::create(b, dot, f32(b, scale));
    Value tanh =
        emitFastTanh(b, arith::MulFOp::create(b, score, f32(b, 1.0 / softcap)));
    score2 = arith::MulFOp::create(b, tanh, f32(b, softcap * kLog2E));
  } else {
    score2 = arith::MulFOp::create(b, dot, f32(b, scale * kLog2E));
  }
  if (op.getAlibi()) {
    score2 = math::FmaOp::create(b, arith::NegFOp::create(b, rowSlope2),
                                 math::AbsFOp::create(b, distance), score2);
  }
  return score2;
}

/// The first row of slab `slab` of this warp.
Value AttentionKernelBuilder::emitSlabRow(ImplicitLocOpBuilder &b,
                                          int64_t slab) {
  return arith::AddIOp::create(
      b, firstRow,
      arith::MulIOp::create(
          b, arith::AddIOp::create(b, index(b, slab * tiling.numWarps), warp),
          index(b, kMmaM)));
}

} // namespace mlir::attn::attn_to_gpu
