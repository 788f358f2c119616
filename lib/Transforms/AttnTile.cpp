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

#include "attngen/Transforms/MaskAnalysis.h"
#include "attngen/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr double kLn2 = 0.6931471805599453;
/// Tile sizes when the spec says "auto" (CPU: a Q tile and a KV tile of
/// 64 rows of up to 256 floats stay in L2).
constexpr int64_t kAutoBlockM = 64;
constexpr int64_t kAutoBlockN = 64;

/// The kernel's operands, in signature order.
struct KernelArgs {
  Value query, key, value, output, lse, slopes, begin, end;
};

/// Builds the tiled kernel of one attn.attention op.
class TiledKernelBuilder {
public:
  TiledKernelBuilder(AttentionOp op, int64_t blockM, int64_t blockN)
      : op(op), mask(MaskModel::fromOp(op)), blockM(blockM), blockN(blockN),
        elementType(op.getQuery().getType().getElementType()) {}

  /// Emits the kernel body at `b`'s insertion point.
  void build(ImplicitLocOpBuilder &b, const KernelArgs &args);

private:
  Value index(ImplicitLocOpBuilder &b, int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }
  Value f32(ImplicitLocOpBuilder &b, double value) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                          APFloat(static_cast<float>(value)));
  }
  /// Loads an element of a kernel operand as f32.
  Value loadF32(ImplicitLocOpBuilder &b, Value memref, ValueRange indices) {
    Value element = memref::LoadOp::create(b, memref, indices);
    if (element.getType().isF32())
      return element;
    return arith::ExtFOp::create(b, b.getF32Type(), element);
  }
  /// for iv in [lb, ub) with loop-carried values; `body` returns the yields.
  ValueRange forLoop(
      ImplicitLocOpBuilder &b, Value lb, Value ub, ValueRange inits,
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
          body) {
    auto loop = scf::ForOp::create(
        b, lb, ub, index(b, 1), inits,
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iterArgs) {
          ImplicitLocOpBuilder nb(loc, nested);
          SmallVector<Value> yields = body(nb, iv, iterArgs);
          scf::YieldOp::create(nb, yields);
        });
    return loop.getResults();
  }

  Value emitScore(ImplicitLocOpBuilder &b, Value dot, Value row, Value key);
  void emitKvTile(ImplicitLocOpBuilder &b, Value kvTile, bool masked);
  void emitFinalize(ImplicitLocOpBuilder &b);

  AttentionOp op;
  MaskModel mask;
  int64_t blockM, blockN;
  Type elementType;

  // Values of the work item being built.
  KernelArgs args;
  Value batch, qHead, kvHead, firstRow, numRows, offset, seqlenK, slope;
  Value accumulator, rowMax, rowSum, scores;
};

/// s2 = log2(e) * score(q.k): the scaled score, soft-capped, plus the ALiBi
/// bias, in base-2 units so that softmax uses exp2.
Value TiledKernelBuilder::emitScore(ImplicitLocOpBuilder &b, Value dot,
                                    Value row, Value key) {
  double scale = op.getScale().convertToDouble();
  double softcap = op.getSoftcap().convertToDouble();
  if (softcap == 0.0 && !op.getAlibi())
    return arith::MulFOp::create(b, dot, f32(b, scale * kLog2E));
  Value score = arith::MulFOp::create(b, dot, f32(b, scale));
  if (softcap > 0.0) {
    // s = c * tanh(s / c)
    Value tanh = math::TanhOp::create(
        b, arith::MulFOp::create(b, score, f32(b, 1.0 / softcap)));
    score = arith::MulFOp::create(b, tanh, f32(b, softcap));
  }
  if (op.getAlibi()) {
    // s -= slope_h * |i + off - j|
    Value distance = arith::SubIOp::create(
        b, arith::AddIOp::create(b, row, offset), key);
    Value absDistance = math::AbsIOp::create(
        b, arith::IndexCastOp::create(b, b.getI64Type(), distance));
    Value distanceF32 =
        arith::SIToFPOp::create(b, b.getF32Type(), absDistance);
    score = arith::SubFOp::create(
        b, score, arith::MulFOp::create(b, slope, distanceF32));
  }
  return arith::MulFOp::create(b, score, f32(b, kLog2E));
}

