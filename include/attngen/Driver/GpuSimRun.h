//===- GpuSimRun.h - `attngen run --backend gpu-sim` ------------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_GPUSIMRUN_H
#define ATTNGEN_DRIVER_GPUSIMRUN_H

#include "attngen/Driver/HostTensors.h"
#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/Run.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace attngen {

/// The GPU kernel, executed by the emulator on the CPU (inputs already
/// rounded to the spec's dtype).
llvm::Error runOnGpuSimulator(
    const RunOptions &options, const AttentionSpec &spec, int64_t batch,
    int64_t seqlenQ, const std::vector<int64_t> &keyShape,
    std::vector<float> query, std::vector<float> key, std::vector<float> value,
    const std::vector<float> &slopes, const KvCacheInputs &cache,
    const VarlenInputs &varlen, const NewKeysAndValues &added);

} // namespace attngen

#endif // ATTNGEN_DRIVER_GPUSIMRUN_H
