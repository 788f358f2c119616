//===- CpuPipeline.h - tiled attention to the LLVM dialect ------*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_CPU_CPUPIPELINE_H
#define ATTNGEN_BACKEND_CPU_CPUPIPELINE_H

#include "mlir/Pass/PassManager.h"

namespace attngen {

/// Lowers the kernel functions of the tiled IR (scf/arith/math/memref) to
/// the LLVM dialect; each keeps a C interface `_mlir_ciface_<name>`.
void buildCpuLoweringPipeline(mlir::OpPassManager &pm);

/// Registers `attn-lower-to-llvm-cpu` for attn-opt.
void registerCpuLoweringPipeline();

} // namespace attngen

#endif // ATTNGEN_BACKEND_CPU_CPUPIPELINE_H
