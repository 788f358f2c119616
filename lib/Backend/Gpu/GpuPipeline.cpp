//===- GpuPipeline.cpp - GPU kernels to PTX -------------------------------===//

#include "attngen/Backend/Gpu/GpuPipeline.h"
#include "attngen/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace attngen {

void registerGpuCodegenExtensions(DialectRegistry &registry) {
  registerAllExtensions(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerAllGPUToLLVMIRTranslations(registry);
}

/// The canonicalizer without MLIR 22's generic RegionBranchOpInterface
/// patterns (scf.for, scf.if, scf.while, ...), which drop and merge unused or
/// duplicate loop-carried values and branch results: attn-to-gpu's kernels
/// have none, and the patterns compare every pair of a region op's
/// successor inputs each time anything in its body changes (quadratic; made
/// linear upstream after 22, llvm-project #186114 and #186325). On
/// gemma2_9b_local's kernel, whose KV loop carries 40 accumulators, they
/// were 35% of the compile; without them, the PTX of specs/ and of the
/// numerics inputs (110 files, sm_80 and sm_90) is byte for byte the same.
static std::unique_ptr<Pass> createKernelCanonicalizer() {
  return createCanonicalizerPass(
      GreedyRewriteConfig(), /*disabledPatterns=*/{
          "(anonymous namespace)::MakeRegionBranchOpSuccessorInputsDead",
          "(anonymous namespace)::RemoveDeadRegionBranchOpSuccessorInputs",
          "(anonymous namespace)::RemoveDuplicateSuccessorInputUses"});
}

void buildGpuPreNvvmPipeline(OpPassManager &pm) {
  // CSE first: attn-to-gpu's kernels repeat much index arithmetic, and the
  // canonicalizer takes half as long on the deduplicated IR (0.35 -> 0.15 s
  // for mistral_7b's kernel).
  pm.addPass(createCSEPass());
  pm.addPass(createKernelCanonicalizer());
  pm.addPass(createCSEPass());
  // log2 and tanh as polynomials (no libdevice calls in the kernel); exp2
  // stays for the GPU's ex2.approx (attn-exp2-to-nvvm, below). Float ops
  // are not marked contractible: RoPE's angle arithmetic relies on separate
  // roundings (Rope.h), and the softmax emits its FMAs itself.
  attn::AttnApproximateMathOptions approximations;
  approximations.exp2 = false;
  pm.addNestedPass<gpu::GPUModuleOp>(
      attn::createAttnApproximateMath(approximations));
  pm.addPass(createKernelCanonicalizer());
  pm.addPass(createCSEPass());
  // Index arithmetic whose range analysis fits in 32 bits (lanes, warps,
  // rows and columns within a tile: gpu.thread_id is bounded by the kernel's
  // known_block_size) becomes i32; anything reaching a dynamic size or a
  // block id stays 64-bit, so tensors of 2^31+ elements (paged KV pools)
  // still address correctly. Index lowers to i64, and without this every
  // lane-derived value kept across the KV loop took two registers.
  arith::ArithIntRangeNarrowingOptions narrowing;
  narrowing.bitwidthsSupported = {32};
  pm.addNestedPass<gpu::GPUModuleOp>(arith::createIntRangeOptimizationsPass());
  pm.addNestedPass<gpu::GPUModuleOp>(
      arith::createArithIntRangeNarrowing(narrowing));
  pm.addPass(createKernelCanonicalizer());
  pm.addPass(createCSEPass());
}

void buildGpuToNvvmPipeline(OpPassManager &pm, const std::string &chip) {
  buildGpuPreNvvmPipeline(pm);
  GpuNVVMAttachTargetOptions target;
  target.chip = chip;
  target.features = kPtxFeatures;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(attn::createAttnExp2ToNvvm());
  // fma, log2, ... as LLVM intrinsics, which NVPTX selects natively, before
  // convert-gpu-to-nvvm would turn them into libdevice calls: the PTX needs
  // no libdevice and no CUDA toolkit at compile time.
  kernels.addPass(createConvertMathToLLVMPass());
  kernels.addPass(createConvertNVGPUToNVVMPass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createConvertVectorToLLVMPass());
  kernels.addPass(createKernelCanonicalizer());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
}

void buildGpuLoweringPipeline(OpPassManager &pm, const std::string &chip) {
  buildGpuToNvvmPipeline(pm, chip);
  pm.addPass(createGpuModuleToPtxPass());
}

llvm::Expected<std::string> extractPtx(ModuleOp module) {
  std::string ptx;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute object : binary.getObjects()) {
      if (auto gpuObject = dyn_cast<gpu::ObjectAttr>(object)) {
        ptx += gpuObject.getObject().getValue().str();
      }
    }
  });
  if (ptx.empty()) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no PTX was produced");
  }
  return ptx;
}

namespace {
struct PtxPipelineOptions : public PassPipelineOptions<PtxPipelineOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("sm_80 or sm_90"),
                           llvm::cl::init("sm_80")};
};
} // namespace

void registerGpuLoweringPipeline() {
  registerPass([] { return createGpuModuleToPtxPass(); });
  PassPipelineRegistration<PtxPipelineOptions>(
      "attn-lower-to-ptx",
      "Lower attn-to-gpu's gpu.module to PTX (a gpu.binary)",
      [](OpPassManager &pm, const PtxPipelineOptions &options) {
        buildGpuLoweringPipeline(pm, options.chip);
      });
}

} // namespace attngen
