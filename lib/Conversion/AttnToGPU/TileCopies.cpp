//===- TileCopies.cpp - global <-> shared tiles ---------------------------===//
//
// Tiles move between global and shared memory by all threads of the CTA,
// 16 bytes per chunk where rows allow: cp.async for Q, K and V (bounds-
// checked, or unchecked for tiles whose rows all exist), coalesced stores
// for O.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

namespace mlir::attn::attn_to_gpu {

Value AttentionKernelBuilder::sharedTile(ImplicitLocOpBuilder &b, Value base,
                                         int64_t &offset, int64_t rows,
                                         int64_t cols, bool swizzled,
                                         int64_t count) {
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  int64_t rowLength = swizzled ? cols : cols + kRowPadding;
  auto type = MemRefType::get({rows, rowLength}, elementType,
                              MemRefLayoutAttrInterface(), workgroup);
  auto view =
      memref::ViewOp::create(b, type, base, index(b, offset), ValueRange{});
  if (swizzled) {
    sharedTiles.push_back(view);
  }
  offset += count * rows * rowLength * 2;
  return view;
}

Value AttentionKernelBuilder::kvBufferOf(ImplicitLocOpBuilder &b, Value ring,
                                         Value kvTile) {
  int64_t count = kvBufferCountOf(tiling);
  if (count == 1) {
    return ring;
  }
  auto first = ring.getDefiningOp<memref::ViewOp>();
  int64_t bufferBytes = first.getType().getNumElements() * 2;
  Value shift = arith::AddIOp::create(
      b, first.getByteShift(),
      arith::MulIOp::create(b,
                            arith::RemUIOp::create(b, kvTile, index(b, count)),
                            index(b, bufferBytes)));
  auto view = memref::ViewOp::create(b, first.getType(), first.getSource(),
                                     shift, ValueRange{});
  if (swizzledKvTiles()) {
    sharedTiles.push_back(view);
  }
  return view;
}

/// tile[r][c] = source[batch, firstRow + r, head, c] for rows below
/// rowLimit and c < cols, 0 elsewhere (padding rows and columns), by all
/// threads of the CTA; 16-byte vectors when cols is a multiple of 8 (the
/// tensors' base addresses must then be 16-byte aligned, as the runtime
/// checks). `wholeTile`: how a tile whose rows all exist is copied;
/// `unrollChecked`: whether checked cp.async copies may be unrolled (the
/// KV loop's; Q's stays a loop, see forEachTileChunk).
void AttentionKernelBuilder::emitLoadTile(ImplicitLocOpBuilder &b, Value tile,
                                          Value source, RowIndices rowIndices,
                                          Value firstRow, Value rowLimit,
                                          int64_t rows, int64_t cols,
                                          int64_t paddedCols, bool async,
                                          WholeTileCopy wholeTile,
                                          bool unrollChecked) {
  int64_t width = cols % 8 == 0 ? 8 : 1;
  int64_t chunksPerRow = paddedCols / width;
  Type chunkType =
      width == 1 ? elementType : Type(VectorType::get({width}, elementType));
  auto zero = [&](ImplicitLocOpBuilder &b) -> Value {
    if (width == 1) {
      return arith::ConstantFloatOp::create(
          b, cast<FloatType>(elementType),
          APFloat::getZero(cast<FloatType>(elementType).getFloatSemantics()));
    }
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(cast<VectorType>(chunkType),
                                  b.getFloatAttr(elementType, 0.0)));
  };
  // The KV loop's copies unrolled cost 0-16 more registers (ptxas,
  // sm_80/sm_90) for 3 instead of ~23 PTX instructions per chunk.
  bool unroll = async && unrollChecked && !atRegisterCeiling();
  // A paged K/V tile (its first row a multiple of `rows`, i.e. block_n)
  // whose unrolled chunks each sit in the page of a constant slot offset:
  // the tile inside one page (page_size a multiple of block_n), or whole
  // pages of whole row steps. Each thread then reads the page table once
  // per distinct slot and tile (1 for pages of 256, 4 instead of 16 for
  // pages of 16 at d128 on 2 warps), and a chunk's row in its page is
  // affine. Past the sequence's length the slot is clamped to the table
  // (the chunk copies 0 bytes from a page of the pool).
  std::optional<int64_t> pageSize = op.getPageSize();
  int64_t numThreads = this->numThreads();
  int64_t numChunks = rows * chunksPerRow;
  int64_t copyThreads = wholeRowCopyThreads(rows, chunksPerRow);
  int64_t rowStep = unrolledRowStep(chunksPerRow, copyThreads);
  bool pagePerSlotOffset =
      unroll && width == 8 && pageSize && rowStep &&
      (*pageSize % rows == 0 ||
       (rows % *pageSize == 0 && *pageSize % rowStep == 0));
  Value firstSlot, firstRowInPage, lastSlot;
  llvm::SmallDenseMap<int64_t, Value> pageOfSlotOffset;
  if (pagePerSlotOffset) {
    firstSlot = arith::DivUIOp::create(b, firstRow, index(b, *pageSize));
    firstRowInPage = arith::RemUIOp::create(b, firstRow, index(b, *pageSize));
    lastSlot = arith::SubIOp::create(b, memref::DimOp::create(b, pageTable, 1),
                                     index(b, 1));
  }
  // A tile whose rows all exist and that has no padding columns: each
  // chunk one cp.async of 16 bytes at an address affine in the thread's
  // chunk index (the rows' stride is static); 3 PTX instructions per chunk
  // unrolled, 7 in the loop, ~22 for the checked loop below.
  // Row by row, by wholeRowCopyThreads (at head dim 96 the last warp
  // copies nothing, a uniform branch; at 80 the first 80 threads, half of
  // the third warp): the checked loop's index arithmetic was 0.8 integer
  // instructions per MMA in d96's 128 x 48 KV loop (scripts/sass_loops.py).
  // Guards the threads past `threads` out of what the builder emits next.
  auto onlyFirstThreads = [&](int64_t threads) {
    if (threads >= numThreads) {
      return;
    }
    auto copies =
        scf::IfOp::create(b,
                          arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                                threadId, index(b, threads)),
                          /*withElseRegion=*/false);
    b.setInsertionPoint(copies.thenBlock()->getTerminator());
  };
  if (async && width == 8 && wholeTile != WholeTileCopy::Checked &&
      cols == paddedCols && copyThreads && numChunks % copyThreads == 0 &&
      numChunks / copyThreads <= kMaxUnrolledChunks) {
    OpBuilder::InsertionGuard guard(b);
    onlyFirstThreads(copyThreads);
    auto copyChunk = [&](ImplicitLocOpBuilder &b, Value r, Value c) {
      SmallVector<Value> indices =
          rowIndices(b, arith::AddIOp::create(b, firstRow, r));
      indices.push_back(c);
      nvgpu::DeviceAsyncCopyOp::create(
          b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tile,
          ValueRange{r, c}, source, indices, b.getIndexAttr(width),
          /*srcElements=*/Value(), b.getUnitAttr());
    };
    if (wholeTile == WholeTileCopy::Unrolled) {
      forEachTileChunk(
          b, rows, chunksPerRow, width,
          /*unroll=*/true,
          [&](ImplicitLocOpBuilder &b, Value r, Value c,
              std::optional<int64_t>) { copyChunk(b, r, c); },
          copyThreads);
      return;
    }
    // Chunk i of the thread: its first row + i * wholeRowStep, its column.
    Value threadRow, column;
    std::tie(threadRow, column) = emitThreadChunk(b, chunksPerRow, width);
    scf::ForOp::create(
        b, index(b, 0), index(b, numChunks / copyThreads), index(b, 1),
        ValueRange{},
        [&](OpBuilder &nested, Location loc, Value i, ValueRange) {
          ImplicitLocOpBuilder nb(loc, nested);
          copyChunk(nb,
                    arith::AddIOp::create(
                        nb, threadRow,
                        arith::MulIOp::create(nb, i, index(nb, rowStep))),
                    column);
          scf::YieldOp::create(nb);
        });
    return;
  }
  // Unrolled, by whole rows (the threads' chunks at constant row offsets);
  // else a loop over the tile's chunks by all threads.
  OpBuilder::InsertionGuard guard(b);
  bool unrolledRows =
      unroll && copyThreads && numChunks / copyThreads <= kMaxUnrolledChunks;
  if (unrolledRows) {
    onlyFirstThreads(copyThreads);
  }
  // Unrolled, rows are compared in 32 bits (sequence lengths fit): a 64-bit
  // add and compare per chunk was 4 SASS instructions, 2 in i32 (d128's
  // one-slab KV loop: 1237 -> 1072 instructions per tile). The two-slab
  // kernels' loop keeps 64 bits: ptxas spilled 8-96 bytes there with i32.
  Value rowLimit32 =
      unrolledRows
          ? arith::IndexCastOp::create(b, b.getI32Type(), rowLimit).getResult()
          : Value();
  forEachTileChunk(
      b, rows, chunksPerRow, width, unroll,
      [&](ImplicitLocOpBuilder &b, Value r, Value c,
          std::optional<int64_t> rowOffset) {
        Value row = arith::AddIOp::create(b, firstRow, r);
        Value inBounds =
            rowOffset && rowLimit32
                ? arith::CmpIOp::create(
                      b, arith::CmpIPredicate::slt,
                      arith::IndexCastOp::create(b, b.getI32Type(), row),
                      rowLimit32)
                      .getResult()
                : arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row,
                                        rowLimit)
                      .getResult();
        // Columns past cols exist only where the tile is padded.
        if (cols < paddedCols) {
          inBounds = arith::AndIOp::create(
              b, inBounds,
              arith::CmpIOp::create(b, arith::CmpIPredicate::slt, c,
                                    index(b, cols)));
        }
        if (async && width == 8) {
          // cp.async of 16 bytes; a chunk outside the tensor (a row past
          // rowLimit, a padding column) reads 0 bytes and is zero-filled.
          // Unrolled, its address stays affine in the row (never read;
          // the rows' constant offsets fold into the instructions), except
          // that a page table is only read for rows that exist. In the
          // two-slab kernels' loop it is row 0's (the affine form spilled
          // there: ptxas, d128 128 x 64 x 4).
          Value zero = index(b, 0);
          bool unrolled = rowOffset.has_value();
          bool slotKnown = pagePerSlotOffset && unrolled;
          bool affine = unrolled && (!pageSize || slotKnown);
          Value sourceRow =
              affine
                  ? row
                  : arith::SelectOp::create(b, inBounds, row, zero).getResult();
          Value sourceColumn =
              affine
                  ? c
                  : arith::SelectOp::create(b, inBounds, c, zero).getResult();
          // Selected in i32: the byte count cp.async takes is 32-bit.
          Value sourceElements = arith::IndexCastOp::create(
              b, b.getIndexType(),
              arith::SelectOp::create(b, inBounds, i32(b, width), i32(b, 0)));
          SmallVector<Value> indices;
          if (slotKnown) {
            int64_t slotOffset = *rowOffset / *pageSize;
            Value &page = pageOfSlotOffset[slotOffset];
            if (!page) {
              page = emitPageOfSlot(
                  b, source, pageTable, batch,
                  arith::MinSIOp::create(
                      b,
                      arith::AddIOp::create(b, firstSlot, index(b, slotOffset)),
                      lastSlot));
            }
            Value rowInPage = arith::AddIOp::create(
                b, firstRowInPage,
                arith::SubIOp::create(b, r, index(b, slotOffset * *pageSize)));
            indices = {page, rowInPage, kvHead};
          } else {
            indices = rowIndices(b, sourceRow);
          }
          indices.push_back(sourceColumn);
          nvgpu::DeviceAsyncCopyOp::create(
              b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tile,
              ValueRange{r, c}, source, indices, b.getIndexAttr(width),
              sourceElements, b.getUnitAttr());
          return;
        }
        auto loaded = scf::IfOp::create(
            b, inBounds,
            [&](OpBuilder &thenBuilder, Location loc) {
              ImplicitLocOpBuilder b(loc, thenBuilder);
              SmallVector<Value> indices = rowIndices(b, row);
              indices.push_back(c);
              Value v =
                  width == 1
                      ? memref::LoadOp::create(b, source, indices).getResult()
                      : vector::LoadOp::create(
                            b, cast<VectorType>(chunkType), source, indices,
                            /*nontemporal=*/false, llvm::Align(16))
                            .getResult();
              scf::YieldOp::create(b, v);
            },
            [&](OpBuilder &elseBuilder, Location loc) {
              ImplicitLocOpBuilder b(loc, elseBuilder);
              scf::YieldOp::create(b, zero(b));
            });
        if (width == 1) {
          memref::StoreOp::create(b, loaded.getResult(0), tile,
                                  ValueRange{r, c});
        } else {
          vector::StoreOp::create(b, loaded.getResult(0), tile,
                                  ValueRange{r, c}, /*nontemporal=*/false,
                                  llvm::Align(16));
        }
      },
      unrolledRows ? copyThreads : 0);
}