/// One KV tile for every row of the Q tile: the online softmax update.
/// Unmasked tiles are full (BN keys, all visible): no mask and a constant
/// trip count. Masked (boundary) tiles clip to seqlen_k and evaluate the mask.
void TiledKernelBuilder::emitKvTile(ImplicitLocOpBuilder &b, Value kvTile,
                                    bool masked) {
  int64_t headDim = op.getHeadDim(), headDimV = op.getHeadDimV();
  Value zero = index(b, 0);
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, blockN));
  Value numKeys = index(b, blockN);
  if (masked)
    numKeys = arith::MinSIOp::create(
        b, numKeys, arith::SubIOp::create(b, seqlenK, firstKey));
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());

  forLoop(b, zero, numRows, {}, [&](ImplicitLocOpBuilder &b, Value r,
                                    ValueRange) -> SmallVector<Value> {
    Value row = arith::AddIOp::create(b, firstRow, r);
    // S row: scores[c] = s2(q_i . k_j), and its max over the tile.
    Value tileMax = forLoop(
        b, zero, numKeys, {negInf},
        [&](ImplicitLocOpBuilder &b, Value c,
            ValueRange iter) -> SmallVector<Value> {
          Value key = arith::AddIOp::create(b, firstKey, c);
          Value dot = forLoop(
              b, zero, index(b, headDim), {f32(b, 0.0)},
              [&](ImplicitLocOpBuilder &b, Value d,
                  ValueRange sum) -> SmallVector<Value> {
                Value q = loadF32(b, args.query, {batch, row, qHead, d});
                Value k = loadF32(b, args.key, {batch, key, kvHead, d});
                return {math::FmaOp::create(b, q, k, sum[0])};
              })[0];
          Value score = emitScore(b, dot, row, key);
          if (masked)
            score = arith::SelectOp::create(
                b, mask.emitVisible(b, row, key, offset), score, negInf);
          memref::StoreOp::create(b, score, scores, c);
          return {arith::MaximumFOp::create(b, iter[0], score)};
        })[0];

    // m' = max(m, rowmax(S)); a row with nothing visible yet keeps m' = -inf
    // and uses 0 as its reference so that exp2 gives 0, not NaN.
    Value oldMax = memref::LoadOp::create(b, rowMax, r);
    Value newMax = arith::MaximumFOp::create(b, oldMax, tileMax);
    Value noneVisible =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax, negInf);
    Value reference =
        arith::SelectOp::create(b, noneVisible, f32(b, 0.0), newMax);
    Value rescale = math::Exp2Op::create(
        b, arith::SubFOp::create(b, oldMax, reference));

    // P = exp2(S - m'); l = rescale * l + rowsum(P). P.V uses P rounded to
    // the 16-bit input type, as the tensor cores of the GPU kernel do.
    Value tileSum = forLoop(
        b, zero, numKeys, {f32(b, 0.0)},
        [&](ImplicitLocOpBuilder &b, Value c,
            ValueRange sum) -> SmallVector<Value> {
          Value s = memref::LoadOp::create(b, scores, c);
          Value p = math::Exp2Op::create(b, arith::SubFOp::create(b, s, reference));
          Value pForPv = p;
          if (!elementType.isF32())
            pForPv = arith::ExtFOp::create(
                b, b.getF32Type(),
                arith::TruncFOp::create(b, elementType, p).getResult());
          memref::StoreOp::create(b, pForPv, scores, c);
          return {arith::AddFOp::create(b, sum[0], p)};
        })[0];
    Value oldSum = memref::LoadOp::create(b, rowSum, r);
    memref::StoreOp::create(
        b, math::FmaOp::create(b, rescale, oldSum, tileSum), rowSum, r);
    memref::StoreOp::create(b, newMax, rowMax, r);

    // acc = rescale * acc + P V
    forLoop(b, zero, index(b, headDimV), {},
            [&](ImplicitLocOpBuilder &b, Value dv,
                ValueRange) -> SmallVector<Value> {
              Value acc = memref::LoadOp::create(b, accumulator,
                                                 ValueRange{r, dv});
              memref::StoreOp::create(b,
                                      arith::MulFOp::create(b, acc, rescale),
                                      accumulator, ValueRange{r, dv});
              return {};
            });
    forLoop(b, zero, numKeys, {},
            [&](ImplicitLocOpBuilder &b, Value c,
                ValueRange) -> SmallVector<Value> {
              Value key = arith::AddIOp::create(b, firstKey, c);
              Value p = memref::LoadOp::create(b, scores, c);
              forLoop(b, zero, index(b, headDimV), {},
                      [&](ImplicitLocOpBuilder &b, Value dv,
                          ValueRange) -> SmallVector<Value> {
                        Value v = loadF32(b, args.value,
                                          {batch, key, kvHead, dv});
                        Value acc = memref::LoadOp::create(
                            b, accumulator, ValueRange{r, dv});
                        memref::StoreOp::create(
                            b, math::FmaOp::create(b, p, v, acc),
                            accumulator, ValueRange{r, dv});
                        return {};
                      });
              return {};
            });
    return {};
  });
}

