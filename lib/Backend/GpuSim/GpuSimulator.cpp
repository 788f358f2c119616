//===- GpuSimulator.cpp - run a GPU kernel's IR on the CPU ----------------===//
//
// Each CTA runs its threads in lockstep: every SSA value holds one element
// list per thread, every op runs for the threads of the active mask.
// Structured control flow narrows the mask (scf.if, scf.for with per-thread
// bounds). Warp-level ops (shuffle, ldmatrix, mma.sync) gather from and
// scatter to the 32 lanes of each warp.
//
// Fragment layouts (PTX ISA, m16n8k16, g = lane / 4, t = lane % 4):
//   A: {A[g][2t..], A[g+8][2t..], A[g][2t+8..], A[g+8][2t+8..]}
//   B: {B[2t..2t+1][g], B[2t+8..2t+9][g]}
//   C/D: {C[g][2t..2t+1], C[g+8][2t..2t+1]}
//   ldmatrix: matrix i's row r comes from the address of lane 8i + r; lane
//   l receives row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 (of the
//   transposed matrix with .trans).
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

#include "attngen/Support/Float16.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace attngen {
namespace gpu_sim {

LogicalResult CtaSimulator::execOp(Operation *op, const Mask &mask) {
  auto forEachActive = [&](auto fn) -> LogicalResult {
    for (int64_t t = 0; t < numThreads; ++t) {
      if (mask[t] && failed(fn(t))) {
        return failure();
      }
    }
    return success();
  };
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    return execFor(loop, mask);
  }
  if (auto branch = dyn_cast<scf::IfOp>(op)) {
    return execIf(branch, mask);
  }
  if (auto ld = dyn_cast<nvgpu::LdMatrixOp>(op)) {
    return execLdMatrix(ld, mask);
  }
  if (isa<nvgpu::MmaSyncOp, NVVM::MmaOp>(op)) {
    return execMma(op, mask);
  }
  if (isa<nvgpu::DeviceAsyncCopyOp, NVVM::CpAsyncCommitGroupOp,
          NVVM::CpAsyncWaitGroupOp>(op)) {
    return execAsync(op, mask);
  }
  if (isa<gpu::ReturnOp, scf::YieldOp>(op)) {
    return success();
  }
  if (isa<gpu::BarrierOp>(op)) {
    if (!std::all_of(mask.begin(), mask.end(), [](bool b) { return b; })) {
      return fail(op, "barrier not reached by all threads of the CTA");
    }
    ++epoch;
    return success();
  }
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    Elements e;
    Attribute value = constant.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      Type elementType = dense.getElementType();
      if (isa<FloatType>(elementType)) {
        for (APFloat f : dense.getValues<APFloat>()) {
          e.push_back(f.convertToDouble());
        }
      } else {
        for (APInt i : dense.getValues<APInt>()) {
          e.push_back(elementType.isInteger(1) ? double(i.getBoolValue())
                                               : double(i.getSExtValue()));
        }
      }
    } else if (auto f = dyn_cast<FloatAttr>(value)) {
      e.push_back(f.getValueAsDouble());
    } else if (auto i = dyn_cast<IntegerAttr>(value)) {
      e.push_back(i.getType().isInteger(1)
                      ? double(i.getValue().getBoolValue())
                      : double(i.getValue().getSExtValue()));
    } else {
      return fail(op, "unsupported constant");
    }
    return forEachActive([&](int64_t t) {
      set(constant.getResult(), t, e);
      return success();
    });
  }
  if (auto id = dyn_cast<gpu::BlockIdOp>(op)) {
    return forEachActive([&](int64_t t) {
      set(id.getResult(), t, {double(blockId[int(id.getDimension())])});
      return success();
    });
  }
  if (auto dim = dyn_cast<gpu::GridDimOp>(op)) {
    return forEachActive([&](int64_t t) {
      set(dim.getResult(), t, {double(gridDim[int(dim.getDimension())])});
      return success();
    });
  }
  if (auto id = dyn_cast<gpu::ThreadIdOp>(op)) {
    return forEachActive([&](int64_t t) {
      set(id.getResult(), t,
          {id.getDimension() == gpu::Dimension::x ? double(t) : 0.0});
      return success();
    });
  }
  if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
    if (shuffle.getMode() != gpu::ShuffleMode::XOR) {
      return fail(op, "only xor shuffles are emulated");
    }
    return forEachActive([&](int64_t t) {
      int64_t offset = int64_t(scalar(shuffle.getOffset(), t));
      int64_t source = (t & ~(kWarpSize - 1)) | ((t % kWarpSize) ^ offset);
      if (!mask[source]) {
        return fail(op, "shuffle reads an inactive lane");
      }
      set(shuffle.getShuffleResult(), t, values[shuffle.getValue()][source]);
      set(shuffle.getValid(), t, {1.0});
      return success();
    });
  }
  if (auto vote = dyn_cast<NVVM::VoteSyncOp>(op)) {
    if (vote.getKind() != NVVM::VoteSyncKind::any &&
        vote.getKind() != NVVM::VoteSyncKind::all) {
      return fail(op, "only vote.sync any and all are emulated");
    }
    bool isAny = vote.getKind() == NVVM::VoteSyncKind::any;
    return forEachActive([&](int64_t t) {
      uint32_t lanes = uint32_t(int64_t(scalar(vote.getMask(), t)));
      int64_t warpBase = t & ~(kWarpSize - 1);
      bool result = !isAny;
      for (int64_t lane = 0; lane < kWarpSize; ++lane) {
        if (!(lanes >> lane & 1)) {
          continue;
        }
        if (!mask[warpBase + lane]) {
          return fail(op, "vote.sync waits for an inactive lane");
        }
        bool predicate = scalar(vote.getPred(), warpBase + lane) != 0;
        result = isAny ? result || predicate : result && predicate;
      }
      set(vote.getRes(), t, {double(result)});
      return success();
    });
  }
  if (isa<gpu::DynamicSharedMemoryOp>(op)) {
    return success();
  }
  if (auto view = dyn_cast<memref::ViewOp>(op)) {
    // Views at one byte offset share a buffer (the O tile reuses Q's
    // memory), each with its own shape over the buffer's elements. Views
    // at different offsets that overlap (the O tile over K and V) keep
    // their data apart, so the checks (SharedMemoryChecks.cpp) go by
    // address: a read of bytes another view wrote last fails.
    int64_t offset = int64_t(scalar(view.getByteShift(), 0));
    auto type = view.getType();
    // The launch allocates the dynamic shared memory the kernel declares:
    // a view past it would read another CTA's memory or fault.
    if (auto declared =
            kernel->getAttrOfType<IntegerAttr>("attn.shared_memory_bytes")) {
      int64_t end =
          offset + type.getNumElements() * type.getElementTypeBitWidth() / 8;
      if (offset < 0 || end > declared.getInt()) {
        return fail(op, "view of shared bytes [" + Twine(offset) + ", " +
                            Twine(end) + ") past the kernel's " +
                            Twine(declared.getInt()) +
                            " bytes of dynamic shared memory");
      }
    }
    if (type.getElementTypeBitWidth() % (8 * kGranuleBytes) != 0 ||
        offset < 0 || offset % kGranuleBytes != 0) {
      return fail(op, "shared view of " + Twine(type.getElementTypeBitWidth()) +
                          "-bit elements at byte " + Twine(offset) +
                          " (the emulator checks 16-bit granules)");
    }
    auto &buffer = shared[offset];
    if (!buffer) {
      buffer = std::make_unique<SimBuffer>();
      buffer->elementType = type.getElementType();
      buffer->shape.assign(type.getShape().begin(), type.getShape().end());
      sharedByteOffset[buffer.get()] = offset;
    }
    if (buffer->elementType != type.getElementType()) {
      return fail(op, "views of one shared buffer with different element "
                      "types");
    }
    size_t elements = type.getNumElements();
    if (buffer->data.size() < elements) {
      buffer->data.resize(elements, NAN);
    }
    int64_t end =
        offset + int64_t(elements) * type.getElementTypeBitWidth() / 8;
    if (sharedGranules.size() < size_t(end / kGranuleBytes)) {
      sharedGranules.resize(end / kGranuleBytes);
    }
    MemRefView v{
        buffer.get(),
        0,
        std::vector<int64_t>(type.getShape().begin(), type.getShape().end()),
        {}};
    v.strides.resize(v.sizes.size());
    int64_t stride = 1;
    for (int i = int(v.sizes.size()) - 1; i >= 0; --i) {
      v.strides[i] = stride;
      stride *= v.sizes[i];
    }
    memrefs[view.getResult()] = v;
    return success();
  }
  if (auto subview = dyn_cast<memref::SubViewOp>(op)) {
    // A view of part of a memref: offset += sum(offset[d] * stride[d]);
    // dropped unit dimensions leave sizes and strides. The kernels' views
    // are uniform across the CTA (a sequence's K and V rows).
    const MemRefView &source = memrefs[subview.getSource()];
    llvm::SmallBitVector dropped = subview.getDroppedDims();
    auto valueOf = [&](OpFoldResult r, int64_t t) -> int64_t {
      if (auto attr = dyn_cast<Attribute>(r)) {
        return cast<IntegerAttr>(attr).getInt();
      }
      return static_cast<int64_t>(scalar(cast<Value>(r), t));
    };
    SmallVector<OpFoldResult> offsets = subview.getMixedOffsets(),
                              sizes = subview.getMixedSizes(),
                              strides = subview.getMixedStrides();
    std::optional<MemRefView> result;
    if (failed(forEachActive([&](int64_t t) -> LogicalResult {
          MemRefView v{source.buffer, source.offset, {}, {}};
          for (unsigned d = 0; d < source.sizes.size(); ++d) {
            v.offset += valueOf(offsets[d], t) * source.strides[d];
            if (dropped[d]) {
              continue;
            }
            v.sizes.push_back(valueOf(sizes[d], t));
            v.strides.push_back(valueOf(strides[d], t) * source.strides[d]);
          }
          if (result &&
              (result->offset != v.offset || result->sizes != v.sizes)) {
            return fail(op, "a subview that differs between threads");
          }
          result = v;
          return success();
        }))) {
      return failure();
    }
    if (result) {
      memrefs[subview.getResult()] = *result;
    }
    return success();
  }
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    return forEachActive([&](int64_t t) {
      set(dim.getResult(), t,
          {double(memrefs[dim.getSource()]
                      .sizes[int64_t(scalar(dim.getIndex(), t))])});
      return success();
    });
  }
  // A load or store of `count` elements per thread: the address, the race
  // checks, `move` (the data of thread t at element `linear`), and the
  // shared-memory traffic.
  auto access =
      [&](Value memref, ValueRange indices, int64_t count, bool isLoad,
          function_ref<void(int64_t t, SimBuffer *buffer, int64_t linear)> move)
      -> LogicalResult {
    const MemRefView &view = memrefs[memref];
    std::vector<int64_t> linears(numThreads, -1);
    if (failed(forEachActive([&](int64_t t) {
          int64_t &linear = linears[t];
          if (failed(elementAddress(op, view, indices, t, count, linear)) ||
              failed(isLoad ? recordRead(op, view.buffer, linear, count, t)
                            : recordWrite(op, view.buffer, linear, count, t))) {
            return failure();
          }
          move(t, view.buffer, linear);
          return success();
        }))) {
      return failure();
    }
    if (traffic) {
      countSharedAccesses(view.buffer, linears, count,
                          isLoad ? traffic->loads : traffic->stores);
    }
    return success();
  };
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    return access(load.getMemRef(), load.getIndices(), 1, /*isLoad=*/true,
                  [&](int64_t t, SimBuffer *buffer, int64_t linear) {
                    set(load.getResult(), t, {buffer->data[linear]});
                  });
  }
  if (auto store = dyn_cast<memref::StoreOp>(op)) {
    return access(store.getMemRef(), store.getIndices(), 1, /*isLoad=*/false,
                  [&](int64_t t, SimBuffer *buffer, int64_t linear) {
                    buffer->data[linear] =
                        values[store.getValueToStore()][t][0];
                  });
  }
  if (auto load = dyn_cast<vector::LoadOp>(op)) {
    int64_t n = load.getVectorType().getNumElements();
    return access(load.getBase(), load.getIndices(), n, /*isLoad=*/true,
                  [&](int64_t t, SimBuffer *buffer, int64_t linear) {
                    set(load.getResult(), t,
                        Elements(buffer->data.begin() + linear,
                                 buffer->data.begin() + linear + n));
                  });
  }
  if (auto store = dyn_cast<vector::StoreOp>(op)) {
    return access(store.getBase(), store.getIndices(),
                  store.getVectorType().getNumElements(), /*isLoad=*/false,
                  [&](int64_t t, SimBuffer *buffer, int64_t linear) {
                    const Elements &e = values[store.getValueToStore()][t];
                    std::copy(e.begin(), e.end(),
                              buffer->data.begin() + linear);
                  });
  }
  if (auto extract = dyn_cast<vector::ExtractOp>(op)) {
    auto sourceType = cast<VectorType>(extract.getSource().getType());
    int64_t linear = 0, stride = sourceType.getNumElements();
    int64_t count = stride;
    for (auto [dim, position] : llvm::enumerate(extract.getStaticPosition())) {
      stride /= sourceType.getDimSize(dim);
      linear += position * stride;
      count = stride;
    }
    return forEachActive([&](int64_t t) {
      const Elements &in = values[extract.getSource()][t];
      set(extract.getResult(), t,
          Elements(in.begin() + linear, in.begin() + linear + count));
      return success();
    });
  }
  if (auto slice = dyn_cast<vector::ExtractStridedSliceOp>(op)) {
    // Unit strides: the elements of the slice's index box, row-major.
    auto sourceType = cast<VectorType>(slice.getSource().getType());
    SmallVector<int64_t> offsets, sizes;
    for (Attribute a : slice.getOffsets()) {
      offsets.push_back(cast<IntegerAttr>(a).getInt());
    }
    for (Attribute a : slice.getSizes()) {
      sizes.push_back(cast<IntegerAttr>(a).getInt());
    }
    for (Attribute a : slice.getStrides()) {
      if (cast<IntegerAttr>(a).getInt() != 1) {
        return fail(op, "strided slices with non-unit strides");
      }
    }
    ArrayRef<int64_t> shape = sourceType.getShape();
    SmallVector<int64_t> positions;
    SmallVector<int64_t> index(shape.size(), 0);
    int64_t count = slice.getResult().getType().getNumElements();
    for (int64_t n = 0; n < count; ++n) {
      int64_t linear = 0;
      for (size_t d = 0; d < shape.size(); ++d) {
        int64_t at = index[d] + (d < offsets.size() ? offsets[d] : 0);
        linear = linear * shape[d] + at;
      }
      positions.push_back(linear);
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        int64_t size =
            d < static_cast<int64_t>(sizes.size()) ? sizes[d] : shape[d];
        if (++index[d] < size) {
          break;
        }
        index[d] = 0;
      }
    }
    return forEachActive([&](int64_t t) {
      const Elements &in = values[slice.getSource()][t];
      Elements out;
      for (int64_t position : positions) {
        out.push_back(in[position]);
      }
      set(slice.getResult(), t, out);
      return success();
    });
  }
  if (auto from = dyn_cast<vector::FromElementsOp>(op)) {
    return forEachActive([&](int64_t t) {
      Elements e;
      for (Value v : from.getElements()) {
        e.push_back(values[v][t][0]);
      }
      set(from.getResult(), t, e);
      return success();
    });
  }
  // RoPE's even/odd lanes: deinterleave splits, interleave merges.
  if (auto split = dyn_cast<vector::DeinterleaveOp>(op)) {
    return forEachActive([&](int64_t t) {
      const Elements &in = values[split.getSource()][t];
      Elements even, odd;
      for (size_t e = 0; e < in.size(); ++e) {
        (e % 2 ? odd : even).push_back(in[e]);
      }
      set(split.getRes1(), t, even);
      set(split.getRes2(), t, odd);
      return success();
    });
  }
  if (auto merge = dyn_cast<vector::InterleaveOp>(op)) {
    return forEachActive([&](int64_t t) {
      const Elements &lhs = values[merge.getLhs()][t];
      const Elements &rhs = values[merge.getRhs()][t];
      Elements out;
      for (size_t e = 0; e < lhs.size(); ++e) {
        out.push_back(lhs[e]);
        out.push_back(rhs[e]);
      }
      set(merge.getResult(), t, out);
      return success();
    });
  }
  if (auto broadcast = dyn_cast<vector::BroadcastOp>(op)) {
    int64_t n = broadcast.getResultVectorType().getNumElements();
    return forEachActive([&](int64_t t) {
      set(broadcast.getResult(), t,
          Elements(n, values[broadcast.getSource()][t][0]));
      return success();
    });
  }
  if (auto cast = dyn_cast<vector::BitCastOp>(op)) {
    Type from = cast.getSourceVectorType().getElementType();
    Type to = cast.getResultVectorType().getElementType();
    unsigned fromBitsWidth = from.getIntOrFloatBitWidth();
    unsigned toBitsWidth = to.getIntOrFloatBitWidth();
    return forEachActive([&](int64_t t) {
      // Little-endian: concatenate the source elements' bits.
      std::vector<uint8_t> bytes;
      for (double v : values[cast.getSource()][t]) {
        uint32_t bits = bitsOf(from, v);
        for (unsigned b = 0; b < fromBitsWidth / 8; ++b) {
          bytes.push_back((bits >> (8 * b)) & 0xff);
        }
      }
      Elements out;
      for (size_t i = 0; i < bytes.size(); i += toBitsWidth / 8) {
        uint32_t bits = 0;
        for (unsigned b = 0; b < toBitsWidth / 8; ++b) {
          bits |= uint32_t(bytes[i + b]) << (8 * b);
        }
        out.push_back(fromBits(to, bits));
      }
      set(cast.getResult(), t, out);
      return success();
    });
  }
  if (auto extract = dyn_cast<LLVM::ExtractValueOp>(op)) {
    return forEachActive([&](int64_t t) {
      set(extract.getResult(), t,
          {values[extract.getContainer()][t][extract.getPosition()[0]]});
      return success();
    });
  }
  if (op->getNumResults() == 1 && op->getNumOperands() >= 1) {
    return execElementwise(op, mask);
  }
  return fail(op, "operation not supported by the emulator");
}

} // namespace gpu_sim

llvm::Error simulateKernel(gpu::GPUFuncOp kernel, std::vector<SimBuffer *> args,
                           std::array<int64_t, 3> grid, int64_t blockThreads,
                           SharedMemoryTraffic *traffic) {
  for (int64_t z = 0; z < grid[2]; ++z) {
    for (int64_t y = 0; y < grid[1]; ++y) {
      for (int64_t x = 0; x < grid[0]; ++x) {
        gpu_sim::CtaSimulator cta(kernel, args, grid, {x, y, z}, blockThreads,
                                  traffic);
        if (failed(cta.run())) {
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         cta.error);
        }
      }
    }
  }
  return llvm::Error::success();
}

} // namespace attngen
