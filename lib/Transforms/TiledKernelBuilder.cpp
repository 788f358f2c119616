//===- TiledKernelBuilder.cpp - the tiled CPU kernel ----------------------===//
//
// A work item's frame: (batch, head, Q tile) from the flat work index,
// the Q tile staged (RoPE applied), the loops over the mask's KV tile
// ranges, and the epilogue: O = acc / l and the LSE.
//
//===----------------------------------------------------------------------===//

#include "TiledKernelBuilder.h"

#include "attngen/Transforms/Rope.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

namespace mlir::attn::attn_tile {

/// O = acc / l and LSE = (m + log2(l)) * ln(2); rows with l == 0 (no visible
/// key) get O = 0 and LSE = -inf.
void TiledKernelBuilder::emitFinalize(ImplicitLocOpBuilder &b) {
  Value zero = index(b, 0);
  forLoop(
      b, zero, numRows, {},
      [&](ImplicitLocOpBuilder &b, Value r, ValueRange) -> SmallVector<Value> {
        Value row = arith::AddIOp::create(b, firstRow, r);
        Value head = headOfRow(b, row);
        auto [tensorBatch, query] = queryTensorRow(b, queryOfRow(b, row));
        Value sum = memref::LoadOp::create(b, rowSum, r);
        Value anyVisible = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                                 sum, f32(b, 0.0));
        Value inverse = arith::SelectOp::create(
            b, anyVisible, arith::DivFOp::create(b, f32(b, 1.0), sum),
            f32(b, 0.0));
        forLoop(b, zero, index(b, op.getHeadDimV()), {},
                [&](ImplicitLocOpBuilder &b, Value dv,
                    ValueRange) -> SmallVector<Value> {
                  Value acc =
                      memref::LoadOp::create(b, accumulator, ValueRange{r, dv});
                  Value out = arith::MulFOp::create(b, acc, inverse);
                  if (split) {
                    // This chunk's O, normalized by its own sum, in f32.
                    memref::StoreOp::create(
                        b, out, args.partialOutput,
                        ValueRange{split, tensorBatch, query, head, dv});
                    return {};
                  }
                  if (!elementType.isF32()) {
                    out = arith::TruncFOp::create(b, elementType, out);
                  }
                  memref::StoreOp::create(
                      b, out, args.output,
                      ValueRange{tensorBatch, query, head, dv});
                  return {};
                });
        if (split || args.lse) {
          // LSE = (m + log2 l) ln 2, -inf without a visible key; split-KV
          // chunks always write theirs, for the merge.
          Value max = memref::LoadOp::create(b, rowMax, r);
          Value lse = arith::MulFOp::create(
              b, arith::AddFOp::create(b, max, math::Log2Op::create(b, sum)),
              f32(b, kLn2));
          lse = arith::SelectOp::create(
              b, anyVisible, lse,
              f32(b, -std::numeric_limits<double>::infinity()));
          if (split) {
            memref::StoreOp::create(
                b, lse, args.partialLse,
                ValueRange{split, tensorBatch, head, query});
          } else {
            memref::StoreOp::create(b, lse, args.lse,
                                    ValueRange{tensorBatch, head, query});
          }
        }
        return {};
      });
}

