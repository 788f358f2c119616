//===- KvCacheAppend.cpp - storing a call's new keys into the cache -------===//

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/Rope.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {

/// destination[..., c] = source[..., c] for c in [begin, end), in vectors
/// of at most `chunk` elements (both memrefs have the same element type).
static void copyColumns(ImplicitLocOpBuilder &b, Value source,
                        ValueRange sourceRow, Value destination,
                        ValueRange destinationRow, int64_t begin, int64_t end,
                        int64_t chunk) {
  Type element = cast<MemRefType>(source.getType()).getElementType();
  auto at = [&](ValueRange row, int64_t column) {
    SmallVector<Value> indices(row);
    indices.push_back(arith::ConstantIndexOp::create(b, column));
    return indices;
  };
  for (int64_t column = begin; column < end; column += chunk) {
    int64_t count = std::min(chunk, end - column);
    Value values =
        vector::LoadOp::create(b, VectorType::get({count}, element), source,
                               at(sourceRow, column));
    vector::StoreOp::create(b, values, destination, at(destinationRow, column));
  }
}

void emitAppendRow(ImplicitLocOpBuilder &b, AttentionOp op,
                   const KvAppendOperands &operands, Value batch, Value token,
                   Value head, int64_t elementsPerChunk) {
  auto [exists, cacheRow] =
      emitAppendedKeyRow(b, op, operands.key, operands.cacheSeqlens,
                         operands.pageTable, batch, token);
  auto ifExists = scf::IfOp::create(b, exists, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifExists.thenBlock()->getTerminator());
  SmallVector<Value> newRow = {batch, token, head};
  SmallVector<Value> destinationRow = {cacheRow[0], cacheRow[1], head};
  int64_t rotated = 0;
  if (RopeAttr rope = op.getRopeAttr()) {
    // Position of the new key: its cache row, cache_seqlens[b] + token.
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value position = arith::AddIOp::create(
        b,
        arith::IndexCastOp::create(
            b, b.getIndexType(),
            memref::LoadOp::create(b, operands.cacheSeqlens, batch)),
        token);
    SmallVector<Value> source = newRow, destination = destinationRow;
    source.push_back(zero);
    destination.push_back(zero);
    emitRotateRow(b, rope, position, operands.keyNew, source, operands.key,
                  destination, std::max<int64_t>(elementsPerChunk / 2, 1));
    rotated = rope.getRotaryDim();
  }
  copyColumns(b, operands.keyNew, newRow, operands.key, destinationRow,
              rotated, op.getHeadDim(), elementsPerChunk);
  copyColumns(b, operands.valueNew, newRow, operands.value, destinationRow, 0,
              op.getHeadDimV(), elementsPerChunk);
}

} // namespace mlir::attn
