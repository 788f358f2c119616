//===- TileRows.h - what a tile row of a work item is -----------*- C++ -*-===//
//
// The CPU (attn-tile) and GPU (attn-to-gpu) kernels give each work item or
// CTA a tile of rows. A row is a query of one q head or, when the op packs
// GQA groups (AttentionOp::packsGqa), a (query, q head of the item's kv head)
// pair: row = query * group + head % group. In a variable-length batch,
// query i of the item's sequence is tensor row firstQueryRow + i of batch
// entry 0.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_TILEROWS_H
#define ATTNGEN_TRANSFORMS_TILEROWS_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <utility>

namespace mlir::attn {

struct TileRows {
  AttentionOp op;
  /// The item's sequence, q head (unpacked) and kv head.
  Value batch, qHead, kvHead;
  /// Varlen batches: the sequence's first query row in the packed tensors.
  Value firstQueryRow;
  /// ALiBi: the slopes memref, and the unpacked item's slope.
  Value slopes, slope;

  Value query(ImplicitLocOpBuilder &b, Value row);
  Value head(ImplicitLocOpBuilder &b, Value row);
  /// The ALiBi slope of the row's head (null without ALiBi).
  Value slopeOf(ImplicitLocOpBuilder &b, Value row);
  /// (batch index, sequence index) of a query in Q, O and LSE.
  std::pair<Value, Value> tensorRow(ImplicitLocOpBuilder &b, Value queryIndex);
};

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_TILEROWS_H
