//===- VarlenInputs.cpp - sequence offsets of a packed batch --------------===//

#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Support/Error.h"
#include "attngen/Support/Npy.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>

namespace attngen {

/// One offsets file: int32 [batch + 1], 0 first, `total` last, no decrease.
static llvm::Expected<std::vector<int32_t>>
readOffsets(const std::string &path, const char *name, int64_t total) {
  llvm::Expected<NpyArray> array = readNpy(path);
  if (!array) {
    return array.takeError();
  }
  if (array->type != NpyType::I32 || array->shape.size() != 1 ||
      array->shape[0] < 1) {
    return makeError(
        path + ": " + name + " must be int32 [batch + 1], got " +
        (array->type == NpyType::I32 ? "shape " : "a float array, shape ") +
        array->shapeString());
  }
  std::vector<int32_t> offsets = array->toInt32();
  if (offsets.front() != 0 || offsets.back() != total) {
    return makeError(llvm::formatv(
        "{0}: {1} must start at 0 and end at {2} (the packed rows), got {3} "
        "and {4}",
        path, name, total, offsets.front(), offsets.back()));
  }
  for (size_t b = 1; b < offsets.size(); ++b) {
    if (offsets[b] < offsets[b - 1]) {
      return makeError(
          llvm::formatv("{0}: {1}[{2}] = {3} is below {1}[{4}] = {5}", path,
                        name, b, offsets[b], b - 1, offsets[b - 1]));
    }
  }
  return offsets;
}

llvm::Expected<VarlenInputs> readVarlenInputs(const AttentionSpec &spec,
                                              const std::string &specPath,
                                              const std::string &cuSeqlensQPath,
                                              const std::string &cuSeqlensKPath,
                                              int64_t totalQ, int64_t totalK) {
  VarlenInputs inputs;
  if (!spec.varlen) {
    if (!cuSeqlensQPath.empty() || !cuSeqlensKPath.empty()) {
      return makeError(specPath + ": --cu-seqlens-q and --cu-seqlens-k need "
                                  "a spec with \"varlen\": true");
    }
    return inputs;
  }
  // With a KV cache, keys come from the cache: queries alone are packed.
  bool cached = spec.kvCache.layout != KvCacheLayout::None;
  if (cached) {
    if (cuSeqlensQPath.empty()) {
      return makeError(specPath + ": the spec packs variable-length "
                                  "sequences; pass --cu-seqlens-q "
                                  "(OFFSETS.npy, [batch + 1], int32)");
    }
    if (!cuSeqlensKPath.empty()) {
      return makeError(specPath + ": --cu-seqlens-k is not taken with "
                                  "\"kv_cache\": each sequence's keys are "
                                  "its cache's first cache_seqlens[b] rows");
    }
  } else if (cuSeqlensQPath.empty() || cuSeqlensKPath.empty()) {
    return makeError(specPath + ": the spec packs variable-length sequences; "
                                "pass --cu-seqlens-q and --cu-seqlens-k "
                                "(OFFSETS.npy, [batch + 1], int32)");
  }
  auto q = readOffsets(cuSeqlensQPath, "cu_seqlens_q", totalQ);
  if (!q) {
    return q.takeError();
  }
  inputs.cuSeqlensQ = std::move(*q);
  if (!cached) {
    auto k = readOffsets(cuSeqlensKPath, "cu_seqlens_k", totalK);
    if (!k) {
      return k.takeError();
    }
    if (k->size() != inputs.cuSeqlensQ.size()) {
      return makeError(llvm::formatv(
          "{0}: cu_seqlens_k has {1} entries but cu_seqlens_q has {2}",
          cuSeqlensKPath, k->size(), inputs.cuSeqlensQ.size()));
    }
    inputs.cuSeqlensK = std::move(*k);
  }
  inputs.numSequences = static_cast<int64_t>(inputs.cuSeqlensQ.size()) - 1;
  for (int64_t b = 0; b < inputs.numSequences; ++b) {
    inputs.maxSeqlenQ = std::max<int64_t>(
        inputs.maxSeqlenQ, inputs.cuSeqlensQ[b + 1] - inputs.cuSeqlensQ[b]);
  }
  return inputs;
}

} // namespace attngen
