//===- InitAllPasses.h - every pass attngen runs ----------------*- C++ -*-===//

#ifndef ATTNGEN_INITALLPASSES_H
#define ATTNGEN_INITALLPASSES_H

#include "attngen/Conversion/Passes.h"
#include "attngen/Transforms/Passes.h"

#include "mlir/Transforms/Passes.h"

namespace attngen {

/// Registers attngen's passes and the upstream passes its pipelines use, so
/// attn-opt can run every stage of the pipeline by flag.
inline void registerAllPasses() {
  mlir::attn::registerAttnTransformsPasses();
  mlir::attn::registerAttnConversionPasses();
  mlir::registerTransformsPasses();
}

} // namespace attngen

#endif // ATTNGEN_INITALLPASSES_H
