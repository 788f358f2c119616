//===- ApproximateMath.cpp - vectorizable tanh, exp2 and exp --------------===//

#include "attngen/Transforms/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATH
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct AttnApproximateMathPass
    : public mlir::attn::impl::AttnApproximateMathBase<AttnApproximateMathPass> {
  void runOnOperation() override {
    // tanh first (its own polynomial), then exp2 -> exp(x * ln 2), then exp.
    RewritePatternSet tanhPatterns(&getContext());
    populatePolynomialApproximateTanhPattern(tanhPatterns);
    RewritePatternSet expandPatterns(&getContext());
    math::populateExpansionPatterns(expandPatterns, {"exp2"});
    RewritePatternSet expPatterns(&getContext());
    populateMathPolynomialApproximationPatterns(
        expPatterns, [](StringRef name) { return name == "exp"; });
    for (RewritePatternSet *patterns :
         {&tanhPatterns, &expandPatterns, &expPatterns}) {
      if (failed(applyPatternsGreedily(getOperation(), std::move(*patterns))))
        return signalPassFailure();
    }
  }
};
} // namespace
