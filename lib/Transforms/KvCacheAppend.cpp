//===- KvCacheAppend.cpp - storing a call's new keys into the cache -------===//

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/Rope.h"
#include "attngen/Transforms/SpecFunction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::attn {

/// destination[..., c] = source[..., c] for c in [begin, end), in vectors
/// of at most `chunk` elements (both memrefs have the same element type).
/// With `alignedRows` (rows start on 16 bytes), vectors of 16 bytes at
/// 16-byte columns say so, so that targets emit one 16-byte access.
/// Copies columns [begin, end) of a row in vectors of `chunk` elements;
/// with `chunkFilter`, vector i only where chunkFilter(firstChunk + i).
static void
copyColumns(ImplicitLocOpBuilder &b, Value source, ValueRange sourceRow,
            Value destination, ValueRange destinationRow, int64_t begin,
            int64_t end, int64_t chunk, bool alignedRows, int64_t firstChunk,
            function_ref<Value(ImplicitLocOpBuilder &, int64_t)> chunkFilter) {
  Type element = cast<MemRefType>(source.getType()).getElementType();
  auto at = [&](ValueRange row, int64_t column) {
    SmallVector<Value> indices(row);
    indices.push_back(arith::ConstantIndexOp::create(b, column));
    return indices;
  };
  int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  for (int64_t column = begin; column < end; column += chunk) {
    int64_t count = std::min(chunk, end - column);
    OpBuilder::InsertionGuard guard(b);
    if (chunkFilter) {
      auto ifChunk = scf::IfOp::create(
          b, chunkFilter(b, firstChunk + (column - begin) / chunk),
          /*withElseRegion=*/false);
      b.setInsertionPoint(ifChunk.thenBlock()->getTerminator());
    }
    llvm::MaybeAlign alignment;
    if (alignedRows && count * bytes == 16 && column * bytes % 16 == 0) {
      alignment = llvm::Align(16);
    }
    Value values = vector::LoadOp::create(b, VectorType::get({count}, element),
                                          source, at(sourceRow, column),
                                          /*nontemporal=*/false, alignment);
    vector::StoreOp::create(b, values, destination, at(destinationRow, column),
                            /*nontemporal=*/false, alignment);
  }
}

SmallVector<Type> appendParameterTypes(AttentionOp op,
                                       ArrayRef<Type> kernelTypes) {
  return {toKernelMemRef(op.getKeyNew().getType()),
          toKernelMemRef(op.getValueNew().getType()),
          kernelTypes[1],
          kernelTypes[2],
          kernelTypes[6],
          kernelTypes[7],
          kernelTypes[10]};
}

Value emitAppendRowCount(ImplicitLocOpBuilder &b, AttentionOp op,
                         const KvAppendOperands &operands) {
  Value tokens =
      arith::MulIOp::create(b, memref::DimOp::create(b, operands.keyNew, 0),
                            memref::DimOp::create(b, operands.keyNew, 1));
  return arith::MulIOp::create(
      b, tokens, arith::ConstantIndexOp::create(b, op.getNumKvHeads()));
}

/// The sequence of packed row `token`: the last b with cu_seqlens_q[b] <=
/// token (empty sequences share their offset with the next), by bisection
/// over [0, num_sequences) in 32 fixed steps (int32 offsets).
static Value emitSequenceOfPackedRow(ImplicitLocOpBuilder &b, Value offsets,
                                     Value token) {
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  Value numSequences =
      arith::SubIOp::create(b, memref::DimOp::create(b, offsets, 0), index(1));
  // Invariant: cu[low] <= token < cu[high] (cu[num_sequences] = total).
  auto loop = scf::ForOp::create(
      b, index(0), index(32), index(1), ValueRange{index(0), numSequences},
      [&](OpBuilder &nested, Location loc, Value, ValueRange bounds) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value low = bounds[0], high = bounds[1];
        Value middle = arith::DivUIOp::create(
            nb,
            arith::AddIOp::create(nb, arith::AddIOp::create(nb, low, high),
                                  arith::ConstantIndexOp::create(nb, 1)),
            arith::ConstantIndexOp::create(nb, 2));
        Value open = arith::CmpIOp::create(
            nb, arith::CmpIPredicate::ult,
            arith::AddIOp::create(nb, low,
                                  arith::ConstantIndexOp::create(nb, 1)),
            high);
        // Only read cu[middle] while the interval has more than one entry.
        Value safeMiddle = arith::SelectOp::create(nb, open, middle, low);
        Value start = arith::IndexCastOp::create(
            nb, nb.getIndexType(),
            memref::LoadOp::create(nb, offsets, safeMiddle));
        Value goRight = arith::AndIOp::create(
            nb, open,
            arith::CmpIOp::create(nb, arith::CmpIPredicate::sle, start, token));
        Value goLeft = arith::AndIOp::create(
            nb, open,
            arith::CmpIOp::create(nb, arith::CmpIPredicate::sgt, start, token));
        scf::YieldOp::create(
            nb, ValueRange{arith::SelectOp::create(nb, goRight, middle, low),
                           arith::SelectOp::create(nb, goLeft, middle, high)});
      });
  return loop.getResult(0);
}

