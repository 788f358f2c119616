//===- CpuKernel.h - a tiled attention kernel compiled for the host -*- C++ -*-===//
//
// Compiles the LLVM-dialect kernel in-process for the host CPU (its own
// vector features) and runs it over (batch, head, Q tile) work items on all
// cores.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_BACKEND_CPU_CPUKERNEL_H
#define ATTNGEN_BACKEND_CPU_CPUKERNEL_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace attngen {

/// Dense BSHD buffers and sizes of one attention call. Q/K/V/O hold the
/// spec's dtype (float or 16-bit bit patterns); LSE and slopes are f32.
struct AttentionBuffers {
  const void *query = nullptr, *key = nullptr, *value = nullptr;
  void *output = nullptr;
  float *lse = nullptr;           // [batch, num_q_heads, seqlen_q] or null
  const float *slopes = nullptr;  // [num_q_heads] or null
  int64_t batch = 0, seqlenQ = 0, seqlenK = 0;
  int64_t numQHeads = 0, numKvHeads = 0, headDim = 0, headDimV = 0;
  /// KV cache specs: per-sequence key counts [batch]; K/V are
  /// [batch, seqlenK, ...] caches, or with pageSize > 0 page pools
  /// [numPages, pageSize, ...] indexed by pageTable [batch, maxPages].
  const int32_t *cacheSeqlens = nullptr;
  const int32_t *pageTable = nullptr;
  int64_t numPages = 0, pageSize = 0, maxPages = 0;
  /// Varlen specs: `batch` sequences packed along dimension 1 of
  /// Q/K/V/O (tensor batch 1; seqlenQ, seqlenK the totals), delimited by
  /// cuSeqlensQ/K [batch + 1]; maxSeqlenQ the longest sequence's queries.
  const int32_t *cuSeqlensQ = nullptr, *cuSeqlensK = nullptr;
  int64_t maxSeqlenQ = -1;
  /// Appending KV cache specs: new keys/values [batch, seqlenQ, numKvHeads,
  /// headDim(V)] (varlen: packed like Q), stored into `key`/`value` (which
  /// are written) at rows cacheSeqlens[b] + j before the attention.
  const void *keyNew = nullptr, *valueNew = nullptr;
};

/// What the kernel module holds besides the attention entry point.
struct CpuKernelTraits {
  int64_t blockM = 0, blockN = 0;
  /// Split-KV chunks (1 = off): `<name>_merge` combines them.
  int64_t splitKv = 1;
  /// Work items per kv head, rows = (query, q head) pairs
  /// (AttentionOp::packsGqa).
  bool packGqa = false;
  /// `<name>_append` stores new keys/values into the cache first.
  bool appendsKv = false;
};

class CpuKernel {
public:
  /// JIT-compiles `llvmModule` (LLVM dialect) and resolves kernel `name`
  /// (and its `<name>_merge` and `<name>_append` when `traits` has them).
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(mlir::ModuleOp llvmModule, const std::string &name,
          const CpuKernelTraits &traits);
  ~CpuKernel();

  /// Runs every work item, split over `numThreads` threads (0 = all cores).
  void run(const AttentionBuffers &buffers, unsigned numThreads = 0) const;

private:
  /// (q, k, v, o, lse, slopes, cache_seqlens, page_table, partial_o,
  /// partial_lse, cu_seqlens_q, cu_seqlens_k) descriptors, begin, end.
  using EntryPoint = void (*)(void *, void *, void *, void *, void *, void *,
                              void *, void *, void *, void *, void *, void *,
                              int64_t, int64_t);
  /// (o, lse, partial_o, partial_lse) descriptors, begin, end.
  using MergePoint = void (*)(void *, void *, void *, void *, int64_t, int64_t);
  /// (k_new, v_new, k, v, cache_seqlens, page_table, cu_seqlens_q)
  /// descriptors, begin, end.
  using AppendPoint = void (*)(void *, void *, void *, void *, void *, void *,
                               void *, int64_t, int64_t);
  CpuKernel(std::unique_ptr<mlir::ExecutionEngine> engine, EntryPoint entry,
            MergePoint merge, AppendPoint append,
            const CpuKernelTraits &traits);
  std::unique_ptr<mlir::ExecutionEngine> engine;
  EntryPoint entry;
  MergePoint merge;
  AppendPoint append;
  CpuKernelTraits traits;
};

} // namespace attngen

#endif // ATTNGEN_BACKEND_CPU_CPUKERNEL_H
