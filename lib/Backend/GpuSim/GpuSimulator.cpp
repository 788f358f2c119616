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

#include "attngen/Backend/GpuSim/GpuSimulator.h"
#include "attngen/Support/Float16.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <memory>

using namespace mlir;

namespace attngen {
namespace {

constexpr int64_t kWarpSize = 32;
using Elements = SmallVector<double, 8>;
using Mask = std::vector<bool>;

/// A memref value: a buffer, an element offset and strides.
struct MemRefView {
  SimBuffer *buffer = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

double roundTo(Type type, double value) {
  if (type.isF32())
    return static_cast<float>(value);
  if (type.isF16())
    return halfToFloat(floatToHalf(static_cast<float>(value)));
  if (type.isBF16())
    return bfloat16ToFloat(floatToBFloat16(static_cast<float>(value)));
  if (type.isInteger(1))
    return value != 0.0;
  if (type.isInteger(32))
    return static_cast<int32_t>(static_cast<uint32_t>(
        static_cast<int64_t>(value)));
  return static_cast<double>(static_cast<int64_t>(value));
}

uint32_t bitsOf(Type type, double value) {
  if (type.isF32())
    return floatBits(static_cast<float>(value));
  if (type.isF16())
    return floatToHalf(static_cast<float>(value));
  if (type.isBF16())
    return floatToBFloat16(static_cast<float>(value));
  return static_cast<uint32_t>(static_cast<int64_t>(value));
}

double fromBits(Type type, uint32_t bits) {
  if (type.isF32())
    return bitsToFloat(bits);
  if (type.isF16())
    return halfToFloat(static_cast<uint16_t>(bits));
  if (type.isBF16())
    return bfloat16ToFloat(static_cast<uint16_t>(bits));
  if (type.isInteger(16))
    return static_cast<int16_t>(bits);
  return static_cast<int32_t>(bits);
}

class CtaSimulator {
public:
  CtaSimulator(gpu::GPUFuncOp kernel, std::vector<SimBuffer *> &args,
               std::array<int64_t, 3> blockId, int64_t numThreads)
      : kernel(kernel), args(args), blockId(blockId), numThreads(numThreads) {}

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
    if (slot.size() != static_cast<size_t>(numThreads))
      slot.resize(numThreads);
    slot[thread] = std::move(e);
  }

  LogicalResult execBlock(Block &block, const Mask &mask) {
    for (Operation &op : block)
      if (failed(execOp(&op, mask)))
        return failure();
    return success();
  }

