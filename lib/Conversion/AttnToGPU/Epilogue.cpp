//===- Epilogue.cpp - the kernel's O and LSE ------------------------------===//
//
// After the last KV tile: row sums over the quad, O = acc / l through a
// shared-memory tile to coalesced stores, the LSE; with split-KV, the
// chunk's partial O and LSE to the workspace.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

#include <limits>

namespace mlir::attn::attn_to_gpu {

/// One row's softmax totals after its last KV tile: l summed over the quad,
/// whether any key was visible, and 1 / l (0 without a visible key).
AttentionKernelBuilder::RowTotals
AttentionKernelBuilder::emitRowTotals(ImplicitLocOpBuilder &b,
                                      Value partialSum) {
  RowTotals totals;
  totals.sum = emitQuadReduce(b, partialSum, /*isMax=*/false);
  totals.anyVisible = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                            totals.sum, f32(b, 0));
  totals.inverse = arith::SelectOp::create(
      b, totals.anyVisible, arith::DivFOp::create(b, f32(b, 1.0), totals.sum),
      f32(b, 0.0));
  return totals;
}

/// LSE = (m + log2 l) ln 2, -inf without a visible key.
Value AttentionKernelBuilder::emitRowLse(ImplicitLocOpBuilder &b, Value rowMax,
                                         const RowTotals &totals) {
  Value logSum = arith::MulFOp::create(
      b, arith::AddFOp::create(b, rowMax, math::Log2Op::create(b, totals.sum)),
      f32(b, kLn2));
  return arith::SelectOp::create(
      b, totals.anyVisible, logSum,
      f32(b, -std::numeric_limits<double>::infinity()));
}

/// O = acc / l (0 without a visible key), LSE = (m + log2 l) ln 2 (-inf).
/// O goes through shared memory: each thread writes its accumulator pairs
/// into an O tile (4-byte stores, conflict-free in either layout), then
/// the CTA copies whole rows out with coalesced 16-byte stores.
void AttentionKernelBuilder::emitFinalize(ImplicitLocOpBuilder &b,
                                          ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  // Every warp is done with Q, K and V in shared memory.
  gpu::BarrierOp::create(b);
  int64_t sharedOffset = 0;
  Value outputTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockM,
                                paddedHeadDimV, swizzledQueryTile());
  auto pairType = VectorType::get({2}, elementType);
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    Value slabRow = emitSlabRow(b, s);
    Value slabFirstRow = arith::SubIOp::create(b, slabRow, firstRow);
    for (int64_t i = 0; i < 2; ++i) {
      Value row = arith::AddIOp::create(
          b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      Value tileRow = arith::AddIOp::create(
          b, slabFirstRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      RowTotals totals = emitRowTotals(b, slabs[s].rowSum[i]);
      for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; ++dt) {
        Value column = arith::AddIOp::create(
            b, arith::MulIOp::create(b, threadInGroup, index(b, 2)),
            index(b, dt * kMmaN));
        SmallVector<Value> pair;
        for (int64_t j = 0; j < 2; ++j) {
          Value acc = vector::ExtractOp::create(b, slabs[s].output[dt],
                                                ArrayRef<int64_t>{i, j});
          pair.push_back(arith::TruncFOp::create(
              b, elementType, arith::MulFOp::create(b, acc, totals.inverse)));
        }
        // An even column: the pair is one 4-byte store (both layouts).
        vector::StoreOp::create(
            b, vector::FromElementsOp::create(b, pairType, pair), outputTile,
            ValueRange{tileRow, column}, /*nontemporal=*/false, llvm::Align(4));
      }
      if (op.returnsLse()) {
        // One lane of the quad writes the row's LSE.
        Value rowExists =
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
        Value firstOfQuad = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                  threadInGroup, index(b, 0));
        auto ifWriter = scf::IfOp::create(
            b, arith::AndIOp::create(b, rowExists, firstOfQuad), false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(ifWriter.thenBlock()->getTerminator());
        auto [tensorBatch, queryIndex] = queryTensorRow(b, queryOfRow(b, row));
        memref::StoreOp::create(
            b, emitRowLse(b, slabs[s].rowMax[i], totals), lse,
            ValueRange{tensorBatch, headOfRow(b, row), queryIndex});
      }
    }
  }
  gpu::BarrierOp::create(b);
  emitStoreTile(
      b, outputTile, output,
      [&](ImplicitLocOpBuilder &b, Value row) {
        return queryRowIndices(b, row);
      },
      firstRow, rowLimit, tiling.blockM, headDimV, paddedHeadDimV);
}

/// Split-KV: this chunk's O, normalized by its own sum, and its LSE (-inf
/// without a visible key) in f32, straight from the accumulators to the
/// workspace (few rows per call: no staging).
void AttentionKernelBuilder::emitPartialFinalize(ImplicitLocOpBuilder &b,
                                                 ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    Value slabRow = emitSlabRow(b, s);
    for (int64_t i = 0; i < 2; ++i) {
      Value row = arith::AddIOp::create(
          b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
      RowTotals totals = emitRowTotals(b, slabs[s].rowSum[i]);
      Value rowExists =
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
      auto ifRow = scf::IfOp::create(b, rowExists, /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
      Value head = headOfRow(b, row);
      auto [tensorBatch, queryIndex] = queryTensorRow(b, queryOfRow(b, row));
      for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; ++dt) {
        for (int64_t j = 0; j < 2; ++j) {
          OpBuilder::InsertionGuard columnGuard(b);
          Value column = arith::AddIOp::create(
              b, arith::MulIOp::create(b, threadInGroup, index(b, 2)),
              index(b, dt * kMmaN + j));
          if (dt * kMmaN + kMmaN > headDimV) {
            auto ifColumn = scf::IfOp::create(
                b,
                arith::CmpIOp::create(b, arith::CmpIPredicate::slt, column,
                                      index(b, headDimV)),
                false);
            b.setInsertionPoint(ifColumn.thenBlock()->getTerminator());
          }
          Value acc = vector::ExtractOp::create(b, slabs[s].output[dt],
                                                ArrayRef<int64_t>{i, j});
          memref::StoreOp::create(
              b, arith::MulFOp::create(b, acc, totals.inverse), partialOutput,
              ValueRange{split, tensorBatch, queryIndex, head, column});
        }
      }
      auto ifWriter =
          scf::IfOp::create(b,
                            arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                  threadInGroup, index(b, 0)),
                            false);
      b.setInsertionPoint(ifWriter.thenBlock()->getTerminator());
      memref::StoreOp::create(b, emitRowLse(b, slabs[s].rowMax[i], totals),
                              partialLse,
                              ValueRange{split, tensorBatch, head, queryIndex});
    }
  }
}

} // namespace mlir::attn::attn_to_gpu
