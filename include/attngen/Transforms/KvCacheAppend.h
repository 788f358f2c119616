//===- KvCacheAppend.h - storing a call's new keys into the cache -*- C++ -*-===//
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

namespace mlir::attn {

/// The memrefs an append reads and writes.
struct KvAppendOperands {
  Value keyNew, valueNew, key, value, cacheSeqlens, pageTable;
};

/// Stores row (batch, token, head) of key_new/value_new into the cache at
/// row cache_seqlens[batch] + token, the key rotated at that position when
/// the op has RoPE; rows outside the cache are skipped. Columns move in
/// vectors of `elementsPerChunk` (and RoPE pairs in half as many pairs).
void emitAppendRow(ImplicitLocOpBuilder &b, AttentionOp op,
                   const KvAppendOperands &operands, Value batch, Value token,
                   Value head, int64_t elementsPerChunk);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_KVCACHEAPPEND_H