  LogicalResult elementAddress(Operation *op, const MemRefView &view,
                               ValueRange indices, int64_t thread,
                               int64_t extent, int64_t &linear) {
    linear = view.offset;
    for (auto [dim, index] : llvm::enumerate(indices)) {
      int64_t i = static_cast<int64_t>(scalar(index, thread));
      int64_t last = dim + 1 == indices.size() ? i + extent - 1 : i;
      if (i < 0 || last >= view.sizes[dim])
        return fail(op, "out-of-bounds access: index " + Twine(i) +
                            (extent > 1 ? "+" + Twine(extent - 1) : Twine("")) +
                            " of dimension " + Twine(dim) + " (size " +
                            Twine(view.sizes[dim]) + ") by thread " +
                            Twine(thread));
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
  std::array<int64_t, 3> blockId;
  int64_t numThreads;
  DenseMap<Value, std::vector<Elements>> values;
  DenseMap<Value, MemRefView> memrefs;
  /// Shared memory: one typed buffer per view offset of this CTA.
  std::map<int64_t, std::unique_ptr<SimBuffer>> shared;

  /// cp.async: copies issued by a thread, grouped by commit; a group's data
  /// becomes visible when a wait retires it. Destinations of copies in
  /// flight are marked, and reading them is an error.
  struct AsyncCopy {
    SimBuffer *buffer;
    int64_t linear;
    Elements data;
  };
  std::vector<std::vector<AsyncCopy>> openCopies;            // per thread
  std::vector<std::deque<std::vector<AsyncCopy>>> committed; // per thread
  DenseMap<SimBuffer *, std::vector<uint16_t>> inFlight;

  LogicalResult checkVisible(Operation *op, SimBuffer *buffer, int64_t linear,
                             int64_t count, int64_t thread) {
    auto it = inFlight.find(buffer);
    if (it == inFlight.end())
      return success();
    for (int64_t i = 0; i < count; ++i)
      if (it->second[linear + i])
        return fail(op, "reads shared memory that a cp.async still in flight "
                        "writes (missing device_async_wait?), thread " +
                            Twine(thread));
    return success();
  }
  LogicalResult execAsync(Operation *op, const Mask &mask);

  /// Shared-memory race and initialization checks. Barriers divide the
  /// execution into epochs; within one, an element written by one warp and
  /// read or written by another is a race (no barrier orders them).
  struct Access {
    int64_t writeEpoch = -1, readEpoch = -1;
    int64_t writeWarp = -1;
    uint64_t readWarps = 0;
    bool written = false;
  };
  DenseMap<SimBuffer *, std::vector<Access>> sharedAccess;
  int64_t epoch = 0;

  LogicalResult recordRead(Operation *op, SimBuffer *buffer, int64_t linear,
                           int64_t count, int64_t thread) {
    if (failed(checkVisible(op, buffer, linear, count, thread)))
      return failure();
    auto it = sharedAccess.find(buffer);
    if (it == sharedAccess.end())
      return success();
    int64_t warp = thread / kWarpSize;
    for (int64_t i = 0; i < count; ++i) {
      Access &a = it->second[linear + i];
      if (!a.written)
        return fail(op, "reads shared memory never written (element " +
                            Twine(linear + i) + "), thread " + Twine(thread));
      if (a.writeEpoch == epoch && a.writeWarp != warp)
        return fail(op, "shared-memory race: element " + Twine(linear + i) +
                            " written by warp " + Twine(a.writeWarp) +
                            " and read by warp " + Twine(warp) +
                            " with no barrier between");
      if (a.readEpoch != epoch) {
        a.readEpoch = epoch;
        a.readWarps = 0;
      }
      a.readWarps |= uint64_t(1) << warp;
    }
    return success();
  }

  LogicalResult recordWrite(Operation *op, SimBuffer *buffer, int64_t linear,
                            int64_t count, int64_t thread) {
    auto it = sharedAccess.find(buffer);
    if (it == sharedAccess.end())
      return success();
    int64_t warp = thread / kWarpSize;
    for (int64_t i = 0; i < count; ++i) {
      Access &a = it->second[linear + i];
      bool otherWriter = a.writeEpoch == epoch && a.writeWarp != warp;
      bool otherReader = a.readEpoch == epoch &&
                         (a.readWarps & ~(uint64_t(1) << warp)) != 0;
      if (otherWriter || otherReader)
        return fail(op, "shared-memory race: element " + Twine(linear + i) +
                            (otherWriter ? " written by warps "
                                         : " read by another warp and written "
                                           "by warp ") +
                            (otherWriter ? Twine(a.writeWarp) + " and " +
                                               Twine(warp)
                                         : Twine(warp)) +
                            " with no barrier between");
      a.writeEpoch = epoch;
      a.writeWarp = warp;
      a.written = true;
    }
    return success();
  }
};

LogicalResult CtaSimulator::execFor(scf::ForOp op, const Mask &mask) {
  Block &body = *op.getBody();
  std::vector<double> iv(numThreads), ub(numThreads), step(numThreads);
  std::vector<Elements> carried[8];
  std::vector<std::vector<Elements>> iter(op.getNumRegionIterArgs(),
                                          std::vector<Elements>(numThreads));
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t])
      continue;
    iv[t] = scalar(op.getLowerBound(), t);
    ub[t] = scalar(op.getUpperBound(), t);
    step[t] = scalar(op.getStep(), t);
    for (auto [i, init] : llvm::enumerate(op.getInitArgs()))
      iter[i][t] = values[init][t];
  }
  for (;;) {
    Mask active(numThreads, false);
    bool any = false;
    for (int64_t t = 0; t < numThreads; ++t)
      any |= active[t] = mask[t] && iv[t] < ub[t];
    if (!any)
      break;
    for (int64_t t = 0; t < numThreads; ++t) {
      if (!active[t])
        continue;
      set(body.getArgument(0), t, {iv[t]});
      for (size_t i = 0; i < iter.size(); ++i)
        set(body.getArgument(i + 1), t, iter[i][t]);
    }
    for (Operation &nested : body.without_terminator())
      if (failed(execOp(&nested, active)))
        return failure();
    auto yield = cast<scf::YieldOp>(body.getTerminator());
    for (int64_t t = 0; t < numThreads; ++t) {
      if (!active[t])
        continue;
      for (auto [i, v] : llvm::enumerate(yield.getOperands()))
        iter[i][t] = values[v][t];
      iv[t] += step[t];
    }
  }
  for (int64_t t = 0; t < numThreads; ++t)
    if (mask[t])
      for (auto [i, result] : llvm::enumerate(op.getResults()))
        set(result, t, iter[i][t]);
  (void)carried;
  return success();
}

LogicalResult CtaSimulator::execIf(scf::IfOp op, const Mask &mask) {
  Mask thenMask(numThreads, false), elseMask(numThreads, false);
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t])
      continue;
    bool cond = scalar(op.getCondition(), t) != 0.0;
    thenMask[t] = cond;
    elseMask[t] = !cond;
  }
  for (auto [region, branchMask] :
       {std::make_pair(&op.getThenRegion(), &thenMask),
        std::make_pair(&op.getElseRegion(), &elseMask)}) {
    if (region->empty() ||
        std::none_of(branchMask->begin(), branchMask->end(),
                     [](bool b) { return b; }))
      continue;
    Block &block = region->front();
    for (Operation &nested : block.without_terminator())
      if (failed(execOp(&nested, *branchMask)))
        return failure();
    auto yield = cast<scf::YieldOp>(block.getTerminator());
    for (int64_t t = 0; t < numThreads; ++t)
      if ((*branchMask)[t])
        for (auto [result, v] : llvm::zip(op.getResults(), yield.getOperands()))
          set(result, t, values[v][t]);
  }
  return success();
}

