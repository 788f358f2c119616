//===- KvCacheIndexing.cpp - where a sequence's keys are in a cache -------===//

#include "attngen/Transforms/KvCacheIndexing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {

/// Rows a sequence's cache can hold: dim 1 of a contiguous cache, or
/// max_pages * page_size.
static Value emitCacheCapacity(ImplicitLocOpBuilder &b, AttentionOp op,
                               Value key, Value pageTable) {
  if (!op.isPaged()) {
    return memref::DimOp::create(b, key, 1);
  }
  return arith::MulIOp::create(
      b, memref::DimOp::create(b, pageTable, 1),
      arith::ConstantIndexOp::create(b, *op.getPageSize()));
}

Value emitSequenceKeyCount(ImplicitLocOpBuilder &b, AttentionOp op, Value key,
                           Value cacheSeqlens, Value pageTable, Value batch,
                           Value appendedKeys) {
  if (!op.hasKvCache()) {
    return memref::DimOp::create(b, key, 1);
  }
  Value capacity = emitCacheCapacity(b, op, key, pageTable);
  Value length = arith::IndexCastOp::create(
      b, b.getIndexType(), memref::LoadOp::create(b, cacheSeqlens, batch));
  if (op.appendsKv()) {
    length = arith::AddIOp::create(b, length, appendedKeys);
  }
  return arith::MaxSIOp::create(b, arith::MinSIOp::create(b, length, capacity),
                                arith::ConstantIndexOp::create(b, 0));
}

SmallVector<Value, 2> emitKeyRow(ImplicitLocOpBuilder &b, AttentionOp op,
                                 Value key, Value pageTable, Value batch,
                                 Value keyIndex, Value firstKey) {
  if (op.isVarlen() && !op.hasKvCache()) {
    return {arith::ConstantIndexOp::create(b, 0),
            arith::AddIOp::create(b, firstKey, keyIndex)};
  }
  std::optional<int64_t> pageSize = op.getPageSize();
  if (!pageSize) {
    return {batch, keyIndex};
  }
  Value rowsPerPage = arith::ConstantIndexOp::create(b, *pageSize);
  Value slot = arith::DivUIOp::create(b, keyIndex, rowsPerPage);
  return {emitPageOfSlot(b, key, pageTable, batch, slot),
          arith::RemUIOp::create(b, keyIndex, rowsPerPage)};
}

Value emitPageOfSlot(ImplicitLocOpBuilder &b, Value key, Value pageTable,
                     Value batch, Value slot) {
  Value page = arith::IndexCastOp::create(
      b, b.getIndexType(),
      memref::LoadOp::create(b, pageTable, ValueRange{batch, slot}));
  Value lastPage = arith::SubIOp::create(b, memref::DimOp::create(b, key, 0),
                                         arith::ConstantIndexOp::create(b, 1));
  return arith::MaxSIOp::create(b, arith::MinSIOp::create(b, page, lastPage),
                                arith::ConstantIndexOp::create(b, 0));
}

std::pair<Value, SmallVector<Value, 2>>
emitAppendedKeyRow(ImplicitLocOpBuilder &b, AttentionOp op, Value key,
                   Value cacheSeqlens, Value pageTable, Value batch,
                   Value keyIndex) {
  Value zero = arith::ConstantIndexOp::create(b, 0);
  Value row = arith::AddIOp::create(
      b,
      arith::IndexCastOp::create(
          b, b.getIndexType(), memref::LoadOp::create(b, cacheSeqlens, batch)),
      keyIndex);
  Value capacity = emitCacheCapacity(b, op, key, pageTable);
  Value valid = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, row, zero),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, capacity));
  // Out-of-range rows read slot 0 of the table (never used: not valid).
  Value safeRow = arith::SelectOp::create(b, valid, row, zero);
  if (!op.isPaged()) {
    return {valid, {batch, safeRow}};
  }
  Value rowsPerPage = arith::ConstantIndexOp::create(b, *op.getPageSize());
  Value page = arith::IndexCastOp::create(
      b, b.getIndexType(),
      memref::LoadOp::create(
          b, pageTable,
          ValueRange{batch, arith::DivUIOp::create(b, safeRow, rowsPerPage)}));
  Value pageExists = arith::AndIOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, page, zero),
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, page,
                            memref::DimOp::create(b, key, 0)));
  return {arith::AndIOp::create(b, valid, pageExists),
          {arith::SelectOp::create(b, pageExists, page, zero),
           arith::RemUIOp::create(b, safeRow, rowsPerPage)}};
}

} // namespace mlir::attn
