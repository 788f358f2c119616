//===- CpuPackage.h - kernel packages for the CPU ---------------*- C++ -*-===//
//
// A package is a directory `NAME.attnpkg/` holding
//   manifest.json   format, spec, target, entry point, parameter layout,
//                   tile sizes and the work-item rule
//   kernel.so       the kernel, compiled in-process for the host CPU and
//                   linked in-process by lld
// libattnrt loads it with no MLIR or LLVM dependency.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_BACKEND_CPU_CPUPACKAGE_H
#define ATTNGEN_BACKEND_CPU_CPUPACKAGE_H

#include "attngen/Spec/AttentionSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace attngen {

/// Compiles `llvmModule` (LLVM dialect) to a shared object for this machine's
/// CPU and writes the package to `packageDir`, replacing a package that is
/// already there. Nothing is left behind on failure.
llvm::Error writeCpuPackage(mlir::ModuleOp llvmModule,
                            const AttentionSpec &spec, int64_t blockM,
                            int64_t blockN, const std::string &packageDir);

} // namespace attngen

#endif // ATTNGEN_BACKEND_CPU_CPUPACKAGE_H