/// ldmatrix: matrix i's row r is read at the address lane 8i + r gives.
LogicalResult CtaSimulator::execLdMatrix(nvgpu::LdMatrixOp op,
                                         const Mask &mask) {
  const MemRefView &view = memrefs[op.getSrcMemref()];
  int64_t numTiles = op.getNumTiles();
  bool transpose = op.getTranspose();
  for (int64_t warp = 0; warp < numThreads / kWarpSize; ++warp) {
    int64_t base = warp * kWarpSize;
    // rows[i][r][c] of matrix i.
    double rows[4][8][8];
    for (int64_t i = 0; i < numTiles; ++i) {
      for (int64_t r = 0; r < 8; ++r) {
        int64_t lane = base + i * 8 + r;
        if (!mask[lane])
          return fail(op, "ldmatrix with inactive lanes");
        int64_t linear;
        if (failed(elementAddress(op, view, op.getIndices(), lane, 8, linear)) ||
            failed(recordRead(op, view.buffer, linear, 8, lane)))
          return failure();
        for (int64_t c = 0; c < 8; ++c)
          rows[i][r][c] = view.buffer->data[linear + c];
      }
    }
    for (int64_t l = 0; l < kWarpSize; ++l) {
      Elements result;
      for (int64_t i = 0; i < numTiles; ++i)
        for (int64_t k = 0; k < 2; ++k)
          result.push_back(transpose ? rows[i][(l % 4) * 2 + k][l / 4]
                                     : rows[i][l / 4][(l % 4) * 2 + k]);
      set(op.getRes(), base + l, result);
    }
  }
  return success();
}

/// mma.sync m16n8k16: D = A B + C per warp, products exact, sums in f32.
LogicalResult CtaSimulator::execMma(Operation *op, const Mask &mask) {
  bool packed = isa<NVVM::MmaOp>(op); // bf16 pairs in i32 registers
  Type element = Float32Type::get(op->getContext());
  if (packed)
    element = BFloat16Type::get(op->getContext());
  for (int64_t warp = 0; warp < numThreads / kWarpSize; ++warp) {
    int64_t base = warp * kWarpSize;
    double a[16][16], b[16][8], c[16][8];
    for (int64_t l = 0; l < kWarpSize; ++l) {
      int64_t thread = base + l;
      if (!mask[thread])
        return fail(op, "mma.sync with inactive lanes");
      int64_t g = l / 4, t = l % 4;
      Elements av, bv, cv;
      if (!packed) {
        av = values[op->getOperand(0)][thread];
        bv = values[op->getOperand(1)][thread];
        cv = values[op->getOperand(2)][thread];
      } else {
        auto unpack = [&](Value reg, Elements &out) {
          uint32_t bits = static_cast<uint32_t>(
              static_cast<int64_t>(values[reg][thread][0]));
          out.push_back(fromBits(element, bits & 0xffff));
          out.push_back(fromBits(element, bits >> 16));
        };
        for (int64_t i = 0; i < 4; ++i)
          unpack(op->getOperand(i), av);
        for (int64_t i = 4; i < 6; ++i)
          unpack(op->getOperand(i), bv);
        for (int64_t i = 6; i < 10; ++i)
          cv.push_back(values[op->getOperand(i)][thread][0]);
      }
      for (int64_t k = 0; k < 2; ++k) {
        a[g][2 * t + k] = av[0 * 2 + k];
        a[g + 8][2 * t + k] = av[1 * 2 + k];
        a[g][2 * t + 8 + k] = av[2 * 2 + k];
        a[g + 8][2 * t + 8 + k] = av[3 * 2 + k];
        b[2 * t + k][g] = bv[0 * 2 + k];
        b[2 * t + 8 + k][g] = bv[1 * 2 + k];
        c[g][2 * t + k] = cv[0 * 2 + k];
        c[g + 8][2 * t + k] = cv[1 * 2 + k];
      }
    }
    for (int64_t l = 0; l < kWarpSize; ++l) {
      int64_t g = l / 4, t = l % 4;
      Elements d;
      for (int64_t row : {g, g + 8})
        for (int64_t k = 0; k < 2; ++k) {
          double sum = c[row][2 * t + k];
          for (int64_t x = 0; x < 16; ++x)
            sum += a[row][x] * b[x][2 * t + k];
          d.push_back(static_cast<float>(sum));
        }
      set(op->getResult(0), base + l, d);
    }
  }
  return success();
}

