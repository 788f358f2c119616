//===- AttnAttrs.cpp - attn dialect attribute verifiers -------------------===//

#include "attngen/Dialect/Attn/IR/AttnAttrs.h"
#include "attngen/Support/TilingRules.h"

#include "mlir/IR/DialectImplementation.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

LogicalResult TilingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t blockM, int64_t blockN,
                                 int64_t numWarps, int64_t numStages) {
  if (auto violation =
          attngen::checkTiling(blockM, blockN, numWarps, numStages)) {
    return emitError() << violation->field << " must be " << violation->expected
                       << " (tiling block_m = " << blockM
                       << ", block_n = " << blockN
                       << ", num_warps = " << numWarps
                       << ", num_stages = " << numStages << ")";
  }
  return success();
}

LogicalResult RopeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               llvm::APFloat base, int64_t rotaryDim,
                               bool interleaved) {
  double value = base.convertToDouble();
  if (!std::isfinite(value) || value <= 1.0) {
    return emitError() << "rope base must be finite and > 1, got " << value;
  }
  if (rotaryDim < 2 || rotaryDim % 2 != 0) {
    return emitError() << "rope rotary_dim must be even and >= 2, got "
                       << rotaryDim;
  }
  return success();
}

/// `<base = B, rotary_dim = R[, interleaved]>`
Attribute RopeAttr::parse(AsmParser &parser, Type) {
  double base = 0.0;
  int64_t rotaryDim = 0;
  if (parser.parseLess() || parser.parseKeyword("base") ||
      parser.parseEqual() || parser.parseFloat(base) || parser.parseComma() ||
      parser.parseKeyword("rotary_dim") || parser.parseEqual() ||
      parser.parseInteger(rotaryDim)) {
    return {};
  }
  bool interleaved = succeeded(parser.parseOptionalComma());
  if (interleaved && parser.parseKeyword("interleaved")) {
    return {};
  }
  if (parser.parseGreater()) {
    return {};
  }
  return parser.getChecked<RopeAttr>(parser.getContext(), llvm::APFloat(base),
                                     rotaryDim, interleaved);
}

void RopeAttr::print(AsmPrinter &printer) const {
  printer << "<base = " << getBase() << ", rotary_dim = " << getRotaryDim();
  if (getInterleaved()) {
    printer << ", interleaved";
  }
  printer << ">";
}
