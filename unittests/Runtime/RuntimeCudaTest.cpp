//===- RuntimeCudaTest.cpp - libattnrt's CUDA path on a mock driver -------===//
//
// Runs without a GPU: ATTNRT_CUDA_DRIVER points libattnrt at
// MockCudaDriver.cpp, which records what the runtime asks of the driver.
// These tests pin the launch contract of attngen's GPU packages: the grid
// rule, block size, dynamic shared memory and its opt-in, MLIR's expanded
// memref parameters, default ALiBi slopes, the per-context module cache,
// and every refusal before a launch. The numerics of the kernels themselves
// are tested on the GPU emulator and, on GPU machines, by the cuda lit suite.
//
//===----------------------------------------------------------------------===//

#include "MockCudaDriver.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace {

// Before any libattnrt call loads the driver.
const bool kUsesMockDriver =
    setenv("ATTNRT_CUDA_DRIVER", MOCK_CUDA_DRIVER, /*overwrite=*/1) == 0;

std::string packagePath(const std::string &name) {
  return std::string(ATTNRT_TEST_PACKAGES) + "/" + name + ".attnpkg";
}

MockCudaState &mock() {
  static MockCudaState *state = [] {
    attnrt_cuda_available(); // loads the driver
    void *library = dlopen(MOCK_CUDA_DRIVER, RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(library, nullptr) << "libattnrt did not load the mock driver";
    return reinterpret_cast<MockCudaStateFn>(dlsym(library, "mockcuda_state"))();
  }();
  return *state;
}

void setContext(unsigned long long id) {
  mock();
  void *library = dlopen(MOCK_CUDA_DRIVER, RTLD_NOW | RTLD_NOLOAD);
  reinterpret_cast<void (*)(unsigned long long)>(
      dlsym(library, "mockcuda_set_context"))(id);
}

/// Device buffers for one call of `info`'s kernel.
struct DeviceProblem {
  int64_t batch, sq, sk;
  void *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
  float *lse = nullptr;

  DeviceProblem(const attnrt_kernel_info &info, int64_t batch, int64_t sq,
                int64_t sk)
      : batch(batch), sq(sq), sk(sk) {
    size_t bytes = info.dtype == ATTNRT_F32 ? 4 : 2;
    EXPECT_EQ(attnrt_cuda_malloc(batch * sq * info.num_q_heads *
                                     info.head_dim * bytes,
                                 &q),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(batch * sk * info.num_kv_heads *
                                     info.head_dim * bytes,
                                 &k),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(batch * sk * info.num_kv_heads *
                                     info.head_dim_v * bytes,
                                 &v),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(batch * sq * info.num_q_heads *
                                     info.head_dim_v * bytes,
                                 &o),
              ATTNRT_OK);
    if (info.returns_lse) {
      void *raw = nullptr;
      EXPECT_EQ(attnrt_cuda_malloc(batch * info.num_q_heads * sq * 4, &raw),
                ATTNRT_OK);
      lse = static_cast<float *>(raw);
    }
  }
  ~DeviceProblem() {
    for (void *p : {q, k, v, o, static_cast<void *>(lse)})
      EXPECT_EQ(attnrt_cuda_free(p), ATTNRT_OK);
  }
  attnrt_attention_args args() const {
    attnrt_attention_args a;
    std::memset(&a, 0, sizeof(a));
    a.q = q;
    a.k = k;
    a.v = v;
    a.o = o;
    a.lse = lse;
    a.batch = batch;
    a.seqlen_q = sq;
    a.seqlen_k = sk;
    return a;
  }
};

class CudaKernel : public ::testing::Test {
protected:
  void load(const std::string &name) {
    ASSERT_TRUE(kUsesMockDriver);
    ASSERT_EQ(attnrt_kernel_load(packagePath(name).c_str(), &kernel),
              ATTNRT_OK)
        << attnrt_last_error();
    ASSERT_EQ(attnrt_kernel_get_info(kernel, &info), ATTNRT_OK);
    ASSERT_EQ(info.target, ATTNRT_TARGET_CUDA);
    mock().computeCapabilityMajor = 8;
    mock().computeCapabilityMinor = 0;
    mock().sharedMemoryPerBlockOptin = 163 * 1024;
    setContext(0);
  }
  void TearDown() override { attnrt_kernel_release(kernel); }
  size_t launches() {
    std::lock_guard<std::mutex> lock(mock().mutex);
    return mock().launches.size();
  }
  MockLaunch lastLaunch() {
    std::lock_guard<std::mutex> lock(mock().mutex);
    return mock().launches.back();
  }
  attnrt_kernel *kernel = nullptr;
  attnrt_kernel_info info;
};

/// Checks one expanded memref at params[at...]; returns the next index.
size_t expectMemref(const std::vector<uint64_t> &params, size_t at,
                    const void *pointer, std::vector<int64_t> sizes,
                    const char *name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(params[at], reinterpret_cast<uintptr_t>(pointer)); // allocated
  EXPECT_EQ(params[at + 1], reinterpret_cast<uintptr_t>(pointer)); // aligned
  EXPECT_EQ(params[at + 2], 0u);                                   // offset
  size_t rank = sizes.size();
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    EXPECT_EQ(int64_t(params[at + 3 + i]), sizes[i]) << "size " << i;
    EXPECT_EQ(int64_t(params[at + 3 + rank + i]), stride) << "stride " << i;
    stride *= sizes[i];
  }
  return at + 3 + 2 * rank;
}

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