/// O = acc / l and LSE = (m + log2(l)) * ln(2); rows with l == 0 (no visible
/// key) get O = 0 and LSE = -inf.
void TiledKernelBuilder::emitFinalize(ImplicitLocOpBuilder &b) {
  Value zero = index(b, 0);
  forLoop(b, zero, numRows, {}, [&](ImplicitLocOpBuilder &b, Value r,
                                    ValueRange) -> SmallVector<Value> {
    Value row = arith::AddIOp::create(b, firstRow, r);
    Value sum = memref::LoadOp::create(b, rowSum, r);
    Value anyVisible =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, sum, f32(b, 0.0));
    Value inverse = arith::SelectOp::create(
        b, anyVisible, arith::DivFOp::create(b, f32(b, 1.0), sum),
        f32(b, 0.0));
    forLoop(b, zero, index(b, op.getHeadDimV()), {},
            [&](ImplicitLocOpBuilder &b, Value dv,
                ValueRange) -> SmallVector<Value> {
              Value acc = memref::LoadOp::create(b, accumulator,
                                                 ValueRange{r, dv});
              Value out = arith::MulFOp::create(b, acc, inverse);
              if (!elementType.isF32())
                out = arith::TruncFOp::create(b, elementType, out);
              memref::StoreOp::create(b, out, args.output,
                                      ValueRange{batch, row, qHead, dv});
              return {};
            });
    if (args.lse) {
      Value max = memref::LoadOp::create(b, rowMax, r);
      Value lse = arith::MulFOp::create(
          b, arith::AddFOp::create(b, max, math::Log2Op::create(b, sum)),
          f32(b, kLn2));
      lse = arith::SelectOp::create(
          b, anyVisible, lse, f32(b, -std::numeric_limits<double>::infinity()));
      memref::StoreOp::create(b, lse, args.lse, ValueRange{batch, qHead, row});
    }
    return {};
  });
}

void TiledKernelBuilder::build(ImplicitLocOpBuilder &b,
                               const KernelArgs &kernelArgs) {
  args = kernelArgs;
  int64_t numQHeads = op.getNumQHeads();
  Value zero = index(b, 0), one = index(b, 1);
  Value seqlenQ = memref::DimOp::create(b, args.query, 1);
  seqlenK = memref::DimOp::create(b, args.key, 1);
  // off = seqlen_k - seqlen_q aligns the last query with the last key.
  offset = op.getCausalAlign() == CausalAlign::BottomRight
               ? arith::SubIOp::create(b, seqlenK, seqlenQ).getResult()
               : zero;
  Value numQTiles = arith::CeilDivSIOp::create(b, seqlenQ, index(b, blockM));

  // Per-call scratch: one work item at a time uses it.
  Type f32Type = b.getF32Type();
  accumulator = memref::AllocaOp::create(
      b, MemRefType::get({blockM, op.getHeadDimV()}, f32Type));
  rowMax = memref::AllocaOp::create(b, MemRefType::get({blockM}, f32Type));
  rowSum = memref::AllocaOp::create(b, MemRefType::get({blockM}, f32Type));
  scores = memref::AllocaOp::create(b, MemRefType::get({blockN}, f32Type));

  forLoop(b, args.begin, args.end, {}, [&](ImplicitLocOpBuilder &b,
                                           Value item,
                                           ValueRange) -> SmallVector<Value> {
    // item = ((batch * num_q_heads) + q_head) * num_q_tiles + q_tile
    Value qTile = arith::RemUIOp::create(b, item, numQTiles);
    Value batchHead = arith::DivUIOp::create(b, item, numQTiles);
    qHead = arith::RemUIOp::create(b, batchHead, index(b, numQHeads));
    batch = arith::DivUIOp::create(b, batchHead, index(b, numQHeads));
    // GQA/MQA: q head h reads kv head h / (num_q_heads / num_kv_heads).
    kvHead = arith::DivUIOp::create(b, qHead, index(b, op.getGroupSize()));
    firstRow = arith::MulIOp::create(b, qTile, index(b, blockM));
    numRows = arith::MinSIOp::create(
        b, index(b, blockM), arith::SubIOp::create(b, seqlenQ, firstRow));
    Value lastRow = arith::SubIOp::create(
        b, arith::AddIOp::create(b, firstRow, numRows), one);
    if (args.slopes)
      slope = memref::LoadOp::create(b, args.slopes, qHead);

    // m = -inf, l = 0, acc = 0
    Value negInf = f32(b, -std::numeric_limits<double>::infinity());
    forLoop(b, zero, numRows, {}, [&](ImplicitLocOpBuilder &b, Value r,
                                      ValueRange) -> SmallVector<Value> {
      memref::StoreOp::create(b, negInf, rowMax, r);
      memref::StoreOp::create(b, f32(b, 0.0), rowSum, r);
      forLoop(b, zero, index(b, op.getHeadDimV()), {},
              [&](ImplicitLocOpBuilder &b, Value dv,
                  ValueRange) -> SmallVector<Value> {
                memref::StoreOp::create(b, f32(b, 0.0), accumulator,
                                        ValueRange{r, dv});
                return {};
              });
      return {};
    });

    for (const KvTileRanges &range : mask.emitTileRanges(
             b, firstRow, lastRow, offset, seqlenK, blockN)) {
      auto emitTiles = [&](Value lb, Value ub, bool masked) {
        forLoop(b, lb, ub, {},
                [&](ImplicitLocOpBuilder &b, Value tile,
                    ValueRange) -> SmallVector<Value> {
                  emitKvTile(b, tile, masked);
                  return {};
                })
            .getBase();
      };
      if (!range.leadingBoundaryIsEmpty)
        emitTiles(range.begin, range.fullBegin, /*masked=*/true);
      emitTiles(range.fullBegin, range.fullEnd, /*masked=*/false);
      emitTiles(range.fullEnd, range.end, /*masked=*/true);
    }
    emitFinalize(b);
    return {};
  });
}

