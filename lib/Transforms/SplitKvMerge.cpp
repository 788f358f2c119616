//===- SplitKvMerge.cpp - combining split-KV chunks by their LSE ----------===//

#include "attngen/Transforms/SplitKvMerge.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace mlir::attn {

namespace {
constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;

/// sum over s in [0, numSplits) of body(s), or the max when `isMax`.
Value reduceSplits(ImplicitLocOpBuilder &b, Value numSplits, Value init,
                   bool isMax,
                   function_ref<Value(ImplicitLocOpBuilder &, Value)> term) {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value one = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(
      b, zero, numSplits, one, ValueRange{init},
      [&](OpBuilder &nested, Location loc, Value s, ValueRange iter) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value value = term(nb, s);
        Value next =
            isMax ? arith::MaximumFOp::create(nb, iter[0], value).getResult()
                  : arith::AddFOp::create(nb, iter[0], value).getResult();
        scf::YieldOp::create(nb, next);
      });
  return loop.getResult(0);
}

Value f32Constant(ImplicitLocOpBuilder &b, double value) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                        APFloat(static_cast<float>(value)));
}
} // namespace

SplitKvMergeScalars::SplitKvMergeScalars(ImplicitLocOpBuilder &b, Value max)
    : max(max) {
  anyKey = arith::CmpFOp::create(
      b, arith::CmpFPredicate::OGT, max,
      f32Constant(b, -std::numeric_limits<double>::infinity()));
  // Without keys every lse_s is -inf: w_s = exp(-inf - 0) = 0.
  safeMax = arith::SelectOp::create(b, anyKey, max, f32Constant(b, 0.0));
}

Value SplitKvMergeScalars::weight(ImplicitLocOpBuilder &b, Value lse) const {
  return math::Exp2Op::create(
      b, arith::MulFOp::create(b, arith::SubFOp::create(b, lse, safeMax),
                               f32Constant(b, kLog2E)));
}

Value SplitKvMergeScalars::outputScale(ImplicitLocOpBuilder &b,
                                       Value total) const {
  return arith::SelectOp::create(
      b, anyKey, arith::DivFOp::create(b, f32Constant(b, 1.0), total),
      f32Constant(b, 0.0));
}

Value SplitKvMergeScalars::lse(ImplicitLocOpBuilder &b, Value total) const {
  Value logTotal = arith::MulFOp::create(b, math::Log2Op::create(b, total),
                                         f32Constant(b, kLn2));
  return arith::SelectOp::create(
      b, anyKey, arith::AddFOp::create(b, max, logTotal),
      f32Constant(b, -std::numeric_limits<double>::infinity()));
}

void emitSplitKvMergeRow(ImplicitLocOpBuilder &b, AttentionOp op,
                         const SplitKvMergeOperands &operands, Value batch,
                         Value query, Value head) {
  Value numSplits = memref::DimOp::create(b, operands.partialLse, 0);
  auto lseOf = [&](ImplicitLocOpBuilder &b, Value s) -> Value {
    return memref::LoadOp::create(b, operands.partialLse,
                                  ValueRange{s, batch, head, query});
  };
  SplitKvMergeScalars scalars(
      b, reduceSplits(b, numSplits,
                      f32Constant(b, -std::numeric_limits<double>::infinity()),
                      /*isMax=*/true, lseOf));
  auto weightOf = [&](ImplicitLocOpBuilder &b, Value s) -> Value {
    return scalars.weight(b, lseOf(b, s));
  };
  Value total = reduceSplits(b, numSplits, f32Constant(b, 0.0),
                             /*isMax=*/false, weightOf);
  Value scale = scalars.outputScale(b, total);
  Type elementType =
      cast<MemRefType>(operands.output.getType()).getElementType();
  scf::ForOp::create(
      b, arith::ConstantIndexOp::create(b, 0),
      arith::ConstantIndexOp::create(b, op.getHeadDimV()),
      arith::ConstantIndexOp::create(b, 1), ValueRange{},
      [&](OpBuilder &nested, Location loc, Value column, ValueRange) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value sum = reduceSplits(
            nb, numSplits, f32Constant(nb, 0.0), /*isMax=*/false,
            [&](ImplicitLocOpBuilder &ib, Value s) -> Value {
              Value part = memref::LoadOp::create(
                  ib, operands.partialOutput,
                  ValueRange{s, batch, query, head, column});
              return arith::MulFOp::create(ib, weightOf(ib, s), part);
            });
        Value out = arith::MulFOp::create(nb, sum, scale);
        if (!elementType.isF32()) {
          out = arith::TruncFOp::create(nb, elementType, out);
        }
        memref::StoreOp::create(nb, out, operands.output,
                                ValueRange{batch, query, head, column});
        scf::YieldOp::create(nb);
      });
  if (!op.returnsLse()) {
    return;
  }
  memref::StoreOp::create(b, scalars.lse(b, total), operands.lse,
                          ValueRange{batch, head, query});
}

} // namespace mlir::attn
