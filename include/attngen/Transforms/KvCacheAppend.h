//===- KvCacheAppend.h - storing a call's new keys into the cache -*- C++
//-*-===//
//
// attn.attention with key_new/value_new appends them to the KV cache before
// attending. One row (sequence, new token, kv head) at a time, shared by the
// CPU append function (attn-tile) and the GPU append kernel (attn-to-gpu).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_KVCACHEAPPEND_H
#define ATTNGEN_TRANSFORMS_KVCACHEAPPEND_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <optional>

namespace mlir::attn {

/// The memrefs an append reads and writes, in the append function's and
/// kernel's parameter order: (k_new, v_new, k, v, cache_seqlens,
/// page_table, cu_seqlens_q); cu_seqlens_q is read for varlen batches only.
struct KvAppendOperands {
  Value keyNew, valueNew, key, value, cacheSeqlens, pageTable, cuSeqlensQ;
};

/// The memref types of KvAppendOperands for `op`, given the attention
/// kernel's parameter types (q, k, v, o, lse, slopes, cache_seqlens,
/// page_table, partial_o, partial_lse, cu_seqlens_q, cu_seqlens_k).
SmallVector<Type> appendParameterTypes(AttentionOp op,
                                       ArrayRef<Type> kernelTypes);

/// The number of new rows: key_new's rows times num_kv_heads.
Value emitAppendRowCount(ImplicitLocOpBuilder &b, AttentionOp op,
                         const KvAppendOperands &operands);

/// The threads that share each new row in a GPU kernel: vector n of the row
/// (numbered across the rotated key columns, the other key columns, then
/// the value columns) is moved by thread n % threads.
struct AppendRowThreads {
  Value thread;
  int64_t threads;
};

/// Stores new row `row` = (packed token) * num_kv_heads + h of
/// key_new/value_new, packed token = b * seqlen_q + j (or the row of a
/// varlen batch, whose sequence b is found by bisection of cu_seqlens_q),
/// into the cache at row cache_seqlens[b] + j, the key rotated at that
/// position when the op has RoPE; rows outside the cache are skipped.
/// Columns move in vectors of `elementsPerChunk` (RoPE pairs in half as
/// many); `alignedRows` promises that every row of key_new/value_new and the
/// caches starts on 16 bytes (the GPU package's input alignment), so that
/// 16-byte vectors are accessed as such. With `threads`, the row is shared
/// by those threads (the rotated vectors in a loop with the code of one
/// vector, the others each under a test of its thread).
void emitAppendRow(ImplicitLocOpBuilder &b, AttentionOp op,
                   const KvAppendOperands &operands, Value row,
                   int64_t elementsPerChunk, bool alignedRows = false,
                   std::optional<AppendRowThreads> threads = std::nullopt);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_KVCACHEAPPEND_H
