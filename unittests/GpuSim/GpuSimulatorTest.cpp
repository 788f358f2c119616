//===- GpuSimulatorTest.cpp - the GPU emulator against plain loops --------===//

#include "attngen/Backend/GpuSim/GpuSimulator.h"
#include "attngen/InitAllDialects.h"
#include "attngen/Support/Float16.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

#include <random>
#include <tuple>

using namespace mlir;
using attngen::SimBuffer;

namespace {

class GpuSimulatorTest : public ::testing::Test {
protected:
  GpuSimulatorTest() {
    DialectRegistry registry;
    attngen::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  gpu::GPUFuncOp parseKernel(const char *source) {
    module = parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << "kernel does not parse";
    gpu::GPUFuncOp kernel;
    if (module) {
      module->walk([&](gpu::GPUFuncOp f) { kernel = f; });
    }
    return kernel;
  }

  MLIRContext context;
  OwningOpRef<ModuleOp> module;
};

/// `source` with every occurrence of each placeholder replaced by its text.
std::string withPlaceholders(
    const char *source,
    std::initializer_list<std::pair<std::string, std::string>> replacements) {
  std::string text = source;
  for (const auto &[placeholder, replacement] : replacements) {
    for (size_t at = text.find(placeholder); at != std::string::npos;
         at = text.find(placeholder, at + replacement.size())) {
      text.replace(at, placeholder.size(), replacement);
    }
  }
  return text;
}

/// Expects `error` to be set, with `message` in its text.
void expectErrorContaining(llvm::Error error, llvm::StringRef message) {
  ASSERT_TRUE(static_cast<bool>(error)) << "expected: " << message.str();
  std::string text = llvm::toString(std::move(error));
  EXPECT_NE(text.find(message.str()), std::string::npos) << text;
}

/// One warp: A (16x16) and B^T (8x16) staged in shared memory, loaded with
/// ldmatrix (x4 for A, x2 for B from rows of B^T), multiplied with one
/// mma.sync, and C (16x8) written back from the accumulator fragments.
const char *kMmaKernel = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @mma(%a: memref<16x16xf16>, %bt: memref<8x16xf16>, %c: memref<16x8xf32>) kernel {
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %c16 = arith.constant 16 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %as = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16x16xf16, #gpu.address_space<workgroup>>
    %off = arith.constant 512 : index
    %bs = memref.view %smem[%off][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<8x16xf16, #gpu.address_space<workgroup>>
    // Stage A and B^T: each lane copies whole rows.
    scf.for %r = %tid to %c16 step %c16 {
      scf.for %k = %c0 to %c16 step %c8 {
        %v = vector.load %a[%r, %k] : memref<16x16xf16>, vector<8xf16>
        vector.store %v, %as[%r, %k] : memref<16x16xf16, #gpu.address_space<workgroup>>, vector<8xf16>
      }
    }
    scf.for %r = %tid to %c8 step %c16 {
      scf.for %k = %c0 to %c16 step %c8 {
        %v = vector.load %bt[%r, %k] : memref<8x16xf16>, vector<8xf16>
        vector.store %v, %bs[%r, %k] : memref<8x16xf16, #gpu.address_space<workgroup>>, vector<8xf16>
      }
    }
    gpu.barrier
    // A: row lane % 16, column (lane / 16) * 8; B: row lane % 8, column
    // ((lane / 8) % 2) * 8.
    %arow = arith.remui %tid, %c16 : index
    %acol0 = arith.divui %tid, %c16 : index
    %acol = arith.muli %acol0, %c8 : index
    %afrag = nvgpu.ldmatrix %as[%arow, %acol] {numTiles = 4 : i32, transpose = false} : memref<16x16xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
    %brow = arith.remui %tid, %c8 : index
    %bcol0 = arith.divui %tid, %c8 : index
    %bcol1 = arith.remui %bcol0, %c2 : index
    %bcol = arith.muli %bcol1, %c8 : index
    %bfrag = nvgpu.ldmatrix %bs[%brow, %bcol] {numTiles = 2 : i32, transpose = false} : memref<8x16xf16, #gpu.address_space<workgroup>> -> vector<2x2xf16>
    %zero = arith.constant dense<0.0> : vector<2x2xf32>
    %d = nvgpu.mma.sync(%afrag, %bfrag, %zero) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
    // C[g][2t + j] = d[0][j], C[g + 8][2t + j] = d[1][j].
    %g = arith.divui %tid, %c4 : index
    %t = arith.remui %tid, %c4 : index
    %col = arith.muli %t, %c2 : index
    %c1 = arith.constant 1 : index
    %colp = arith.addi %col, %c1 : index
    %g8 = arith.addi %g, %c8 : index
    %d00 = vector.extract %d[0, 0] : f32 from vector<2x2xf32>
    %d01 = vector.extract %d[0, 1] : f32 from vector<2x2xf32>
    %d10 = vector.extract %d[1, 0] : f32 from vector<2x2xf32>
    %d11 = vector.extract %d[1, 1] : f32 from vector<2x2xf32>
    memref.store %d00, %c[%g, %col] : memref<16x8xf32>
    memref.store %d01, %c[%g, %colp] : memref<16x8xf32>
    memref.store %d10, %c[%g8, %col] : memref<16x8xf32>
    memref.store %d11, %c[%g8, %colp] : memref<16x8xf32>
    gpu.return
  }
}
}
)mlir";

