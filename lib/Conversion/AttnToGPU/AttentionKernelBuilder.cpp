//===- AttentionKernelBuilder.cpp - the attention kernel ------------------===//
//
// The kernel's frame: arguments, grid mapping, the Q tile in shared
// memory (RoPE applied there), and the loops over the KV tile ranges that
// MaskAnalysis classifies (masked boundary tiles, unmasked full tiles).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

#include "attngen/Transforms/Rope.h"

#include <limits>

namespace mlir::attn::attn_to_gpu {

SmallVector<Value> AttentionKernelBuilder::flatten(ArrayRef<SlabState> slabs) {
  SmallVector<Value> values;
  for (const SlabState &slab : slabs) {
    values.append(
        {slab.rowMax[0], slab.rowMax[1], slab.rowSum[0], slab.rowSum[1]});
    values.append(slab.output.begin(), slab.output.end());
  }
  return values;
}

SmallVector<SlabState> AttentionKernelBuilder::unflatten(ValueRange values) {
  SmallVector<SlabState> slabs(slabsPerWarp);
  int64_t perSlab = 4 + paddedHeadDimV / kMmaN;
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    ValueRange slab = values.slice(s * perSlab, perSlab);
    slabs[s].rowMax[0] = slab[0];
    slabs[s].rowMax[1] = slab[1];
    slabs[s].rowSum[0] = slab[2];
    slabs[s].rowSum[1] = slab[3];
    slabs[s].output.assign(slab.begin() + 4, slab.end());
  }
  return slabs;
}

std::pair<Value, Value>
AttentionKernelBuilder::emitSequenceRows(ImplicitLocOpBuilder &b,
                                         Value offsets) {
  auto load = [&](Value at) -> Value {
    return arith::IndexCastOp::create(b, b.getIndexType(),
                                      memref::LoadOp::create(b, offsets, at));
  };
  Value start = load(batch);
  Value next = load(arith::AddIOp::create(b, batch, index(b, 1)));
  return {start, arith::MaxSIOp::create(
                     b, arith::SubIOp::create(b, next, start), index(b, 0))};
}

Value AttentionKernelBuilder::emitRowLimit(ImplicitLocOpBuilder &b) {
  if (!packGqa) {
    return seqlenQ;
  }
  return arith::MulIOp::create(b, seqlenQ, index(b, op.getGroupSize()));
}