/// cp.async (device_async_copy), commit (create_group) and wait.
LogicalResult CtaSimulator::execAsync(Operation *op, const Mask &mask) {
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t])
      continue;
    if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(op)) {
      const MemRefView &dst = memrefs[copy.getDst()];
      const MemRefView &src = memrefs[copy.getSrc()];
      int64_t count = copy.getDstElements().getZExtValue();
      int64_t valid = copy.getSrcElements()
                          ? int64_t(scalar(copy.getSrcElements(), t))
                          : count;
      int64_t dstLinear, srcLinear;
      if (failed(elementAddress(op, dst, copy.getDstIndices(), t, count,
                                dstLinear)))
        return failure();
      Elements data(count, 0.0); // the part past srcElements is zero-filled
      if (valid > 0) {
        if (failed(elementAddress(op, src, copy.getSrcIndices(), t, valid,
                                  srcLinear)))
          return failure();
        for (int64_t i = 0; i < valid; ++i)
          data[i] = src.buffer->data[srcLinear + i];
      }
      // The hardware may write the destination any time from issue to wait:
      // for races, the write happens at issue.
      if (failed(recordWrite(op, dst.buffer, dstLinear, count, t)))
        return failure();
      auto &marks = inFlight[dst.buffer];
      marks.resize(dst.buffer->data.size());
      for (int64_t i = 0; i < count; ++i)
        ++marks[dstLinear + i];
      openCopies[t].push_back({dst.buffer, dstLinear, std::move(data)});
      set(copy.getAsyncToken(), t, {0.0});
    } else if (auto group = dyn_cast<nvgpu::DeviceAsyncCreateGroupOp>(op)) {
      committed[t].push_back(std::move(openCopies[t]));
      openCopies[t].clear();
      set(group.getAsyncToken(), t, {0.0});
    } else {
      auto wait = cast<nvgpu::DeviceAsyncWaitOp>(op);
      size_t keep = wait.getNumGroups() ? *wait.getNumGroups() : 0;
      while (committed[t].size() > keep) {
        for (AsyncCopy &copy : committed[t].front()) {
          auto &marks = inFlight[copy.buffer];
          for (size_t i = 0; i < copy.data.size(); ++i) {
            copy.buffer->data[copy.linear + i] = copy.data[i];
            --marks[copy.linear + i];
          }
        }
        committed[t].pop_front();
      }
    }
  }
  return success();
}