TEST_F(CudaKernel, PagedCacheParameters) {
  load("decode_paged_sm80");
  ASSERT_EQ(info.kv_cache, ATTNRT_KV_PAGED);
  // q [3, 1, 32, 128]; a pool of 40 pages of 16 rows; 5 pages per sequence.
  DeviceProblem p(info, 3, 1, 16);
  void *pool = nullptr, *lengths = nullptr, *table = nullptr;
  size_t poolBytes = 40 * 16 * 8 * 128 * 2;
  ASSERT_EQ(attnrt_cuda_malloc(poolBytes, &pool), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(3 * 4, &lengths), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(3 * 5 * 4, &table), ATTNRT_OK);
  attnrt_attention_args args = p.args();
  args.k = args.v = pool;
  args.seqlen_k = 0;
  args.cache_seqlens = static_cast<const int32_t *>(lengths);
  args.page_table = static_cast<const int32_t *>(table);
  args.num_pages = 40;
  args.max_pages_per_seq = 5;
  // split_kv "auto" on the mock's 132 multiprocessors: 24 CTAs want 11
  // chunks, the 80-key capacity has 2 KV tiles of 64: 2 chunks.
  EXPECT_EQ(info.split_kv, 0);
  size_t workspaceBytes = 0;
  ASSERT_EQ(attnrt_workspace_bytes(kernel, &args, &workspaceBytes), ATTNRT_OK)
      << attnrt_last_error();
  size_t outputBytes = 2 * 3 * 1 * 32 * 128 * 4;
  EXPECT_EQ(workspaceBytes, outputBytes + 2 * 3 * 32 * 1 * 4);
  size_t before = launches();
  EXPECT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("splits the keys in 2 chunks and needs args.workspace "
                      "of " +
                      std::to_string(workspaceBytes) + " bytes"),
            std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(launches(), before);
  void *workspace = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(workspaceBytes, &workspace), ATTNRT_OK);
  args.workspace = workspace;
  args.workspace_bytes = workspaceBytes;
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(launches(), before + 2);
  MockLaunch launch, merge;
  {
    std::lock_guard<std::mutex> lock(mock().mutex);
    launch = mock().launches[before];
    merge = mock().launches[before + 1];
  }
  // GQA packing: one CTA per (row tile, kv head, sequence), its rows the
  // (query, q head) pairs of the kv head: ceil(1 * 4 / 64) = 1 row tile,
  // times 2 chunks.
  EXPECT_EQ(launch.grid[0], 2u);
  EXPECT_EQ(launch.grid[1], 8u);
  EXPECT_EQ(launch.grid[2], 3u);
  ASSERT_EQ(launch.params.size(), 4 * 11 + 9 + 5 + 5 + 7 + 13 + 11 + 5 + 5u);
  size_t at = expectMemref(launch.params, 0, p.q, {3, 1, 32, 128}, "q");
  at = expectMemref(launch.params, at, pool, {40, 16, 8, 128}, "k");
  at = expectMemref(launch.params, at, pool, {40, 16, 8, 128}, "v");
  at = expectMemref(launch.params, at + 11 + 9 + 5, lengths, {3},
                    "cache_seqlens");
  at = expectMemref(launch.params, at, table, {3, 5}, "page_table");
  char *lseWorkspace = static_cast<char *>(workspace) + outputBytes;
  at = expectMemref(launch.params, at, workspace, {2, 3, 1, 32, 128},
                    "partial_o");
  expectMemref(launch.params, at, lseWorkspace, {2, 3, 32, 1}, "partial_lse");
  // The merge: one warp per output row, 3 * 1 * 32 rows, 4 per CTA.
  EXPECT_EQ(merge.entry, "llama3_8b_decode_paged_merge");
  EXPECT_EQ(merge.grid[0], 24u);
  EXPECT_EQ(merge.block[0], 128u);
  EXPECT_EQ(merge.sharedBytes, 0u);
  ASSERT_EQ(merge.params.size(), 11 + 9 + 13 + 11u);
  at = expectMemref(merge.params, 0, p.o, {3, 1, 32, 128}, "o");
  at = expectMemref(merge.params, at, p.lse, {3, 32, 1}, "lse");
  at = expectMemref(merge.params, at, workspace, {2, 3, 1, 32, 128},
                    "partial_o");
  expectMemref(merge.params, at, lseWorkspace, {2, 3, 32, 1}, "partial_lse");
  EXPECT_EQ(attnrt_cuda_free(workspace), ATTNRT_OK);

  // The paged kernel needs its table and pool size; contiguous arguments
  // are refused.
  attnrt_attention_args bad = args;
  bad.page_table = nullptr;
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error()).find("args.page_table is NULL"),
            std::string::npos);
  bad = args;
  bad.max_pages_per_seq = 0;
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  for (void *buffer : {pool, lengths, table})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
}