LogicalResult AttentionKernelBuilder::build(ImplicitLocOpBuilder &b,
                                            gpu::GPUFuncOp func) {
  Block &entry = func.getBody().front();
  query = entry.getArgument(0);
  key = entry.getArgument(1);
  value = entry.getArgument(2);
  output = entry.getArgument(3);
  lse = entry.getArgument(4);
  slopes = entry.getArgument(5);
  cacheSeqlens = entry.getArgument(6);
  pageTable = entry.getArgument(7);
  partialOutput = entry.getArgument(8);
  partialLse = entry.getArgument(9);
  cuSeqlensQ = entry.getArgument(10);
  cuSeqlensK = entry.getArgument(11);

  // Grid (row tile, q head or, with GQA packing, kv head, batch); block
  // 32 * num_warps threads. Split-KV: x = row tile * num_splits + split.
  Value qTileIndex = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value numQTiles = gpu::GridDimOp::create(b, gpu::Dimension::x);
  if (op.getSplitKv()) {
    numSplits = memref::DimOp::create(b, partialLse, 0);
    split = arith::RemUIOp::create(b, qTileIndex, numSplits);
    qTileIndex = arith::DivUIOp::create(b, qTileIndex, numSplits);
    numQTiles = arith::DivUIOp::create(b, numQTiles, numSplits);
  }
  // Causal: a row tile's keys grow with its index and CTAs start roughly
  // in block order, so the heaviest tiles go first and the grid ends on
  // light ones (H100, d256 at 16k: +12%). Tile numQTiles - 1 - x, written
  // ~x + numQTiles: as a subtraction ptxas spilled 8 bytes (d64 128 x 128).
  if (op.getMask() == MaskKind::Causal) {
    qTileIndex = arith::AddIOp::create(
        b, arith::XOrIOp::create(b, qTileIndex, index(b, -1)), numQTiles);
  }
  Value headIndex = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  batch = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  threadId = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  lane = arith::RemUIOp::create(b, threadId, index(b, kWarpSize));
  warp = arith::DivUIOp::create(b, threadId, index(b, kWarpSize));
  group = arith::DivUIOp::create(b, lane, index(b, 4));
  threadInGroup = arith::RemUIOp::create(b, lane, index(b, 4));
  // GQA/MQA: q head h reads kv head h / (num_q_heads / num_kv_heads).
  if (packGqa) {
    kvHead = headIndex;
  } else {
    qHead = headIndex;
    kvHead = arith::DivUIOp::create(b, qHead, index(b, op.getGroupSize()));
  }
  seqlenQ = memref::DimOp::create(b, query, 1);
  if (op.isVarlen()) {
    std::tie(firstQueryRow, seqlenQ) = emitSequenceRows(b, cuSeqlensQ);
    // Keys: packed like the queries, or the sequence's cache (below).
    if (!op.hasKvCache()) {
      std::tie(firstKeyRow, seqlenK) = emitSequenceRows(b, cuSeqlensK);
    }
  }
  rowLimit = emitRowLimit(b);
  // This sequence's keys (cache_seqlens[b], clamped to the cache, for KV
  // caches).
  if (op.hasKvCache() || !op.isVarlen()) {
    seqlenK = emitSequenceKeyCount(b, op, key, cacheSeqlens, pageTable, batch,
                                   seqlenQ);
  }
  offset = op.getCausalAlign() == CausalAlign::BottomRight
               ? arith::SubIOp::create(b, seqlenK, seqlenQ).getResult()
               : index(b, 0);
  firstRow = arith::MulIOp::create(b, qTileIndex, index(b, tiling.blockM));
  Value lastRow = arith::SubIOp::create(
      b,
      arith::MinSIOp::create(
          b, arith::AddIOp::create(b, firstRow, index(b, tiling.blockM)),
          rowLimit),
      index(b, 1));
  if (op.getAlibi() && !packGqa) {
    slope = memref::LoadOp::create(b, slopes, qHead);
  }
  // The grid covers the longest sequence of a varlen batch: CTAs past the
  // end of a shorter one have nothing to do (uniform for the whole CTA).
  auto hasRows = scf::IfOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, firstRow, rowLimit),
      /*withElseRegion=*/false);
  b.setInsertionPoint(hasRows.thenBlock()->getTerminator());

  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  sharedBase = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                         MemRefLayoutAttrInterface(), workgroup));
  int64_t sharedOffset = 0;
  queryTile = sharedTile(b, sharedBase, sharedOffset, tiling.blockM,
                         paddedHeadDim, swizzledQueryTile());
  keyTile =
      sharedTile(b, sharedBase, sharedOffset, tiling.blockN, paddedHeadDim,
                 swizzledKvTiles(), kvBufferCountOf(tiling));
  valueTile =
      sharedTile(b, sharedBase, sharedOffset, tiling.blockN, paddedHeadDimV,
                 swizzledKvTiles(), kvBufferCountOf(tiling));

  if (!op.getPageSize() && atRegisterCeiling()) {
    // Two slabs per warp: K and V rows of this CTA's sequence and kv head
    // as [rows, dim] views, whose base is computed once; the KV loop's
    // copies add only the row (fewer 64-bit values live through it than
    // batch and head indices: the non-causal d = 128 kernel at 128 x 64 on 4
    // warps stopped spilling on sm_90). One-slab kernels keep the indices:
    // there the views cost 0-16 registers (ptxas, sm_80/sm_90).
    SmallVector<Value, 2> origin =
        emitKeyRow(b, op, key, pageTable, batch, index(b, 0), firstKeyRow);
    auto rowsOf = [&](Value tensor, int64_t dim) -> Value {
      auto type = cast<MemRefType>(tensor.getType());
      SmallVector<OpFoldResult> offsets{origin[0], origin[1], kvHead,
                                        b.getIndexAttr(0)};
      Value rows = arith::SubIOp::create(b, memref::DimOp::create(b, tensor, 1),
                                         origin[1]);
      SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), rows,
                                      b.getIndexAttr(1), b.getIndexAttr(dim)};
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      auto resultType = memref::SubViewOp::inferRankReducedResultType(
          {ShapedType::kDynamic, dim}, type, offsets, sizes, strides);
      return memref::SubViewOp::create(b, cast<MemRefType>(resultType), tensor,
                                       offsets, sizes, strides);
    };
    keyRows = rowsOf(key, headDim);
    valueRows = rowsOf(value, headDimV);
  }
  // Q tile -> shared memory, by cp.async where its rows are 16-byte chunks:
  // then the first KV tile's copies are in flight with it (FlashAttention-2's
  // prologue) rather than after it. Padded two-slab kernels keep the
  // synchronous copy: with cp.async ptxas spilled 8-88 bytes there on sm_90
  // (d64 at 128 x 128, d128 at 128 x 64), even with a wait right after it.
  bool asyncQuery = headDim % 8 == 0 && !paddedTwoSlabs();
  emitLoadTile(
      b, queryTile, query,
      [&](ImplicitLocOpBuilder &b, Value row) {
        return queryRowIndices(b, row);
      },
      firstRow, rowLimit, tiling.blockM, headDim, paddedHeadDim, asyncQuery,
      WholeTileCopy::Checked, /*unrollChecked=*/false);
  if (asyncQuery) {
    NVVM::CpAsyncCommitGroupOp::create(b);
  }
  if (split) {
    // Chunk s of the KV tiles: [s * c, min((s + 1) * c, tiles)) with
    // c = ceil(tiles / num_splits); every loop below is clipped to it.
    Value numKvTiles =
        arith::CeilDivSIOp::create(b, seqlenK, index(b, tiling.blockN));
    Value chunk = arith::CeilDivSIOp::create(b, numKvTiles, numSplits);
    splitBegin = arith::MulIOp::create(b, split, chunk);
    splitEnd = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, splitBegin, chunk), numKvTiles);
  }
  // The KV loops: per range of the mask's classification, its leading
  // masked tiles, its unmasked tiles and its trailing masked tiles.
  struct KvLoop {
    Value begin, end;
    bool masked;
  };
  SmallVector<KvLoop> loops;
  for (const KvTileRanges &range :
       mask.emitTileRanges(b, queryOfRow(b, firstRow), queryOfRow(b, lastRow),
                           offset, seqlenK, tiling.blockN)) {
    auto addLoop = [&](Value lb, Value ub, bool masked) {
      if (split) {
        lb = arith::MaxSIOp::create(b, lb, splitBegin);
        ub = arith::MaxSIOp::create(b, lb,
                                    arith::MinSIOp::create(b, ub, splitEnd));
      }
      loops.push_back({lb, ub, masked});
    };
    if (!range.leadingBoundaryIsEmpty) {
      addLoop(range.begin, range.fullBegin, /*masked=*/true);
    }
    addLoop(range.fullBegin, range.fullEnd, /*masked=*/false);
    addLoop(range.fullEnd, range.end, /*masked=*/true);
  }
  // Where RoPE or the Q fragments kept in registers read Q before the KV
  // loops, the first loop's head copies go before Q's wait (the first
  // tile's checked copy, where the loop runs), and that loop issues none.
  // Else the first KV tile's wait and barrier make Q visible, with the
  // copies of its K (and V) in flight beside Q's.
  const KvLoop &firstLoop = loops.front();
  bool readsQueryBeforeLoops = op.getRopeAttr() || keepQueryInRegisters;
  bool headCopiesBeforeLoops =
      asyncQuery && readsQueryBeforeLoops && tiling.numStages >= 2;
  if (readsQueryBeforeLoops) {
    if (headCopiesBeforeLoops) {
      int64_t ringAhead = kvBufferCountOf(tiling) - 1;
      if (!ringAhead) {
        emitIf(b,
               arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                     firstLoop.begin, firstLoop.end),
               [&](ImplicitLocOpBuilder &nb) {
                 emitLoopHeadCopies(nb, firstLoop.begin, firstLoop.end,
                                    /*inUnmaskedLoop=*/false);
               });
        NVVM::CpAsyncCommitGroupOp::create(b);
      } else {
        emitLoopHeadCopies(b, firstLoop.begin, firstLoop.end,
                           /*inUnmaskedLoop=*/false);
      }
      // Q's group has landed; the head copies' (one per ring tile, or K's)
      // may not have.
      NVVM::CpAsyncWaitGroupOp::create(b, std::max<int64_t>(ringAhead, 1));
    } else if (asyncQuery) {
      NVVM::CpAsyncWaitGroupOp::create(b, 0);
    }
    gpu::BarrierOp::create(b);
  }
  if (RopeAttr rope = op.getRopeAttr()) {
    // RoPE in shared memory: the tile's (row, chunk of pairs) items spread
    // over every thread in a loop with the code of one chunk (unrolled over
    // the chunks, the rotation was 55 KiB of instructions run once per CTA).
    // Consecutive threads take 8 rows of one chunk, then the next chunk of
    // those rows, then the next 8 rows: the swizzle puts a logical chunk of
    // 8 consecutive rows in 8 different bank groups, so a phase of 8 (16-byte
    // vectors) or 16 lanes (8-byte vectors, two halves of a 16-byte chunk)
    // is conflict-free. Rotated q is rounded to the 16-bit type, as
    // FlashAttention's rotary kernels do.
    constexpr int64_t kRowsPerGroup = 8;
    int64_t chunkPairs = ropeChunkPairs(rope, kRopePairsPerChunk);
    int64_t chunks = rope.getRotaryDim() / 2 / chunkPairs;
    Value rows =
        arith::MinSIOp::create(b, index(b, tiling.blockM),
                               arith::SubIOp::create(b, rowLimit, firstRow));
    Value items = arith::MulIOp::create(
        b, arith::CeilDivSIOp::create(b, rows, index(b, kRowsPerGroup)),
        index(b, kRowsPerGroup * chunks));
    auto loop = scf::ForOp::create(b, threadId, items, index(b, numThreads()));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value item = loop.getInductionVar();
      Value r = arith::AddIOp::create(
          b,
          arith::MulIOp::create(
              b,
              arith::DivUIOp::create(b, item, index(b, kRowsPerGroup * chunks)),
              index(b, kRowsPerGroup)),
          arith::RemUIOp::create(b, item, index(b, kRowsPerGroup)));
      Value chunk = arith::RemUIOp::create(
          b, arith::DivUIOp::create(b, item, index(b, kRowsPerGroup)),
          index(b, chunks));
      auto ifRow = scf::IfOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, r, rows),
          /*withElseRegion=*/false);
      b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
      Value position = emitQueryPosition(
          b, seqlenK, seqlenQ,
          queryOfRow(b, arith::AddIOp::create(b, firstRow, r)));
      emitRotateRowChunk(b, rope, position, queryTile, {r, index(b, 0)},
                         queryTile, {r, index(b, 0)}, chunkPairs, chunk);
    }
    gpu::BarrierOp::create(b);
  }
  if (keepQueryInRegisters) {
    for (int64_t slab = 0; slab < slabsPerWarp; ++slab) {
      SmallVector<Value> fragments;
      for (int64_t kb = 0; kb < paddedHeadDim / kMmaK; ++kb) {
        fragments.push_back(emitQueryFragment(b, slab, kb));
      }
      queryFragments.push_back(fragments);
    }
  }

  // m = -inf, l = 0, O = 0.
  SmallVector<SlabState> initial(slabsPerWarp);
  Value zeroAccumulator = arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({2, 2}, b.getF32Type()), 0.0f));
  for (SlabState &slab : initial) {
    slab.rowMax[0] = slab.rowMax[1] =
        f32(b, -std::numeric_limits<double>::infinity());
    slab.rowSum[0] = slab.rowSum[1] = f32(b, 0.0);
    slab.output.assign(paddedHeadDimV / kMmaN, zeroAccumulator);
  }
  SmallVector<Value> state = flatten(initial);

  for (const KvLoop &loop : loops) {
    bool issuesHeadCopies = !headCopiesBeforeLoops || &loop != &firstLoop;
    auto forOp = scf::ForOp::create(
        b, loop.begin, loop.end, index(b, 1), state,
        [&](OpBuilder &nested, Location loc, Value tile, ValueRange iter) {
          ImplicitLocOpBuilder nb(loc, nested);
          scf::YieldOp::create(nb,
                               emitKvTile(nb, tile, loop.begin, loop.end,
                                          issuesHeadCopies, loop.masked, iter));
        });
    state.assign(forOp.getResults().begin(), forOp.getResults().end());
  }
  // Two-slab varlen kernels load their query rows again for the epilogue
  // rather than keep them live through the KV loops: non-causal d128 at 128
  // x 64 spilled 12 bytes in its masked loop (sm_80 and sm_90).
  if (op.isVarlen() && atRegisterCeiling()) {
    std::tie(firstQueryRow, seqlenQ) = emitSequenceRows(b, cuSeqlensQ);
    rowLimit = emitRowLimit(b);
  }
  // Where no KV loop ran, Q's copy may still be in flight; the O tile
  // reuses its shared memory.
  if (asyncQuery) {
    NVVM::CpAsyncWaitGroupOp::create(b, 0);
  }
  if (split) {
    // A call whose keys come in one chunk needs no merge: its CTA writes O
    // and the LSE itself (the manifest's merge.skipped_for_one_chunk), and
    // the launcher skips the merge and the workspace.
    auto oneChunk =
        scf::IfOp::create(b,
                          arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                                numSplits, index(b, 1)),
                          /*withElseRegion=*/true);
    ImplicitLocOpBuilder thenBuilder(b.getLoc(),
                                     oneChunk.thenBlock()->getTerminator());
    emitFinalize(thenBuilder, state);
    ImplicitLocOpBuilder elseBuilder(b.getLoc(),
                                     oneChunk.elseBlock()->getTerminator());
    emitPartialFinalize(elseBuilder, state);
  } else {
    emitFinalize(b, state);
  }
  b.setInsertionPointAfter(hasRows);
  gpu::ReturnOp::create(b);
  // The tiles' accesses, built on logical views, move to the swizzled
  // layout.
  for (memref::ViewOp tile : sharedTiles) {
    if (failed(swizzleSharedTile(tile))) {
      return failure();
    }
  }
  return success();
}

} // namespace mlir::attn::attn_to_gpu
