//===- Exp2ToNvvm.cpp - exp2 as the GPU's ex2.approx ---------------------===//
//
// math.exp2 on f32 becomes llvm.nvvm.ex2.approx.ftz.f32, element by element
// for vectors: NVPTX selects it as one ex2.approx.ftz.f32 (MUFU.EX2).
//
//===----------------------------------------------------------------------===//

#include "attngen/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNEXP2TONVVM
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

constexpr const char *kEx2Intrinsic = "llvm.nvvm.ex2.approx.ftz.f32";

struct Exp2ToEx2Approx : public OpRewritePattern<math::Exp2Op> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::Exp2Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    if (getElementTypeOrSelf(op.getType()) != f32) {
      return rewriter.notifyMatchFailure(op, "not f32");
    }
    auto ex2 = [&](Value x) {
      return LLVM::CallIntrinsicOp::create(
                 rewriter, loc, f32, rewriter.getStringAttr(kEx2Intrinsic),
                 ValueRange{x})
          .getResult(0);
    };
    auto vector = dyn_cast<VectorType>(op.getType());
    if (!vector) {
      rewriter.replaceOp(op, ex2(op.getOperand()));
      return success();
    }
    if (vector.isScalable()) {
      return rewriter.notifyMatchFailure(op, "scalable vector");
    }
    // Element by element over the flattened vector.
    auto flatType = VectorType::get({vector.getNumElements()}, f32);
    Value flat =
        vector::ShapeCastOp::create(rewriter, loc, flatType, op.getOperand());
    SmallVector<Value> elements;
    for (int64_t i = 0; i < vector.getNumElements(); ++i) {
      elements.push_back(
          ex2(vector::ExtractOp::create(rewriter, loc, flat, i)));
    }
    Value result =
        vector::FromElementsOp::create(rewriter, loc, flatType, elements);
    rewriter.replaceOpWithNewOp<vector::ShapeCastOp>(op, vector, result);
    return success();
  }
};

struct AttnExp2ToNvvmPass
    : public mlir::attn::impl::AttnExp2ToNvvmBase<AttnExp2ToNvvmPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<Exp2ToEx2Approx>(&getContext());
    // One walk: the rewrite's results never need rewriting again, and the
    // greedy driver's folding and region simplification of the whole
    // kernel cost 2.5% of a compile (the canonicalizer after this pass
    // folds the casts).
    walkAndApplyPatterns(getOperation(), std::move(patterns));
  }
};

} // namespace
