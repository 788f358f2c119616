//===- SpecToIR.cpp - AttentionSpec to the attn dialect -------------------===//

#include "attngen/Spec/SpecToIR.h"
#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace attngen {

static Type toMlirType(ElementType type, MLIRContext &context) {
  switch (type) {
  case ElementType::F32:
    return Float32Type::get(&context);
  case ElementType::F16:
    return Float16Type::get(&context);
  case ElementType::BF16:
    return BFloat16Type::get(&context);
  }
  llvm_unreachable("unknown element type");
}

static attn::Target toAttnTarget(Target target) {
  switch (target) {
  case Target::SM80:
    return attn::Target::SM80;
  case Target::SM90:
    return attn::Target::SM90;
  case Target::CPU:
    return attn::Target::CPU;
  }
  llvm_unreachable("unknown target");
}

OwningOpRef<ModuleOp> buildAttentionModule(const AttentionSpec &spec,
                                           MLIRContext &context,
                                           Location location, Target target) {
  context.loadDialect<attn::AttnDialect, func::FuncDialect>();
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(location);
  builder.setInsertionPointToEnd(module->getBody());

  constexpr int64_t kDyn = ShapedType::kDynamic;
  Type element = toMlirType(spec.dtype, context);
  // Variable-length batches pack the sequences along dimension 1.
  int64_t batchDim = spec.varlen ? 1 : kDyn;
  auto queryType = RankedTensorType::get(
      {batchDim, kDyn, spec.numQHeads, spec.headDim}, element);
  bool paged = spec.kvCache.layout == KvCacheLayout::Paged;
  // Paged caches are pools [num_pages, page_size, heads, dim].
  int64_t keyRows = paged ? spec.kvCache.pageSize : kDyn;
  // Caches keep one entry per sequence (or a page pool), packed or not.
  int64_t keyBatchDim =
      spec.kvCache.layout != KvCacheLayout::None ? kDyn : batchDim;
  auto keyType = RankedTensorType::get(
      {keyBatchDim, keyRows, spec.numKvHeads, spec.headDim}, element);
  auto valueType = RankedTensorType::get(
      {keyBatchDim, keyRows, spec.numKvHeads, spec.headDimV}, element);
  auto outputType = RankedTensorType::get(
      {batchDim, kDyn, spec.numQHeads, spec.headDimV}, element);
  SmallVector<Type> resultTypes = {outputType};
  if (spec.returnLse) {
    resultTypes.push_back(RankedTensorType::get(
        {batchDim, spec.numQHeads, kDyn}, Float32Type::get(&context)));
  }

  SmallVector<Type> argTypes = {queryType, keyType, valueType};
  auto i32 = IntegerType::get(&context, 32);
  if (spec.kvCache.layout != KvCacheLayout::None) {
    argTypes.push_back(RankedTensorType::get({kDyn}, i32)); // cache_seqlens
  }
  if (paged) {
    argTypes.push_back(RankedTensorType::get({kDyn, kDyn}, i32)); // page_table
  }
  int64_t cuSeqlensArg = argTypes.size();
  bool keyOffsets = spec.varlen && spec.kvCache.layout == KvCacheLayout::None;
  if (spec.varlen) {
    argTypes.push_back(RankedTensorType::get({kDyn}, i32)); // cu_seqlens_q
  }
  if (keyOffsets) {
    argTypes.push_back(RankedTensorType::get({kDyn}, i32)); // cu_seqlens_k
  }
  int64_t newKvArg = argTypes.size();
  bool append = spec.kvCache.append;
  if (append) {
    // key_new / value_new: [batch, seqlen_q, num_kv_heads, head_dim(_v)].
    argTypes.push_back(RankedTensorType::get(
        {kDyn, kDyn, spec.numKvHeads, spec.headDim}, element));
    argTypes.push_back(RankedTensorType::get(
        {kDyn, kDyn, spec.numKvHeads, spec.headDimV}, element));
  }
  auto funcType = builder.getFunctionType(argTypes, resultTypes);
  auto func = func::FuncOp::create(builder, location, spec.name, funcType);
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToEnd(body);

  attn::TilingAttr tiling;
  if (spec.tiling) {
    tiling = attn::TilingAttr::get(&context, spec.tiling->blockM,
                                   spec.tiling->blockN, spec.tiling->numWarps,
                                   spec.tiling->numStages);
  }
  auto attention = attn::AttentionOp::create(
      builder, location, outputType, spec.returnLse ? resultTypes[1] : Type(),
      body->getArgument(0), body->getArgument(1), body->getArgument(2),
      spec.kvCache.layout != KvCacheLayout::None ? body->getArgument(3)
                                                 : Value(),
      paged ? body->getArgument(4) : Value(),
      spec.varlen ? body->getArgument(cuSeqlensArg) : Value(),
      keyOffsets ? body->getArgument(cuSeqlensArg + 1) : Value(),
      append ? body->getArgument(newKvArg) : Value(),
      append ? body->getArgument(newKvArg + 1) : Value(), spec.numQHeads,
      spec.numKvHeads, spec.headDim, spec.headDimV,
      spec.mask == MaskKind::Causal ? attn::MaskKind::Causal
                                    : attn::MaskKind::None,
      spec.causalAlign == CausalAlign::TopLeft ? attn::CausalAlign::TopLeft
                                               : attn::CausalAlign::BottomRight,
      spec.windowLeft, spec.windowRight, spec.sinkTokens,
      llvm::APFloat(static_cast<float>(spec.effectiveScale())),
      llvm::APFloat(static_cast<float>(spec.softcap)), spec.alibi,
      spec.rope
          ? attn::RopeAttr::get(&context, llvm::APFloat(spec.rope->base),
                                spec.rope->rotaryDim, spec.rope->interleaved)
          : attn::RopeAttr(),
      paged ? builder.getI64IntegerAttr(spec.kvCache.pageSize) : IntegerAttr(),
      spec.splitKv != 1 ? builder.getI64IntegerAttr(spec.splitKv)
                        : IntegerAttr(),
      tiling, toAttnTarget(target));
  func::ReturnOp::create(builder, location, attention->getResults());
  return module;
}

} // namespace attngen
