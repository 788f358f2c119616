//===- SplitCount.h - how many split-KV chunks a call uses ------*- C++ -*-===//

#ifndef ATTNGEN_SUPPORT_SPLITCOUNT_H
#define ATTNGEN_SUPPORT_SPLITCOUNT_H

#include <algorithm>
#include <cstdint>

namespace attngen {

/// Split-KV chunks per row tile for a spec's `split_kv` (N: N; 0 = "auto":
/// enough work items (CPU) or CTAs (GPU emulator) to give every worker
/// (thread or multiprocessor) two, at most one chunk per KV tile and 64).
/// libattnrt's CPU path applies the same rule (runtime/src/CpuLaunch.cpp);
/// its CUDA path rounds to the nearest count instead and takes fewer where
/// fewer than two CTAs per multiprocessor are resident
/// (runtime/src/Arguments.h, cudaSplitCount).
inline int64_t chooseSplitCount(int64_t splitKv, int64_t workers,
                                int64_t workItems, int64_t kvTiles) {
  if (splitKv != 0) {
    return splitKv;
  }
  int64_t wanted =
      (2 * workers + workItems - 1) / std::max<int64_t>(workItems, 1);
  return std::clamp<int64_t>(wanted, 1, std::clamp<int64_t>(kvTiles, 1, 64));
}

} // namespace attngen

#endif // ATTNGEN_SUPPORT_SPLITCOUNT_H
