//===- SpecFunction.cpp - the spec-IR function form -----------------------===//

#include "attngen/Transforms/SpecFunction.h"

namespace mlir::attn {

LogicalResult verifySpecFunction(func::FuncOp func, AttentionOp op,
                                 StringRef passName) {
  Block &body = func.getBody().front();
  auto isArgument = [&](Value value) {
    auto arg = dyn_cast<BlockArgument>(value);
    return arg && arg.getOwner() == &body;
  };
  auto returnOp = dyn_cast<func::ReturnOp>(body.getTerminator());
  auto isOptionalArgument = [&](Value value) {
    return !value || isArgument(value);
  };
  if (body.getOperations().size() != 2 || !isArgument(op.getQuery()) ||
      !isArgument(op.getKey()) || !isArgument(op.getValue()) ||
      !isOptionalArgument(op.getCacheSeqlens()) ||
      !isOptionalArgument(op.getPageTable()) ||
      !isOptionalArgument(op.getCuSeqlensQ()) ||
      !isOptionalArgument(op.getCuSeqlensK()) ||
      !isOptionalArgument(op.getKeyNew()) ||
      !isOptionalArgument(op.getValueNew()) || !returnOp ||
      returnOp.getOperands() != op->getResults()) {
    return op.emitOpError()
           << passName
           << " expects a function whose body is one attn.attention on its "
              "arguments, returned as is";
  }
  return success();
}

SmallVector<Type, 2> kvCacheKernelMemRefs(MLIRContext *context) {
  auto i32 = IntegerType::get(context, 32);
  constexpr int64_t kDyn = ShapedType::kDynamic;
  return {MemRefType::get({kDyn}, i32), MemRefType::get({kDyn, kDyn}, i32)};
}

SmallVector<Type, 2> splitKvKernelMemRefs(AttentionOp op) {
  auto f32 = Float32Type::get(op.getContext());
  constexpr int64_t kDyn = ShapedType::kDynamic;
  return {MemRefType::get(
              {kDyn, kDyn, kDyn, op.getNumQHeads(), op.getHeadDimV()}, f32),
          MemRefType::get({kDyn, kDyn, op.getNumQHeads(), kDyn}, f32)};
}

SmallVector<Type, 2> varlenKernelMemRefs(MLIRContext *context) {
  auto i32 = IntegerType::get(context, 32);
  constexpr int64_t kDyn = ShapedType::kDynamic;
  return {MemRefType::get({kDyn}, i32), MemRefType::get({kDyn}, i32)};
}

MemRefType toKernelMemRef(Type tensorType) {
  auto tensor = cast<RankedTensorType>(tensorType);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

} // namespace mlir::attn
