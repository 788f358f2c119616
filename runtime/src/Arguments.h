//===- Arguments.h - checking one attention call's arguments ----*- C++ -*-===//
//
// The contract shared by the CPU and CUDA launchers: the tensors' sizes
// follow from the call's (batch, seqlen_q, seqlen_k) and the kernel's spec;
// strides are dense BSHD except for the batch stride.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_SRC_ARGUMENTS_H
#define ATTNRT_SRC_ARGUMENTS_H

#include "Manifest.h"

#include <cstddef>
#include <cstdint>

namespace attnrt::detail {

/// One BSHD tensor of a call, strides in elements.
struct TensorArgument {
  const void *data = nullptr;
  int64_t sizes[4] = {};
  int64_t strides[4] = {};
};

/// A call whose arguments agree with its kernel.
struct CheckedCall {
  TensorArgument q, k, v, o;
  /// Appending kernels: the new keys and values.
  TensorArgument kNew, vNew;
  int64_t batch = 0, seqlenQ = 0, seqlenK = 0;
  /// KV cache kernels: keys per sequence at most (contiguous: seqlen_k;
  /// paged: max_pages_per_seq * page_size), pool and table sizes.
  int64_t cacheCapacity = 0, numPages = 0, maxPages = 0;
  /// Dimension 0 of q/k/v/o and lse: the batch, or 1 for packed sequences.
  int64_t tensorBatch = 0;
  /// Rows of the longest sequence's queries (seqlen_q, or for varlen
  /// batches args.max_seqlen_q, computed and checked on the CPU).
  int64_t maxSeqlenQ = 0;
};

/// Checks `args` against the kernel's manifest: non-null tensors aligned to
/// `alignmentBytes` (also their batch strides), supported strides, the lse
/// and alibi_slopes buffers present exactly when the kernel uses them.
attnrt_status checkCall(const Manifest &manifest,
                        const attnrt_attention_args &args,
                        size_t alignmentBytes, CheckedCall &call);

/// Checks cu_seqlens_q/k of a varlen call (0, non-decreasing, ending at the
/// totals) and sets call.maxSeqlenQ (host memory: CPU calls only).
attnrt_status checkVarlenContents(const Manifest &manifest,
                                  const attnrt_attention_args &args,
                                  CheckedCall &call);

/// Checks the values of cache_seqlens and of the used page_table entries,
/// including the rows an appending kernel writes (host memory: CPU calls
/// only).
attnrt_status checkCacheContents(const Manifest &manifest,
                                 const attnrt_attention_args &args,
                                 const CheckedCall &call);

/// Split-KV chunks per row tile on the CPU: N as compiled, or for "auto" (0)
/// enough work items for two per thread, at most one chunk per KV tile and
/// 64 (attngen's rule, include/attngen/Support/SplitCount.h).
int64_t splitCount(int64_t splitKv, int64_t workers, int64_t workItems,
                   int64_t kvTiles);

/// Split-KV chunks per row tile on CUDA: N as compiled, or for "auto" (0)
/// the count whose CTAs (`ctasPerChunk` each) come nearest to
/// `targetCtas` (two per multiprocessor, fewer where fewer are resident), at
/// most one chunk per KV tile and 64. On an H100 (bench/decode's split
/// sweep: 8 kv heads, d128, 132 multiprocessors) the fastest counts were 32
/// at batch 1 x 128k, 4 at batch 8 x 8k and 1 at batch 32 x 1k (0.85,
/// 0.86, 0.82 of the copy bandwidth); this rule picks 33, 4 and 1, where a
/// full wave of resident CTAs (4 per multiprocessor there) picked 64, 8 and
/// 2 (0.78, 0.82, 0.76): shorter chunks stream fewer rows per CTA and give
/// the merge more partial rows.
int64_t cudaSplitCount(int64_t splitKv, int64_t targetCtas,
                       int64_t ctasPerChunk, int64_t kvTiles);

/// Bytes per element of the kernel's q/k/v/o.
size_t elementBytes(attnrt_dtype dtype);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_ARGUMENTS_H
