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

/// Constants shaped like the f32 value being rewritten (a scalar or a
/// vector), and the i32 type of the same shape for bit manipulation.
class ShapedConstants {
public:
  ShapedConstants(PatternRewriter &rewriter, Location loc, Type like)
      : rewriter(rewriter), loc(loc), vector(dyn_cast<VectorType>(like)) {}

  Type intType() const {
    Type i32 = rewriter.getI32Type();
    return vector ? Type(VectorType::get(vector.getShape(), i32)) : i32;
  }
  Value f32(double value) const {
    return make(rewriter.getF32Type(),
                rewriter.getF32FloatAttr(static_cast<float>(value)));
  }
  Value i32(int64_t value) const {
    return make(rewriter.getI32Type(),
                rewriter.getI32IntegerAttr(static_cast<int32_t>(value)));
  }

private:
  Value make(Type scalarType, Attribute value) const {
    if (!vector) {
      return arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(value));
    }
    return arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(VectorType::get(vector.getShape(), scalarType),
                               value));
  }
  PatternRewriter &rewriter;
  Location loc;
  VectorType vector;
};

/// exp2(x) for f32 (scalars or vectors) in 16 arithmetic ops, no library
/// call on any target:
///   x = clamp(x, -127, 127);  n = (x + 1.5 * 2^23) - 1.5 * 2^23, which is
///   x rounded to the nearest even integer;  f = x - n  (|f| <= 1/2)
///   2^f ~ sum_{k <= 6} (f ln 2)^k / k!   (relative error < 1.3e-7)
///   2^n = bitcast((n + 127) << 23), which is exactly 0 for n = -127, so
///   exp2(-inf) = 0 as softmax needs for masked scores.
struct Exp2Approximation : public OpRewritePattern<math::Exp2Op> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::Exp2Op op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) {
      return rewriter.notifyMatchFailure(op, "not f32");
    }
    Location loc = op.getLoc();
    ShapedConstants constants(rewriter, loc, type);
    auto f32Constant = [&](double value) { return constants.f32(value); };
    Type intType = constants.intType();

    Value x = arith::MaximumFOp::create(rewriter, loc, op.getOperand(),
                                        f32Constant(-127.0));
    x = arith::MinimumFOp::create(rewriter, loc, x, f32Constant(127.0));
    // Adding 1.5 * 2^23 leaves no fraction bits: the sum is rounded to an
    // integer (to nearest even), and subtracting it back is exact.
    Value magic = f32Constant(12582912.0);
    Value n = arith::SubFOp::create(
        rewriter, loc, arith::AddFOp::create(rewriter, loc, x, magic), magic);
    Value f = arith::SubFOp::create(rewriter, loc, x, n);
    // Horner form of the Taylor series of 2^f = e^(f ln 2), degree 6.
    double ln2 = std::log(2.0), coefficient = 1.0;
    SmallVector<double> coefficients;
    for (int k = 0; k <= 6; ++k) {
      coefficients.push_back(coefficient);
      coefficient *= ln2 / (k + 1);
    }
    Value poly = f32Constant(coefficients.back());
    for (int k = 5; k >= 0; --k) {
      poly = math::FmaOp::create(rewriter, loc, poly, f,
                                 f32Constant(coefficients[k]));
    }
    Value exponent = arith::FPToSIOp::create(rewriter, loc, intType, n);
    exponent =
        arith::AddIOp::create(rewriter, loc, exponent, constants.i32(127));
    exponent =
        arith::ShLIOp::create(rewriter, loc, exponent, constants.i32(23));
    Value scale = arith::BitcastOp::create(rewriter, loc, type, exponent);
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, poly, scale);
    return success();
  }
};

/// log2(x) for normal positive f32 x (the softmax sum is >= 1):
///   x = 2^e * m with m in [sqrt(1/2), sqrt(2)) (from the exponent bits);
///   t = (m - 1) / (m + 1), |t| <= 0.1716;
///   ln m = 2 (t + t^3/3 + t^5/5 + t^7/7 + t^9/9)   (error < 3e-10)
///   log2 x = e + ln(m) * log2(e)
struct Log2Approximation : public OpRewritePattern<math::Log2Op> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::Log2Op op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) {
      return rewriter.notifyMatchFailure(op, "not f32");
    }
    Location loc = op.getLoc();
    ShapedConstants constants(rewriter, loc, type);
    Type intType = constants.intType();
    auto f32 = [&](double v) { return constants.f32(v); };
    auto int32 = [&](int64_t v) { return constants.i32(v); };

    Value bits =
        arith::BitcastOp::create(rewriter, loc, intType, op.getOperand());
    Value exponent = arith::SubIOp::create(
        rewriter, loc, arith::ShRUIOp::create(rewriter, loc, bits, int32(23)),
        int32(127));
    Value mantissaBits = arith::OrIOp::create(
        rewriter, loc,
        arith::AndIOp::create(rewriter, loc, bits, int32(0x7fffff)),
        int32(0x3f800000));
    Value m = arith::BitcastOp::create(rewriter, loc, type, mantissaBits);
    // Move m from [1, 2) to [sqrt(1/2), sqrt(2)).
    Value large = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OGT, m, f32(std::sqrt(2.0)));
    m = arith::SelectOp::create(
        rewriter, loc, large, arith::MulFOp::create(rewriter, loc, m, f32(0.5)),
        m);
    exponent = arith::SelectOp::create(
        rewriter, loc, large,
        arith::AddIOp::create(rewriter, loc, exponent, int32(1)), exponent);
    Value t = arith::DivFOp::create(
        rewriter, loc, arith::SubFOp::create(rewriter, loc, m, f32(1.0)),
        arith::AddFOp::create(rewriter, loc, m, f32(1.0)));
    Value t2 = arith::MulFOp::create(rewriter, loc, t, t);
    Value series = f32(1.0 / 9.0);
    for (double c : {1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0}) {
      series = math::FmaOp::create(rewriter, loc, series, t2, f32(c));
    }
    // log2(m) = 2 t series / ln 2
    Value log2m = arith::MulFOp::create(
        rewriter, loc, arith::MulFOp::create(rewriter, loc, t, series),
        f32(2.0 / std::log(2.0)));
    Value e = arith::SIToFPOp::create(rewriter, loc, type, exponent);
    rewriter.replaceOpWithNewOp<arith::AddFOp>(op, e, log2m);
    return success();
  }
};

/// |x| for f32 by clearing the sign bit (convert-gpu-to-nvvm would make
/// math.absf a libdevice call).
struct AbsFAsBitMask : public OpRewritePattern<math::AbsFOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::AbsFOp op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!getElementTypeOrSelf(type).isF32()) {
      return rewriter.notifyMatchFailure(op, "not f32");
    }
    ShapedConstants constants(rewriter, op.getLoc(), type);
    Type intType = constants.intType();
    Value mask = constants.i32(0x7fffffff);
    Value bits = arith::BitcastOp::create(rewriter, op.getLoc(), intType,
                                          op.getOperand());
    Value cleared = arith::AndIOp::create(rewriter, op.getLoc(), bits, mask);
    rewriter.replaceOpWithNewOp<arith::BitcastOp>(op, type, cleared);
    return success();
  }
};

struct AttnApproximateMathPass
    : public mlir::attn::impl::AttnApproximateMathBase<
          AttnApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populatePolynomialApproximateTanhPattern(patterns);
    patterns.add<Log2Approximation, AbsFAsBitMask>(&getContext());
    if (exp2) {
      patterns.add<Exp2Approximation>(&getContext());
    }
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      return signalPassFailure();
    }
  }
};

} // namespace