void AttentionKernelBuilder::forEachTileChunk(
    ImplicitLocOpBuilder &b, int64_t rows, int64_t chunksPerRow, int64_t width,
    bool unroll,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value,
                      std::optional<int64_t>)>
        body,
    int64_t threads) {
  int64_t numThreads = threads ? threads : this->numThreads();
  int64_t numChunks = rows * chunksPerRow;
  int64_t chunksPerThread = llvm::divideCeil(numChunks, numThreads);
  int64_t rowStep = unrolledRowStep(chunksPerRow, numThreads);
  if (unroll && rowStep && chunksPerThread <= kMaxUnrolledChunks) {
    // Chunk t + i * numThreads of thread t: row t / chunksPerRow + i *
    // rowStep, column (t % chunksPerRow) * width. Unrolled, the column and
    // first row are computed once and each chunk's row is one add: no loop
    // counter, no branch, and the copies can be scheduled among the MMAs.
    auto [firstRow, column] = emitThreadChunk(b, chunksPerRow, width);
    for (int64_t i = 0; i < chunksPerThread; ++i) {
      int64_t rowOffset = i * rowStep;
      Value row = arith::AddIOp::create(b, firstRow, index(b, rowOffset));
      if ((i + 1) * numThreads <= numChunks) {
        body(b, row, column, rowOffset);
        continue;
      }
      // The last round covers part of the tile: chunk < numChunks, that
      // is row < rows.
      auto inTile =
          scf::IfOp::create(b,
                            arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                                  row, index(b, rows)),
                            /*withElse=*/false);
      ImplicitLocOpBuilder nested(b.getLoc(),
                                  inTile.thenBlock()->getTerminator());
      body(nested, row, column, rowOffset);
    }
    return;
  }
  scf::ForOp::create(
      b, threadId, index(b, numChunks), index(b, numThreads), ValueRange{},
      [&](OpBuilder &nested, Location loc, Value chunk, ValueRange) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value r = arith::DivUIOp::create(nb, chunk, index(nb, chunksPerRow));
        Value c = arith::MulIOp::create(
            nb, arith::RemUIOp::create(nb, chunk, index(nb, chunksPerRow)),
            index(nb, width));
        body(nb, r, c, std::nullopt);
        scf::YieldOp::create(nb);
      });
}