TEST_F(CudaKernel, AppendKernelRunsFirst) {
  load("append_sm80");
  ASSERT_TRUE(info.appends_kv);
  // q [2, 3, 8, 64]; one kv head; a pool of 4 pages of 256 rows, 2 pages
  // per sequence; 3 new keys per sequence.
  DeviceProblem p(info, 2, 3, 16);
  void *pool = nullptr, *lengths = nullptr, *table = nullptr;
  void *keyNew = nullptr, *valueNew = nullptr, *workspace = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(4 * 256 * 64 * 2, &pool), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(2 * 4, &lengths), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(2 * 2 * 4, &table), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(2 * 3 * 64 * 2, &keyNew), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(2 * 3 * 64 * 2, &valueNew), ATTNRT_OK);
  attnrt_attention_args args = p.args();
  args.k = args.v = pool;
  args.seqlen_k = 0;
  args.cache_seqlens = static_cast<const int32_t *>(lengths);
  args.page_table = static_cast<const int32_t *>(table);
  args.num_pages = 4;
  args.max_pages_per_seq = 2;
  args.k_new = keyNew;
  args.v_new = valueNew;
  size_t workspaceBytes = 0;
  ASSERT_EQ(attnrt_workspace_bytes(kernel, &args, &workspaceBytes), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(workspaceBytes, &workspace), ATTNRT_OK);
  args.workspace = workspace;
  args.workspace_bytes = workspaceBytes;

  // Without the new keys nothing is launched.
  attnrt_attention_args bad = args;
  bad.k_new = nullptr;
  size_t before = launches();
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_STREQ(attnrt_last_error(), "args.k_new is NULL");
  EXPECT_EQ(launches(), before);

  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  // The append, then the attention and its merge (split_kv 3), in order on
  // the caller's stream.
  ASSERT_EQ(launches(), before + 3);
  MockLaunch append, attention, merge;
  {
    std::lock_guard<std::mutex> lock(mock().mutex);
    append = mock().launches[before];
    attention = mock().launches[before + 1];
    merge = mock().launches[before + 2];
  }
  EXPECT_EQ(append.entry, "kv_append_paged_f16_append");
  EXPECT_EQ(attention.entry, "kv_append_paged_f16");
  EXPECT_EQ(merge.entry, "kv_append_paged_f16_merge");
  // One warp per new (token, kv head) row, 4 per CTA: 2 * 3 * 1 rows, two
  // CTAs.
  EXPECT_EQ(append.grid[0], 2u);
  EXPECT_EQ(append.grid[1], 1u);
  EXPECT_EQ(append.block[0], 128u);
  EXPECT_EQ(append.sharedBytes, 0u);
  ASSERT_EQ(append.params.size(), 4 * 11 + 5 + 7 + 5u);
  size_t at = expectMemref(append.params, 0, keyNew, {2, 3, 1, 64}, "k_new");
  at = expectMemref(append.params, at, valueNew, {2, 3, 1, 64}, "v_new");
  at = expectMemref(append.params, at, pool, {4, 256, 1, 64}, "k");
  at = expectMemref(append.params, at, pool, {4, 256, 1, 64}, "v");
  at = expectMemref(append.params, at, lengths, {2}, "cache_seqlens");
  at = expectMemref(append.params, at, table, {2, 2}, "page_table");
  expectMemref(append.params, at, nullptr, {0}, "cu_seqlens_q"); // not varlen
  for (void *buffer : {pool, lengths, table, keyNew, valueNew, workspace})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
}

