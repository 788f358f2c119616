//===- ApproximateMath.cpp - vectorizable tanh, exp2 and exp --------------===//

#include "attngen/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATH
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

/// exp2(x) for f32 (scalars or vectors) in 15 arithmetic ops:
///   x = clamp(x, -127, 127);  n = roundeven(x);  f = x - n  (|f| <= 1/2)
///   2^f ~ sum_{k <= 6} (f ln 2)^k / k!   (relative error < 1.3e-7)
///   2^n = bitcast((n + 127) << 23), which is exactly 0 for n = -127, so
///   exp2(-inf) = 0 as softmax needs for masked scores.
struct Exp2Approximation : public OpRewritePattern<math::Exp2Op> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::Exp2Op op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    auto vector = dyn_cast<VectorType>(type);
    if (!getElementTypeOrSelf(type).isF32())
      return rewriter.notifyMatchFailure(op, "not f32");
    Location loc = op.getLoc();
    auto constant = [&](Type scalarType, Attribute value) -> Value {
      if (!vector)
        return arith::ConstantOp::create(rewriter, loc,
                                         cast<TypedAttr>(value));
      return arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(VectorType::get(vector.getShape(), scalarType),
                                 value));
    };
    Type f32 = rewriter.getF32Type(), i32 = rewriter.getI32Type();
    auto f32Constant = [&](double value) {
      return constant(f32, rewriter.getF32FloatAttr(static_cast<float>(value)));
    };
    Type intType = vector ? Type(VectorType::get(vector.getShape(), i32)) : i32;

    Value x = arith::MaximumFOp::create(rewriter, loc, op.getOperand(),
                                        f32Constant(-127.0));
    x = arith::MinimumFOp::create(rewriter, loc, x, f32Constant(127.0));
    Value n = math::RoundEvenOp::create(rewriter, loc, x);
    Value f = arith::SubFOp::create(rewriter, loc, x, n);
    // Horner form of the Taylor series of 2^f = e^(f ln 2), degree 6.
    double ln2 = std::log(2.0), coefficient = 1.0;
    SmallVector<double> coefficients;
    for (int k = 0; k <= 6; ++k) {
      coefficients.push_back(coefficient);
      coefficient *= ln2 / (k + 1);
    }
    Value poly = f32Constant(coefficients.back());
    for (int k = 5; k >= 0; --k)
      poly = math::FmaOp::create(rewriter, loc, poly, f,
                                 f32Constant(coefficients[k]));
    Value exponent = arith::FPToSIOp::create(rewriter, loc, intType, n);
    exponent = arith::AddIOp::create(
        rewriter, loc, exponent, constant(i32, rewriter.getI32IntegerAttr(127)));
    exponent = arith::ShLIOp::create(
        rewriter, loc, exponent, constant(i32, rewriter.getI32IntegerAttr(23)));
    Value scale = arith::BitcastOp::create(rewriter, loc, type, exponent);
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, poly, scale);
    return success();
  }
};

struct AttnApproximateMathPass
    : public mlir::attn::impl::AttnApproximateMathBase<AttnApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populatePolynomialApproximateTanhPattern(patterns);
    patterns.add<Exp2Approximation>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
