//===- HelperKernels.cpp - append and merge kernels -----------------------===//
//
// See HelperKernels.h.
//
//===----------------------------------------------------------------------===//

#include "HelperKernels.h"
#include "AttentionKernelBuilder.h"

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/SplitKvMerge.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <algorithm>
#include <limits>

namespace mlir::attn::attn_to_gpu {

/// Warps per CTA of the split-KV merge kernel (one output row each).
constexpr int64_t kMergeWarps = 4;
/// Warps per CTA of the append kernel, one new (token, kv head) row each,
/// its lanes over the row's 16-byte vectors.
constexpr int64_t kAppendWarps = 4;

/// A kernel `name`(types) of `warps` warps per CTA, at the builder's
/// insertion point.
static gpu::GPUFuncOp createWarpKernel(OpBuilder &builder, Location loc,
                                       const std::string &name, TypeRange types,
                                       int64_t warps) {
  auto kernel = gpu::GPUFuncOp::create(builder, loc, name,
                                       builder.getFunctionType(types, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      {static_cast<int32_t>(warps * kWarpSize), 1, 1}));
  return kernel;
}

/// The thread's lane and its warp's row, one row per warp: row = block_x *
/// warps + thread / 32.
static std::pair<Value, Value> emitLaneAndRow(ImplicitLocOpBuilder &b,
                                              int64_t warps) {
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            index(warps)),
      arith::DivUIOp::create(b, thread, index(kWarpSize)));
  return {lane, row};
}

/// `<name>_append(k_new, v_new, k, v, cache_seqlens, page_table,
/// cu_seqlens_q)`: one warp per new row r = (packed token) * num_kv_heads +
/// h, stored at cache row cache_seqlens[b] + j (the key rotated by RoPE;
/// KvCacheAppend.h), lane l moving the row's vectors n with n % 32 = l (a
/// 128-dim bf16 row: one 16-byte vector of K and one of V per lane); grid
/// (ceil(rows / kAppendWarps)), block 32 * kAppendWarps.
void buildAppendKernel(OpBuilder &builder, AttentionOp op,
                       const std::string &name, ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  auto append = createWarpKernel(
      builder, loc, name, appendParameterTypes(op, kernelTypes), kAppendWarps);
  Block &entry = append.getBody().front();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&entry);
  KvAppendOperands operands{entry.getArgument(0), entry.getArgument(1),
                            entry.getArgument(2), entry.getArgument(3),
                            entry.getArgument(4), entry.getArgument(5),
                            entry.getArgument(6)};
  Value lane, row;
  std::tie(lane, row) = emitLaneAndRow(b, kAppendWarps);
  auto ifRow = scf::IfOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row,
                            emitAppendRowCount(b, op, operands)),
      /*withElseRegion=*/false);
  b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
  // Rows start on 16 bytes when the head dims are multiples of 8: the
  // package's input alignment (GpuPackage.cpp) that libattnrt checks.
  emitAppendRow(b, op, operands, row, 2 * kRopePairsPerChunk,
                op.getHeadDim() % 8 == 0 && op.getHeadDimV() % 8 == 0,
                AppendRowThreads{lane, kWarpSize});
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

/// Loads of partial outputs a lane of the merge issues before their FMAs.
constexpr int64_t kMergeLoadsInFlight = 32;