TEST_F(CudaKernel, VarlenOverAPagedCache) {
  load("varlen_paged_sm80");
  ASSERT_TRUE(info.varlen);
  ASSERT_EQ(info.kv_cache, ATTNRT_KV_PAGED);
  // 3 sequences' queries packed in 200 rows (the longest 130); keys in a
  // pool of 30 pages of 16 rows, 10 per sequence; no key offsets.
  void *q = nullptr, *pool = nullptr, *o = nullptr, *lse = nullptr;
  void *cuQ = nullptr, *lengths = nullptr, *table = nullptr,
       *workspace = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(200 * 8 * 128 * 2, &q), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(30 * 16 * 2 * 128 * 2, &pool), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(200 * 8 * 128 * 2, &o), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(8 * 200 * 4, &lse), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(4 * 4, &cuQ), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(3 * 4, &lengths), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(3 * 10 * 4, &table), ATTNRT_OK);
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = q;
  args.k = args.v = pool;
  args.o = o;
  args.lse = static_cast<float *>(lse);
  args.batch = 3;
  args.seqlen_q = 200;
  args.cu_seqlens_q = static_cast<const int32_t *>(cuQ);
  args.max_seqlen_q = 130;
  args.cache_seqlens = static_cast<const int32_t *>(lengths);
  args.page_table = static_cast<const int32_t *>(table);
  args.num_pages = 30;
  args.max_pages_per_seq = 10;
  size_t workspaceBytes = 0;
  ASSERT_EQ(attnrt_workspace_bytes(kernel, &args, &workspaceBytes), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(workspaceBytes, &workspace), ATTNRT_OK);
  args.workspace = workspace;
  args.workspace_bytes = workspaceBytes;
  size_t before = launches();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(launches(), before + 2); // the attention, then the merge
  MockLaunch launch;
  {
    std::lock_guard<std::mutex> lock(mock().mutex);
    launch = mock().launches[before];
  }
  // GQA-packed: one CTA row per kv head, one z per sequence.
  EXPECT_EQ(launch.grid[1], 2u);
  EXPECT_EQ(launch.grid[2], 3u);
  size_t at = expectMemref(launch.params, 0, q, {1, 200, 8, 128}, "q");
  at = expectMemref(launch.params, at, pool, {30, 16, 2, 128}, "k");
  at = expectMemref(launch.params, at, pool, {30, 16, 2, 128}, "v");
  at = expectMemref(launch.params, at, o, {1, 200, 8, 128}, "o");
  at = expectMemref(launch.params, at, lse, {1, 8, 200}, "lse");
  at += 5; // slopes
  at = expectMemref(launch.params, at, lengths, {3}, "cache_seqlens");
  at = expectMemref(launch.params, at, table, {3, 10}, "page_table");
  at += 13 + 11; // split-KV workspace
  at = expectMemref(launch.params, at, cuQ, {4}, "cu_seqlens_q");
  expectMemref(launch.params, at, nullptr, {0}, "cu_seqlens_k");

  // Key offsets are refused: the keys are in the cache.
  attnrt_attention_args bad = args;
  bad.cu_seqlens_k = static_cast<const int32_t *>(cuQ);
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(launches(), before + 2);
  for (void *buffer : {q, pool, o, lse, cuQ, lengths, table, workspace})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
}

