//===- CtaSimulator.h - one CTA of the GPU emulator -------------*- C++ -*-===//
//
// One CTA's threads in lockstep over a kernel's IR (GpuSimulator.cpp has the
// model): per-thread values, memref views, shared-memory race checks and
// cp.async groups. The ops it runs are spread by kind: ControlFlow.cpp
// (scf.for, scf.if), WarpOps.cpp (ldmatrix, mma.sync), AsyncCopies.cpp
// (cp.async groups), SharedMemoryChecks.cpp (races between warps),
// Elementwise.cpp (arith, math, vector element ops), GpuSimulator.cpp (the
// dispatch and everything else).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_BACKEND_GPUSIM_CTASIMULATOR_H
#define ATTNGEN_BACKEND_GPUSIM_CTASIMULATOR_H

#include "attngen/Backend/GpuSim/GpuSimulator.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseMap.h"

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attngen::gpu_sim {

using namespace mlir;

constexpr int64_t kWarpSize = 32;
using Elements = SmallVector<double, 8>;
using Mask = std::vector<bool>;

/// A memref value: a buffer, an element offset and strides.
struct MemRefView {
  SimBuffer *buffer = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

/// `value` rounded to `type` (f32, f16, bf16; integers unchanged).
double roundTo(Type type, double value);
/// The bits of `value` as `type` (f16/bf16 in the low 16 bits), and back.
uint32_t bitsOf(Type type, double value);
double fromBits(Type type, uint32_t bits);

class CtaSimulator {
public:
  CtaSimulator(gpu::GPUFuncOp kernel, std::vector<SimBuffer *> &args,
               std::array<int64_t, 3> gridDim, std::array<int64_t, 3> blockId,
               int64_t numThreads, SharedMemoryTraffic *traffic)
      : kernel(kernel), args(args), gridDim(gridDim), blockId(blockId),
        numThreads(numThreads), traffic(traffic) {}

  LogicalResult run() {
    openCopies.resize(numThreads);
    committed.resize(numThreads);
    Block &entry = kernel.getBody().front();
    for (auto [arg, buffer] : llvm::zip(entry.getArguments(), args)) {
      MemRefView view{buffer, 0, buffer->shape, {}};
      int64_t stride = 1;
      view.strides.resize(buffer->shape.size());
      for (int i = static_cast<int>(buffer->shape.size()) - 1; i >= 0; --i) {
        view.strides[i] = stride;
        stride *= buffer->shape[i];
      }
      memrefs[arg] = view;
    }
    return execBlock(entry, Mask(numThreads, true));
  }

  std::string error;

private:
  LogicalResult fail(Operation *op, const Twine &message) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << op->getLoc() << ": gpu-sim: " << op->getName() << ": " << message
       << " (CTA " << blockId[0] << "," << blockId[1] << "," << blockId[2]
       << ")";
    error = text;
    return failure();
  }

  std::vector<Elements> &valuesOf(Value v) { return values[v]; }
  double scalar(Value v, int64_t thread) { return values[v][thread][0]; }

  void set(Value v, int64_t thread, Elements e) {
    auto &slot = values[v];
    if (slot.size() != static_cast<size_t>(numThreads)) {
      slot.resize(numThreads);
    }
    slot[thread] = std::move(e);
  }

  LogicalResult execBlock(Block &block, const Mask &mask) {
    for (Operation &op : block) {
      if (failed(execOp(&op, mask))) {
        return failure();
      }
    }
    return success();
  }

  LogicalResult elementAddress(Operation *op, const MemRefView &view,
                               ValueRange indices, int64_t thread,
                               int64_t extent, int64_t &linear) {
    linear = view.offset;
    for (auto [dim, index] : llvm::enumerate(indices)) {
      int64_t i = static_cast<int64_t>(scalar(index, thread));
      int64_t last = dim + 1 == indices.size() ? i + extent - 1 : i;
      if (i < 0 || last >= view.sizes[dim]) {
        return fail(op, "out-of-bounds access: index " + Twine(i) +
                            (extent > 1 ? "+" + Twine(extent - 1) : Twine("")) +
                            " of dimension " + Twine(dim) + " (size " +
                            Twine(view.sizes[dim]) + ") by thread " +
                            Twine(thread));
      }
      linear += i * view.strides[dim];
    }
    return success();
  }

  LogicalResult execOp(Operation *op, const Mask &mask);
  LogicalResult execElementwise(Operation *op, const Mask &mask);
  LogicalResult execFor(scf::ForOp op, const Mask &mask);
  LogicalResult execIf(scf::IfOp op, const Mask &mask);
  LogicalResult execLdMatrix(nvgpu::LdMatrixOp op, const Mask &mask);
  LogicalResult execMma(Operation *op, const Mask &mask);

  gpu::GPUFuncOp kernel;
  std::vector<SimBuffer *> &args;
  std::array<int64_t, 3> gridDim, blockId;
  int64_t numThreads;
  DenseMap<Value, std::vector<Elements>> values;
  DenseMap<Value, MemRefView> memrefs;
  /// Shared memory: one typed buffer per view offset of this CTA, and the
  /// byte offset of each.
  std::map<int64_t, std::unique_ptr<SimBuffer>> shared;
  DenseMap<SimBuffer *, int64_t> sharedByteOffset;

  /// Shared-memory traffic (SharedMemoryTraffic.cpp), when counted.
  SharedMemoryTraffic *traffic;
  /// The byte address of element `linear` of a shared buffer.
  int64_t sharedByteAddress(SimBuffer *buffer, int64_t linear) const {
    return sharedByteOffset.lookup(buffer) +
           linear * buffer->elementType.getIntOrFloatBitWidth() / 8;
  }
  /// Counts one warp instruction per warp of a load or store of `count`
  /// elements per thread at `linears` (-1: inactive), if `buffer` is
  /// shared.
  void countSharedAccesses(SimBuffer *buffer, ArrayRef<int64_t> linears,
                           int64_t count,
                           SharedMemoryTraffic::Wavefronts &counter);
  /// Counts one phase of ldmatrix: 8 rows of 16 bytes at `addresses`.
  void countLdMatrixPhase(ArrayRef<int64_t> addresses);
  /// Counts one warp's cp.async of 16-byte chunks to shared `addresses`
  /// (-1: inactive lane).
  void countAsyncCopies(ArrayRef<int64_t> addresses);
  /// What one lane of a cp.async reads from global memory: its buffer,
  /// first byte and byte count.
  struct GlobalRead {
    const SimBuffer *buffer;
    int64_t address, bytes;
  };
  /// Counts one warp instruction's global sectors and lines, from the reads
  /// of its lanes that read any.
  void countGlobalReads(ArrayRef<GlobalRead> reads);

  /// cp.async: copies issued by a thread, grouped by commit; a group's data
  /// becomes visible when a wait retires it. Until then its destination is
  /// in flight (SharedGranule::inFlight).
  struct AsyncCopy {
    SimBuffer *buffer;
    int64_t linear;
    Elements data;
  };
  std::vector<std::vector<AsyncCopy>> openCopies;            // per thread
  std::vector<std::deque<std::vector<AsyncCopy>>> committed; // per thread
  LogicalResult execAsync(Operation *op, const Mask &mask);

  /// The state of one 2-byte granule of the CTA's shared memory (every
  /// shared element type is 16 or 32 bits), kept by address rather than by
  /// view: views at different offsets may overlap (the O tile over the K/V
  /// buffers). Barriers divide the execution into epochs; within one, a
  /// granule written by one warp and read or written by another is a race.
  struct SharedGranule {
    int32_t writeEpoch = -1, readEpoch = -1;
    uint32_t readWarps = 0; // warps that read it in readEpoch
    int16_t writeWarp = -1;
    uint16_t inFlight = 0; // cp.async copies to it not yet retired
    /// The view's buffer that last wrote it: a read through another view
    /// would see data the emulator does not model (aliasing).
    const SimBuffer *writer = nullptr;
  };
  std::vector<SharedGranule> sharedGranules;
  int64_t epoch = 0;
  static constexpr int64_t kGranuleBytes = 2;

  /// The granules [first, end) of `count` elements at `linear` of shared
  /// `buffer`.
  std::pair<int64_t, int64_t> granulesOf(SimBuffer *buffer, int64_t linear,
                                         int64_t count) const {
    int64_t bytes = buffer->elementType.getIntOrFloatBitWidth() / 8;
    int64_t first = sharedByteAddress(buffer, linear);
    return {first / kGranuleBytes, (first + count * bytes) / kGranuleBytes};
  }
  bool isShared(SimBuffer *buffer) const {
    return sharedByteOffset.count(buffer);
  }

  /// Records a read (recordRead) or write (recordWrite, `isAsyncCopy` for a
  /// cp.async's issue) of `count` elements at `linear` of `buffer` by
  /// `thread`; for shared memory, fails on a race with another warp in this
  /// epoch, on memory never written, still in flight, or last written
  /// through another view.
  LogicalResult recordRead(Operation *op, SimBuffer *buffer, int64_t linear,
                           int64_t count, int64_t thread);
  LogicalResult recordWrite(Operation *op, SimBuffer *buffer, int64_t linear,
                            int64_t count, int64_t thread,
                            bool isAsyncCopy = false);
};

} // namespace attngen::gpu_sim

#endif // ATTNGEN_BACKEND_GPUSIM_CTASIMULATOR_H
