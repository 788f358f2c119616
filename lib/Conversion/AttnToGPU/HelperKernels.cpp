//===- HelperKernels.cpp - append and merge kernels -----------------------===//
//
// See HelperKernels.h.
//
//===----------------------------------------------------------------------===//

#include "HelperKernels.h"
#include "AttentionKernelBuilder.h"

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/SplitKvMerge.h"

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
                [&](ImplicitLocOpBuilder &nb, int64_t chunk) -> Value {
                  return arith::CmpIOp::create(
                      nb, arith::CmpIPredicate::eq, lane,
                      arith::ConstantIndexOp::create(nb, chunk % kWarpSize));
                });
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

/// `<name>_merge(o, lse, partial_o, partial_lse)`: one warp per output row,
/// row = (b * seqlen_q + i) * num_q_heads + h, lanes over its columns;
/// grid (ceil(rows / kMergeWarps)), block 32 * kMergeWarps.
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
  emitSplitKvMergeRow(
      b, op, operands, arith::DivUIOp::create(b, rest, seqlenQ),
      arith::RemUIOp::create(b, rest, seqlenQ), head, lane, index(kWarpSize),
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, index(0)));
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b);
}

} // namespace mlir::attn::attn_to_gpu
