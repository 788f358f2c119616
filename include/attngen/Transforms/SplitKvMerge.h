//===- SplitKvMerge.h - combining split-KV chunks by their LSE --*- C++ -*-===//
//
// Split-KV kernels write, per chunk s of a row's keys, the row's output
// normalized within the chunk (O_s) and the chunk's log-sum-exp (lse_s) to
// a workspace. The merge of one row is, with m = max_s lse_s:
//   w_s = exp(lse_s - m),  O = sum_s w_s O_s / sum_s w_s,
//   LSE = m + log(sum_s w_s)
// and O = 0, LSE = -inf when no chunk saw a visible key. The CPU merge
// function emits it with emitSplitKvMergeRow; the GPU merge kernel
// (AttnToGPU/HelperKernels.cpp) orders its loads for a warp per row. Both
// take the per-row scalars from SplitKvMergeScalars.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_SPLITKVMERGE_H
#define ATTNGEN_TRANSFORMS_SPLITKVMERGE_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attn {

/// The merge's operands: o [b, s_q, h_q, d_v] (the op's element type), lse
/// [b, h_q, s_q] (f32, unused without return_lse), partial_o [splits, b,
/// s_q, h_q, d_v] and partial_lse [splits, b, h_q, s_q] (f32).
struct SplitKvMergeOperands {
  Value output, lse, partialOutput, partialLse;
};

/// The per-row scalars of the merge, from m = max_s lse_s (f32): a chunk's
/// weight w_s, and from sum_s w_s the output's scale and the row's LSE,
/// each with the no-key case (m = -inf) folded in.
class SplitKvMergeScalars {
public:
  SplitKvMergeScalars(ImplicitLocOpBuilder &b, Value max);
  /// w_s = exp2((lse_s - m) log2(e)); 0 for a chunk without keys, and for
  /// every chunk of a row without keys.
  Value weight(ImplicitLocOpBuilder &b, Value lse) const;
  /// 1 / sum_s w_s, or 0 without keys (O = 0).
  Value outputScale(ImplicitLocOpBuilder &b, Value total) const;
  /// m + log(sum_s w_s), or -inf without keys.
  Value lse(ImplicitLocOpBuilder &b, Value total) const;

private:
  Value max, anyKey, safeMax;
};

/// Merges row (batch, query, head) at `b`'s insertion point: every output
/// column, and the LSE when the op returns it.
void emitSplitKvMergeRow(ImplicitLocOpBuilder &b, AttentionOp op,
                         const SplitKvMergeOperands &operands, Value batch,
                         Value query, Value head);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_SPLITKVMERGE_H