/// Converts a tensor type of the spec IR to the kernel's memref type.
MemRefType toMemRef(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

struct AttnTilePass : public mlir::attn::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;

  LogicalResult tileFunction(func::FuncOp func, AttentionOp op);
  void runOnOperation() override;
};

LogicalResult AttnTilePass::tileFunction(func::FuncOp func, AttentionOp op) {
  // The spec IR form: the op reads the function's arguments and its results
  // are returned as they are.
  Block &body = func.getBody().front();
  auto isArgument = [&](Value value) {
    auto arg = dyn_cast<BlockArgument>(value);
    return arg && arg.getOwner() == &body;
  };
  auto returnOp = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (body.getOperations().size() != 2 || !isArgument(op.getQuery()) ||
      !isArgument(op.getKey()) || !isArgument(op.getValue()) || !returnOp ||
      returnOp.getOperands() != op->getResults())
    return op.emitOpError()
           << "attn-tile expects a function whose body is one attn.attention "
              "on its arguments, returned as is";

  int64_t blockMSize = blockM, blockNSize = blockN;
  if (TilingAttr tiling = op.getTilingAttr()) {
    blockMSize = blockMSize ? blockMSize : tiling.getBlockM();
    blockNSize = blockNSize ? blockNSize : tiling.getBlockN();
  }
  blockMSize = blockMSize ? blockMSize : kAutoBlockM;
  blockNSize = blockNSize ? blockNSize : kAutoBlockN;
  if (blockMSize < 1 || blockNSize < 1)
    return op.emitOpError() << "tile sizes must be positive, got block-m = "
                            << blockMSize << ", block-n = " << blockNSize;

  // (q, k, v, o, lse, slopes, begin, end)
  OpBuilder builder(func);
  SmallVector<Type> argTypes = {
      toMemRef(op.getQuery().getType()), toMemRef(op.getKey().getType()),
      toMemRef(op.getValue().getType()), toMemRef(op.getOutput().getType())};
  // One signature for every variant, so hosts call every kernel alike: the
  // LSE and slope buffers are unused when the op has no LSE or no ALiBi.
  argTypes.push_back(MemRefType::get(
      {ShapedType::kDynamic, op.getNumQHeads(), ShapedType::kDynamic},
      builder.getF32Type()));
  argTypes.push_back(
      MemRefType::get({op.getNumQHeads()}, builder.getF32Type()));
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
  if (op.returnsLse())
    args.lse = entry->getArgument(4);
  if (op.getAlibi())
    args.slopes = entry->getArgument(5);
  args.begin = entry->getArgument(6);
  args.end = entry->getArgument(7);

  TiledKernelBuilder(op, blockMSize, blockNSize).build(b, args);
  func::ReturnOp::create(b);
  func.erase();
  return success();
}

void AttnTilePass::runOnOperation() {
  SmallVector<std::pair<func::FuncOp, AttentionOp>> work;
  getOperation().walk([&](AttentionOp op) {
    work.emplace_back(op->getParentOfType<func::FuncOp>(), op);
  });
  for (auto [func, op] : work) {
    if (!func || failed(tileFunction(func, op)))
      return signalPassFailure();
  }
}

} // namespace
