//===- CpuAttention.cpp - a spec run on this machine's CPU ----------------===//

#include "attngen/Driver/CpuAttention.h"
#include "attngen/Driver/Compile.h"

#include "attnrt/attnrt.h"

#include "llvm/Support/FileSystem.h"

namespace attngen {

/// libattnrt's status as an error: "--backend cpu: MESSAGE (STATUS)".
static llvm::Error runtimeError(attnrt_status status) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      llvm::Twine("--backend cpu: ") + attnrt_last_error() + " (" +
          attnrt_status_string(status) + ")");
}

llvm::Expected<std::unique_ptr<CpuAttention>>
CpuAttention::create(const AttentionSpec &spec, const std::string &specPath) {
  // The package goes through the files an engine would load; once loaded,
  // its kernel.so stays mapped and the directory can go.
  llvm::SmallString<128> directory;
  if (std::error_code error =
          llvm::sys::fs::createUniqueDirectory("attngen-cpu", directory))
    return llvm::createStringError(error, "--backend cpu: cannot create a "
                                          "temporary directory: " +
                                              error.message());
  std::string packageDir = (directory + "/kernel.attnpkg").str();
  std::unique_ptr<CpuAttention> attention(new CpuAttention());
  llvm::Error compiled = writeCpuPackageForSpec(spec, specPath, packageDir);
  attnrt_status loaded = ATTNRT_OK;
  if (!compiled)
    loaded = attnrt_kernel_load(packageDir.c_str(), &attention->kernel);
  llvm::sys::fs::remove_directories(directory);
  if (compiled)
    return std::move(compiled);
  if (loaded)
    return runtimeError(loaded);
  return std::move(attention);
}

CpuAttention::~CpuAttention() { attnrt_kernel_release(kernel); }

llvm::Error CpuAttention::run(const attnrt_attention_args &args,
                              unsigned threads) const {
  if (attnrt_status status =
          attnrt_run_cpu(kernel, &args, static_cast<int>(threads)))
    return runtimeError(status);
  return llvm::Error::success();
}

} // namespace attngen
