//===- RuntimeCudaTest.cpp - libattnrt's CUDA path on a mock driver -------===//
//
// Runs without a GPU (CudaTestSupport.h). These tests pin the launch
// contract of attngen's GPU packages: the grid rule, block size, dynamic
// shared memory and its opt-in, MLIR's expanded memref parameters, default
// ALiBi slopes, the per-context module cache, and every refusal before a
// launch. KvCacheCudaTest.cpp has the paged, appending, varlen and split
// launches. The numerics of the kernels themselves are tested on the GPU
// emulator and, on GPU machines, by the cuda lit suite.
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

using namespace attnrt_test;

namespace {

TEST_F(CudaKernel, LaunchFollowsTheManifest) {
  load("llama3_8b_sm80");
  attnrt_cuda_device_info device;
  ASSERT_EQ(attnrt_cuda_device_get_info(&device), ATTNRT_OK);
  EXPECT_STREQ(device.name, "Mock GPU");
  EXPECT_EQ(device.compute_capability_major, 8);

  DeviceProblem p(info, 2, 300, 517);
  attnrt_attention_args args = p.args();
  void *stream = reinterpret_cast<void *>(0x5000);
  size_t before = launches();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, stream), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(launches(), before + 1);
  MockLaunch launch = lastLaunch();
  EXPECT_EQ(launch.entry, "llama3_8b_prefill");
  // Grid (ceil(seqlen_q / block_m), num_q_heads, batch) with block_m 128.
  EXPECT_EQ(launch.grid[0], 3u);
  EXPECT_EQ(launch.grid[1], 32u);
  EXPECT_EQ(launch.grid[2], 2u);
  // 4 warps (two 16-row slabs each), as the spec's tiling says.
  EXPECT_EQ(launch.block[0], 128u);
  EXPECT_EQ(launch.block[1], 1u);
  // Q 128 x 136, K and V 64 x 136 (padded rows on sm_80), 16-bit.
  EXPECT_EQ(launch.sharedBytes, 69632u);
  EXPECT_EQ(launch.stream, stream);
  {
    std::lock_guard<std::mutex> lock(mock().mutex);
    // Above 48 KB: opted in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
    EXPECT_NE(std::find(mock().functionAttributes.begin(),
                        mock().functionAttributes.end(),
                        std::make_pair(8, 69632)),
              mock().functionAttributes.end());
  }
  // 4 rank-4 memrefs, the rank-3 LSE, the rank-1 slopes, cache_seqlens
  // (rank 1) and page_table (rank 2); the last three unused here: null.
  ASSERT_EQ(launch.params.size(), 4 * 11 + 9 + 5 + 5 + 7 + 13 + 11 + 5 + 5u);
  size_t at = 0;
  at = expectMemref(launch.params, at, p.q, {2, 300, 32, 128}, "q");
  at = expectMemref(launch.params, at, p.k, {2, 517, 8, 128}, "k");
  at = expectMemref(launch.params, at, p.v, {2, 517, 8, 128}, "v");
  at = expectMemref(launch.params, at, p.o, {2, 300, 32, 128}, "o");
  at = expectMemref(launch.params, at, p.lse, {2, 32, 300}, "lse");
  at = expectMemref(launch.params, at, nullptr, {32}, "alibi_slopes");
  at = expectMemref(launch.params, at, nullptr, {0}, "cache_seqlens");
  at = expectMemref(launch.params, at, nullptr, {0, 0}, "page_table");
  // The split-KV workspace: no chunks.
  at = expectMemref(launch.params, at, nullptr, {0, 2, 300, 32, 128},
                    "partial_o");
  expectMemref(launch.params, at, nullptr, {0, 2, 32, 300}, "partial_lse");
}

TEST_F(CudaKernel, BatchStrideIsPassedThrough) {
  load("llama3_8b_sm80");
  DeviceProblem p(info, 2, 64, 64);
  attnrt_attention_args args = p.args();
  // Batches of q 8 elements apart beyond dense (still 16-byte aligned);
  // the buffer is only read by the mock's recorder.
  int64_t dense[4] = {64 * 32 * 128, 32 * 128, 128, 1};
  std::memcpy(args.q_strides, dense, sizeof(dense));
  args.q_strides[0] += 8;
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  MockLaunch launch = lastLaunch();
  EXPECT_EQ(int64_t(launch.params[7]), dense[0] + 8);
  EXPECT_EQ(int64_t(launch.params[8]), dense[1]);
}

