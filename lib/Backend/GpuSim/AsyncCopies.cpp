//===- AsyncCopies.cpp - cp.async groups in the emulator ------------------===//
//
// cp.async copies, grouped by commit, whose data becomes visible when a
// wait retires their group; reading or overwriting a destination still in
// flight fails (SharedMemoryChecks.cpp).
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace attngen::gpu_sim {

/// cp.async (nvgpu.device_async_copy), commit_group and wait_group (NVVM).
LogicalResult CtaSimulator::execAsync(Operation *op, const Mask &mask) {
  // Shared byte addresses of 16-byte copies, for the traffic (-1: none).
  std::vector<int64_t> chunkAddresses(numThreads, -1);
  // Global bytes each thread reads (none: bytes 0).
  std::vector<GlobalRead> globalReads(numThreads, {nullptr, 0, 0});
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t]) {
      continue;
    }
    if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(op)) {
      const MemRefView &dst = memrefs[copy.getDst()];
      const MemRefView &src = memrefs[copy.getSrc()];
      int64_t count = copy.getDstElements().getZExtValue();
      int64_t valid = copy.getSrcElements()
                          ? int64_t(scalar(copy.getSrcElements(), t))
                          : count;
      int64_t dstLinear, srcLinear;
      if (failed(elementAddress(op, dst, copy.getDstIndices(), t, count,
                                dstLinear))) {
        return failure();
      }
      Elements data(count, 0.0); // the part past srcElements is zero-filled
      if (valid > 0) {
        if (failed(elementAddress(op, src, copy.getSrcIndices(), t, valid,
                                  srcLinear))) {
          return failure();
        }
        for (int64_t i = 0; i < valid; ++i) {
          data[i] = src.buffer->data[srcLinear + i];
        }
        int64_t elementBytes =
            src.buffer->elementType.getIntOrFloatBitWidth() / 8;
        globalReads[t] = {src.buffer, srcLinear * elementBytes,
                          valid * elementBytes};
      }
      // The hardware may write the destination any time from issue to wait:
      // for races, the write happens at issue, and the destination is in
      // flight until the wait.
      if (failed(recordWrite(op, dst.buffer, dstLinear, count, t,
                             /*isAsyncCopy=*/true))) {
        return failure();
      }
      if (count * dst.buffer->elementType.getIntOrFloatBitWidth() == 128 &&
          isShared(dst.buffer)) {
        chunkAddresses[t] = sharedByteAddress(dst.buffer, dstLinear);
      }
      openCopies[t].push_back({dst.buffer, dstLinear, std::move(data)});
      set(copy.getAsyncToken(), t, {0.0});
    } else if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
      committed[t].push_back(std::move(openCopies[t]));
      openCopies[t].clear();
    } else {
      size_t keep = cast<NVVM::CpAsyncWaitGroupOp>(op).getN();
      while (committed[t].size() > keep) {
        for (AsyncCopy &copy : committed[t].front()) {
          llvm::copy(copy.data, copy.buffer->data.begin() + copy.linear);
          if (isShared(copy.buffer)) {
            auto [first, end] =
                granulesOf(copy.buffer, copy.linear, copy.data.size());
            for (int64_t g = first; g < end; ++g) {
              --sharedGranules[g].inFlight;
            }
          }
        }
        committed[t].pop_front();
      }
    }
  }
  if (traffic && isa<nvgpu::DeviceAsyncCopyOp>(op)) {
    for (int64_t warp = 0; warp < numThreads / kWarpSize; ++warp) {
      countAsyncCopies(
          ArrayRef<int64_t>(chunkAddresses).slice(warp * kWarpSize, kWarpSize));
      SmallVector<GlobalRead, kWarpSize> reads;
      for (int64_t t = warp * kWarpSize; t < (warp + 1) * kWarpSize; ++t) {
        if (globalReads[t].bytes > 0) {
          reads.push_back(globalReads[t]);
        }
      }
      if (!reads.empty()) {
        countGlobalReads(reads);
      }
    }
  }
  return success();
}

} // namespace attngen::gpu_sim
