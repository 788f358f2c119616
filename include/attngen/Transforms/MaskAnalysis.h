//===- MaskAnalysis.h - tile classification of attention masks --*- C++ -*-===//
//
// The mask of an attn.attention op as a union of key intervals whose bounds
// are monotone (non-decreasing) in the query index i:
//
//   visible(i, j) = OR_k ( max_t lower_kt(i) <= j <= min_t upper_kt(i) )
//                   and 0 <= j < seqlen_k
//
// where every bound term is `c` or `i + off + c`. Causal masks, windows in
// either alignment and attention sinks are such unions; so is any mask whose
// visible keys per row form intervals that slide right as i grows.
//
// Monotonicity makes the classification of a (Q tile, KV tile) pair exact
// from the tile's corners. For query rows [m0, mLast]:
//   may-visible keys of interval k:  [lower_k(m0),    upper_k(mLast)]
//   all-visible keys of interval k:  [lower_k(mLast), upper_k(m0)]
// KV tiles outside every may-range are empty (never visited), tiles inside an
// all-range are full (no mask code), the rest are boundary tiles.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_MASKANALYSIS_H
#define ATTNGEN_TRANSFORMS_MASKANALYSIS_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::attn {

/// `(rowRelative ? i + off : 0) + constant`: monotone in the query row i.
struct KeyBound {
  bool rowRelative;
  int64_t constant;
};

/// Keys j with max(lower) <= j <= min(upper); an empty list is unbounded.
struct KeyInterval {
  SmallVector<KeyBound, 2> lower;
  SmallVector<KeyBound, 2> upper;
};

/// The KV tile ranges of one interval for one Q tile, in tile indices:
/// boundary [begin, fullBegin), full [fullBegin, fullEnd), boundary
/// [fullEnd, end). Ranges of later intervals start after earlier ones end.
struct KvTileRanges {
  Value begin, fullBegin, fullEnd, end;
  /// Statically known to be empty: the interval has no lower bound and
  /// starts at key 0, so [begin, fullBegin) is never emitted.
  bool leadingBoundaryIsEmpty;
};

class MaskModel {
public:
  /// Builds the interval union of `op`'s mask (causal, window, sinks).
  static MaskModel fromOp(AttentionOp op);

  ArrayRef<KeyInterval> getIntervals() const { return intervals; }

  /// Emits the KV tile ranges of query rows [firstRow, lastRow] (lastRow >=
  /// firstRow), for `seqlenK` keys in tiles of `blockN`.
  SmallVector<KvTileRanges> emitTileRanges(ImplicitLocOpBuilder &b,
                                           Value firstRow, Value lastRow,
                                           Value offset, Value seqlenK,
                                           int64_t blockN) const;

  /// Emits the i1 `visible(i, j)` for 0 <= j < seqlen_k; `key` may be a
  /// vector of keys (the result is then a vector of i1). With `keyBase`
  /// (index), `key` is relative to it, j = keyBase + key, and may be of a
  /// narrower integer type: each row's bounds are then computed once,
  /// clamped to that type (as indices, the same for every KV tile), made
  /// relative to keyBase in it, and compared against `key`, often a
  /// constant (the GPU kernel's per-thread key offsets 8 nt + j); keys and
  /// keyBase must be below the type's largest value. With `keyCount`
  /// (index), keys at or past it are not visible either: it joins each
  /// interval's upper bound per row (one compare per key for j < seqlen_k
  /// and the mask, where a separate compare and an and cost a select more).
  Value emitVisible(ImplicitLocOpBuilder &b, Value row, Value key, Value offset,
                    Value keyBase = {}, Value keyCount = {}) const;

private:
  SmallVector<KeyInterval, 2> intervals;
};

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_MASKANALYSIS_H