TEST_F(CudaKernel, ModulesAreLoadedOncePerContext) {
  load("llama3_8b_sm80");
  DeviceProblem p(info, 1, 10, 10);
  attnrt_attention_args args = p.args();
  setContext(21);
  int loads = mock().moduleLoads;
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(mock().moduleLoads, loads + 1);
  // A second handle of the same package shares the module.
  attnrt_kernel *again = nullptr;
  ASSERT_EQ(attnrt_kernel_load(packagePath("llama3_8b_sm80").c_str(), &again),
            ATTNRT_OK);
  ASSERT_EQ(attnrt_run_cuda(again, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(mock().moduleLoads, loads + 1);
  attnrt_kernel_release(again);
  // Another context needs its own module.
  setContext(22);
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(mock().moduleLoads, loads + 2);
  setContext(21);
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(mock().moduleLoads, loads + 2);
}

TEST_F(CudaKernel, DefaultAlibiSlopesLiveOnTheDevice) {
  load("alibi_sm80");
  ASSERT_TRUE(info.uses_alibi);
  DeviceProblem p(info, 1, 70, 70);
  attnrt_attention_args args = p.args();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  MockLaunch launch = lastLaunch();
  size_t slopesAt = 4 * 11 + 9;
  ASSERT_EQ(launch.params.size(), slopesAt + 5 + 5 + 7 + 13 + 11 + 5 + 5);
  std::vector<float> slopes(info.num_q_heads);
  ASSERT_NE(launch.params[slopesAt], 0u);
  ASSERT_EQ(attnrt_cuda_copy_to_host(
                slopes.data(),
                reinterpret_cast<void *>(launch.params[slopesAt]),
                slopes.size() * sizeof(float)),
            ATTNRT_OK);
  for (int64_t h = 0; h < info.num_q_heads; ++h) {
    EXPECT_FLOAT_EQ(slopes[h], std::exp2(-8.0f * (h + 1) / info.num_q_heads));
  }
  // Slopes the caller gives are passed as they are.
  void *given = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(info.num_q_heads * 4, &given), ATTNRT_OK);
  args.alibi_slopes = static_cast<const float *>(given);
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(lastLaunch().params[slopesAt], reinterpret_cast<uintptr_t>(given));
  EXPECT_EQ(attnrt_cuda_free(given), ATTNRT_OK);
}

TEST_F(CudaKernel, DeviceMustMatchTheTarget) {
  load("mha_sm90");
  DeviceProblem p(info, 1, 33, 33);
  attnrt_attention_args args = p.args();
  setContext(31);
  size_t before = launches();
  EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_UNSUPPORTED);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("compiled for sm_90 but device 0 (Mock GPU) is sm_80"),
            std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(launches(), before);
  mock().computeCapabilityMajor = 9;
  size_t attributes = mock().functionAttributes.size();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  // 54 KB of shared memory (d = 64 at 128 x 128): above the default 48 KB,
  // so the kernel opted in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
  // once.
  EXPECT_EQ(lastLaunch().sharedBytes, 55296u);
  std::lock_guard<std::mutex> lock(mock().mutex);
  ASSERT_EQ(mock().functionAttributes.size(), attributes + 1);
  EXPECT_EQ(mock().functionAttributes.back(), std::make_pair(8, 55296));
}

TEST_F(CudaKernel, SharedMemoryBeyondTheDeviceIsRefused) {
  load("llama3_8b_sm80");
  mock().sharedMemoryPerBlockOptin = 64 * 1024;
  setContext(41);
  DeviceProblem p(info, 1, 10, 10);
  attnrt_attention_args args = p.args();
  size_t before = launches();
  EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_UNSUPPORTED);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("needs 69632 bytes of shared memory per block; device 0 "
                      "(Mock GPU) allows 65536"),
            std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(launches(), before);
}

