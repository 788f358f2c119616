//===- SpecToIR.h - AttentionSpec to the attn dialect -----------*- C++ -*-===//

#ifndef ATTNGEN_SPEC_SPECTOIR_H
#define ATTNGEN_SPEC_SPECTOIR_H

#include "attngen/Spec/AttentionSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace attngen {

/// Builds `module { func.func @<name>(%q, %k, %v) -> (o[, lse]) }` whose body
/// is one attn.attention op carrying every field of `spec`. Batch and seqlens
/// are dynamic; head counts and head dims are static. `target` overrides the
/// spec's own target.
mlir::OwningOpRef<mlir::ModuleOp>
buildAttentionModule(const AttentionSpec &spec, mlir::MLIRContext &context,
                     mlir::Location location, Target target);

} // namespace attngen

#endif // ATTNGEN_SPEC_SPECTOIR_H
