//===- AttnAttrs.cpp - attn dialect attribute verifiers -------------------===//

#include "attngen/Dialect/Attn/IR/AttnAttrs.h"
#include "attngen/Support/TilingRules.h"

using namespace mlir;
using namespace mlir::attn;

LogicalResult TilingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t blockM, int64_t blockN,
                                 int64_t numWarps, int64_t numStages) {
  if (auto violation = attngen::checkTiling(blockM, blockN, numWarps, numStages))
    return emitError() << violation->field << " must be "
                       << violation->expected << " (tiling block_m = " << blockM
                       << ", block_n = " << blockN
                       << ", num_warps = " << numWarps
                       << ", num_stages = " << numStages << ")";
  return success();
}
