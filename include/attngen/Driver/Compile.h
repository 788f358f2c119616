//===- Compile.h - `attngen compile` ----------------------------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_COMPILE_H
#define ATTNGEN_DRIVER_COMPILE_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace attngen {

/// The forms `attngen compile --emit` can write.
enum class EmitKind {
  /// The attn.attention op built from the spec, before any pass.
  SpecIR,
  /// The online-softmax loop nest after attn-tile.
  TiledIR,
  /// LLVM IR of the CPU kernel (--target cpu).
  LLVM,
  /// The gpu.module of the tensor-core kernel (--target sm_80|sm_90).
  GpuIR,
  /// PTX of the tensor-core kernel (--target sm_80|sm_90).
  PTX,
};

struct CompileOptions {
  std::string specPath;
  std::string outputPath;
  /// Overrides the spec's `target` when set.
  std::optional<Target> target;
  std::optional<EmitKind> emit;
};

/// Compiles one spec; writes `outputPath` only when everything succeeded.
llvm::Error compileSpec(const CompileOptions &options);

/// Compiles `spec` to PTX for `target` (sm_80 or sm_90) and writes the
/// package directory (manifest.json + kernel.ptx).
llvm::Error writeGpuPackageForSpec(const AttentionSpec &spec,
                                   const std::string &specPath, Target target,
                                   const std::string &packageDir);

/// Compiles `spec` for this machine's CPU into the package `packageDir`
/// (manifest.json and kernel.so).
llvm::Error writeCpuPackageForSpec(const AttentionSpec &spec,
                                   const std::string &specPath,
                                   const std::string &packageDir);

} // namespace attngen

#endif // ATTNGEN_DRIVER_COMPILE_H
