//===- KvCacheIndexing.cpp - where a sequence's keys are in a cache -------===//

#include "attngen/Transforms/KvCacheIndexing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {

Value emitSequenceKeyCount(ImplicitLocOpBuilder &b, AttentionOp op, Value key,
                           Value cacheSeqlens, Value pageTable, Value batch) {
  if (!op.hasKvCache())
    return memref::DimOp::create(b, key, 1);
  Value capacity =
      op.isPaged()
          ? arith::MulIOp::create(
                b, memref::DimOp::create(b, pageTable, 1),
                arith::ConstantIndexOp::create(b, *op.getPageSize()))
                .getResult()
          : memref::DimOp::create(b, key, 1).getResult();
  Value length = arith::IndexCastOp::create(
      b, b.getIndexType(), memref::LoadOp::create(b, cacheSeqlens, batch));
  return arith::MaxSIOp::create(b, arith::MinSIOp::create(b, length, capacity),
                                arith::ConstantIndexOp::create(b, 0));
}

SmallVector<Value, 2> emitKeyRow(ImplicitLocOpBuilder &b, AttentionOp op,
                                 Value key, Value pageTable, Value batch,
                                 Value keyIndex, Value firstKey) {
  if (op.isVarlen())
    return {arith::ConstantIndexOp::create(b, 0),
            arith::AddIOp::create(b, firstKey, keyIndex)};
  std::optional<int64_t> pageSize = op.getPageSize();
  if (!pageSize)
    return {batch, keyIndex};
  Value rowsPerPage = arith::ConstantIndexOp::create(b, *pageSize);
  Value slot = arith::DivUIOp::create(b, keyIndex, rowsPerPage);
  Value page = arith::IndexCastOp::create(
      b, b.getIndexType(),
      memref::LoadOp::create(b, pageTable, ValueRange{batch, slot}));
  Value lastPage = arith::SubIOp::create(
      b, memref::DimOp::create(b, key, 0), arith::ConstantIndexOp::create(b, 1));
  page = arith::MaxSIOp::create(b, arith::MinSIOp::create(b, page, lastPage),
                                arith::ConstantIndexOp::create(b, 0));
  return {page, arith::RemUIOp::create(b, keyIndex, rowsPerPage)};
}

} // namespace mlir::attn
