//===- GpuSimulator.h - run a GPU kernel's IR on the CPU --------*- C++ -*-===//
//
// Executes a gpu.func (the kernel attn-to-gpu builds, after the last
// rewrites before NVVM) on the CPU, emulating the CUDA execution model: a
// grid of CTAs, each CTA's threads in lockstep, per-CTA shared memory,
// warp shuffles, and ldmatrix / mma.sync m16n8k16 with the PTX ISA's
// fragment layouts and f16/bf16 rounding where the hardware rounds, and
// cp.async groups whose data becomes visible at the wait that retires them.
// Reported as errors with the op's location: out-of-bounds accesses,
// shared-memory races (an element written by one warp and read or written by
// another with no barrier between; a cp.async writes from issue to wait),
// reads of shared memory never written or still in flight, barriers that
// not every thread of a CTA reaches, and shared-memory views past the
// dynamic shared memory the kernel declares (attn.shared_memory_bytes).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_BACKEND_GPUSIM_GPUSIMULATOR_H
#define ATTNGEN_BACKEND_GPUSIM_GPUSIMULATOR_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <vector>

namespace attngen {

/// A dense row-major buffer whose elements are held as doubles that are
/// exactly representable in `elementType` (f32, f16, bf16 or an integer).
struct SimBuffer {
  mlir::Type elementType;
  std::vector<int64_t> shape;
  std::vector<double> data;
};

/// How the kernel's shared-memory accesses would be served, counted per
/// warp instruction (SharedMemoryTraffic.cpp has the model): wavefronts per
/// phase of ldmatrix and of shared loads and stores (1 when no two lanes of
/// a phase hit one bank at different words), and the aligned 128-byte
/// lines each 128-byte request of cp.async writes (1 when its 8 chunks fill
/// one line; rows padded by 16 bytes straddle two). On the global side, the
/// 32-byte sectors each warp instruction of cp.async reads per 128-byte
/// line it touches (4 when it reads whole lines; a line is one request of
/// the memory pipeline, so fewer sectors per line is more requests per
/// byte).
struct SharedMemoryTraffic {
  struct Wavefronts {
    int64_t phases = 0, wavefronts = 0;
  };
  Wavefronts ldmatrix, loads, stores;
  int64_t asyncCopyRequests = 0, asyncCopyLines = 0;
  int64_t asyncCopyGlobalLines = 0, asyncCopyGlobalSectors = 0;
};

/// Runs `kernel` over the grid; `args` are its memref arguments in order.
/// With `traffic`, its shared-memory accesses are counted into it.
llvm::Error simulateKernel(mlir::gpu::GPUFuncOp kernel,
                           std::vector<SimBuffer *> args,
                           std::array<int64_t, 3> grid, int64_t blockThreads,
                           SharedMemoryTraffic *traffic = nullptr);

} // namespace attngen

#endif // ATTNGEN_BACKEND_GPUSIM_GPUSIMULATOR_H
