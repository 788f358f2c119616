//===- KvCacheIndexing.h - where a sequence's keys are in a cache -*- C++
//-*-===//
//
// The per-sequence key count and the row of key j of a sequence, for the
// attn.attention operands (plain K/V, contiguous or paged KV caches), shared
// by the CPU (attn-tile) and GPU (attn-to-gpu) kernels. Both clamp to the
// cache so that bad lengths or page tables never read outside it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_KVCACHEINDEXING_H
#define ATTNGEN_TRANSFORMS_KVCACHEINDEXING_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// seqlen_k of sequence `batch`: dim 1 of `key` without a cache, else
/// cache_seqlens[batch] (+ `appendedKeys` when the op appends) clamped to
/// [0, capacity] (capacity: dim 1 of `key`, or max_pages * page_size).
Value emitSequenceKeyCount(ImplicitLocOpBuilder &b, AttentionOp op, Value key,
                           Value cacheSeqlens, Value pageTable, Value batch,
                           Value appendedKeys = Value());

/// Where appended key `keyIndex` (cache row cache_seqlens[batch] +
/// keyIndex) of sequence `batch` goes: (whether the row exists, its first
/// two indices in K and V). Rows past the capacity and pages outside the
/// pool are not written (never clamped onto another sequence's rows).
std::pair<Value, SmallVector<Value, 2>>
emitAppendedKeyRow(ImplicitLocOpBuilder &b, AttentionOp op, Value key,
                   Value cacheSeqlens, Value pageTable, Value batch,
                   Value keyIndex);

/// The first two indices of key `keyIndex` of sequence `batch` in K and V:
/// (batch, key); (0, firstKey + key) in a variable-length batch without a
/// cache, whose sequence starts at row `firstKey`; or for a paged cache
/// (page_table[batch, key / page_size], key % page_size) with the page
/// clamped to the pool.
SmallVector<Value, 2> emitKeyRow(ImplicitLocOpBuilder &b, AttentionOp op,
                                 Value key, Value pageTable, Value batch,
                                 Value keyIndex, Value firstKey = Value());

/// The page of slot `slot` (< the table's width) of sequence `batch`'s page
/// table, clamped to the pool.
Value emitPageOfSlot(ImplicitLocOpBuilder &b, Value key, Value pageTable,
                     Value batch, Value slot);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_KVCACHEINDEXING_H