TEST_F(CudaKernel, BadArgumentsLaunchNothing) {
  load("llama3_8b_sm80");
  DeviceProblem p(info, 1, 16, 16);
  size_t before = launches();
  auto expectInvalid = [&](attnrt_attention_args args, const char *message) {
    EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_INVALID_ARGUMENT)
        << message;
    EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
        << attnrt_last_error();
  };
  attnrt_attention_args args = p.args();
  args.q = static_cast<const char *>(p.q) + 2;
  expectInvalid(args, "args.q is not aligned to 16 bytes");
  args = p.args();
  args.k_strides[0] = 16 * 8 * 128 + 4;
  args.k_strides[1] = 8 * 128;
  args.k_strides[2] = 128;
  args.k_strides[3] = 1;
  expectInvalid(args, "args.k_strides: batch stride 16388 is not a multiple "
                      "of 8 elements");
  args = p.args();
  args.lse = nullptr;
  expectInvalid(args, "args.lse is NULL but kernel 'llama3_8b_prefill' "
                      "returns the LSE");
  args = p.args();
  args.batch = 70000;
  expectInvalid(args, "exceeds CUDA's limits");
  args = p.args();
  args.v = nullptr;
  expectInvalid(args, "args.v is NULL");
  EXPECT_EQ(attnrt_run_cuda(kernel, nullptr, nullptr), ATTNRT_INVALID_ARGUMENT);
  // Empty problems are valid and launch nothing.
  args = p.args();
  args.seqlen_q = 0;
  EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK);
  EXPECT_EQ(launches(), before);

  // Each package runs on its own target only.
  args = p.args();
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_UNSUPPORTED);
  EXPECT_NE(
      std::string(attnrt_last_error()).find("run it with attnrt_run_cuda"),
      std::string::npos)
      << attnrt_last_error();
  attnrt_kernel *cpu = nullptr;
  ASSERT_EQ(attnrt_kernel_load(packagePath("f32_reference").c_str(), &cpu),
            ATTNRT_OK);
  EXPECT_EQ(attnrt_run_cuda(cpu, &args, nullptr), ATTNRT_UNSUPPORTED);
  EXPECT_NE(std::string(attnrt_last_error()).find("is a CPU package"),
            std::string::npos);
  attnrt_kernel_release(cpu);
  EXPECT_EQ(launches(), before);
}

TEST_F(CudaKernel, PtxTheDriverRejectsIsReported) {
  load("llama3_8b_sm80");
  fs::path dir = withPtx("llama3_8b_sm80", "reject", [](std::string ptx) {
    return ptx + "\nMOCK_REJECT\n";
  });
  attnrt_kernel *bad = nullptr;
  ASSERT_EQ(attnrt_kernel_load(dir.c_str(), &bad), ATTNRT_OK);
  DeviceProblem p(info, 1, 16, 16);
  attnrt_attention_args args = p.args();
  size_t before = launches();
  EXPECT_EQ(attnrt_run_cuda(bad, &args, nullptr), ATTNRT_CORRUPT_PACKAGE);
  std::string message = attnrt_last_error();
  EXPECT_NE(message.find("the driver rejected kernel.ptx: cuModuleLoadDataEx "
                         "failed: CUDA_ERROR_INVALID_PTX (218): ptxas "
                         "application ptx input, line 3; error   : Unknown "
                         "symbol 'MOCK_REJECT'"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(launches(), before);
  attnrt_kernel_release(bad);

  fs::path truncated =
      withPtx("llama3_8b_sm80", "truncated", [](std::string ptx) {
        return ptx.substr(0, ptx.find(".entry"));
      });
  EXPECT_EQ(attnrt_kernel_load(truncated.c_str(), &bad),
            ATTNRT_CORRUPT_PACKAGE);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("no kernel entry '.entry llama3_8b_prefill('"),
            std::string::npos)
      << attnrt_last_error();
  fs::remove(truncated / "kernel.ptx");
  EXPECT_EQ(attnrt_kernel_load(truncated.c_str(), &bad), ATTNRT_IO_ERROR);
  fs::remove_all(dir);
  fs::remove_all(truncated);
}

TEST(CudaBuffers, CopiesRoundTrip) {
  ASSERT_TRUE(kUsesMockDriver);
  ASSERT_EQ(attnrt_cuda_available(), ATTNRT_OK) << attnrt_last_error();
  std::vector<float> host = {1.5f, -2.0f, 3.25f}, back(3);
  void *device = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(12, &device), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_copy_to_device(device, host.data(), 12), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_copy_to_host(back.data(), device, 12), ATTNRT_OK);
  EXPECT_EQ(back, host);
  EXPECT_EQ(attnrt_cuda_synchronize(nullptr), ATTNRT_OK);
  EXPECT_EQ(attnrt_cuda_free(device), ATTNRT_OK);
  EXPECT_EQ(attnrt_cuda_free(device), ATTNRT_DRIVER_ERROR);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("cuMemFree failed: CUDA_ERROR_INVALID_VALUE (1)"),
            std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(attnrt_cuda_malloc(4, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_copy_to_host(nullptr, device, 4),
            ATTNRT_INVALID_ARGUMENT);
}

} // namespace