TEST_F(GpuSimulatorTest, LdMatrixAndMmaFragmentsComputeAPlainMatmul) {
  gpu::GPUFuncOp kernel = parseKernel(kMmaKernel);
  ASSERT_TRUE(kernel);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> small(-8, 8);
  Type f16 = Float16Type::get(&context), f32 = Float32Type::get(&context);
  // Small integers are exact in f16 and their products and sums in f32.
  SimBuffer a{f16, {16, 16}, std::vector<double>(256)};
  SimBuffer bt{f16, {8, 16}, std::vector<double>(128)};
  SimBuffer c{f32, {16, 8}, std::vector<double>(128, NAN)};
  for (double &x : a.data) {
    x = small(rng);
  }
  for (double &x : bt.data) {
    x = small(rng);
  }
  ASSERT_FALSE(static_cast<bool>(
      attngen::simulateKernel(kernel, {&a, &bt, &c}, {1, 1, 1}, 32)));
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      double expected = 0;
      for (int k = 0; k < 16; ++k) {
        expected += a.data[i * 16 + k] * bt.data[j * 16 + k];
      }
      EXPECT_EQ(c.data[i * 8 + j], expected) << i << "," << j;
    }
  }
}

TEST_F(GpuSimulatorTest, ReportsOutOfBoundsAccesses) {
  gpu::GPUFuncOp kernel = parseKernel(R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @oob(%out: memref<32xf32>) kernel {
    %tid = gpu.thread_id x
    %c1 = arith.constant 1 : index
    %i = arith.addi %tid, %c1 : index
    %x = arith.constant 1.0 : f32
    memref.store %x, %out[%i] : memref<32xf32>
    gpu.return
  }
}
}
)mlir");
  ASSERT_TRUE(kernel);
  SimBuffer out{Float32Type::get(&context), {32}, std::vector<double>(32)};
  llvm::Error error = attngen::simulateKernel(kernel, {&out}, {1, 1, 1}, 32);
  expectErrorContaining(std::move(error),
                        "out-of-bounds access: index 32 of dimension 0 (size "
                        "32) by thread 31");
}

TEST_F(GpuSimulatorTest, ReportsBarriersNotReachedByAllThreads) {
  gpu::GPUFuncOp kernel = parseKernel(R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @divergent(%out: memref<64xf32>) kernel {
    %tid = gpu.thread_id x
    %c32 = arith.constant 32 : index
    %first = arith.cmpi slt, %tid, %c32 : index
    scf.if %first {
      gpu.barrier
    }
    gpu.return
  }
}
}
)mlir");
  ASSERT_TRUE(kernel);
  SimBuffer out{Float32Type::get(&context), {64}, std::vector<double>(64)};
  llvm::Error error = attngen::simulateKernel(kernel, {&out}, {1, 1, 1}, 64);
  expectErrorContaining(std::move(error),
                        "barrier not reached by all threads of the CTA");
}

