//===- AttnOps.cpp - attn dialect ops -------------------------------------===//

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attn;

namespace {
/// One expected dimension of an operand: either a size fixed by the op's
/// attributes, or a size shared with another operand (batch, seqlens).
struct ExpectedDim {
  StringRef name;
  int64_t size; // ShapedType::kDynamic when any size is accepted.
};
} // namespace

/// Checks `type` against `expected`, one entry per dimension. Dimensions fixed
/// by attributes must be static and equal; shared dimensions must agree with
/// the size seen first (`shared`), unless either is dynamic.
static LogicalResult
verifyOperandShape(Operation *op, StringRef operandName, RankedTensorType type,
                   ArrayRef<ExpectedDim> expected,
                   llvm::StringMap<std::pair<int64_t, StringRef>> &shared) {
  if (type.getRank() != static_cast<int64_t>(expected.size())) {
    return op->emitOpError() << operandName << " must have rank "
                             << expected.size() << ", got " << type;
  }
  for (auto [index, dim] : llvm::enumerate(expected)) {
    int64_t actual = type.getDimSize(index);
    if (dim.size != ShapedType::kDynamic) {
      if (actual != dim.size) {
        return op->emitOpError()
               << operandName << " dimension " << index << " (" << dim.name
               << ") must be " << dim.size << ", got "
               << (ShapedType::isDynamic(actual) ? std::string("?")
                                                 : std::to_string(actual));
      }
      continue;
    }
    auto [it, inserted] =
        shared.try_emplace(dim.name, std::make_pair(actual, operandName));
    if (inserted || ShapedType::isDynamic(actual)) {
      continue;
    }
    if (ShapedType::isDynamic(it->second.first)) {
      it->second = {actual, operandName};
      continue;
    }
    if (it->second.first != actual) {
      return op->emitOpError()
             << dim.name << " of " << operandName << " (" << actual
             << ") does not match " << it->second.second << " ("
             << it->second.first << ")";
    }
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t numQHeads = getNumQHeads(), numKvHeads = getNumKvHeads();
  int64_t headDim = getHeadDim(), headDimV = getHeadDimV();
  if (numQHeads < 1 || numKvHeads < 1) {
    return emitOpError() << "head counts must be positive, got num_q_heads = "
                         << numQHeads << ", num_kv_heads = " << numKvHeads;
  }
  if (numQHeads % numKvHeads != 0) {
    return emitOpError() << "num_kv_heads (" << numKvHeads
                         << ") must divide num_q_heads (" << numQHeads << ")";
  }
  if (headDim < 1 || headDimV < 1) {
    return emitOpError() << "head dims must be positive, got head_dim = "
                         << headDim << ", head_dim_v = " << headDimV;
  }
  if (getWindowLeft() < -1 || getWindowRight() < -1) {
    return emitOpError()
           << "window bounds must be >= -1 (-1 = unbounded), got ("
           << getWindowLeft() << ", " << getWindowRight() << ")";
  }
  if (getSinkTokens() < 0) {
    return emitOpError() << "sink_tokens must be >= 0, got " << getSinkTokens();
  }
  float scale = getScale().convertToFloat();
  if (!std::isfinite(scale) || scale <= 0.0f) {
    return emitOpError() << "scale must be finite and > 0, got " << scale;
  }
  float softcap = getSoftcap().convertToFloat();
  if (!std::isfinite(softcap) || softcap < 0.0f) {
    return emitOpError() << "softcap must be finite and >= 0 (0 = off), got "
                         << softcap;
  }

  Type elementType = getQuery().getType().getElementType();
  for (auto [name, value] :
       {std::make_pair("key", getKey()), std::make_pair("value", getValue()),
        std::make_pair("output", getOutput())}) {
    Type other = cast<RankedTensorType>(value.getType()).getElementType();
    if (other != elementType) {
      return emitOpError() << name << " element type " << other
                           << " must match the query element type "
                           << elementType;
    }
  }

  if (std::optional<int64_t> splits = getSplitKv()) {
    if (*splits != 0 && (*splits < 2 || *splits > 64)) {
      return emitOpError() << "split_kv must be 0 (chosen per call) or in "
                              "[2, 64], got "
                           << *splits;
    }
  }
  if (getCuSeqlensK() && !getCuSeqlensQ()) {
    return emitOpError() << "cu_seqlens_k needs cu_seqlens_q";
  }
  if (isVarlen() && static_cast<bool>(getCuSeqlensK()) == hasKvCache()) {
    return emitOpError() << (hasKvCache()
                                 ? "a variable-length batch with a KV cache "
                                   "takes its keys from cache_seqlens, not "
                                   "cu_seqlens_k"
                                 : "a variable-length batch needs "
                                   "cu_seqlens_k");
  }
  for (Value offsets : {getCuSeqlensQ(), getCuSeqlensK()}) {
    if (offsets && cast<RankedTensorType>(offsets.getType()).getRank() != 1) {
      return emitOpError() << "cu_seqlens must have rank 1 ([batch + 1])";
    }
  }
  if (isVarlen()) {
    for (auto [name, value] :
         {std::make_pair("query", getQuery()), std::make_pair("key", getKey()),
          std::make_pair("value", getValue())}) {
      if ((name == std::string("query") || !hasKvCache()) &&
          cast<RankedTensorType>(value.getType()).getDimSize(0) != 1) {
        return emitOpError()
               << name
               << " of a variable-length batch must have dimension 0 "
                  "(batch) = 1: sequences are packed along dimension 1";
      }
    }
  }
  std::optional<int64_t> pageSize = getPageSize();
  if (getPageTable() && !getCacheSeqlens()) {
    return emitOpError() << "a page_table needs cache_seqlens";
  }
  if (static_cast<bool>(getPageTable()) != pageSize.has_value()) {
    return emitOpError() << "page_table and page_size go together";
  }
  if (pageSize && *pageSize < 1) {
    return emitOpError() << "page_size must be positive, got " << *pageSize;
  }
  if (static_cast<bool>(getKeyNew()) != static_cast<bool>(getValueNew())) {
    return emitOpError() << "key_new and value_new go together";
  }
  if (appendsKv() && !hasKvCache()) {
    return emitOpError() << "appending key_new/value_new needs a KV cache "
                            "(cache_seqlens)";
  }
  if (RopeAttr rope = getRopeAttr()) {
    if (!hasKvCache()) {
      return emitOpError() << "rope needs a KV cache (cache_seqlens): "
                              "positions follow the cached keys";
    }
    if (rope.getRotaryDim() > headDim) {
      return emitOpError() << "rope rotary_dim (" << rope.getRotaryDim()
                           << ") must be at most head_dim (" << headDim << ")";
    }
  }
  for (Value added : {getKeyNew(), getValueNew()}) {
    if (added && cast<RankedTensorType>(added.getType()).getElementType() !=
                     elementType) {
      return emitOpError() << "key_new and value_new must have the query "
                              "element type "
                           << elementType;
    }
  }

  constexpr int64_t kAny = ShapedType::kDynamic;
  llvm::StringMap<std::pair<int64_t, StringRef>> shared;
  // Paged caches are pools of pages, not per-sequence tensors.
  ExpectedDim cacheRows[2] = {{"batch", kAny}, {"seqlen_k", kAny}};
  // Packed queries with a contiguous cache: one cache entry per sequence.
  if (isVarlen() && hasKvCache()) {
    cacheRows[0] = {"num_sequences", kAny};
  }
  if (pageSize) {
    cacheRows[0] = {"num_pages", kAny};
    cacheRows[1] = {"page_size", *pageSize};
  }
  if (failed(verifyOperandShape(*this, "query", getQuery().getType(),
                                {{"batch", kAny},
                                 {"seqlen_q", kAny},
                                 {"num_q_heads", numQHeads},
                                 {"head_dim", headDim}},
                                shared)) ||
      failed(verifyOperandShape(*this, "key", getKey().getType(),
                                {cacheRows[0],
                                 cacheRows[1],
                                 {"num_kv_heads", numKvHeads},
                                 {"head_dim", headDim}},
                                shared)) ||
      failed(verifyOperandShape(*this, "value", getValue().getType(),
                                {cacheRows[0],
                                 cacheRows[1],
                                 {"num_kv_heads", numKvHeads},
                                 {"head_dim_v", headDimV}},
                                shared)) ||
      failed(verifyOperandShape(*this, "output", getOutput().getType(),
                                {{"batch", kAny},
                                 {"seqlen_q", kAny},
                                 {"num_q_heads", numQHeads},
                                 {"head_dim_v", headDimV}},
                                shared))) {
    return failure();
  }
  // Per-sequence operands: one entry per batch entry, or per packed
  // sequence of a variable-length batch.
  StringRef sequences = isVarlen() ? "num_sequences" : "batch";
  if (Value lengths = getCacheSeqlens()) {
    if (failed(verifyOperandShape(*this, "cache_seqlens",
                                  cast<RankedTensorType>(lengths.getType()),
                                  {{sequences, kAny}}, shared))) {
      return failure();
    }
  }
  if (Value pages = getPageTable()) {
    if (failed(verifyOperandShape(
            *this, "page_table", cast<RankedTensorType>(pages.getType()),
            {{sequences, kAny}, {"max_pages", kAny}}, shared))) {
      return failure();
    }
  }
  if (appendsKv()) {
    if (failed(verifyOperandShape(*this, "key_new", getKeyNew().getType(),
                                  {{"batch", kAny},
                                   {"seqlen_q", kAny},
                                   {"num_kv_heads", numKvHeads},
                                   {"head_dim", headDim}},
                                  shared)) ||
        failed(verifyOperandShape(*this, "value_new", getValueNew().getType(),
                                  {{"batch", kAny},
                                   {"seqlen_q", kAny},
                                   {"num_kv_heads", numKvHeads},
                                   {"head_dim_v", headDimV}},
                                  shared))) {
      return failure();
    }
  }
  if (Value lse = getLse()) {
    if (failed(verifyOperandShape(
            *this, "lse", cast<RankedTensorType>(lse.getType()),
            {{"batch", kAny}, {"num_q_heads", numQHeads}, {"seqlen_q", kAny}},
            shared))) {
      return failure();
    }
  }
  return success();
}

#define GET_OP_CLASSES
#include "attngen/Dialect/Attn/IR/AttnOps.cpp.inc"
