//===- WarpOps.cpp - ldmatrix and mma.sync in the emulator ----------------===//
//
// Warp-level ops that gather from and scatter to the 32 lanes of a warp
// with the PTX ISA's fragment layouts (GpuSimulator.cpp).
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace attngen::gpu_sim {

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
      std::array<int64_t, 8> addresses;
      for (int64_t r = 0; r < 8; ++r) {
        int64_t lane = base + i * 8 + r;
        if (!mask[lane]) {
          return fail(op, "ldmatrix with inactive lanes");
        }
        int64_t linear;
        if (failed(
                elementAddress(op, view, op.getIndices(), lane, 8, linear)) ||
            failed(recordRead(op, view.buffer, linear, 8, lane))) {
          return failure();
        }
        for (int64_t c = 0; c < 8; ++c) {
          rows[i][r][c] = view.buffer->data[linear + c];
        }
        addresses[r] = sharedByteAddress(view.buffer, linear);
      }
      if (traffic) {
        countLdMatrixPhase(addresses);
      }
    }
    for (int64_t l = 0; l < kWarpSize; ++l) {
      Elements result;
      for (int64_t i = 0; i < numTiles; ++i) {
        for (int64_t k = 0; k < 2; ++k) {
          result.push_back(transpose ? rows[i][(l % 4) * 2 + k][l / 4]
                                     : rows[i][l / 4][(l % 4) * 2 + k]);
        }
      }
      set(op.getRes(), base + l, result);
    }
  }
  return success();
}

/// mma.sync m16n8k16: D = A B + C per warp, products exact, sums in f32.
LogicalResult CtaSimulator::execMma(Operation *op, const Mask &mask) {
  bool packed = isa<NVVM::MmaOp>(op); // bf16 pairs in i32 registers
  Type element = Float32Type::get(op->getContext());
  if (packed) {
    element = BFloat16Type::get(op->getContext());
  }
  for (int64_t warp = 0; warp < numThreads / kWarpSize; ++warp) {
    int64_t base = warp * kWarpSize;
    double a[16][16], b[16][8], c[16][8];
    for (int64_t l = 0; l < kWarpSize; ++l) {
      int64_t thread = base + l;
      if (!mask[thread]) {
        return fail(op, "mma.sync with inactive lanes");
      }
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
        for (int64_t i = 0; i < 4; ++i) {
          unpack(op->getOperand(i), av);
        }
        for (int64_t i = 4; i < 6; ++i) {
          unpack(op->getOperand(i), bv);
        }
        for (int64_t i = 6; i < 10; ++i) {
          cv.push_back(values[op->getOperand(i)][thread][0]);
        }
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
      for (int64_t row : {g, g + 8}) {
        for (int64_t k = 0; k < 2; ++k) {
          double sum = c[row][2 * t + k];
          for (int64_t x = 0; x < 16; ++x) {
            sum += a[row][x] * b[x][2 * t + k];
          }
          d.push_back(static_cast<float>(sum));
        }
      }
      set(op->getResult(0), base + l, d);
    }
  }
  return success();
}

} // namespace attngen::gpu_sim
