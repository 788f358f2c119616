//===- KvCacheCudaTest.cpp - paged, varlen and split CUDA launches --------===//
//
// On the mock driver (CudaTestSupport.h): the parameters of paged and
// appending kernels, packed variable-length batches, and the split-KV
// launch (its chunk count, the merge kernel, and one chunk without it).
//
//===----------------------------------------------------------------------===//

#include "CudaTestSupport.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <vector>

using namespace attnrt_test;

namespace {

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
  for (void *buffer : {pool, lengths, table}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
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
  for (void *buffer : {pool, lengths, table, keyNew, valueNew, workspace}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
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
  for (void *buffer : {q, pool, o, lse, cuQ, lengths, table, workspace}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
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
  for (void *buffer : {q, k, o, lse, cuQ, cuK}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
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
  for (void *buffer : {lengths, table}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
}

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
  for (void *buffer : {lengths, table, workspace}) {
    EXPECT_EQ(attnrt_cuda_free(buffer), ATTNRT_OK);
  }
  fs::remove_all(earlier);
  fs::remove_all(corrupt);
}

} // namespace
