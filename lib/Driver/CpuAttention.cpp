//===- CpuAttention.cpp - a spec run on this machine's CPU ----------------===//

#include "attngen/Driver/CpuAttention.h"
#include "attngen/Driver/Compile.h"
#include "attngen/Driver/TemporaryPackage.h"

#include "attnrt/attnrt.h"

namespace attngen {

llvm::Expected<std::unique_ptr<CpuAttention>>
CpuAttention::create(const AttentionSpec &spec, const std::string &specPath) {
  llvm::Expected<attnrt_kernel *> kernel =
      loadTemporaryPackage("cpu", [&](const std::string &packageDir) {
        return writeCpuPackageForSpec(spec, specPath, packageDir);
      });
  if (!kernel) {
    return kernel.takeError();
  }
  std::unique_ptr<CpuAttention> attention(new CpuAttention());
  attention->kernel = *kernel;
  return std::move(attention);
}

CpuAttention::~CpuAttention() { attnrt_kernel_release(kernel); }

llvm::Error CpuAttention::run(const attnrt_attention_args &args,
                              unsigned threads) const {
  if (attnrt_status status =
          attnrt_run_cpu(kernel, &args, static_cast<int>(threads))) {
    return runtimeError("cpu", status);
  }
  return llvm::Error::success();
}

} // namespace attngen