/// Merges row (batch, query, head) of a split-KV call with one warp, by
/// SplitKvMerge.h's math. The merge is latency-bound (a row's chunks are a
/// few KiB), so no load waits on another: lanes over chunks s = lane, lane
/// + 32, ... take m = max_s lse_s and sum_s w_s (each a warp reduction),
/// then lanes over columns c = lane + 32 k accumulate sum_s w_s O_s[c],
/// several chunks per step with every load of a step issued before its
/// FMAs (kMergeLoadsInFlight per lane).
static void emitWarpMergeRow(ImplicitLocOpBuilder &b, AttentionOp op,
                             const SplitKvMergeOperands &operands, Value batch,
                             Value query, Value head, Value lane) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, v);
  };
  auto f32 = [](ImplicitLocOpBuilder &b, double v) -> Value {
    return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                          APFloat(static_cast<float>(v)));
  };
  Value numSplits = memref::DimOp::create(b, operands.partialLse, 0);
  auto lseOf = [&](ImplicitLocOpBuilder &b, Value split) -> Value {
    return memref::LoadOp::create(b, operands.partialLse,
                                  ValueRange{split, batch, head, query});
  };
  // Folds step(acc, s) over this lane's chunks s = lane, lane + 32, ...
  auto overLaneChunks =
      [&](Value init,
          function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> step) {
        auto loop = scf::ForOp::create(
            b, lane, numSplits, index(kWarpSize), ValueRange{init},
            [&](OpBuilder &nested, Location loc, Value s, ValueRange acc) {
              ImplicitLocOpBuilder nb(loc, nested);
              scf::YieldOp::create(nb, step(nb, acc[0], s));
            });
        return loop.getResult(0);
      };
  SplitKvMergeScalars scalars(
      b, emitLaneGroupReduce(
             b,
             overLaneChunks(f32(b, -std::numeric_limits<double>::infinity()),
                            [&](ImplicitLocOpBuilder &nb, Value acc, Value s) {
                              return arith::MaximumFOp::create(nb, acc,
                                                               lseOf(nb, s))
                                  .getResult();
                            }),
             /*isMax=*/true, kWarpSize));
  Value total = emitLaneGroupReduce(
      b,
      overLaneChunks(f32(b, 0.0),
                     [&](ImplicitLocOpBuilder &nb, Value acc, Value s) {
                       return arith::AddFOp::create(
                                  nb, acc, scalars.weight(nb, lseOf(nb, s)))
                           .getResult();
                     }),
      /*isMax=*/false, kWarpSize);
  Value scale = scalars.outputScale(b, total);

  // Column c_k = lane + 32 k; past head_dim_v a lane reads the last column
  // and stores nothing.
  int64_t headDimV = op.getHeadDimV();
  int64_t columnsPerLane = llvm::divideCeil(headDimV, kWarpSize);
  SmallVector<Value> laneColumns, columns;
  for (int64_t k = 0; k < columnsPerLane; ++k) {
    laneColumns.push_back(arith::AddIOp::create(b, lane, index(k * kWarpSize)));
    columns.push_back(
        (k + 1) * kWarpSize > headDimV
            ? arith::MinSIOp::create(b, laneColumns.back(), index(headDimV - 1))
                  .getResult()
            : laneColumns.back());
  }
  int64_t chunksPerStep =
      std::max<int64_t>(1, kMergeLoadsInFlight / columnsPerLane);
  // sums + the chunks first, ..., first + chunks - 1, loads first.
  auto accumulate = [&](ImplicitLocOpBuilder &nb, Value first, int64_t chunks,
                        ValueRange sums) {
    SmallVector<Value> lses, parts;
    for (int64_t u = 0; u < chunks; ++u) {
      Value split = arith::AddIOp::create(nb, first, index(u));
      lses.push_back(lseOf(nb, split));
      for (Value column : columns) {
        parts.push_back(memref::LoadOp::create(
            nb, operands.partialOutput,
            ValueRange{split, batch, query, head, column}));
      }
    }
    SmallVector<Value> next(sums);
    for (int64_t u = 0; u < chunks; ++u) {
      Value weight = scalars.weight(nb, lses[u]);
      for (int64_t k = 0; k < columnsPerLane; ++k) {
        next[k] = math::FmaOp::create(nb, weight, parts[u * columnsPerLane + k],
                                      next[k]);
      }
    }
    return next;
  };
  auto chunkLoop = [&](Value from, Value to, int64_t chunks, ValueRange init) {
    return scf::ForOp::create(
        b, from, to, index(chunks), init,
        [&](OpBuilder &nested, Location loc, Value s, ValueRange sums) {
          ImplicitLocOpBuilder nb(loc, nested);
          scf::YieldOp::create(nb, accumulate(nb, s, chunks, sums));
        });
  };
  Value wholeSteps = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, numSplits, index(chunksPerStep)),
      index(chunksPerStep));
  SmallVector<Value> zeros(columnsPerLane, f32(b, 0.0));
  auto steps = chunkLoop(index(0), wholeSteps, chunksPerStep, zeros);
  auto rest = chunkLoop(wholeSteps, numSplits, 1, steps.getResults());

  Type elementType =
      cast<MemRefType>(operands.output.getType()).getElementType();
  for (int64_t k = 0; k < columnsPerLane; ++k) {
    OpBuilder::InsertionGuard guard(b);
    if ((k + 1) * kWarpSize > headDimV) {
      auto ifColumn = scf::IfOp::create(
          b,
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, laneColumns[k],
                                index(headDimV)),
          /*withElseRegion=*/false);
      b.setInsertionPoint(ifColumn.thenBlock()->getTerminator());
    }
    Value out = arith::MulFOp::create(b, rest.getResult(k), scale);
    if (!elementType.isF32()) {
      out = arith::TruncFOp::create(b, elementType, out);
    }
    memref::StoreOp::create(b, out, operands.output,
                            ValueRange{batch, query, head, columns[k]});
  }
  if (!op.returnsLse()) {
    return;
  }
  auto ifWriter = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, index(0)),
      /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifWriter.thenBlock()->getTerminator());
  memref::StoreOp::create(b, scalars.lse(b, total), operands.lse,
                          ValueRange{batch, head, query});
}

/// `<name>_merge(o, lse, partial_o, partial_lse)`: one warp per output row,
/// row = (b * seqlen_q + i) * num_q_heads + h (emitWarpMergeRow); grid
/// (ceil(rows / kMergeWarps)), block 32 * kMergeWarps.
void buildMergeKernel(OpBuilder &builder, AttentionOp op,
                      const std::string &name, ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  auto merge = createWarpKernel(
      builder, loc, name,
      {kernelTypes[3], kernelTypes[4], kernelTypes[8], kernelTypes[9]},
      kMergeWarps);
  Block &entry = merge.getBody().front();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(&entry);
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  mlir::attn::SplitKvMergeOperands operands{
      entry.getArgument(0), entry.getArgument(1), entry.getArgument(2),
      entry.getArgument(3)};
  Value lane, row;
  std::tie(lane, row) = emitLaneAndRow(b, kMergeWarps);
  Value seqlenQ = memref::DimOp::create(b, operands.output, 1);
  int64_t numQHeads = op.getNumQHeads();
  Value rows = arith::MulIOp::create(
      b,
      arith::MulIOp::create(b, memref::DimOp::create(b, operands.output, 0),
                            seqlenQ),
      index(numQHeads));
  auto ifRow = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, rows),
      /*withElseRegion=*/false);
  b.setInsertionPoint(ifRow.thenBlock()->getTerminator());
  Value head = arith::RemUIOp::create(b, row, index(numQHeads));
  Value rest = arith::DivUIOp::create(b, row, index(numQHeads));
  emitWarpMergeRow(b, op, operands, arith::DivUIOp::create(b, rest, seqlenQ),
                   arith::RemUIOp::create(b, rest, seqlenQ), head, lane);
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

} // namespace mlir::attn::attn_to_gpu
