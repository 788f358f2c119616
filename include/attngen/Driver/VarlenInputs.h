//===- VarlenInputs.h - sequence offsets of a packed batch ------*- C++ -*-===//
//
// Specs with "varlen": true take Q/K/V packed as [total, heads, dim] and,
// per call, cu_seqlens_q/k ([batch + 1], int32): sequence b owns rows
// cu[b] to cu[b + 1] - 1. `attngen run` reads them from .npy files and
// checks them before any backend runs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_VARLENINPUTS_H
#define ATTNGEN_DRIVER_VARLENINPUTS_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attngen {

struct VarlenInputs {
  std::vector<int32_t> cuSeqlensQ, cuSeqlensK;
  /// Sequences, and the longest sequence's queries.
  int64_t numSequences = 0, maxSeqlenQ = 0;
};

/// Reads and checks the offsets against the packed totals (Q's and K's
/// dimension 1): both [batch + 1], starting at 0, non-decreasing, ending at
/// the totals. Specs without varlen must get neither file; varlen specs with
/// a KV cache take cu_seqlens_q alone (their keys are in the cache).
llvm::Expected<VarlenInputs> readVarlenInputs(const AttentionSpec &spec,
                                              const std::string &specPath,
                                              const std::string &cuSeqlensQPath,
                                              const std::string &cuSeqlensKPath,
                                              int64_t totalQ, int64_t totalK);

} // namespace attngen

#endif // ATTNGEN_DRIVER_VARLENINPUTS_H
