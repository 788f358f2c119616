//===- Kernel.h - a loaded kernel package -----------------------*- C++ -*-===//

#ifndef ATTNRT_SRC_KERNEL_H
#define ATTNRT_SRC_KERNEL_H

#include "CudaDriver.h"
#include "Manifest.h"

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct attnrt_kernel {
  attnrt::detail::Manifest manifest;
  /// CPU packages: the dlopen handle of kernel.so and its entry point, MLIR's
  /// C interface: (q, k, v, o, lse, slopes, cache_seqlens, page_table,
  /// partial_o, partial_lse, cu_seqlens_q, cu_seqlens_k) descriptors,
  /// begin, end.
  void *library = nullptr;
  using Entry = void (*)(void *, void *, void *, void *, void *, void *, void *,
                         void *, void *, void *, void *, void *, int64_t,
                         int64_t);
  Entry entry = nullptr;
  /// Split-KV packages: (o, lse, partial_o, partial_lse) descriptors, begin,
  /// end.
  using Merge = void (*)(void *, void *, void *, void *, int64_t, int64_t);
  Merge merge = nullptr;
  /// Appending packages: (k_new, v_new, k, v, cache_seqlens, page_table,
  /// cu_seqlens_q) descriptors, begin, end.
  using Append = void (*)(void *, void *, void *, void *, void *, void *,
                          void *, int64_t, int64_t);
  Append append = nullptr;
  /// CUDA packages: the PTX text, loaded into a context on first launch.
  std::string ptx;
  /// Its function per context id, filled by the first launch there.
  mutable std::mutex cudaMutex;
  mutable std::vector<
      std::pair<unsigned long long, attnrt::detail::CudaFunction>>
      cudaFunctions;
  ~attnrt_kernel();
};

namespace attnrt::detail {

/// Reads and validates a package; dlopens a CPU package's kernel.so.
attnrt_status loadKernel(const std::string &packageDir,
                         std::unique_ptr<attnrt_kernel> &kernel);

/// Validates `args` against a CPU kernel's spec and runs every work item on
/// up to `numThreads` threads (0 = all cores).
attnrt_status runCpu(const attnrt_kernel &kernel,
                     const attnrt_attention_args &args, int numThreads);

/// The device workspace a split-KV CUDA call needs (0 otherwise).
attnrt_status workspaceBytes(const attnrt_kernel &kernel,
                             const attnrt_attention_args &args, size_t &bytes);

/// Validates `args` (device pointers) against a CUDA kernel's spec and
/// launches it on `stream` in the calling thread's context.
attnrt_status runCuda(const attnrt_kernel &kernel,
                      const attnrt_attention_args &args, void *stream);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_KERNEL_H
