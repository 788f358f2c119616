//===- AttnTile.cpp - attn.attention to a fused online-softmax loop nest --===//
//
// See the pass description in Passes.td. The kernel function this builds:
//
//   for w in [begin, end):                     (b, h, Q tile) = unflatten(w)
//     m = -inf, l = 0, acc = 0                 per row of the Q tile
//     for each KV tile range of the mask:      (empty tiles are not in any)
//       for t in range:                        masked or unmasked body
//         S   = scale * log2(e) * Q K_t^T      (+ softcap, ALiBi, mask)
//         m'  = max(m, rowmax(S));  P = exp2(S - m')
//         l   = exp2(m - m') * l + rowsum(P)
//         acc = exp2(m - m') * acc + P V_t;    m = m'
//     O = acc / l;  LSE = (m + log2(l)) * ln(2)   (0 and -inf if l == 0)
//
//===----------------------------------------------------------------------===//

#include "TiledKernelBuilder.h"

#include "attngen/Transforms/KvCacheAppend.h"
#include "attngen/Transforms/KvCacheIndexing.h"
#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/Passes.h"
#include "attngen/Transforms/Rope.h"
#include "attngen/Transforms/SpecFunction.h"
#include "attngen/Transforms/SplitKvMerge.h"
#include "attngen/Transforms/TileRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::attn_tile;

namespace {

/// Tile sizes when the spec says "auto": a 128-row Q tile amortizes the
/// staging of each 64-key K/V tile; both stay in L2 up to head dim 256
/// (measured in bench/cpu, see bench/cpu/README.md).
constexpr int64_t kAutoBlockM = 128;
constexpr int64_t kAutoBlockN = 64;
/// The most f32 lanes a KV-cache kernel's vector ops take (see below).
constexpr int64_t kKvCacheMaxLanes = 8;

struct AttnTilePass : public mlir::attn::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;

  LogicalResult tileFunction(func::FuncOp func, AttentionOp op);
  void buildMergeFunction(OpBuilder &builder, AttentionOp op,
                          const std::string &name, ArrayRef<Type> kernelTypes);
  void buildAppendFunction(OpBuilder &builder, AttentionOp op,
                           const std::string &name, ArrayRef<Type> kernelTypes);
  void runOnOperation() override;
};

LogicalResult AttnTilePass::tileFunction(func::FuncOp func, AttentionOp op) {
  if (failed(verifySpecFunction(func, op, "attn-tile"))) {
    return failure();
  }

  int64_t blockMSize = blockM, blockNSize = blockN;
  if (TilingAttr tiling = op.getTilingAttr()) {
    blockMSize = blockMSize ? blockMSize : tiling.getBlockM();
    blockNSize = blockNSize ? blockNSize : tiling.getBlockN();
  }
  blockMSize = blockMSize ? blockMSize : kAutoBlockM;
  blockNSize = blockNSize ? blockNSize : kAutoBlockN;
  if (blockMSize < 1 || blockNSize < 1) {
    return op.emitOpError()
           << "tile sizes must be positive, got block-m = " << blockMSize
           << ", block-n = " << blockNSize;
  }
  // KV-cache kernels use at most 8 lanes: their decode items (dot products
  // along d, each reduced across lanes) ran 9% slower with 16 (batch 8 x 8k
  // keys, d64 f16, on a Zen 4). The option is checked as given, block-n
  // against the lanes used.
  int64_t requested = vectorWidth, lanes = requested;
  if (op.hasKvCache()) {
    lanes = std::min<int64_t>(lanes, kKvCacheMaxLanes);
  }
  if (requested < 1 || requested > 16 || !llvm::isPowerOf2_64(requested) ||
      blockNSize % lanes != 0) {
    InFlightDiagnostic error =
        op.emitOpError() << "vector-width must be a power of two in [1, 16] "
                            "dividing block-n, got vector-width = "
                         << requested;
    if (lanes != requested) {
      error << " (" << lanes << " lanes with a KV cache)";
    }
    return error << ", block-n = " << blockNSize;
  }

  // (q, k, v, o, lse, slopes, cache_seqlens, page_table, partial_o,
  //  partial_lse, cu_seqlens_q, cu_seqlens_k, begin, end)
  OpBuilder builder(func);
  SmallVector<Type> argTypes = {toKernelMemRef(op.getQuery().getType()),
                                toKernelMemRef(op.getKey().getType()),
                                toKernelMemRef(op.getValue().getType()),
                                toKernelMemRef(op.getOutput().getType())};
  // One signature for every variant, so hosts call every kernel alike: the
  // LSE and slope buffers are unused when the op has no LSE or no ALiBi.
  argTypes.push_back(MemRefType::get(
      {ShapedType::kDynamic, op.getNumQHeads(), ShapedType::kDynamic},
      builder.getF32Type()));
  argTypes.push_back(
      MemRefType::get({op.getNumQHeads()}, builder.getF32Type()));
  argTypes.append(kvCacheKernelMemRefs(builder.getContext()));
  argTypes.append(splitKvKernelMemRefs(op));
  argTypes.append(varlenKernelMemRefs(builder.getContext()));
  argTypes.push_back(builder.getIndexType());
  argTypes.push_back(builder.getIndexType());

  auto kernel = func::FuncOp::create(builder, func.getLoc(), func.getName(),
                                     builder.getFunctionType(argTypes, {}));
  kernel->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  kernel->setAttr("attn.tile_sizes",
                  builder.getDenseI64ArrayAttr({blockMSize, blockNSize}));
  Block *entry = kernel.addEntryBlock();
  ImplicitLocOpBuilder b(op.getLoc(), builder);
  b.setInsertionPointToStart(entry);

  // Map the op's operands to kernel arguments by their argument position.
  auto kernelArg = [&](Value specArg) {
    return entry->getArgument(cast<BlockArgument>(specArg).getArgNumber());
  };
  KernelArgs args;
  args.query = kernelArg(op.getQuery());
  args.key = kernelArg(op.getKey());
  args.value = kernelArg(op.getValue());
  args.output = entry->getArgument(3);
  if (op.returnsLse()) {
    args.lse = entry->getArgument(4);
  }
  if (op.getAlibi()) {
    args.slopes = entry->getArgument(5);
  }
  if (op.hasKvCache()) {
    args.cacheSeqlens = entry->getArgument(6);
  }
  if (op.isPaged()) {
    args.pageTable = entry->getArgument(7);
  }
  if (op.getSplitKv()) {
    args.partialOutput = entry->getArgument(8);
    args.partialLse = entry->getArgument(9);
  }
  if (op.isVarlen()) {
    args.cuSeqlensQ = entry->getArgument(10);
  }
  if (op.getCuSeqlensK()) {
    args.cuSeqlensK = entry->getArgument(11);
  }
  args.begin = entry->getArgument(12);
  args.end = entry->getArgument(13);

  TiledKernelBuilder(op, blockMSize, blockNSize, lanes).build(b, args);
  func::ReturnOp::create(b);
  if (op.getSplitKv()) {
    buildMergeFunction(builder, op, func.getName().str() + "_merge", argTypes);
  }
  if (op.appendsKv()) {
    buildAppendFunction(builder, op, func.getName().str() + "_append",
                        argTypes);
  }
  func.erase();
  return success();
}