TEST_F(CudaKernel, VarlenLaunch) {
  load("varlen_sm80");
  ASSERT_TRUE(info.varlen);
  // 3 sequences packed in 200 query and 500 key rows; the longest has 130
  // queries: grid (ceil(130 / 64), 6 heads, 3 sequences).
  void *q = nullptr, *k = nullptr, *o = nullptr, *lse = nullptr;
  void *cuQ = nullptr, *cuK = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(200 * 6 * 96 * 2, &q), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(500 * 2 * 96 * 2, &k), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(200 * 6 * 96 * 2, &o), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(6 * 200 * 4, &lse), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(4 * 4, &cuQ), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(4 * 4, &cuK), ATTNRT_OK);
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = q;
  args.k = args.v = k;
  args.o = o;
  args.lse = static_cast<float *>(lse);
  args.batch = 3;
  args.seqlen_q = 200;
  args.seqlen_k = 500;
  args.cu_seqlens_q = static_cast<const int32_t *>(cuQ);
  args.cu_seqlens_k = static_cast<const int32_t *>(cuK);
  args.max_seqlen_q = 130;
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  MockLaunch launch = lastLaunch();
  EXPECT_EQ(launch.grid[0], 3u);
  EXPECT_EQ(launch.grid[1], 6u);
  EXPECT_EQ(launch.grid[2], 3u);
  // Packed tensors keep a batch dimension of 1; the LSE is [1, 6, 200].
  size_t at = expectMemref(launch.params, 0, q, {1, 200, 6, 96}, "q");
  at = expectMemref(launch.params, at, k, {1, 500, 2, 96}, "k");
  at = expectMemref(launch.params, at, k, {1, 500, 2, 96}, "v");
  at = expectMemref(launch.params, at, o, {1, 200, 6, 96}, "o");
  at = expectMemref(launch.params, at, lse, {1, 6, 200}, "lse");
  at += 5 + 5 + 7 + 13 + 11; // slopes, cache, split-KV workspace: unused
  at = expectMemref(launch.params, at, cuQ, {4}, "cu_seqlens_q");
  expectMemref(launch.params, at, cuK, {4}, "cu_seqlens_k");

  // Offsets are required, and max_seqlen_q must fit the packed queries.
  size_t before = launches();
  attnrt_attention_args bad = args;
  bad.cu_seqlens_k = nullptr;
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  bad = args;
  bad.max_seqlen_q = 201;
  EXPECT_EQ(attnrt_run_cuda(kernel, &bad, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("args.max_seqlen_q = 201 is outside [0, seqlen_q = 200]"),
            std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(launches(), before);
  for (void *buffer : {q, k, o, lse, cuQ, cuK})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
}

TEST_F(CudaKernel, SplitAutoAimsAtTwoCtasPerMultiprocessor) {
  load("decode_paged_sm80");
  // One sequence, 1000 pages of 16 rows: 250 KV tiles, 8 CTAs per chunk
  // (one row tile per kv head).
  DeviceProblem p(info, 1, 1, 16);
  attnrt_attention_args args = p.args();
  args.seqlen_k = 0;
  args.num_pages = 1000;
  args.max_pages_per_seq = 1000;
  void *lengths = nullptr, *table = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(4, &lengths), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(1000 * 4, &table), ATTNRT_OK);
  args.cache_seqlens = static_cast<const int32_t *>(lengths);
  args.page_table = static_cast<const int32_t *>(table);
  // The chunk count is the one whose CTAs come nearest to two per
  // multiprocessor (132 of them), or to one wave where the driver reports
  // a lower occupancy for the kernel; read when the kernel is loaded in a
  // context (the workspace query loads it too).
  auto chunks = [&](int perMultiprocessor, unsigned long long context) {
    mock().residentCtasPerMultiprocessor = perMultiprocessor;
    setContext(context);
    size_t bytes = 0;
    EXPECT_EQ(attnrt_workspace_bytes(kernel, &args, &bytes), ATTNRT_OK)
        << attnrt_last_error();
    return bytes / (32 * 128 * 4 + 32 * 4);
  };
  EXPECT_EQ(chunks(1, 51), 17u); // 132 / 8 = 16.5
  EXPECT_EQ(chunks(4, 52), 33u); // 264 / 8, not a full wave (528)
  EXPECT_EQ(chunks(1, 51), 17u); // per context
  args.num_pages = args.max_pages_per_seq = 100; // 25 KV tiles
  EXPECT_EQ(chunks(4, 52), 25u); // at most one chunk per KV tile
  mock().residentCtasPerMultiprocessor = 2;
  // The occupancy query names the kernel's block and shared memory.
  std::pair<int, size_t> query;
  {
    std::lock_guard<std::mutex> lock(mock().mutex);
    query = mock().lastOccupancyQuery;
  }
  EXPECT_EQ(query.first, 64); // auto tiling of KV-cache kernels: 2 warps
  EXPECT_GT(query.second, 0u);
  for (void *buffer : {lengths, table})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
}