/// dest[batch, firstRow + r, head, c] = tile[r][c] for rows below rowLimit
/// and c < cols, by all threads of the CTA: consecutive threads take
/// consecutive 16-byte chunks of a row (coalesced) when cols is a multiple
/// of 8, else single elements.
void AttentionKernelBuilder::emitStoreTile(ImplicitLocOpBuilder &b, Value tile,
                                           Value dest, RowIndices rowIndices,
                                           Value firstRow, Value rowLimit,
                                           int64_t rows, int64_t cols,
                                           int64_t paddedCols) {
  int64_t width = cols % 8 == 0 ? 8 : 1;
  // A swizzled tile is read over its padded width, skipping the padding
  // columns' chunks (c >= cols): a phase's 8 lanes then read 8 consecutive
  // chunks of the row-major order, free of bank conflicts (head_dim_v 40,
  // 48 columns wide: 5 chunks a row read 2 wavefronts per phase).
  int64_t copiedCols = width == 8 && swizzledQueryTile() ? paddedCols : cols;
  forEachTileChunk(
      b, rows, copiedCols / width, width, /*unroll=*/false,
      [&](ImplicitLocOpBuilder &b, Value r, Value c, std::optional<int64_t>) {
        Value row = arith::AddIOp::create(b, firstRow, r);
        Value rowExists =
            arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, rowLimit);
        if (copiedCols > cols) {
          rowExists = arith::AndIOp::create(
              b, rowExists,
              arith::CmpIOp::create(b, arith::CmpIPredicate::ult, c,
                                    index(b, cols)));
        }
        auto ifRow = scf::IfOp::create(b, rowExists, /*withElse=*/false);
        b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
        SmallVector<Value> indices = rowIndices(b, row);
        indices.push_back(c);
        if (width == 1) {
          Value v = memref::LoadOp::create(b, tile, ValueRange{r, c});
          memref::StoreOp::create(b, v, dest, indices);
        } else {
          auto type = VectorType::get({width}, elementType);
          Value v =
              vector::LoadOp::create(b, type, tile, ValueRange{r, c},
                                     /*nontemporal=*/false, llvm::Align(16));
          vector::StoreOp::create(b, v, dest, indices,
                                  /*nontemporal=*/false, llvm::Align(16));
        }
        b.setInsertionPointAfter(ifRow);
      });
}

} // namespace mlir::attn::attn_to_gpu