/// `<name>_merge(o, lse, partial_o, partial_lse, begin, end)`: combines the
/// split-KV chunks of rows [begin, end), row = (b * seqlen_q + i) *
/// num_q_heads + h, by their log-sum-exps:
///   m = max_s lse_s;  w_s = exp(lse_s - m);  O = sum_s w_s O_s / sum_s w_s;
///   LSE = m + log(sum_s w_s)   (O = 0, LSE = -inf when no chunk saw a key).
void AttnTilePass::buildMergeFunction(OpBuilder &builder, AttentionOp op,
                                      const std::string &name,
                                      ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = {kernelTypes[3],         kernelTypes[4],
                             kernelTypes[8],         kernelTypes[9],
                             builder.getIndexType(), builder.getIndexType()};
  auto merge = func::FuncOp::create(builder, loc, name,
                                    builder.getFunctionType(types, {}));
  merge->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = merge.addEntryBlock();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(entry);
  SplitKvMergeOperands operands{entry->getArgument(0), entry->getArgument(1),
                                entry->getArgument(2), entry->getArgument(3)};
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };
  Value seqlenQ = memref::DimOp::create(b, operands.output, 1);
  int64_t numQHeads = op.getNumQHeads();
  auto loop = scf::ForOp::create(b, entry->getArgument(4),
                                 entry->getArgument(5), index(1));
  b.setInsertionPointToStart(loop.getBody());
  Value row = loop.getInductionVar();
  Value head = arith::RemUIOp::create(b, row, index(numQHeads));
  Value rest = arith::DivUIOp::create(b, row, index(numQHeads));
  Value query = arith::RemUIOp::create(b, rest, seqlenQ);
  Value batch = arith::DivUIOp::create(b, rest, seqlenQ);
  emitSplitKvMergeRow(b, op, operands, batch, query, head);
  b.setInsertionPointAfter(loop);
  func::ReturnOp::create(b);
}

/// `<name>_append(k_new, v_new, k, v, cache_seqlens, page_table,
/// cu_seqlens_q, begin, end)`: stores new rows [begin, end), row = (packed
/// token) * num_kv_heads + h, into the cache at row cache_seqlens[b] + j
/// (KvCacheAppend.h), K rotated at that position when the op has RoPE.
/// Hosts run it before the kernel.
void AttnTilePass::buildAppendFunction(OpBuilder &builder, AttentionOp op,
                                       const std::string &name,
                                       ArrayRef<Type> kernelTypes) {
  Location loc = op.getLoc();
  SmallVector<Type> types = appendParameterTypes(op, kernelTypes);
  types.push_back(builder.getIndexType());
  types.push_back(builder.getIndexType());
  auto append = func::FuncOp::create(builder, loc, name,
                                     builder.getFunctionType(types, {}));
  append->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  Block *entry = append.addEntryBlock();
  ImplicitLocOpBuilder b(loc, builder);
  b.setInsertionPointToStart(entry);
  KvAppendOperands operands{entry->getArgument(0), entry->getArgument(1),
                            entry->getArgument(2), entry->getArgument(3),
                            entry->getArgument(4), entry->getArgument(5),
                            entry->getArgument(6)};
  auto loop =
      scf::ForOp::create(b, entry->getArgument(7), entry->getArgument(8),
                         arith::ConstantIndexOp::create(b, 1));
  b.setInsertionPointToStart(loop.getBody());
  emitAppendRow(b, op, operands, loop.getInductionVar(),
                2 * kRopePairsPerChunk);
  b.setInsertionPointAfter(loop);
  func::ReturnOp::create(b);
}

void AttnTilePass::runOnOperation() {
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  getOperation().walk([&](AttentionOp op) {
    work.emplace_back(op->getParentOfType<func::FuncOp>(), op);
  });
  for (auto [func, op] : work) {
    if (!func || failed(tileFunction(func, op))) {
      return signalPassFailure();
    }
  }
}

} // namespace