/// A cp.async whose data is read before any cp.async.wait_group retires it.
const char *kMissingWaitKernel = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @nowait(%in: memref<32x8xf16>, %out: memref<32x8xf16>) kernel {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32x8xf16, #gpu.address_space<workgroup>>
    %t = nvgpu.device_async_copy %in[%tid, %c0], %tile[%tid, %c0], 8 : memref<32x8xf16> to memref<32x8xf16, #gpu.address_space<workgroup>>
    nvvm.cp.async.commit.group
    WAIT
    gpu.barrier
    %v = vector.load %tile[%tid, %c0] : memref<32x8xf16, #gpu.address_space<workgroup>>, vector<8xf16>
    vector.store %v, %out[%tid, %c0] : memref<32x8xf16>, vector<8xf16>
    gpu.return
  }
}
}
)mlir";

TEST_F(GpuSimulatorTest, CpAsyncDataIsVisibleOnlyAfterTheWait) {
  Type f16 = Float16Type::get(&context);
  for (bool withWait : {true, false}) {
    std::string source = withPlaceholders(
        kMissingWaitKernel,
        {{"WAIT", withWait ? "nvvm.cp.async.wait.group 0" : ""}});
    gpu::GPUFuncOp kernel = parseKernel(source.c_str());
    ASSERT_TRUE(kernel);
    SimBuffer in{f16, {32, 8}, std::vector<double>(256)};
    for (int i = 0; i < 256; ++i) {
      in.data[i] = i % 17;
    }
    SimBuffer out{f16, {32, 8}, std::vector<double>(256, -1)};
    llvm::Error error =
        attngen::simulateKernel(kernel, {&in, &out}, {1, 1, 1}, 32);
    if (withWait) {
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error));
      EXPECT_EQ(out.data, in.data);
    } else {
      expectErrorContaining(std::move(error),
                            "reads shared memory that a cp.async still in "
                            "flight writes (missing cp.async.wait_group?)");
    }
  }
}

/// Warp 0 writes shared memory that warp 1 reads: a race without the
/// barrier, fine with it.
const char *kRacyKernel = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @racy(%out: memref<64xf32>) kernel {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %c64 = arith.constant 64 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %buf = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %x = arith.index_cast %tid : index to i32
    %f = arith.sitofp %x : i32 to f32
    memref.store %f, %buf[%tid] : memref<64xf32, #gpu.address_space<workgroup>>
    BARRIER
    // Each thread reads its neighbour across the warp boundary.
    %plus = arith.addi %tid, %c32 : index
    %other = arith.remui %plus, %c64 : index
    %v = memref.load %buf[%other] : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %v, %out[%tid] : memref<64xf32>
    gpu.return
  }
}
}
)mlir";

TEST_F(GpuSimulatorTest, ReportsSharedMemoryRacesBetweenWarps) {
  for (bool withBarrier : {true, false}) {
    std::string source = withPlaceholders(
        kRacyKernel, {{"BARRIER", withBarrier ? "gpu.barrier" : ""}});
    gpu::GPUFuncOp kernel = parseKernel(source.c_str());
    ASSERT_TRUE(kernel);
    SimBuffer out{Float32Type::get(&context), {64}, std::vector<double>(64)};
    llvm::Error error = attngen::simulateKernel(kernel, {&out}, {1, 1, 1}, 64);
    if (withBarrier) {
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error));
      for (int t = 0; t < 64; ++t) {
        EXPECT_EQ(out.data[t], (t + 32) % 64);
      }
    } else {
      expectErrorContaining(std::move(error),
                            "shared-memory race: byte 128 written by warp 1 "
                            "and read by warp 0 with no barrier between");
    }
  }
}

TEST_F(GpuSimulatorTest, ReportsReadsOfSharedMemoryNeverWritten) {
  gpu::GPUFuncOp kernel = parseKernel(R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @uninit(%out: memref<32xf32>) kernel {
    %c0 = arith.constant 0 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %buf = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32xf32, #gpu.address_space<workgroup>>
    %v = memref.load %buf[%tid] : memref<32xf32, #gpu.address_space<workgroup>>
    memref.store %v, %out[%tid] : memref<32xf32>
    gpu.return
  }
}
}
)mlir");
  ASSERT_TRUE(kernel);
  SimBuffer out{Float32Type::get(&context), {32}, std::vector<double>(32)};
  llvm::Error error = attngen::simulateKernel(kernel, {&out}, {1, 1, 1}, 32);
  expectErrorContaining(std::move(error),
                        "reads shared memory never written (byte 0), thread 0");
}

