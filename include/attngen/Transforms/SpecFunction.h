//===- SpecFunction.h - the spec-IR function form ---------------*- C++ -*-===//
//
// attn-tile and attn-to-gpu rewrite whole spec-IR functions: one
// attn.attention on the function's arguments, its results returned as is
// (the form `attngen compile --emit spec-ir` produces).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_SPECFUNCTION_H
#define ATTNGEN_TRANSFORMS_SPECFUNCTION_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attn {

/// Succeeds if `func` is in the spec-IR form around `op`; otherwise reports
/// on `op` what `passName` expects.
LogicalResult verifySpecFunction(func::FuncOp func, AttentionOp op,
                                 StringRef passName);

/// The kernel memref type of one of the op's tensors (same shape and type).
MemRefType toKernelMemRef(Type tensorType);

/// The cache_seqlens ([batch], i32) and page_table ([batch, max_pages], i32)
/// parameters every kernel has after (q, k, v, o, lse, alibi_slopes), used
/// or not, so that hosts call every kernel alike.
SmallVector<Type, 2> kvCacheKernelMemRefs(MLIRContext *context);

/// The split-KV workspace parameters every kernel has after those, used or
/// not: partial outputs [num_splits, batch, seqlen_q, num_q_heads,
/// head_dim_v] and their log-sum-exps [num_splits, batch, num_q_heads,
/// seqlen_q], f32. num_splits is their leading dimension.
SmallVector<Type, 2> splitKvKernelMemRefs(AttentionOp op);

/// The cu_seqlens_q and cu_seqlens_k parameters ([batch + 1], i32) every
/// kernel has last, used by variable-length batches only.
SmallVector<Type, 2> varlenKernelMemRefs(MLIRContext *context);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_SPECFUNCTION_H
