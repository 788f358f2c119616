//===- GpuPackage.h - kernel packages for NVIDIA GPUs -----------*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_GPU_GPUPACKAGE_H
#define ATTNGEN_BACKEND_GPU_GPUPACKAGE_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <string>

namespace attngen {

/// How attn-to-gpu launched the kernel it built.
struct GpuLaunchShape {
  int64_t blockM, blockN, numWarps, sharedMemoryBytes;
  /// Rows are (query, q head) pairs of one kv head (attn.pack_gqa).
  bool packGqa = false;
  /// Split-KV: the merge kernel's entry (attn.merge_kernel), else empty.
  std::string mergeEntry;
  /// Appending specs: the append kernel's entry (attn.append_kernel), else
  /// empty.
  std::string appendEntry;
  /// The cp.async pipeline's depth (the resolved tiling's num_stages).
  int64_t numStages = 0;
};

/// Writes `packageDir` with manifest.json and kernel.ptx for `target`.
llvm::Error writeGpuPackage(const std::string &ptx, const AttentionSpec &spec,
                            Target target, const GpuLaunchShape &launch,
                            const std::string &packageDir);

} // namespace attngen

#endif // ATTNGEN_BACKEND_GPU_GPUPACKAGE_H
