//===- TemporaryPackage.h - a spec's package loaded by libattnrt -*- C++
//-*-===//
//
// `attngen run/bench` run specs the way engines do: the spec is compiled to
// a package in a temporary directory, libattnrt loads it, and the directory
// goes (a loaded kernel keeps what it needs: kernel.so stays mapped, the
// PTX text is read into memory).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_TEMPORARYPACKAGE_H
#define ATTNGEN_DRIVER_TEMPORARYPACKAGE_H

#include "attnrt/attnrt.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace attngen {

/// libattnrt's last error: "--backend BACKEND: MESSAGE (STATUS)".
llvm::Error runtimeError(llvm::StringRef backend, attnrt_status status);

/// Writes a package with `write(packageDir)` into a fresh temporary
/// directory and loads it with libattnrt; the directory is removed either
/// way.
llvm::Expected<attnrt_kernel *> loadTemporaryPackage(
    llvm::StringRef backend,
    llvm::function_ref<llvm::Error(const std::string &)> write);

} // namespace attngen

#endif // ATTNGEN_DRIVER_TEMPORARYPACKAGE_H
