//===- Kernel.h - a loaded CPU kernel package -------------------*- C++ -*-===//

#ifndef ATTNRT_SRC_KERNEL_H
#define ATTNRT_SRC_KERNEL_H

#include "Manifest.h"

#include <memory>
#include <string>

struct attnrt_kernel {
  attnrt::detail::Manifest manifest;
  void *library = nullptr; // dlopen handle
  /// MLIR's C interface: (q, k, v, o, lse, slopes) descriptors, begin, end.
  using Entry = void (*)(void *, void *, void *, void *, void *, void *,
                         int64_t, int64_t);
  Entry entry = nullptr;
  ~attnrt_kernel();
};

namespace attnrt::detail {

/// Reads, validates and dlopens a package.
attnrt_status loadKernel(const std::string &packageDir,
                         std::unique_ptr<attnrt_kernel> &kernel);

/// Validates `args` against the kernel's spec and runs every work item.
attnrt_status runCpu(const attnrt_kernel &kernel,
                     const attnrt_attention_args &args, int numThreads);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_KERNEL_H