/// Overlapping views at different byte offsets, as the O tile lies over the
/// K and V buffers: a 32x8 f16 K tile at byte 512 (bytes [512, 1024)),
/// filled by cp.async a row per thread, then after WAIT a 32x8 f32 O tile
/// at byte 0 (bytes [0, 1024); thread 16's row is the first over K's)
/// stored a row per thread and read back through a view at OTILE (byte 0,
/// or byte 4: bytes the view at byte 0 wrote last).
const char *kOverlappingViewsKernel = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @overlap(%in: memref<32x8xf16>, %out: memref<32x8xf32>) kernel {
    %c0 = arith.constant 0 : index
    %c512 = arith.constant 512 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %k = memref.view %smem[%c512][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32x8xf16, #gpu.address_space<workgroup>>
    %t = nvgpu.device_async_copy %in[%tid, %c0], %k[%tid, %c0], 8 : memref<32x8xf16> to memref<32x8xf16, #gpu.address_space<workgroup>>
    nvvm.cp.async.commit.group
    WAIT
    %o = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32x8xf32, #gpu.address_space<workgroup>>
    %one = arith.constant dense<1.0> : vector<8xf32>
    vector.store %one, %o[%tid, %c0] : memref<32x8xf32, #gpu.address_space<workgroup>>, vector<8xf32>
    %at = arith.constant OTILE : index
    %read = memref.view %smem[%at][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<32x8xf32, #gpu.address_space<workgroup>>
    %v = vector.load %read[%tid, %c0] : memref<32x8xf32, #gpu.address_space<workgroup>>, vector<8xf32>
    vector.store %v, %out[%tid, %c0] : memref<32x8xf32>, vector<8xf32>
    gpu.return
  }
}
}
)mlir";

/// Shared memory is checked by address across views: a store through one
/// view over bytes that a cp.async through another still writes fails, and
/// so does a read of bytes that another view wrote last (the emulator keeps
/// each view's data apart, so it would read stale values).
TEST_F(GpuSimulatorTest, ChecksOverlappingSharedViewsByAddress) {
  struct Case {
    const char *wait, *readOffset, *error;
  } cases[] = {
      {"nvvm.cp.async.wait.group 0", "0", nullptr},
      {"", "0",
       "store overwrites shared memory that a cp.async still in flight "
       "writes (missing cp.async.wait_group?), byte 512, thread 16"},
      {"nvvm.cp.async.wait.group 0", "4",
       "reads shared byte 4 through the view at byte 4, last written "
       "through the view at byte 0 (overlapping views), thread 0"},
  };
  Type f16 = Float16Type::get(&context), f32 = Float32Type::get(&context);
  for (const Case &c : cases) {
    std::string source = withPlaceholders(
        kOverlappingViewsKernel, {{"WAIT", c.wait}, {"OTILE", c.readOffset}});
    gpu::GPUFuncOp kernel = parseKernel(source.c_str());
    ASSERT_TRUE(kernel);
    SimBuffer in{f16, {32, 8}, std::vector<double>(256, 2)};
    SimBuffer out{f32, {32, 8}, std::vector<double>(256, -1)};
    llvm::Error error =
        attngen::simulateKernel(kernel, {&in, &out}, {1, 1, 1}, 32);
    if (!c.error) {
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error));
      EXPECT_EQ(out.data, std::vector<double>(256, 1));
      continue;
    }
    expectErrorContaining(std::move(error), c.error);
  }
}

/// A shared view past the dynamic shared memory the kernel declares
/// (attn.shared_memory_bytes, what the launch allocates) is an error, not a
/// buffer of its own.
TEST_F(GpuSimulatorTest, ReportsViewsPastTheDeclaredSharedMemory) {
  for (int64_t declared : {1024, 1023}) {
    std::string source = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @k(%out: memref<32xf16>) kernel attributes {attn.shared_memory_bytes = )mlir" +
                         std::to_string(declared) + R"mlir( : i64} {
    %c512 = arith.constant 512 : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %tile = memref.view %smem[%c512][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<256xf16, #gpu.address_space<workgroup>>
    %x = memref.load %out[%tid] : memref<32xf16>
    memref.store %x, %tile[%tid] : memref<256xf16, #gpu.address_space<workgroup>>
    gpu.return
  }
}
}
)mlir";
    gpu::GPUFuncOp kernel = parseKernel(source.c_str());
    ASSERT_TRUE(kernel);
    SimBuffer out{Float16Type::get(&context), {32}, std::vector<double>(32, 1)};
    llvm::Error error = attngen::simulateKernel(kernel, {&out}, {1, 1, 1}, 32);
    if (declared == 1024) {
      ASSERT_FALSE(static_cast<bool>(error))
          << llvm::toString(std::move(error));
      continue;
    }
    expectErrorContaining(std::move(error),
                          "view of shared bytes [512, 1024) past the kernel's "
                          "1023 bytes of dynamic shared memory");
  }
}

