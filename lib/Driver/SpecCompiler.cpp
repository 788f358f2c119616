//===- SpecCompiler.cpp - a spec through the pipeline stages --------------===//

#include "attngen/Driver/SpecCompiler.h"
#include "attngen/Backend/Cpu/CpuPipeline.h"
#include "attngen/Backend/Cpu/HostCpu.h"
#include "attngen/Backend/Gpu/GpuPipeline.h"
#include "attngen/Conversion/Passes.h"
#include "attngen/InitAllDialects.h"
#include "attngen/Spec/SpecToIR.h"
#include "attngen/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace attngen {

DiagnosticCollector::DiagnosticCollector(MLIRContext &context)
    : context(context) {
  handlerId = context.getDiagEngine().registerHandler([this](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error) {
      return success();
    }
    std::string line;
    llvm::raw_string_ostream os(line);
    os << d.getLocation() << ": error: " << d;
    messages.push_back(std::move(line));
    return success();
  });
}

DiagnosticCollector::~DiagnosticCollector() {
  context.getDiagEngine().eraseHandler(handlerId);
}

llvm::Error DiagnosticCollector::takeError(llvm::StringRef fallback) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 messages.empty() ? fallback.str()
                                                  : messages.front());
}

LogicalResult runPasses(PassManager &passes, ModuleOp module) {
  passes.enableVerifier(false);
  if (failed(passes.run(module))) {
    return failure();
  }
  return verify(module);
}

llvm::Expected<LoweredSpec> lowerSpec(const AttentionSpec &spec,
                                      const std::string &specPath,
                                      Target target, Stage stage) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerGpuCodegenExtensions(registry);
  LoweredSpec lowered;
  lowered.context = std::make_unique<MLIRContext>(registry);
  MLIRContext &context = *lowered.context;
  DiagnosticCollector diagnostics(context);

  Location location = FileLineColLoc::get(&context, specPath, 1, 1);
  lowered.module = buildAttentionModule(spec, context, location, target);
  if (failed(verify(*lowered.module))) {
    return diagnostics.takeError(specPath +
                                 ": error: the spec's IR does not verify");
  }
  if (stage == Stage::SpecIR) {
    return std::move(lowered);
  }

  if (stage == Stage::GpuIR || stage == Stage::GpuPreNvvm ||
      stage == Stage::GpuNvvm || stage == Stage::GpuBinary) {
    if (target == Target::CPU) {
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          specPath + ": GPU forms need --target sm_80 or sm_90");
    }
    PassManager gpuPm(&context);
    gpuPm.addPass(attn::createAttnToGPU());
    if (stage == Stage::GpuBinary) {
      buildGpuLoweringPipeline(gpuPm, toString(target));
    }
    if (stage == Stage::GpuPreNvvm) {
      buildGpuPreNvvmPipeline(gpuPm);
    }
    if (stage == Stage::GpuNvvm) {
      buildGpuToNvvmPipeline(gpuPm, toString(target));
    }
    if (failed(runPasses(gpuPm, *lowered.module))) {
      return diagnostics.takeError(specPath + ": error: GPU lowering failed");
    }
    return std::move(lowered);
  }

  PassManager tilePm(&context);
  // CPU kernels are vectorized for this machine's preferred vector width
  // (attn-tile caps KV-cache kernels at 8 lanes).
  attn::AttnTileOptions tileOptions;
  if (target == Target::CPU) {
    tileOptions.vectorWidth = hostF32VectorWidth();
  }
  tilePm.addPass(attn::createAttnTile(tileOptions));
  if (failed(runPasses(tilePm, *lowered.module))) {
    return diagnostics.takeError(specPath + ": error: attn-tile failed");
  }
  if (auto kernel = lowered.module->lookupSymbol(spec.name)) {
    if (auto sizes =
            kernel->getAttrOfType<DenseI64ArrayAttr>("attn.tile_sizes")) {
      lowered.blockM = sizes[0];
      lowered.blockN = sizes[1];
    }
  }
  if (stage == Stage::TiledIR) {
    return std::move(lowered);
  }

  if (target != Target::CPU) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        specPath + ": the CPU lowering cannot target " + toString(target));
  }
  PassManager cpuPm(&context);
  buildCpuLoweringPipeline(cpuPm);
  if (failed(runPasses(cpuPm, *lowered.module))) {
    return diagnostics.takeError(specPath + ": error: CPU lowering failed");
  }
  return std::move(lowered);
}

} // namespace attngen
