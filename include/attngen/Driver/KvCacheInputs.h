//===- KvCacheInputs.h - cache lengths and page tables of a call -*- C++
//-*-===//
//
// Specs with a `kv_cache` take, per call, each sequence's key count
// (cache_seqlens) and, when paged, a page table. `attngen run` reads them
// from .npy files and checks them against the cache before any backend runs;
// `attngen bench` makes full caches.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_KVCACHEINPUTS_H
#define ATTNGEN_DRIVER_KVCACHEINPUTS_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attngen {

struct KvCacheInputs {
  /// [batch] keys of each sequence.
  std::vector<int32_t> seqlens;
  /// [batch, maxPages] pages of each sequence (paged caches).
  std::vector<int32_t> pageTable;
  int64_t numPages = 0, maxPages = 0;
};

/// Reads `seqlensPath` ([batch] <i4) and, for paged specs, `pageTablePath`
/// ([batch, max_pages] <i4), given K's shape ([batch, capacity, ...] or
/// [num_pages, page_size, ...]): every length within the cache, every used
/// page inside the pool. Specs without a KV cache must get neither file.
/// Appending specs add appendedKeys[b] rows to sequence b (empty: none),
/// which must fit too.
llvm::Expected<KvCacheInputs>
readKvCacheInputs(const AttentionSpec &spec, const std::string &specPath,
                  const std::string &seqlensPath,
                  const std::string &pageTablePath, int64_t batch,
                  const std::vector<int64_t> &keyShape,
                  const std::vector<int64_t> &appendedKeys = {});

/// Full caches of `seqlenK` keys per sequence for benchmarks; paged caches
/// get every sequence's pages in a shuffled order (fixed seed), as a real
/// allocator leaves them.
KvCacheInputs fullKvCache(const AttentionSpec &spec, int64_t batch,
                          int64_t seqlenK);

} // namespace attngen

#endif // ATTNGEN_DRIVER_KVCACHEINPUTS_H
