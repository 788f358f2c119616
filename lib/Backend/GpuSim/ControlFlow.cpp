//===- ControlFlow.cpp - scf.for and scf.if in the emulator ---------------===//
//
// Structured control flow narrows the active mask: scf.for with per-thread
// bounds runs each thread until its own bound, scf.if splits the mask.
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

namespace attngen::gpu_sim {

LogicalResult CtaSimulator::execFor(scf::ForOp op, const Mask &mask) {
  Block &body = *op.getBody();
  std::vector<double> iv(numThreads), ub(numThreads), step(numThreads);
  std::vector<Elements> carried[8];
  std::vector<std::vector<Elements>> iter(op.getNumRegionIterArgs(),
                                          std::vector<Elements>(numThreads));
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t]) {
      continue;
    }
    iv[t] = scalar(op.getLowerBound(), t);
    ub[t] = scalar(op.getUpperBound(), t);
    step[t] = scalar(op.getStep(), t);
    for (auto [i, init] : llvm::enumerate(op.getInitArgs())) {
      iter[i][t] = values[init][t];
    }
  }
  for (;;) {
    Mask active(numThreads, false);
    bool any = false;
    for (int64_t t = 0; t < numThreads; ++t) {
      any |= active[t] = mask[t] && iv[t] < ub[t];
    }
    if (!any) {
      break;
    }
    for (int64_t t = 0; t < numThreads; ++t) {
      if (!active[t]) {
        continue;
      }
      set(body.getArgument(0), t, {iv[t]});
      for (size_t i = 0; i < iter.size(); ++i) {
        set(body.getArgument(i + 1), t, iter[i][t]);
      }
    }
    for (Operation &nested : body.without_terminator()) {
      if (failed(execOp(&nested, active))) {
        return failure();
      }
    }
    auto yield = cast<scf::YieldOp>(body.getTerminator());
    for (int64_t t = 0; t < numThreads; ++t) {
      if (!active[t]) {
        continue;
      }
      for (auto [i, v] : llvm::enumerate(yield.getOperands())) {
        iter[i][t] = values[v][t];
      }
      iv[t] += step[t];
    }
  }
  for (int64_t t = 0; t < numThreads; ++t) {
    if (mask[t]) {
      for (auto [i, result] : llvm::enumerate(op.getResults())) {
        set(result, t, iter[i][t]);
      }
    }
  }
  (void)carried;
  return success();
}

LogicalResult CtaSimulator::execIf(scf::IfOp op, const Mask &mask) {
  Mask thenMask(numThreads, false), elseMask(numThreads, false);
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t]) {
      continue;
    }
    bool cond = scalar(op.getCondition(), t) != 0.0;
    thenMask[t] = cond;
    elseMask[t] = !cond;
  }
  for (auto [region, branchMask] :
       {std::make_pair(&op.getThenRegion(), &thenMask),
        std::make_pair(&op.getElseRegion(), &elseMask)}) {
    if (region->empty() || std::none_of(branchMask->begin(), branchMask->end(),
                                        [](bool b) { return b; })) {
      continue;
    }
    Block &block = region->front();
    for (Operation &nested : block.without_terminator()) {
      if (failed(execOp(&nested, *branchMask))) {
        return failure();
      }
    }
    auto yield = cast<scf::YieldOp>(block.getTerminator());
    for (int64_t t = 0; t < numThreads; ++t) {
      if ((*branchMask)[t]) {
        for (auto [result, v] :
             llvm::zip(op.getResults(), yield.getOperands())) {
          set(result, t, values[v][t]);
        }
      }
    }
  }
  return success();
}

} // namespace attngen::gpu_sim
