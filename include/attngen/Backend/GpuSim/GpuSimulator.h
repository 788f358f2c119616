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

/// Runs `kernel` over the grid; `args` are its memref arguments in order.
llvm::Error simulateKernel(mlir::gpu::GPUFuncOp kernel,
                           std::vector<SimBuffer *> args,
                           std::array<int64_t, 3> grid, int64_t blockThreads);

} // namespace attngen

#endif // ATTNGEN_BACKEND_GPUSIM_GPUSIMULATOR_H