void emitAppendRow(ImplicitLocOpBuilder &b, AttentionOp op,
                   const KvAppendOperands &operands, Value row,
                   int64_t elementsPerChunk, bool alignedRows,
                   std::optional<AppendRowThreads> threads) {
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  // Vector n of the row is moved by thread n % threads.
  auto isOwnChunk = [&](ImplicitLocOpBuilder &nb, int64_t chunk) -> Value {
    return arith::CmpIOp::create(
        nb, arith::CmpIPredicate::eq, threads->thread,
        arith::ConstantIndexOp::create(nb, chunk % threads->threads));
  };
  function_ref<Value(ImplicitLocOpBuilder &, int64_t)> chunkFilter;
  if (threads) {
    chunkFilter = isOwnChunk;
  }
  int64_t numKvHeads = op.getNumKvHeads();
  Value head = arith::RemUIOp::create(b, row, index(numKvHeads));
  Value packedToken = arith::DivUIOp::create(b, row, index(numKvHeads));
  // (batch, token) of the new row, and its first indices in key_new.
  Value batch, token;
  SmallVector<Value> newRow;
  if (op.isVarlen()) {
    batch = emitSequenceOfPackedRow(b, operands.cuSeqlensQ, packedToken);
    token = arith::SubIOp::create(
        b, packedToken,
        arith::IndexCastOp::create(
            b, b.getIndexType(),
            memref::LoadOp::create(b, operands.cuSeqlensQ, batch)));
    newRow = {index(0), packedToken, head};
  } else {
    Value seqlenNew = memref::DimOp::create(b, operands.keyNew, 1);
    batch = arith::DivUIOp::create(b, packedToken, seqlenNew);
    token = arith::RemUIOp::create(b, packedToken, seqlenNew);
    newRow = {batch, token, head};
  }
  auto [exists, cacheRow] =
      emitAppendedKeyRow(b, op, operands.key, operands.cacheSeqlens,
                         operands.pageTable, batch, token);
  auto ifExists = scf::IfOp::create(b, exists, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifExists.thenBlock()->getTerminator());
  SmallVector<Value> destinationRow = {cacheRow[0], cacheRow[1], head};
  // Chunks are numbered across the row: the rotated key columns, the other
  // key columns, the value columns (chunkFilter's argument).
  int64_t rotated = 0, rotatedChunks = 0;
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
    int64_t pairsPerChunk = std::max<int64_t>(elementsPerChunk / 2, 1);
    // Chunks of whole pairs when threads loop over them.
    if (threads) {
      pairsPerChunk = ropeChunkPairs(rope, pairsPerChunk);
    }
    rotated = rope.getRotaryDim();
    rotatedChunks = llvm::divideCeil(rotated / 2, pairsPerChunk);
    if (threads) {
      // Thread t rotates chunks t, t + threads, ... in a loop.
      auto loop = scf::ForOp::create(b, threads->thread, index(rotatedChunks),
                                     index(threads->threads));
      OpBuilder::InsertionGuard loopGuard(b);
      b.setInsertionPointToStart(loop.getBody());
      emitRotateRowChunk(b, rope, position, operands.keyNew, source,
                         operands.key, destination, pairsPerChunk,
                         loop.getInductionVar());
    } else {
      emitRotateRow(b, rope, position, operands.keyNew, source, operands.key,
                    destination, pairsPerChunk);
    }
  }
  int64_t keyChunks =
      llvm::divideCeil(op.getHeadDim() - rotated, elementsPerChunk);
  copyColumns(b, operands.keyNew, newRow, operands.key, destinationRow, rotated,
              op.getHeadDim(), elementsPerChunk, alignedRows, rotatedChunks,
              chunkFilter);
  copyColumns(b, operands.valueNew, newRow, operands.value, destinationRow, 0,
              op.getHeadDimV(), elementsPerChunk, alignedRows,
              rotatedChunks + keyChunks, chunkFilter);
}

} // namespace mlir::attn
