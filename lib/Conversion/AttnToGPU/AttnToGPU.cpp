//===- AttnToGPU.cpp - attn.attention to GPU kernels ----------------------===//
//
// See the pass description in Passes.td. Each function's attn.attention
// becomes a gpu.func kernel in the module's `attn_kernels` gpu.module
// (AttentionKernelBuilder.h), with its append and merge kernels where the
// op needs them (HelperKernels.h).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"
#include "GpuTiling.h"
#include "HelperKernels.h"

#include "attngen/Conversion/Passes.h"
#include "attngen/Dialect/Attn/IR/AttnOps.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/SpecFunction.h"
#include "attngen/Transforms/SplitKvMerge.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTOGPU
#include "attngen/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::attn_to_gpu;

namespace {

struct AttnToGPUPass : public mlir::attn::impl::AttnToGPUBase<AttnToGPUPass> {
  using AttnToGPUBase::AttnToGPUBase;

  LogicalResult lowerFunction(func::FuncOp func, AttentionOp op,
                              gpu::GPUModuleOp gpuModule);
  void runOnOperation() override;
};

LogicalResult AttnToGPUPass::lowerFunction(func::FuncOp func, AttentionOp op,
                                           gpu::GPUModuleOp gpuModule) {
  // The kernel's parameters come from the op's operands, whatever their
  // position among the function's arguments.
  if (failed(verifySpecFunction(func, op, "attn-to-gpu"))) {
    return failure();
  }
  Type element = op.getQuery().getType().getElementType();
  if (!element.isF16() && !element.isBF16()) {
    return op.emitOpError()
           << "the GPU kernel runs f16 and bf16 on tensor cores; " << element
           << " specs run on the CPU target";
  }

  FailureOr<GpuTiling> resolved =
      resolveTiling(op, {blockM, blockN, numWarps, numStages});
  if (failed(resolved)) {
    return failure();
  }
  GpuTiling tiling = *resolved;

  OpBuilder builder(gpuModule.getBodyRegion());
  builder.setInsertionPointToEnd(gpuModule.getBody());
  SmallVector<Type> argTypes = {
      toKernelMemRef(op.getQuery().getType()),
      toKernelMemRef(op.getKey().getType()),
      toKernelMemRef(op.getValue().getType()),
      toKernelMemRef(op.getOutput().getType()),
      MemRefType::get(
          {ShapedType::kDynamic, op.getNumQHeads(), ShapedType::kDynamic},
          builder.getF32Type()),
      MemRefType::get({op.getNumQHeads()}, builder.getF32Type())};
  argTypes.append(kvCacheKernelMemRefs(builder.getContext()));
  argTypes.append(splitKvKernelMemRefs(op));
  argTypes.append(varlenKernelMemRefs(builder.getContext()));
  auto kernel = gpu::GPUFuncOp::create(builder, func.getLoc(), func.getName(),
                                       builder.getFunctionType(argTypes, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  int32_t numThreads =
      static_cast<int32_t>(tiling.numWarps * attn_to_gpu::kWarpSize);
  kernel.setKnownBlockSizeAttr(
      builder.getDenseI32ArrayAttr({numThreads, 1, 1}));
  AttentionKernelBuilder kernelBuilder(op, tiling);
  int64_t sharedBytes = kernelBuilder.sharedMemoryBytes();
  // Without launch bounds ptxas caps registers for occupancy and spills the
  // accumulators of the larger kernels; the smaller ones ask for the CTAs
  // that shared memory holds.
  kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                  builder.getI32IntegerAttr(static_cast<int32_t>(
                      minCtasPerMultiprocessor(op, tiling, sharedBytes))));
  if (sharedBytes > maxSharedMemoryBytes(op.getTarget())) {
    return op.emitOpError()
           << "the GPU tiling (block_m = " << tiling.blockM
           << ", block_n = " << tiling.blockN
           << ", num_stages = " << tiling.numStages << ") needs " << sharedBytes
           << " bytes of shared memory per CTA, more than the "
           << maxSharedMemoryBytes(op.getTarget()) << " that "
           << stringifyTarget(op.getTarget())
           << " GPUs allow; use smaller blocks or fewer stages";
  }
  kernel->setAttr("attn.shared_memory_bytes",
                  builder.getI64IntegerAttr(sharedBytes));
  kernel->setAttr("attn.tile_sizes",
                  builder.getDenseI64ArrayAttr(
                      {tiling.blockM, tiling.blockN, tiling.numWarps}));
  kernel->setAttr("attn.num_stages",
                  builder.getI64IntegerAttr(tiling.numStages));
  // Grid (ceil(seqlen_q * group / block_m), num_kv_heads, batch).
  if (op.packsGqa()) {
    kernel->setAttr("attn.pack_gqa", builder.getUnitAttr());
  }
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  b.setInsertionPointToStart(&kernel.getBody().front());
  if (failed(kernelBuilder.build(b, kernel))) {
    return failure();
  }
  if (op.getSplitKv()) {
    // Grid x = row tiles * num_splits; the merge runs after it.
    kernel->setAttr("attn.merge_kernel",
                    builder.getStringAttr(func.getName() + "_merge"));
    buildMergeKernel(builder, op, (func.getName() + "_merge").str(), argTypes);
  }
  if (op.appendsKv()) {
    // Launched before the attention kernel on the same stream.
    kernel->setAttr("attn.append_kernel",
                    builder.getStringAttr(func.getName() + "_append"));
    buildAppendKernel(builder, op, (func.getName() + "_append").str(),
                      argTypes);
  }
  func.erase();
  return success();
}

void AttnToGPUPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  module.walk([&](AttentionOp op) {
    work.emplace_back(op->getParentOfType<func::FuncOp>(), op);
  });
  if (work.empty()) {
    return;
  }
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  UnitAttr::get(&getContext()));
  OpBuilder builder(module.getBodyRegion());
  builder.setInsertionPointToEnd(module.getBody());
  auto gpuModule =
      gpu::GPUModuleOp::create(builder, module.getLoc(), "attn_kernels");
  for (auto [func, op] : work) {
    if (!func || failed(lowerFunction(func, op, gpuModule))) {
      return signalPassFailure();
    }
  }
}

} // namespace
