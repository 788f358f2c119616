//===- HostTensors.h - a call's tensors on the host -------------*- C++ -*-===//
//
// Dense host tensors of a spec's element type, as `attngen run` and `attngen
// bench` hand them to libattnrt: conversions from and to f32, and the
// attnrt_attention_args of one call over them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_HOSTTENSORS_H
#define ATTNGEN_DRIVER_HOSTTENSORS_H

#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/AttentionSpec.h"
#include "attnrt/attnrt.h"

#include <cstdint>
#include <vector>

namespace attngen {

/// Bytes per element of `type` (f32: 4, f16/bf16: 2).
size_t elementBytes(ElementType type);

/// Converts f32 values to the kernel's element type (round to nearest even).
std::vector<uint8_t> fromFloat(const std::vector<float> &values,
                               ElementType type);

/// Converts elements of `type` to f32 (exact).
std::vector<float> toFloat(const std::vector<uint8_t> &bytes, ElementType type);

/// An appending call's new keys and values (empty for other specs).
struct NewKeysAndValues {
  std::vector<uint8_t> keys, values;
};

/// libattnrt's arguments for one call on dense host buffers: Q/K/V/O of
/// the spec's dtype ([batch or 1 when packed, rows, heads, dim]; K/V the
/// cache layout for KV cache specs), and the call's cache, varlen and
/// append inputs. `batch` counts sequences.
attnrt_attention_args
hostArguments(const AttentionSpec &spec, int64_t batch, int64_t seqlenQ,
              int64_t seqlenK, const void *query, const void *key,
              const void *value, void *output, float *lse, const float *slopes,
              const KvCacheInputs &cache, const VarlenInputs &varlen,
              const NewKeysAndValues &added);

} // namespace attngen

#endif // ATTNGEN_DRIVER_HOSTTENSORS_H
