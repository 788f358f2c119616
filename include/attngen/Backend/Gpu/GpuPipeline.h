//===- GpuPipeline.h - GPU kernels to PTX -----------------------*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_GPU_GPUPIPELINE_H
#define ATTNGEN_BACKEND_GPU_GPUPIPELINE_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace attngen {

/// What PTX emission needs beyond the dialects: the NVVM target interface,
/// the LLVM IR translations and the to-LLVM conversion interfaces.
void registerGpuCodegenExtensions(mlir::DialectRegistry &registry);

/// The rewrites before NVVM (cleanup, polynomial log2/tanh, index arithmetic
/// narrowed to i32 where its range allows): the last level of the kernel
/// that the gpu-sim backend executes.
void buildGpuPreNvvmPipeline(mlir::OpPassManager &pm);

/// gpu.module (after attn-to-gpu) -> the LLVM and NVVM dialects, with the
/// NVVM target for `chip` (sm_80, sm_90) attached.
void buildGpuToNvvmPipeline(mlir::OpPassManager &pm, const std::string &chip);

/// gpu.module (after attn-to-gpu) -> NVVM -> PTX in a gpu.binary, for
/// `chip` (sm_80, sm_90), in-process (no nvcc, no libdevice).
void buildGpuLoweringPipeline(mlir::OpPassManager &pm, const std::string &chip);

/// The PTX ISA version the kernels are emitted for (CUDA 12.0 and later).
inline constexpr const char *kPtxFeatures = "+ptx80";

/// `attn-gpu-module-to-ptx`: each gpu.module with an #nvvm.target becomes a
/// gpu.binary holding its PTX (GpuModuleToPtx.cpp says why this is not
/// MLIR's gpu-module-to-binary).
std::unique_ptr<mlir::Pass> createGpuModuleToPtxPass();

/// The PTX of one gpu.module (NVVM and LLVM dialects, #nvvm.target
/// attached): LLVM's NVPTX code generator at -O3 on its LLVM IR.
llvm::Expected<std::string> emitPtx(mlir::gpu::GPUModuleOp kernels);

/// LLVM IR text of the kernel module after buildGpuToNvvmPipeline: exactly
/// what emitPtx gives the NVPTX code generator (`llc -O3 -nvptx-short-ptr`
/// on it makes the same PTX), with the NVPTX triple and data layout.
llvm::Expected<std::string> translateGpuModuleToLLVMIR(mlir::ModuleOp module);

/// The PTX text of the module's gpu.binary after the pipeline above.
llvm::Expected<std::string> extractPtx(mlir::ModuleOp module);

/// Registers `attn-lower-to-ptx{chip=...}` for attn-opt.
void registerGpuLoweringPipeline();

} // namespace attngen

#endif // ATTNGEN_BACKEND_GPU_GPUPIPELINE_H
