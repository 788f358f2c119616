//===- Compile.cpp - `attngen compile` ------------------------------------===//

#include "attngen/Driver/Compile.h"
#include "attngen/Backend/Cpu/CpuPackage.h"
#include "attngen/Backend/Gpu/GpuPackage.h"
#include "attngen/Backend/Gpu/GpuPipeline.h"
#include "attngen/Driver/SpecCompiler.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/Error.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace attngen {

llvm::Error writeGpuPackageForSpec(const AttentionSpec &spec,
                                   const std::string &specPath, Target target,
                                   const std::string &packageDir) {
  // The launch shape is read from the kernel before it becomes PTX.
  llvm::Expected<LoweredSpec> lowered =
      lowerSpec(spec, specPath, target, Stage::GpuIR);
  if (!lowered) {
    return lowered.takeError();
  }
  GpuLaunchShape launch{0, 0, 0, 0};
  lowered->module->walk([&](mlir::gpu::GPUFuncOp kernel) {
    // The attention kernel (a split-KV merge kernel has no tiles).
    auto tiles =
        kernel->getAttrOfType<mlir::DenseI64ArrayAttr>("attn.tile_sizes");
    if (!tiles) {
      return;
    }
    launch = {
        tiles[0], tiles[1], tiles[2],
        kernel->getAttrOfType<mlir::IntegerAttr>("attn.shared_memory_bytes")
            .getInt(),
        kernel->hasAttr("attn.pack_gqa")};
    launch.numStages =
        kernel->getAttrOfType<mlir::IntegerAttr>("attn.num_stages").getInt();
    if (auto merge =
            kernel->getAttrOfType<mlir::StringAttr>("attn.merge_kernel")) {
      launch.mergeEntry = merge.str();
    }
    if (auto append =
            kernel->getAttrOfType<mlir::StringAttr>("attn.append_kernel")) {
      launch.appendEntry = append.str();
    }
  });
  DiagnosticCollector diagnostics(*lowered->context);
  mlir::PassManager pm(lowered->context.get());
  buildGpuLoweringPipeline(pm, toString(target));
  if (mlir::failed(runPasses(pm, *lowered->module))) {
    return diagnostics.takeError(specPath + ": error: PTX generation failed");
  }
  llvm::Expected<std::string> ptx = extractPtx(*lowered->module);
  if (!ptx) {
    return makeError(specPath + ": " + llvm::toString(ptx.takeError()));
  }
  return writeGpuPackage(*ptx, spec, target, launch, packageDir);
}

llvm::Error writeCpuPackageForSpec(const AttentionSpec &spec,
                                   const std::string &specPath,
                                   const std::string &packageDir) {
  llvm::Expected<LoweredSpec> lowered =
      lowerSpec(spec, specPath, Target::CPU, Stage::LLVMDialect);
  if (!lowered) {
    return lowered.takeError();
  }
  return writeCpuPackage(*lowered->module, spec, lowered->blockM,
                         lowered->blockN, packageDir);
}

llvm::Error compileSpec(const CompileOptions &options) {
  llvm::Expected<AttentionSpec> spec = parseSpecFile(options.specPath);
  if (!spec) {
    return spec.takeError();
  }
  Target target = options.target.value_or(spec->target);
  if (!options.emit && target != Target::CPU) {
    return writeGpuPackageForSpec(*spec, options.specPath, target,
                                  options.outputPath);
  }
  if (!options.emit) {
    return writeCpuPackageForSpec(*spec, options.specPath, options.outputPath);
  }

  Stage stage = Stage::SpecIR;
  if (*options.emit == EmitKind::TiledIR) {
    stage = Stage::TiledIR;
  }
  if (*options.emit == EmitKind::GpuIR) {
    stage = Stage::GpuIR;
  }
  if (*options.emit == EmitKind::PTX) {
    stage = Stage::GpuBinary;
  }
  if (*options.emit == EmitKind::LLVM) {
    stage = target == Target::CPU ? Stage::LLVMDialect : Stage::GpuNvvm;
  }
  llvm::Expected<LoweredSpec> lowered =
      lowerSpec(*spec, options.specPath, target, stage);
  if (!lowered) {
    return lowered.takeError();
  }

  // Render first, so that a failure leaves no output file behind.
  std::string text;
  llvm::raw_string_ostream os(text);
  if (*options.emit == EmitKind::PTX) {
    llvm::Expected<std::string> ptx = extractPtx(*lowered->module);
    if (!ptx) {
      return makeError(options.specPath + ": " +
                       llvm::toString(ptx.takeError()));
    }
    os << *ptx;
  } else if (*options.emit == EmitKind::LLVM && target != Target::CPU) {
    llvm::Expected<std::string> ir =
        translateGpuModuleToLLVMIR(*lowered->module);
    if (!ir) {
      return makeError(options.specPath +
                       ": error: " + llvm::toString(ir.takeError()));
    }
    os << *ir;
  } else if (*options.emit == EmitKind::LLVM) {
    registerBuiltinDialectTranslation(*lowered->context);
    registerLLVMDialectTranslation(*lowered->context);
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateModuleToLLVMIR(*lowered->module, llvmContext, spec->name);
    if (!llvmModule) {
      return makeError(options.specPath +
                       ": error: translation to LLVM IR failed");
    }
    llvmModule->print(os, nullptr);
  } else {
    lowered->module->print(os);
    os << "\n";
  }

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(options.outputPath, &errorMessage);
  if (!output) {
    return makeError(options.outputPath +
                     ": cannot write output: " + errorMessage);
  }
  output->os() << text;
  output->os().flush();
  if (output->os().has_error()) {
    return makeError(options.outputPath + ": cannot write output: " +
                     output->os().error().message());
  }
  output->keep();
  return llvm::Error::success();
}

} // namespace attngen