/// One warp copies a row of 64 f16 (8 chunks of 16 bytes, lanes 0-7; the
/// other lanes copy nothing) by cp.async to shared byte OFFSET, then reads
/// 8 rows of ROW elements (an 8x8 matrix each, at column 0) with ldmatrix.x4
/// (every matrix the same rows).
const char *kTrafficKernel = R"mlir(
module attributes {gpu.container_module} {
gpu.module @m {
  gpu.func @traffic(%in: memref<64xf16>, %out: memref<32x2xf16>) kernel {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %offset = arith.constant OFFSET : index
    %tid = gpu.thread_id x
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %row = memref.view %smem[%offset][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64xf16, #gpu.address_space<workgroup>>
    %copies = arith.cmpi ult, %tid, %c8 : index
    scf.if %copies {
      %c = arith.muli %tid, %c8 : index
      %t = nvgpu.device_async_copy %in[%c], %row[%c], 8 : memref<64xf16> to memref<64xf16, #gpu.address_space<workgroup>>
    }
    nvvm.cp.async.commit.group
    nvvm.cp.async.wait.group 0
    %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<8xROWxf16, #gpu.address_space<workgroup>>
    %zero = arith.constant dense<0.0> : vector<8xf16>
    %r8 = arith.remui %tid, %c8 : index
    vector.store %zero, %tile[%r8, %c0] : memref<8xROWxf16, #gpu.address_space<workgroup>>, vector<8xf16>
    gpu.barrier
    %m = nvgpu.ldmatrix %tile[%r8, %c0] {numTiles = 4 : i32, transpose = false} : memref<8xROWxf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
    %first = vector.extract %m[0] : vector<2xf16> from vector<4x2xf16>
    vector.store %first, %out[%tid, %c0] : memref<32x2xf16>, vector<2xf16>
    gpu.return
  }
}
}
)mlir";

/// Rows of 64 f16 (128 bytes) put the 8 rows an ldmatrix phase reads on
/// the same banks (8 wavefronts); padded to 72 (144 bytes) they take one.
/// A 128-byte cp.async request at a 128-byte boundary writes one line, 16
/// bytes past it two.
TEST_F(GpuSimulatorTest, CountsSharedMemoryWavefrontsAndLines) {
  Type f16 = Float16Type::get(&context);
  for (auto [rowLength, offset, wavefronts, lines] :
       {std::tuple{64, 2048, 8, 1}, std::tuple{72, 2048, 1, 1},
        std::tuple{72, 2064, 1, 2}}) {
    std::string source =
        withPlaceholders(kTrafficKernel, {{"OFFSET", std::to_string(offset)},
                                          {"ROW", std::to_string(rowLength)}});
    gpu::GPUFuncOp kernel = parseKernel(source.c_str());
    ASSERT_TRUE(kernel);
    SimBuffer in{f16, {64}, std::vector<double>(64, 1)};
    SimBuffer out{f16, {32, 2}, std::vector<double>(64)};
    attngen::SharedMemoryTraffic traffic;
    llvm::Error error =
        attngen::simulateKernel(kernel, {&in, &out}, {1, 1, 1}, 32, &traffic);
    ASSERT_FALSE(static_cast<bool>(error)) << llvm::toString(std::move(error));
    EXPECT_EQ(traffic.ldmatrix.phases, 4) << rowLength;
    EXPECT_EQ(traffic.ldmatrix.wavefronts, 4 * wavefronts) << rowLength;
    // 32 lanes store 16 bytes each: 4 phases of 8; lanes l and l + 8 store
    // the same row, one word per bank each time.
    EXPECT_EQ(traffic.stores.phases, 4);
    EXPECT_EQ(traffic.stores.wavefronts, 4 * wavefronts) << rowLength;
    EXPECT_EQ(traffic.asyncCopyRequests, 1) << offset;
    EXPECT_EQ(traffic.asyncCopyLines, lines) << offset;
  }
}

} // namespace