/// A copy of package `name` whose manifest.json went through `edit`.
fs::path withManifest(const std::string &name, const std::string &tag,
                      std::string (*edit)(std::string));

TEST_F(CudaKernel, OneChunkSkipsTheMerge) {
  load("decode_paged_sm80");
  // A cache of 4 pages of 16 rows is one KV tile of 64: split_kv "auto"
  // comes out as one chunk, which the attention kernel writes to o itself.
  DeviceProblem p(info, 1, 1, 16);
  attnrt_attention_args args = p.args();
  args.seqlen_k = 0;
  args.num_pages = args.max_pages_per_seq = 4;
  void *lengths = nullptr, *table = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(4, &lengths), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_malloc(4 * 4, &table), ATTNRT_OK);
  args.cache_seqlens = static_cast<const int32_t *>(lengths);
  args.page_table = static_cast<const int32_t *>(table);
  size_t bytes = 1;
  ASSERT_EQ(attnrt_workspace_bytes(kernel, &args, &bytes), ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_EQ(bytes, 0u);
  size_t before = launches();
  ASSERT_EQ(attnrt_run_cuda(kernel, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(launches(), before + 1) << "no merge";
  MockLaunch launch = lastLaunch();
  EXPECT_EQ(launch.grid[0], 1u);
  // partial_o and partial_lse: one chunk, no memory.
  size_t at = 4 * 11 + 9 + 5 + 5 + 7;
  at =
      expectMemref(launch.params, at, nullptr, {1, 1, 1, 32, 128}, "partial_o");
  expectMemref(launch.params, at, nullptr, {1, 1, 32, 1}, "partial_lse");

  // A package of an earlier attngen (no merge.skipped_for_one_chunk) always
  // merges, through a workspace.
  fs::path earlier =
      withManifest("decode_paged_sm80", "earlier", [](std::string manifest) {
        size_t at = manifest.find("\"skipped_for_one_chunk\": true");
        EXPECT_NE(at, std::string::npos);
        return manifest.replace(at,
                                std::string("\"skipped_for_one_chunk\": "
                                            "true")
                                    .size(),
                                "\"unused\": 0");
      });
  attnrt_kernel *old = nullptr;
  ASSERT_EQ(attnrt_kernel_load(earlier.c_str(), &old), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(attnrt_workspace_bytes(old, &args, &bytes), ATTNRT_OK);
  EXPECT_GT(bytes, 0u);
  EXPECT_EQ(attnrt_run_cuda(old, &args, nullptr), ATTNRT_INVALID_ARGUMENT);
  void *workspace = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(bytes, &workspace), ATTNRT_OK);
  args.workspace = workspace;
  args.workspace_bytes = bytes;
  before = launches();
  ASSERT_EQ(attnrt_run_cuda(old, &args, nullptr), ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_EQ(launches(), before + 2) << "attention and merge";
  attnrt_kernel_release(old);

  fs::path corrupt =
      withManifest("decode_paged_sm80", "corrupt", [](std::string manifest) {
        size_t at = manifest.find("\"skipped_for_one_chunk\": true");
        return manifest.replace(at,
                                std::string("\"skipped_for_one_chunk\": "
                                            "true")
                                    .size(),
                                "\"skipped_for_one_chunk\": 1");
      });
  EXPECT_EQ(attnrt_kernel_load(corrupt.c_str(), &old), ATTNRT_CORRUPT_PACKAGE);
  EXPECT_NE(std::string(attnrt_last_error())
                .find("/kernel/merge/skipped_for_one_chunk: expected true or "
                      "false"),
            std::string::npos)
      << attnrt_last_error();
  for (void *buffer : {lengths, table, workspace})
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  fs::remove_all(earlier);
  fs::remove_all(corrupt);
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
  for (int64_t h = 0; h < info.num_q_heads; ++h)
    EXPECT_FLOAT_EQ(slopes[h], std::exp2(-8.0f * (h + 1) / info.num_q_heads));
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
    EXPECT_NE(std::string(attnrt_last_error()).find(message),
              std::string::npos)
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
  EXPECT_NE(std::string(attnrt_last_error()).find("run it with attnrt_run_cuda"),
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

std::string readText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A copy of package `name` with its file `file` rewritten by `edit`, and
/// without the manifest's digest (RuntimeTest checks that libattnrt refuses
/// edited packages that have one), as an earlier attngen wrote them.
fs::path withEditedFile(const std::string &name, const std::string &tag,
                        const char *file, std::string (*edit)(std::string)) {
  fs::path dir = fs::temp_directory_path() /
                 ("attnrt_cuda_test_" + tag + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::copy(packagePath(name), dir);
  std::string text = edit(readText(dir / file));
  std::ofstream(dir / file, std::ios::binary | std::ios::trunc) << text;
  std::string manifest = readText(dir / "manifest.json");
  std::ofstream(dir / "manifest.json", std::ios::trunc) << std::regex_replace(
      manifest, std::regex(R"(,\s*"digest": "fnv1a64:[0-9a-f]{16}")"), "");
  return dir;
}

fs::path withPtx(const std::string &name, const std::string &tag,
                 std::string (*edit)(std::string)) {
  return withEditedFile(name, tag, "kernel.ptx", edit);
}

fs::path withManifest(const std::string &name, const std::string &tag,
                      std::string (*edit)(std::string)) {
  return withEditedFile(name, tag, "manifest.json", edit);
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

  fs::path truncated = withPtx("llama3_8b_sm80", "truncated",
                               [](std::string ptx) {
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