/// Ops that map each thread's operand elements to result elements.
LogicalResult CtaSimulator::execElementwise(Operation *op, const Mask &mask) {
  Type resultType = getElementTypeOrSelf(op->getResult(0).getType());
  Type operandType = getElementTypeOrSelf(op->getOperand(0).getType());
  auto compute = [&](ArrayRef<double> x) -> std::optional<double> {
    double a = x[0], b = x.size() > 1 ? x[1] : 0, c = x.size() > 2 ? x[2] : 0;
    auto i64 = [](double v) { return static_cast<int64_t>(v); };
    return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
        .Case([&](arith::AddFOp) { return a + b; })
        .Case([&](arith::SubFOp) { return a - b; })
        .Case([&](arith::NegFOp) { return -a; })
        .Case([&](arith::MulFOp) { return a * b; })
        .Case([&](arith::DivFOp) { return a / b; })
        .Case([&](arith::MaximumFOp) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
        })
        .Case([&](arith::MinimumFOp) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
        })
        .Case([&](math::Exp2Op) {
          // ex2.approx.f32 on the GPU: f32 precision.
          return static_cast<double>(std::exp2(static_cast<float>(a)));
        })
        .Case([&](math::FmaOp) {
          return static_cast<double>(std::fma(static_cast<float>(a),
                                              static_cast<float>(b),
                                              static_cast<float>(c)));
        })
        .Case([&](arith::AddIOp) { return double(i64(a) + i64(b)); })
        .Case([&](arith::SubIOp) { return double(i64(a) - i64(b)); })
        .Case([&](arith::MulIOp) { return double(i64(a) * i64(b)); })
        .Case([&](arith::DivUIOp) { return double(uint64_t(a) / uint64_t(b)); })
        .Case([&](arith::RemUIOp) { return double(uint64_t(a) % uint64_t(b)); })
        .Case([&](arith::FloorDivSIOp) {
          int64_t q = i64(a) / i64(b);
          return double((i64(a) % i64(b) != 0 && ((i64(a) < 0) != (i64(b) < 0)))
                            ? q - 1
                            : q);
        })
        .Case([&](arith::CeilDivSIOp) {
          int64_t q = i64(a) / i64(b);
          return double((i64(a) % i64(b) != 0 && ((i64(a) < 0) == (i64(b) < 0)))
                            ? q + 1
                            : q);
        })
        .Case([&](arith::MinSIOp) { return double(std::min(i64(a), i64(b))); })
        .Case([&](arith::MaxSIOp) { return double(std::max(i64(a), i64(b))); })
        .Case([&](arith::AndIOp) { return double(i64(a) & i64(b)); })
        .Case([&](arith::OrIOp) { return double(i64(a) | i64(b)); })
        .Case([&](arith::ShLIOp) { return double(i64(a) << i64(b)); })
        .Case([&](arith::ShRUIOp) {
          return double(static_cast<uint32_t>(i64(a)) >> i64(b));
        })
        .Case([&](arith::SelectOp) { return a != 0 ? b : c; })
        .Case([&](arith::CmpIOp cmp) -> std::optional<double> {
          int64_t x = i64(a), y = i64(b);
          switch (cmp.getPredicate()) {
          case arith::CmpIPredicate::eq:
            return x == y;
          case arith::CmpIPredicate::ne:
            return x != y;
          case arith::CmpIPredicate::slt:
            return x < y;
          case arith::CmpIPredicate::sle:
            return x <= y;
          case arith::CmpIPredicate::sgt:
            return x > y;
          case arith::CmpIPredicate::sge:
            return x >= y;
          case arith::CmpIPredicate::ult:
            return uint64_t(x) < uint64_t(y);
          case arith::CmpIPredicate::ule:
            return uint64_t(x) <= uint64_t(y);
          case arith::CmpIPredicate::ugt:
            return uint64_t(x) > uint64_t(y);
          case arith::CmpIPredicate::uge:
            return uint64_t(x) >= uint64_t(y);
          }
          return std::nullopt;
        })
        .Case([&](arith::CmpFOp cmp) -> std::optional<double> {
          bool ordered = !std::isnan(a) && !std::isnan(b);
          switch (cmp.getPredicate()) {
          case arith::CmpFPredicate::OEQ:
            return ordered && a == b;
          case arith::CmpFPredicate::OGT:
            return ordered && a > b;
          case arith::CmpFPredicate::OGE:
            return ordered && a >= b;
          case arith::CmpFPredicate::OLT:
            return ordered && a < b;
          case arith::CmpFPredicate::OLE:
            return ordered && a <= b;
          case arith::CmpFPredicate::ONE:
            return ordered && a != b;
          case arith::CmpFPredicate::UEQ:
            return !ordered || a == b;
          case arith::CmpFPredicate::UGT:
            return !ordered || a > b;
          case arith::CmpFPredicate::UGE:
            return !ordered || a >= b;
          case arith::CmpFPredicate::ULT:
            return !ordered || a < b;
          case arith::CmpFPredicate::ULE:
            return !ordered || a <= b;
          case arith::CmpFPredicate::UNE:
            return !ordered || a != b;
          case arith::CmpFPredicate::ORD:
            return ordered;
          case arith::CmpFPredicate::UNO:
            return !ordered;
          case arith::CmpFPredicate::AlwaysTrue:
            return 1.0;
          case arith::CmpFPredicate::AlwaysFalse:
            return 0.0;
          }
          return std::nullopt;
        })
        .Case([&](arith::TruncFOp) { return a; })
        .Case([&](arith::ExtFOp) { return a; })
        // Integers are kept sign-extended (i1 as 0 or 1) and results wrap
        // to their width (roundTo): narrowing is that wrap.
        .Case<arith::IndexCastOp, arith::TruncIOp>(
            [&](Operation *) { return a; })
        .Case([&](arith::ExtSIOp) { return operandType.isInteger(1) ? -a : a; })
        .Case<arith::IndexCastUIOp, arith::ExtUIOp>([&](Operation *) {
          auto integer = dyn_cast<IntegerType>(operandType);
          if (!integer || integer.getWidth() >= 64)
            return a;
          uint64_t low =
              uint64_t(i64(a)) & ((uint64_t(1) << integer.getWidth()) - 1);
          return double(low);
        })
        .Case([&](arith::SIToFPOp) { return a; })
        .Case([&](arith::FPToSIOp) { return std::trunc(a); })
        .Case([&](arith::BitcastOp) {
          return fromBits(resultType, bitsOf(operandType, a));
        })
        .Default([](Operation *) { return std::nullopt; });
  };
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t])
      continue;
    size_t count = values[op->getOperand(0)][t].size();
    // A select's condition may be a scalar over vector operands.
    for (Value operand : op->getOperands())
      count = std::max(count, values[operand][t].size());
    Elements out;
    for (size_t e = 0; e < count; ++e) {
      SmallVector<double, 3> x;
      for (Value operand : op->getOperands()) {
        const Elements &in = values[operand][t];
        x.push_back(in.size() == 1 ? in[0] : in[e]);
      }
      std::optional<double> r = compute(x);
      if (!r)
        return fail(op, "unsupported operation or predicate");
      out.push_back(roundTo(resultType, *r));
    }
    set(op->getResult(0), t, out);
  }
  return success();
}

