//===- SpecCompiler.h - a spec through the pipeline stages ------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_SPECCOMPILER_H
#define ATTNGEN_DRIVER_SPECCOMPILER_H

#include "attngen/Spec/AttentionSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace attngen {

/// How far down the pipeline (DESIGN section 4) to take a spec.
enum class Stage {
  /// The attn.attention op, as built from the spec.
  SpecIR,
  /// After attn-tile: the online-softmax loop nest on memrefs.
  TiledIR,
  /// The tiled kernel lowered to the LLVM dialect (CPU target).
  LLVMDialect,
  /// After attn-to-gpu: the gpu.module with the tensor-core kernel.
  GpuIR,
  /// The kernel at the last level before NVVM (what gpu-sim executes).
  GpuPreNvvm,
  /// The kernel in the LLVM and NVVM dialects, its target attached.
  GpuNvvm,
  /// The gpu.module compiled to PTX (a gpu.binary).
  GpuBinary,
};

struct LoweredSpec {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Tile sizes the kernel was built with (stages after SpecIR).
  int64_t blockM = 0, blockN = 0;
};

/// Builds the spec's IR for `target` and runs the passes up to `stage`.
/// Failures (diagnostics) come back as one-line errors naming `specPath`.
llvm::Expected<LoweredSpec> lowerSpec(const AttentionSpec &spec,
                                      const std::string &specPath,
                                      Target target, Stage stage);

/// Runs `passes` on `module` and verifies the result once. MLIR's pass
/// manager verifies after every pass by default: for a kernel of ~9k
/// operations through the GPU pipeline's 26 passes that was 15% of the
/// compile (gemma2_9b_local). attn-opt keeps per-pass verification for the
/// passes' own tests, and attn-gpu-module-to-ptx verifies each kernel before
/// translating it to LLVM IR.
mlir::LogicalResult runPasses(mlir::PassManager &passes, mlir::ModuleOp module);

/// Collects MLIR error diagnostics as `LOCATION: error: MESSAGE` lines, so
/// a failed pass becomes an llvm::Error like any other failure.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &context);
  ~DiagnosticCollector();
  /// The first error seen, or `fallback` when there was none.
  llvm::Error takeError(llvm::StringRef fallback);

private:
  std::vector<std::string> messages;
  mlir::DiagnosticEngine::HandlerID handlerId;
  mlir::MLIRContext &context;
};

} // namespace attngen

#endif // ATTNGEN_DRIVER_SPECCOMPILER_H
