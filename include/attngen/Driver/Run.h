//===- Run.h - `attngen run` ------------------------------------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_RUN_H
#define ATTNGEN_DRIVER_RUN_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace attngen {

struct RunOptions {
  std::string specPath;
  std::string backend = "cpu";
  std::string queryPath, keyPath, valuePath;
  std::string outputPath;
  /// Optional: write LSE[b, h, i] (the spec must have return_lse).
  std::string lsePath;
  /// Optional: ALiBi slopes [num_q_heads] (the spec must have alibi).
  std::string slopesPath;
  /// KV cache specs: keys per sequence [batch] and, when paged, the page
  /// table [batch, max_pages], int32 .npy.
  std::string cacheSeqlensPath, pageTablePath;
  /// Varlen specs: sequence offsets [batch + 1], int32 .npy; Q/K/V are then
  /// packed [total, heads, dim] and O/LSE are written [total_q, heads,
  /// dim_v] and [heads, total_q].
  std::string cuSeqlensQPath, cuSeqlensKPath;
  /// Appending KV cache specs: new keys/values [batch, seqlen_q,
  /// num_kv_heads, head_dim(_v)], and optionally where to write the caches
  /// after the call (f32 .npy, the shape of K and V).
  std::string keyNewPath, valueNewPath, keyCacheOutPath, valueCacheOutPath;
  /// 0 = all cores.
  unsigned threads = 0;
  /// gpu-sim: print the attention kernel's shared-memory traffic
  /// (SharedMemoryTraffic in GpuSimulator.h) to stdout.
  bool sharedMemoryTraffic = false;
};

/// Runs the spec's kernel on .npy inputs and writes O (and LSE) as f32 .npy,
/// only after every input was validated and the kernel ran.
llvm::Error runSpec(const RunOptions &options);

/// Fails unless `backend` is one that `attngen <command>` runs on: cpu or
/// cuda, and gpu-sim for run.
llvm::Error checkBackend(const std::string &command,
                         const std::string &backend);

} // namespace attngen

#endif // ATTNGEN_DRIVER_RUN_H