void TiledKernelBuilder::build(ImplicitLocOpBuilder &b,
                               const KernelArgs &kernelArgs) {
  args = kernelArgs;
  int64_t numQHeads = op.getNumQHeads();
  int64_t headDim = op.getHeadDim();
  Value zero = index(b, 0), one = index(b, 1);
  // Sequences: the batch, or the cu_seqlens entries of a variable-length
  // batch, whose longest sequence sets the number of Q tiles.
  Value numSequences =
      op.isVarlen() ? arith::SubIOp::create(
                          b, memref::DimOp::create(b, args.cuSeqlensQ, 0), one)
                          .getResult()
                    : memref::DimOp::create(b, args.query, 0).getResult();
  Value seqlenQ = memref::DimOp::create(b, args.query, 1);
  auto sequenceLength = [&](ImplicitLocOpBuilder &b, Value offsets,
                            Value sequence) -> std::pair<Value, Value> {
    auto load = [&](Value at) -> Value {
      return arith::IndexCastOp::create(b, b.getIndexType(),
                                        memref::LoadOp::create(b, offsets, at));
    };
    Value start = load(sequence);
    Value next = load(arith::AddIOp::create(b, sequence, one));
    return {start, arith::MaxSIOp::create(
                       b, arith::SubIOp::create(b, next, start), zero)};
  };
  if (op.isVarlen()) {
    seqlenQ = forLoop(
        b, zero, numSequences, {zero},
        [&](ImplicitLocOpBuilder &b, Value s,
            ValueRange longest) -> SmallVector<Value> {
          return {arith::MaxSIOp::create(
              b, longest[0], sequenceLength(b, args.cuSeqlensQ, s).second)};
        })[0];
  }
  // off = seqlen_k - seqlen_q aligns the last query with the last key.
  auto alignOffset = [&](ImplicitLocOpBuilder &b) {
    offset = op.getCausalAlign() == CausalAlign::BottomRight
                 ? arith::SubIOp::create(b, seqlenK, seqlenQ).getResult()
                 : index(b, 0);
  };
  if (!op.hasKvCache() && !op.isVarlen()) {
    seqlenK = memref::DimOp::create(b, args.key, 1);
    alignOffset(b);
  }
  // Rows: queries, or (query, head) pairs of a kv head when packing GQA.
  int64_t heads = op.packsGqa() ? op.getNumKvHeads() : numQHeads;
  Value numRowsTotal =
      op.packsGqa()
          ? arith::MulIOp::create(b, seqlenQ, index(b, op.getGroupSize()))
                .getResult()
          : seqlenQ;
  Value numQTiles =
      arith::CeilDivSIOp::create(b, numRowsTotal, index(b, blockM));
  // Split-KV: every (Q tile, batch, head) is num_splits work items.
  bool splitKv = op.getSplitKv().has_value();
  Value numSplits =
      splitKv ? memref::DimOp::create(b, args.partialLse, 0).getResult() : one;

  // Per-call scratch: one work item at a time uses it.
  Type f32Type = b.getF32Type();
  auto allocateScratch = [&](ArrayRef<int64_t> shape) {
    return memref::AllocaOp::create(b, MemRefType::get(shape, f32Type),
                                    ValueRange{}, b.getI64IntegerAttr(64))
        .getResult();
  };
  qTile = allocateScratch({blockM, headDim});
  keyT = allocateScratch({headDim, blockN});
  valueTile = allocateScratch({blockN, paddedHeadDimV});
  scoreRows = allocateScratch({kRowsPerBlock, blockN});
  accumulator = allocateScratch({blockM, paddedHeadDimV});
  rowMax = allocateScratch({blockM});
  rowSum = allocateScratch({blockM});
  SmallVector<APInt> laneIndices;
  for (int64_t lane = 0; lane < width; ++lane) {
    laneIndices.push_back(APInt(64, lane));
  }
  lanes = arith::ConstantOp::create(
      b, DenseElementsAttr::get(vectorType(b.getIndexType()), laneIndices));
  // The padding columns of valueTile are never staged: keep them 0 so the
  // padding lanes of acc stay finite.
  if (paddedHeadDimV != op.getHeadDimV()) {
    forLoop(b, zero, index(b, blockN), {},
            [&](ImplicitLocOpBuilder &b, Value c,
                ValueRange) -> SmallVector<Value> {
              forLoop(b, index(b, op.getHeadDimV()), index(b, paddedHeadDimV),
                      {},
                      [&](ImplicitLocOpBuilder &b, Value dv,
                          ValueRange) -> SmallVector<Value> {
                        memref::StoreOp::create(b, f32(b, 0.0), valueTile,
                                                ValueRange{c, dv});
                        return {};
                      });
              return {};
            });
  }

  forLoop(
      b, args.begin, args.end, {},
      [&](ImplicitLocOpBuilder &b, Value item,
          ValueRange) -> SmallVector<Value> {
        // item = ((num_q_tiles - 1 - q_tile) * batch_size + batch) * heads +
        // head (q heads, or kv heads when packing GQA; times num_splits + split
        // for split-KV) Q tiles run last to first: under causal masks the late
        // tiles cost the most, and handing them out first balances the threads.
        // Heads sharing a kv head are neighbours, so their K/V tiles are reused
        // from cache.
        if (splitKv) {
          split = arith::RemUIOp::create(b, item, numSplits);
          item = arith::DivUIOp::create(b, item, numSplits);
        }
        Value batchHeads =
            arith::MulIOp::create(b, numSequences, index(b, heads));
        Value batchHead = arith::RemUIOp::create(b, item, batchHeads);
        Value qTileIndex =
            arith::SubIOp::create(b, arith::SubIOp::create(b, numQTiles, one),
                                  arith::DivUIOp::create(b, item, batchHeads));
        Value headIndex = arith::RemUIOp::create(b, batchHead, index(b, heads));
        batch = arith::DivUIOp::create(b, batchHead, index(b, heads));
        // GQA/MQA: q head h reads kv head h / (num_q_heads / num_kv_heads).
        if (op.packsGqa()) {
          kvHead = headIndex;
        } else {
          qHead = headIndex;
          kvHead =
              arith::DivUIOp::create(b, qHead, index(b, op.getGroupSize()));
        }
        firstRow = arith::MulIOp::create(b, qTileIndex, index(b, blockM));
        Value rowsOfSequence = numRowsTotal;
        if (op.isVarlen()) {
          // This sequence's queries and keys in the packed tensors; tiles past
          // its length have no rows.
          std::tie(firstQueryRow, rowsOfSequence) =
              sequenceLength(b, args.cuSeqlensQ, batch);
          seqlenQ = rowsOfSequence;
          if (op.packsGqa()) {
            rowsOfSequence =
                arith::MulIOp::create(b, seqlenQ, index(b, op.getGroupSize()));
          }
          // Keys: packed like the queries, or the sequence's cache (below).
          if (!op.hasKvCache()) {
            std::tie(firstKeyRow, seqlenK) =
                sequenceLength(b, args.cuSeqlensK, batch);
            alignOffset(b);
          }
        }
        numRows = arith::MaxSIOp::create(
            b,
            arith::MinSIOp::create(
                b, index(b, blockM),
                arith::SubIOp::create(b, rowsOfSequence, firstRow)),
            zero);
        // Tiles past a (shorter) sequence's end have nothing to do.
        auto hasRows = scf::IfOp::create(
            b,
            arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, numRows, zero),
            /*withElseRegion=*/false);
        b.setInsertionPoint(hasRows.thenBlock()->getTerminator());
        Value lastRow = arith::SubIOp::create(
            b, arith::AddIOp::create(b, firstRow, numRows), one);
        if (args.slopes && !op.packsGqa()) {
          slope = memref::LoadOp::create(b, args.slopes, qHead);
        }
        if (op.hasKvCache()) {
          // This sequence's keys: cache_seqlens[b], clamped to the cache.
          seqlenK = emitSequenceKeyCount(b, op, args.key, args.cacheSeqlens,
                                         args.pageTable, batch, seqlenQ);
          alignOffset(b);
        }

        // m = -inf, l = 0, acc = 0; qTile = Q rows as f32, and zero rows up to
        // a whole number of row blocks.
        Value negInf = f32(b, -std::numeric_limits<double>::infinity());
        Value paddedRows = arith::MulIOp::create(
            b, arith::CeilDivSIOp::create(b, numRows, index(b, kRowsPerBlock)),
            index(b, kRowsPerBlock));
        forLoop(
            b, zero, paddedRows, {},
            [&](ImplicitLocOpBuilder &b, Value r,
                ValueRange) -> SmallVector<Value> {
              memref::StoreOp::create(b, negInf, rowMax, r);
              memref::StoreOp::create(b, f32(b, 0.0), rowSum, r);
              forLoop(b, zero, index(b, paddedHeadDimV), {},
                      [&](ImplicitLocOpBuilder &b, Value dv,
                          ValueRange) -> SmallVector<Value> {
                        memref::StoreOp::create(b, f32(b, 0.0), accumulator,
                                                ValueRange{r, dv});
                        return {};
                      });
              Value row = arith::AddIOp::create(b, firstRow, r);
              Value isPadding = arith::CmpIOp::create(
                  b, arith::CmpIPredicate::sge, r, numRows);
              // Padding rows read row 0 of the tile (always in bounds), then
              // zero it.
              Value sourceRow =
                  arith::SelectOp::create(b, isPadding, firstRow, row);
              forLoop(b, zero, index(b, headDim), {},
                      [&](ImplicitLocOpBuilder &b, Value d,
                          ValueRange) -> SmallVector<Value> {
                        auto [tensorBatch, query] =
                            queryTensorRow(b, queryOfRow(b, sourceRow));
                        Value q = loadF32(
                            b, args.query,
                            {tensorBatch, query, headOfRow(b, sourceRow), d});
                        if (isScoreLinear()) {
                          q = arith::MulFOp::create(
                              b, q,
                              f32(b, op.getScale().convertToDouble() * kLog2E));
                        }
                        q = arith::SelectOp::create(b, isPadding, f32(b, 0.0),
                                                    q);
                        memref::StoreOp::create(b, q, qTile, ValueRange{r, d});
                        return {};
                      });
              // RoPE (linear, so after the scale). Padding rows are zero and
              // stay zero.
              if (RopeAttr rope = op.getRopeAttr()) {
                Value position = emitQueryPosition(b, seqlenK, seqlenQ,
                                                   queryOfRow(b, sourceRow));
                emitRotateRow(b, rope, position, qTile, {r, zero}, qTile,
                              {r, zero}, kRopePairsPerChunk);
              }
              return {};
            });

        if (splitKv) {
          // Chunk s of the KV tiles: [s * c, min((s + 1) * c, tiles)) with
          // c = ceil(tiles / num_splits); every loop below is clipped to it.
          Value numKvTiles =
              arith::CeilDivSIOp::create(b, seqlenK, index(b, blockN));
          Value chunk = arith::CeilDivSIOp::create(b, numKvTiles, numSplits);
          splitBegin = arith::MulIOp::create(b, split, chunk);
          splitEnd = arith::MinSIOp::create(
              b, arith::AddIOp::create(b, splitBegin, chunk), numKvTiles);
        }
        for (const KvTileRanges &range : mask.emitTileRanges(
                 b, queryOfRow(b, firstRow), queryOfRow(b, lastRow), offset,
                 seqlenK, blockN)) {
          auto emitTiles = [&](Value lb, Value ub, bool masked) {
            if (splitKv) {
              lb = arith::MaxSIOp::create(b, lb, splitBegin);
              ub = arith::MaxSIOp::create(
                  b, lb, arith::MinSIOp::create(b, ub, splitEnd));
            }
            forLoop(b, lb, ub, {},
                    [&](ImplicitLocOpBuilder &b, Value tile,
                        ValueRange) -> SmallVector<Value> {
                      emitKvTile(b, tile, masked);
                      return {};
                    });
          };
          if (!range.leadingBoundaryIsEmpty) {
            emitTiles(range.begin, range.fullBegin, /*masked=*/true);
          }
          emitTiles(range.fullBegin, range.fullEnd, /*masked=*/false);
          emitTiles(range.fullEnd, range.end, /*masked=*/true);
        }
        emitFinalize(b);
        b.setInsertionPointAfter(hasRows);
        return {};
      });
}

} // namespace mlir::attn::attn_tile
