//===- CpuPipeline.cpp - tiled attention to the LLVM dialect --------------===//

#include "attngen/Backend/Cpu/CpuPipeline.h"

#include "attngen/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace attngen {

void buildCpuLoweringPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  // exp2 and tanh become polynomials on the vectors (no libm calls).
  pm.addNestedPass<func::FuncOp>(attn::createAttnApproximateMath());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createSCFToControlFlowPass());
  // K tiles are transposed in registers: lower vector.transpose to one
  // shuffle, which LLVM turns into unpack/permute sequences.
  ConvertVectorToLLVMPassOptions vectorOptions;
  vectorOptions.vectorTransposeLowering =
      vector::VectorTransposeLowering::Shuffle1D;
  pm.addPass(createConvertVectorToLLVMPass(vectorOptions));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void registerCpuLoweringPipeline() {
  PassPipelineRegistration<>(
      "attn-lower-to-llvm-cpu",
      "Lower attn-tile's kernels to the LLVM dialect for the host CPU",
      buildCpuLoweringPipeline);
}

} // namespace attngen
