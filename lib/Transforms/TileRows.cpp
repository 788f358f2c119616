//===- TileRows.cpp - what a tile row of a work item is -------------------===//

#include "attngen/Transforms/TileRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attn {

Value TileRows::query(ImplicitLocOpBuilder &b, Value row) {
  if (!op.packsGqa()) {
    return row;
  }
  return arith::DivUIOp::create(
      b, row, arith::ConstantIndexOp::create(b, op.getGroupSize()));
}

Value TileRows::head(ImplicitLocOpBuilder &b, Value row) {
  if (!op.packsGqa()) {
    return qHead;
  }
  Value group = arith::ConstantIndexOp::create(b, op.getGroupSize());
  return arith::AddIOp::create(b, arith::MulIOp::create(b, kvHead, group),
                               arith::RemUIOp::create(b, row, group));
}

Value TileRows::slopeOf(ImplicitLocOpBuilder &b, Value row) {
  if (!op.getAlibi()) {
    return Value();
  }
  if (!op.packsGqa()) {
    return slope;
  }
  return memref::LoadOp::create(b, slopes, head(b, row));
}

std::pair<Value, Value> TileRows::tensorRow(ImplicitLocOpBuilder &b,
                                            Value queryIndex) {
  if (!op.isVarlen()) {
    return {batch, queryIndex};
  }
  return {arith::ConstantIndexOp::create(b, 0),
          arith::AddIOp::create(b, firstQueryRow, queryIndex)};
}

} // namespace mlir::attn