LogicalResult CtaSimulator::execOp(Operation *op, const Mask &mask) {
  auto forEachActive = [&](auto fn) -> LogicalResult {
    for (int64_t t = 0; t < numThreads; ++t)
      if (mask[t] && failed(fn(t)))
        return failure();
    return success();
  };
  if (auto loop = dyn_cast<scf::ForOp>(op))
    return execFor(loop, mask);
  if (auto branch = dyn_cast<scf::IfOp>(op))
    return execIf(branch, mask);
  if (auto ld = dyn_cast<nvgpu::LdMatrixOp>(op))
    return execLdMatrix(ld, mask);
  if (isa<nvgpu::MmaSyncOp, NVVM::MmaOp>(op))
    return execMma(op, mask);
  if (isa<nvgpu::DeviceAsyncCopyOp, nvgpu::DeviceAsyncCreateGroupOp,
          nvgpu::DeviceAsyncWaitOp>(op))
    return execAsync(op, mask);
  if (isa<gpu::ReturnOp, scf::YieldOp>(op))
    return success();
  if (isa<gpu::BarrierOp>(op)) {
    if (!std::all_of(mask.begin(), mask.end(), [](bool b) { return b; }))
      return fail(op, "barrier not reached by all threads of the CTA");
    ++epoch;
    return success();
  }
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    Elements e;
    Attribute value = constant.getValue();
    if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      Type elementType = dense.getElementType();
      if (isa<FloatType>(elementType))
        for (APFloat f : dense.getValues<APFloat>())
          e.push_back(f.convertToDouble());
      else
        for (APInt i : dense.getValues<APInt>())
          e.push_back(elementType.isInteger(1) ? double(i.getBoolValue())
                                               : double(i.getSExtValue()));
    } else if (auto f = dyn_cast<FloatAttr>(value)) {
      e.push_back(f.getValueAsDouble());
    } else if (auto i = dyn_cast<IntegerAttr>(value)) {
      e.push_back(i.getType().isInteger(1) ? double(i.getValue().getBoolValue())
                                           : double(i.getValue().getSExtValue()));
    } else {
      return fail(op, "unsupported constant");
    }
    return forEachActive([&](int64_t t) {
      set(constant.getResult(), t, e);
      return success();
    });
  }
  if (auto id = dyn_cast<gpu::BlockIdOp>(op))
    return forEachActive([&](int64_t t) {
      set(id.getResult(), t, {double(blockId[int(id.getDimension())])});
      return success();
    });
  if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
    return forEachActive([&](int64_t t) {
      set(id.getResult(), t,
          {id.getDimension() == gpu::Dimension::x ? double(t) : 0.0});
      return success();
    });
  if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
    if (shuffle.getMode() != gpu::ShuffleMode::XOR)
      return fail(op, "only xor shuffles are emulated");
    return forEachActive([&](int64_t t) {
      int64_t offset = int64_t(scalar(shuffle.getOffset(), t));
      int64_t source = (t & ~(kWarpSize - 1)) | ((t % kWarpSize) ^ offset);
      if (!mask[source])
        return fail(op, "shuffle reads an inactive lane");
      set(shuffle.getShuffleResult(), t, values[shuffle.getValue()][source]);
      set(shuffle.getValid(), t, {1.0});
      return success();
    });
  }
  if (auto vote = dyn_cast<NVVM::VoteSyncOp>(op)) {
    if (vote.getKind() != NVVM::VoteSyncKind::any &&
        vote.getKind() != NVVM::VoteSyncKind::all)
      return fail(op, "only vote.sync any and all are emulated");
    bool isAny = vote.getKind() == NVVM::VoteSyncKind::any;
    return forEachActive([&](int64_t t) {
      uint32_t lanes = uint32_t(int64_t(scalar(vote.getMask(), t)));
      int64_t warpBase = t & ~(kWarpSize - 1);
      bool result = !isAny;
      for (int64_t lane = 0; lane < kWarpSize; ++lane) {
        if (!(lanes >> lane & 1))
          continue;
        if (!mask[warpBase + lane])
          return fail(op, "vote.sync waits for an inactive lane");
        bool predicate = scalar(vote.getPred(), warpBase + lane) != 0;
        result = isAny ? result || predicate : result && predicate;
      }
      set(vote.getRes(), t, {double(result)});
      return success();
    });
  }
  if (isa<gpu::DynamicSharedMemoryOp>(op))
    return success();
  if (auto view = dyn_cast<memref::ViewOp>(op)) {
    int64_t offset = int64_t(scalar(view.getByteShift(), 0));
    auto type = view.getType();
    auto &buffer = shared[offset];
    if (!buffer) {
      buffer = std::make_unique<SimBuffer>();
      buffer->elementType = type.getElementType();
      buffer->shape.assign(type.getShape().begin(), type.getShape().end());
      buffer->data.assign(type.getNumElements(), NAN);
      sharedAccess[buffer.get()].resize(type.getNumElements());
    }
    MemRefView v{buffer.get(), 0, buffer->shape, {}};
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
      if (auto attr = dyn_cast<Attribute>(r))
        return cast<IntegerAttr>(attr).getInt();
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
            if (dropped[d])
              continue;
            v.sizes.push_back(valueOf(sizes[d], t));
            v.strides.push_back(valueOf(strides[d], t) * source.strides[d]);
          }
          if (result &&
              (result->offset != v.offset || result->sizes != v.sizes))
            return fail(op, "a subview that differs between threads");
          result = v;
          return success();
        })))
      return failure();
    if (result)
      memrefs[subview.getResult()] = *result;
    return success();
  }
  if (auto dim = dyn_cast<memref::DimOp>(op))
    return forEachActive([&](int64_t t) {
      set(dim.getResult(), t,
          {double(memrefs[dim.getSource()]
                       .sizes[int64_t(scalar(dim.getIndex(), t))])});
      return success();
    });
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    const MemRefView &view = memrefs[load.getMemRef()];
    return forEachActive([&](int64_t t) {
      int64_t linear;
      if (failed(elementAddress(op, view, load.getIndices(), t, 1, linear)) ||
          failed(recordRead(op, view.buffer, linear, 1, t)))
        return failure();
      set(load.getResult(), t, {view.buffer->data[linear]});
      return success();
    });
  }
  if (auto store = dyn_cast<memref::StoreOp>(op)) {
    const MemRefView &view = memrefs[store.getMemRef()];
    return forEachActive([&](int64_t t) {
      int64_t linear;
      if (failed(elementAddress(op, view, store.getIndices(), t, 1, linear)) ||
          failed(recordWrite(op, view.buffer, linear, 1, t)))
        return failure();
      view.buffer->data[linear] = values[store.getValueToStore()][t][0];
      return success();
    });
  }
  if (auto load = dyn_cast<vector::LoadOp>(op)) {
    const MemRefView &view = memrefs[load.getBase()];
    int64_t n = load.getVectorType().getNumElements();
    return forEachActive([&](int64_t t) {
      int64_t linear;
      if (failed(elementAddress(op, view, load.getIndices(), t, n, linear)) ||
          failed(recordRead(op, view.buffer, linear, n, t)))
        return failure();
      Elements e(view.buffer->data.begin() + linear,
                 view.buffer->data.begin() + linear + n);
      set(load.getResult(), t, e);
      return success();
    });
  }
  if (auto store = dyn_cast<vector::StoreOp>(op)) {
    const MemRefView &view = memrefs[store.getBase()];
    return forEachActive([&](int64_t t) {
      const Elements &e = values[store.getValueToStore()][t];
      int64_t linear;
      if (failed(elementAddress(op, view, store.getIndices(), t,
                                int64_t(e.size()), linear)) ||
          failed(recordWrite(op, view.buffer, linear, int64_t(e.size()), t)))
        return failure();
      std::copy(e.begin(), e.end(), view.buffer->data.begin() + linear);
      return success();
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
    for (Attribute a : slice.getOffsets())
      offsets.push_back(cast<IntegerAttr>(a).getInt());
    for (Attribute a : slice.getSizes())
      sizes.push_back(cast<IntegerAttr>(a).getInt());
    for (Attribute a : slice.getStrides())
      if (cast<IntegerAttr>(a).getInt() != 1)
        return fail(op, "strided slices with non-unit strides");
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
        if (++index[d] < size)
          break;
        index[d] = 0;
      }
    }
    return forEachActive([&](int64_t t) {
      const Elements &in = values[slice.getSource()][t];
      Elements out;
      for (int64_t position : positions)
        out.push_back(in[position]);
      set(slice.getResult(), t, out);
      return success();
    });
  }
  if (auto from = dyn_cast<vector::FromElementsOp>(op))
    return forEachActive([&](int64_t t) {
      Elements e;
      for (Value v : from.getElements())
        e.push_back(values[v][t][0]);
      set(from.getResult(), t, e);
      return success();
    });
  // RoPE's even/odd lanes: deinterleave splits, interleave merges.
  if (auto split = dyn_cast<vector::DeinterleaveOp>(op))
    return forEachActive([&](int64_t t) {
      const Elements &in = values[split.getSource()][t];
      Elements even, odd;
      for (size_t e = 0; e < in.size(); ++e)
        (e % 2 ? odd : even).push_back(in[e]);
      set(split.getRes1(), t, even);
      set(split.getRes2(), t, odd);
      return success();
    });
  if (auto merge = dyn_cast<vector::InterleaveOp>(op))
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
        for (unsigned b = 0; b < fromBitsWidth / 8; ++b)
          bytes.push_back((bits >> (8 * b)) & 0xff);
      }
      Elements out;
      for (size_t i = 0; i < bytes.size(); i += toBitsWidth / 8) {
        uint32_t bits = 0;
        for (unsigned b = 0; b < toBitsWidth / 8; ++b)
          bits |= uint32_t(bytes[i + b]) << (8 * b);
        out.push_back(fromBits(to, bits));
      }
      set(cast.getResult(), t, out);
      return success();
    });
  }
  if (auto extract = dyn_cast<LLVM::ExtractValueOp>(op))
    return forEachActive([&](int64_t t) {
      set(extract.getResult(), t,
          {values[extract.getContainer()][t][extract.getPosition()[0]]});
      return success();
    });
  if (op->getNumResults() == 1 && op->getNumOperands() >= 1)
    return execElementwise(op, mask);
  return fail(op, "operation not supported by the emulator");
}

} // namespace

llvm::Error simulateKernel(gpu::GPUFuncOp kernel, std::vector<SimBuffer *> args,
                           std::array<int64_t, 3> grid, int64_t blockThreads) {
  for (int64_t z = 0; z < grid[2]; ++z)
    for (int64_t y = 0; y < grid[1]; ++y)
      for (int64_t x = 0; x < grid[0]; ++x) {
        CtaSimulator cta(kernel, args, {x, y, z}, blockThreads);
        if (failed(cta.run()))
          return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                         cta.error);
      }
  return llvm::Error::success();
}

} // namespace attngen
