//===- RuntimeTest.cpp - libattnrt's C and C++ APIs on a CPU kernel -------===//
//
// The f32 reference package against the float64 reference on odd shapes,
// strides, threads and concurrent calls; bad and empty arguments; the C++
// wrapper; GPU packages on a machine without a device.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "attnrt/attnrt.h"
#include "attnrt/attnrt.hpp"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

using namespace attnrt_test;

namespace {

class F32Kernel : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(attnrt_kernel_load(packagePath("f32_reference").c_str(), &kernel),
              ATTNRT_OK)
        << attnrt_last_error();
    ASSERT_EQ(attnrt_kernel_get_info(kernel, &info), ATTNRT_OK);
  }
  void TearDown() override { attnrt_kernel_release(kernel); }
  attnrt_kernel *kernel = nullptr;
  attnrt_kernel_info info;
};

TEST_F(F32Kernel, InfoComesFromTheManifest) {
  EXPECT_STREQ(info.name, "f32_reference");
  EXPECT_EQ(info.target, ATTNRT_TARGET_CPU);
  EXPECT_EQ(info.dtype, ATTNRT_F32);
  EXPECT_EQ(info.num_q_heads, 6);
  EXPECT_EQ(info.num_kv_heads, 3);
  EXPECT_EQ(info.head_dim, 96);
  EXPECT_TRUE(info.returns_lse);
  EXPECT_TRUE(info.causal);
  EXPECT_DOUBLE_EQ(info.scale, 1.0 / std::sqrt(96.0));
}

TEST_F(F32Kernel, MatchesReferenceOnOddShapes) {
  for (auto [sq, sk] : {std::make_pair(113, 203), std::make_pair(203, 113),
                        std::make_pair(1, 17), std::make_pair(130, 130)}) {
    Problem p = makeProblem(info, 2, sq, sk);
    attnrt_attention_args args = argsFor(p, true);
    ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK)
        << attnrt_last_error();
    std::vector<double> refO, refLse;
    referenceAttention(info, p.q.data(), p.k.data(), p.v.data(), 2, sq, sk,
                       refO, refLse);
    double maxError = 0;
    for (size_t i = 0; i < refO.size(); ++i) {
      maxError = std::max(maxError, std::abs(p.o[i] - refO[i]));
    }
    EXPECT_LT(maxError, 1e-4) << sq << "x" << sk;
    for (size_t i = 0; i < refLse.size(); ++i) {
      if (std::isinf(refLse[i])) {
        EXPECT_TRUE(std::isinf(p.lse[i]) && p.lse[i] < 0) << i;
      } else {
        EXPECT_NEAR(p.lse[i], refLse[i], 1e-4) << i;
      }
    }
  }
}

TEST_F(F32Kernel, BatchStrideAndThreadCounts) {
  // Q as every other batch entry of a larger buffer: only the batch stride
  // differs from dense.
  Problem p = makeProblem(info, 2, 65, 70);
  int64_t qBatch = 65 * 6 * 96;
  std::vector<float> spaced(4 * qBatch, NAN);
  for (int64_t b = 0; b < 2; ++b) {
    std::copy(p.q.begin() + b * qBatch, p.q.begin() + (b + 1) * qBatch,
              spaced.begin() + 2 * b * qBatch);
  }
  attnrt_attention_args args = argsFor(p, true);
  args.q = spaced.data();
  args.q_strides[0] = 2 * qBatch;
  args.q_strides[1] = 6 * 96;
  args.q_strides[2] = 96;
  args.q_strides[3] = 1;
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 1), ATTNRT_OK) << attnrt_last_error();
  std::vector<float> single = p.o;
  attnrt_attention_args dense = argsFor(p, true);
  ASSERT_EQ(attnrt_run_cpu(kernel, &dense, 3), ATTNRT_OK);
  EXPECT_EQ(single, p.o);
}

TEST_F(F32Kernel, ConcurrentCallsAgree) {
  Problem p = makeProblem(info, 1, 150, 150);
  attnrt_attention_args args = argsFor(p, true);
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK);
  std::vector<Problem> copies(4, p);
  std::vector<std::thread> threads;
  std::vector<attnrt_status> statuses(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::fill(copies[t].o.begin(), copies[t].o.end(), NAN);
      attnrt_attention_args a = argsFor(copies[t], true);
      statuses[t] = attnrt_run_cpu(kernel, &a, 0);
    });
  }
  for (auto &thread : threads) {
    thread.join();
  }
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(statuses[t], ATTNRT_OK);
    EXPECT_EQ(copies[t].o, p.o);
  }
}

