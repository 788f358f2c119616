//===- TemporaryPackage.cpp - a spec's package loaded by libattnrt --------===//

#include "attngen/Driver/TemporaryPackage.h"

#include "llvm/Support/FileSystem.h"

namespace attngen {

llvm::Error runtimeError(llvm::StringRef backend, attnrt_status status) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 llvm::Twine("--backend ") + backend + ": " +
                                     attnrt_last_error() + " (" +
                                     attnrt_status_string(status) + ")");
}

llvm::Expected<attnrt_kernel *> loadTemporaryPackage(
    llvm::StringRef backend,
    llvm::function_ref<llvm::Error(const std::string &)> write) {
  llvm::SmallString<128> directory;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory(
          "attngen-" + backend, directory)) {
    return llvm::createStringError(
        error, "--backend " + backend.str() +
                   ": cannot create a temporary directory: " + error.message());
  }
  std::string packageDir = (directory + "/kernel.attnpkg").str();
  attnrt_kernel *kernel = nullptr;
  llvm::Error written = write(packageDir);
  attnrt_status loaded = ATTNRT_OK;
  if (!written) {
    loaded = attnrt_kernel_load(packageDir.c_str(), &kernel);
  }
  llvm::sys::fs::remove_directories(directory);
  if (written) {
    return std::move(written);
  }
  if (loaded) {
    return runtimeError(backend, loaded);
  }
  return kernel;
}

} // namespace attngen
