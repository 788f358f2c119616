//===- HelperKernels.h - append and merge kernels ---------------*- C++ -*-===//
//
// The kernels launched around the attention kernel: `<name>_append` writes
// new keys and values into the KV cache before it, `<name>_merge` combines
// split-KV chunks after it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_CONVERSION_ATTNTOGPU_HELPERKERNELS_H
#define ATTNGEN_CONVERSION_ATTNTOGPU_HELPERKERNELS_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Builders.h"

#include <string>

namespace mlir::attn::attn_to_gpu {

/// Builds `name`, the append kernel of `op`, at the builder's insertion
/// point; `kernelTypes`: the attention kernel's parameter types.
void buildAppendKernel(OpBuilder &builder, AttentionOp op,
                       const std::string &name, ArrayRef<Type> kernelTypes);
/// Builds `name`, the split-KV merge kernel of `op`.
void buildMergeKernel(OpBuilder &builder, AttentionOp op,
                      const std::string &name, ArrayRef<Type> kernelTypes);

} // namespace mlir::attn::attn_to_gpu

#endif // ATTNGEN_CONVERSION_ATTNTOGPU_HELPERKERNELS_H