TEST_F(F32Kernel, BadArgumentsRunNothing) {
  Problem p = makeProblem(info, 1, 9, 9);
  auto expectInvalid = [&](attnrt_attention_args args, const char *message) {
    std::fill(p.o.begin(), p.o.end(), 7.0f);
    EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_INVALID_ARGUMENT);
    EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
        << attnrt_last_error();
    for (float x : p.o) {
      ASSERT_EQ(x, 7.0f) << "the kernel ran";
    }
  };
  attnrt_attention_args args = argsFor(p, true);
  args.q = nullptr;
  expectInvalid(args, "args.q is NULL");
  args = argsFor(p, true);
  args.k = reinterpret_cast<const char *>(p.k.data()) + 1;
  expectInvalid(args, "args.k is not aligned to 4 bytes");
  args = argsFor(p, false);
  expectInvalid(args,
                "args.lse is NULL but kernel 'f32_reference' returns the LSE");
  args = argsFor(p, true);
  float slopes[6] = {};
  args.alibi_slopes = slopes;
  expectInvalid(args, "was compiled without alibi");
  args = argsFor(p, true);
  args.v_strides[0] = 1;
  args.v_strides[1] = 1;
  args.v_strides[2] = 1;
  args.v_strides[3] = 1;
  expectInvalid(args, "args.v_strides: (1, 1, 1, 1) unsupported");
  args = argsFor(p, true);
  args.seqlen_q = -1;
  expectInvalid(args, "batch, seqlen_q and seqlen_k must be >= 0");
  args = argsFor(p, true);
  args.seqlen_k = int64_t{1} << 31;
  expectInvalid(args, "seqlen_k = 2147483648: the kernels' positions are "
                      "32-bit (at most 2^31 - 1)");
  EXPECT_EQ(attnrt_run_cpu(kernel, nullptr, 0), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_run_cpu(nullptr, &args, 0), ATTNRT_INVALID_ARGUMENT);
  // Empty problems are valid and do nothing.
  args = argsFor(p, true);
  args.batch = 0;
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK);
}

/// Calls with no rows or no keys are valid, and their empty tensors may be
/// NULL (std::vector's data() of an empty vector, an engine's empty batch):
/// no queries write nothing; no keys give every row O = 0 and LSE = -inf.
TEST_F(F32Kernel, EmptyTensorsMayBeNull) {
  Problem noKeys = makeProblem(info, 2, 5, 0);
  attnrt_attention_args args = argsFor(noKeys, true);
  ASSERT_EQ(args.k, nullptr);
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  for (float x : noKeys.o) {
    ASSERT_EQ(x, 0.0f);
  }
  for (float x : noKeys.lse) {
    ASSERT_TRUE(std::isinf(x) && x < 0) << x;
  }
  for (auto [batch, sq] : {std::pair<int64_t, int64_t>{0, 5}, {2, 0}}) {
    Problem noRows = makeProblem(info, batch, sq, 7);
    args = argsFor(noRows, true);
    ASSERT_EQ(args.q, nullptr);
    ASSERT_EQ(args.lse, nullptr);
    EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK)
        << attnrt_last_error();
  }
  // A NULL tensor that has elements stays an error.
  Problem p = makeProblem(info, 1, 3, 4);
  args = argsFor(p, true);
  args.v = nullptr;
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_INVALID_ARGUMENT);
  EXPECT_STREQ(attnrt_last_error(), "args.v is NULL");
}

TEST(Cuda, AvailabilityIsAStatusNeverACrash) {
  attnrt_status status = attnrt_cuda_available();
  if (status != ATTNRT_OK) {
    EXPECT_TRUE(status == ATTNRT_NO_DEVICE || status == ATTNRT_DRIVER_ERROR);
    EXPECT_STRNE(attnrt_last_error(), "");
  }
}

TEST(Cuda, GpuPackagesLoadWithoutADevice) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("mha_sm90", info);
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(info.target, ATTNRT_TARGET_CUDA);
  EXPECT_EQ(info.dtype, ATTNRT_F16);
  EXPECT_TRUE(info.returns_lse);
  // Device pointers are never dereferenced on the host.
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = args.k = args.v = reinterpret_cast<void *>(0x10000);
  args.o = reinterpret_cast<void *>(0x20000);
  args.lse = reinterpret_cast<float *>(0x30000);
  args.batch = args.seqlen_q = args.seqlen_k = 1;
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_UNSUPPORTED);
  if (attnrt_cuda_available() != ATTNRT_OK) {
    EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_NO_DEVICE);
    EXPECT_STRNE(attnrt_last_error(), "");
    void *buffer = nullptr;
    EXPECT_EQ(attnrt_cuda_malloc(16, &buffer), ATTNRT_NO_DEVICE);
  }
  attnrt_kernel_release(kernel);
}

TEST(CppWrapper, LoadInfoRun) {
  auto [status, kernel] = attnrt::Kernel::load(packagePath("alibi_f32"));
  ASSERT_TRUE(status.ok()) << status.message();
  attnrt_kernel_info info;
  ASSERT_TRUE(kernel.info(info).ok());
  EXPECT_TRUE(info.uses_alibi);
  Problem p = makeProblem(info, 1, 40, 40);
  attnrt_attention_args args = argsFor(p, false);
  ASSERT_TRUE(kernel.runCpu(args).ok());
  // Explicit slopes equal to the standard ones give the same result.
  std::vector<float> standard = p.o;
  std::vector<float> slopes;
  for (int h = 1; h <= info.num_q_heads; ++h) {
    slopes.push_back(std::exp2(-8.0f * h / info.num_q_heads));
  }
  args.alibi_slopes = slopes.data();
  ASSERT_TRUE(kernel.runCpu(args).ok());
  EXPECT_EQ(p.o, standard);
  auto [missing, none] = attnrt::Kernel::load("/nonexistent.attnpkg");
  EXPECT_EQ(missing.code(), ATTNRT_IO_ERROR);
  EXPECT_NE(missing.message().find("cannot open"), std::string::npos);
  EXPECT_FALSE(static_cast<bool>(none));
}

} // namespace
