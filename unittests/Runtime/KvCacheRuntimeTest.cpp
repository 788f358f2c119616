//===- KvCacheRuntimeTest.cpp - libattnrt's paged, split and packed calls -===//
//
// Paged KV caches (with appended, rotated keys), split-KV merging and
// variable-length batches on CPU packages, against the float64 reference
// per sequence; the refusals of inconsistent cache and offset arguments.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

using namespace attnrt_test;

namespace {

/// A paged KV cache: pages of every sequence at shuffled places in a pool
/// (NaN where no sequence has keys: reading them would show), and the same
/// keys per sequence densely, for the reference.
struct PagedProblem {
  int64_t batch, sq, pageSize, maxPages, numPages;
  std::vector<int32_t> lengths, table;
  std::vector<float> q, kPool, vPool, o, lse;
  std::vector<std::vector<float>> kDense, vDense; // per sequence
};

/// A paged problem whose sequences hold `lengths` keys; `reserve` more rows
/// per sequence (appended keys) get pages too.
PagedProblem makePagedProblem(const attnrt_kernel_info &info, int64_t sq,
                              std::vector<int32_t> lengths,
                              int64_t reserve = 0) {
  PagedProblem p;
  p.batch = lengths.size();
  p.sq = sq;
  p.pageSize = info.page_size;
  p.lengths = lengths;
  int32_t longest = *std::max_element(lengths.begin(), lengths.end());
  p.maxPages = (longest + reserve + p.pageSize - 1) / p.pageSize + 1;
  p.numPages = p.batch * p.maxPages;
  int64_t rowFloats = info.num_kv_heads * info.head_dim;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  p.q.resize(p.batch * sq * info.num_q_heads * info.head_dim);
  for (float &x : p.q) {
    x = normal(rng);
  }
  std::vector<int32_t> order(p.numPages);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  p.table.assign(p.batch * p.maxPages, -1);
  p.kPool.assign(p.numPages * p.pageSize * rowFloats, NAN);
  p.vPool.assign(p.numPages * p.pageSize * rowFloats, NAN);
  for (int64_t b = 0; b < p.batch; ++b) {
    p.kDense.emplace_back();
    p.vDense.emplace_back();
    for (int64_t j = 0; j < lengths[b]; ++j) {
      int64_t slot = j / p.pageSize;
      if (j % p.pageSize == 0) {
        p.table[b * p.maxPages + slot] = order[b * p.maxPages + slot];
      }
      int64_t row =
          p.table[b * p.maxPages + slot] * p.pageSize + j % p.pageSize;
      for (int64_t x = 0; x < rowFloats; ++x) {
        float kx = normal(rng), vx = normal(rng);
        p.kPool[row * rowFloats + x] = kx;
        p.vPool[row * rowFloats + x] = vx;
        p.kDense[b].push_back(kx);
        p.vDense[b].push_back(vx);
      }
    }
    for (int64_t slot = (lengths[b] + p.pageSize - 1) / p.pageSize;
         slot < (lengths[b] + reserve + p.pageSize - 1) / p.pageSize; ++slot) {
      p.table[b * p.maxPages + slot] = order[b * p.maxPages + slot];
    }
  }
  p.o.assign(p.batch * sq * info.num_q_heads * info.head_dim_v, NAN);
  p.lse.assign(p.batch * info.num_q_heads * sq, NAN);
  return p;
}

attnrt_attention_args pagedArgs(PagedProblem &p) {
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = p.q.data();
  args.k = p.kPool.data();
  args.v = p.vPool.data();
  args.o = p.o.data();
  args.lse = p.lse.data();
  args.batch = p.batch;
  args.seqlen_q = p.sq;
  args.cache_seqlens = p.lengths.data();
  args.page_table = p.table.data();
  args.num_pages = p.numPages;
  args.max_pages_per_seq = p.maxPages;
  return args;
}

/// pagedArgs with the queries packed by cu_seqlens_q = cuQ (variable
/// length): q, o and lse of cuQ.back() rows in place of the problem's.
attnrt_attention_args packedPagedArgs(PagedProblem &p,
                                      const std::vector<float> &q,
                                      std::vector<float> &o,
                                      std::vector<float> &lse,
                                      const std::vector<int32_t> &cuQ) {
  attnrt_attention_args args = pagedArgs(p);
  args.q = q.data();
  args.o = o.data();
  args.lse = lse.data();
  args.seqlen_q = cuQ.back();
  args.cu_seqlens_q = cuQ.data();
  return args;
}

TEST(PagedKvCache, MatchesTheReferencePerSequence) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("paged_f32", info);
  ASSERT_NE(kernel, nullptr);
  EXPECT_EQ(info.kv_cache, ATTNRT_KV_PAGED);
  EXPECT_EQ(info.page_size, 16);
  // Lengths: several pages with a partial last one, an empty sequence, one
  // key, exactly one page; 3 queries (decode with a few new tokens).
  PagedProblem p = makePagedProblem(info, 3, {77, 0, 1, 16});
  attnrt_attention_args args = pagedArgs(p);
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  int64_t hq = info.num_q_heads, dv = info.head_dim_v;
  for (int64_t b = 0; b < p.batch; ++b) {
    std::vector<double> refO, refLse;
    referenceAttention(info, p.q.data() + b * p.sq * hq * info.head_dim,
                       p.kDense[b].data(), p.vDense[b].data(), 1, p.sq,
                       p.lengths[b], refO, refLse);
    for (size_t i = 0; i < refO.size(); ++i) {
      EXPECT_NEAR(p.o[b * p.sq * hq * dv + i], refO[i], 1e-4)
          << "sequence " << b << " element " << i;
    }
    for (size_t i = 0; i < refLse.size(); ++i) {
      float lse = p.lse[b * hq * p.sq + i];
      if (std::isinf(refLse[i])) {
        EXPECT_TRUE(std::isinf(lse) && lse < 0) << "sequence " << b;
      } else {
        EXPECT_NEAR(lse, refLse[i], 1e-4) << "sequence " << b;
      }
    }
  }

  // Bad cache inputs are refused before anything runs.
  auto expectInvalid = [&](attnrt_attention_args bad, const char *message) {
    std::vector<float> before = p.o;
    EXPECT_EQ(attnrt_run_cpu(kernel, &bad, 0), ATTNRT_INVALID_ARGUMENT)
        << message;
    EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
        << attnrt_last_error();
    EXPECT_EQ(std::memcmp(before.data(), p.o.data(), before.size() * 4), 0);
  };
  std::vector<int32_t> tooLong = p.lengths;
  tooLong[2] = p.maxPages * 16 + 1;
  attnrt_attention_args bad = pagedArgs(p);
  bad.cache_seqlens = tooLong.data();
  expectInvalid(bad, "args.cache_seqlens[2] = 97 is outside [0, 96]");
  std::vector<int32_t> badTable = p.table;
  badTable[0 * p.maxPages + 3] = p.numPages;
  bad = pagedArgs(p);
  bad.page_table = badTable.data();
  expectInvalid(bad, "args.page_table[0, 3] = 24 is not a page of the pool "
                     "[0, 24)");
  bad = pagedArgs(p);
  bad.cache_seqlens = nullptr;
  expectInvalid(bad, "args.cache_seqlens is NULL");
  bad = pagedArgs(p);
  bad.num_pages = 0;
  expectInvalid(bad, "args.num_pages and args.max_pages_per_seq must be >= 1");
  attnrt_kernel_release(kernel);
}

/// x[s, h, :] rotated by RoPE at positions[s] (float64, from the
/// definition in attnrt.h).
std::vector<double> rotate(const attnrt_kernel_info &info,
                           const std::vector<double> &x, int64_t rows,
                           int64_t heads,
                           const std::vector<int64_t> &positions) {
  std::vector<double> out = x;
  int64_t d = info.head_dim, half = info.rope_dim / 2;
  for (int64_t s = 0; s < rows; ++s) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t p = 0; p < half; ++p) {
        double angle =
            positions[s] * std::pow(info.rope_base, -2.0 * p / info.rope_dim);
        int64_t i1 = info.rope_interleaved ? 2 * p : p;
        int64_t i2 = info.rope_interleaved ? 2 * p + 1 : p + half;
        double x1 = x[(s * heads + h) * d + i1],
               x2 = x[(s * heads + h) * d + i2];
        out[(s * heads + h) * d + i1] =
            x1 * std::cos(angle) - x2 * std::sin(angle);
        out[(s * heads + h) * d + i2] =
            x2 * std::cos(angle) + x1 * std::sin(angle);
      }
    }
  }
  return out;
}

TEST(PagedKvCache, AppendsRotatedKeysThenAttends) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("paged_append_f32", info);
  ASSERT_NE(kernel, nullptr);
  EXPECT_TRUE(info.appends_kv);
  EXPECT_EQ(info.rope_dim, 32);
  EXPECT_EQ(info.rope_base, 10000.0);
  EXPECT_TRUE(info.rope_interleaved);
  // 3 new tokens per sequence: crossing a page boundary (14 + 3), into an
  // empty sequence, after a full page.
  int64_t sq = 3, hq = info.num_q_heads, hkv = info.num_kv_heads;
  int64_t d = info.head_dim, dv = info.head_dim_v;
  PagedProblem p = makePagedProblem(info, sq, {14, 0, 16}, sq);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  std::vector<float> kNew(p.batch * sq * hkv * d),
      vNew(p.batch * sq * hkv * dv);
  for (auto *t : {&kNew, &vNew}) {
    for (float &x : *t) {
      x = normal(rng);
    }
  }
  attnrt_attention_args args = pagedArgs(p);
  args.k_new = kNew.data();
  args.v_new = vNew.data();
  std::vector<float> kPoolBefore = p.kPool;
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();

  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t length = p.lengths[b];
    std::vector<int64_t> newPositions, queryPositions;
    for (int64_t j = 0; j < sq; ++j) {
      newPositions.push_back(length + j);
      queryPositions.push_back(length + j); // seqlen_k - seqlen_q + i
    }
    std::vector<double> added(kNew.begin() + b * sq * hkv * d,
                              kNew.begin() + (b + 1) * sq * hkv * d);
    added = rotate(info, added, sq, hkv, newPositions);
    // The pool got the rotated keys and the values at rows length + j.
    for (int64_t j = 0; j < sq; ++j) {
      int64_t row = length + j;
      int64_t poolRow =
          p.table[b * p.maxPages + row / p.pageSize] * p.pageSize +
          row % p.pageSize;
      for (int64_t x = 0; x < hkv * d; ++x) {
        EXPECT_NEAR(p.kPool[poolRow * hkv * d + x], added[j * hkv * d + x],
                    1e-5)
            << "sequence " << b << " new key " << j;
      }
      for (int64_t x = 0; x < hkv * dv; ++x) {
        EXPECT_EQ(p.vPool[poolRow * hkv * dv + x],
                  vNew[((b * sq) + j) * hkv * dv + x]);
      }
    }
    // Attention over the cached keys and the new ones, q rotated.
    std::vector<float> keys = p.kDense[b], values = p.vDense[b];
    for (double x : added) {
      keys.push_back(static_cast<float>(x));
    }
    values.insert(values.end(), vNew.begin() + b * sq * hkv * dv,
                  vNew.begin() + (b + 1) * sq * hkv * dv);
    std::vector<double> query(p.q.begin() + b * sq * hq * d,
                              p.q.begin() + (b + 1) * sq * hq * d);
    query = rotate(info, query, sq, hq, queryPositions);
    std::vector<float> rotatedQuery(query.begin(), query.end());
    std::vector<double> refO, refLse;
    referenceAttention(info, rotatedQuery.data(), keys.data(), values.data(), 1,
                       sq, length + sq, refO, refLse);
    for (size_t i = 0; i < refO.size(); ++i) {
      EXPECT_NEAR(p.o[b * sq * hq * dv + i], refO[i], 1e-4)
          << "sequence " << b << " element " << i;
    }
  }
  // Rows that are no sequence's new keys are untouched.
  size_t changed = 0;
  for (size_t i = 0; i < kPoolBefore.size(); ++i) {
    changed += !(kPoolBefore[i] == p.kPool[i] ||
                 (std::isnan(kPoolBefore[i]) && std::isnan(p.kPool[i])));
  }
  EXPECT_EQ(changed, static_cast<size_t>(p.batch * sq * hkv * d));

  // Bad appending calls are refused before anything runs.
  std::vector<float> poolAfter = p.kPool;
  attnrt_attention_args bad = args;
  bad.k_new = nullptr;
  EXPECT_EQ(attnrt_run_cpu(kernel, &bad, 0), ATTNRT_INVALID_ARGUMENT);
  EXPECT_STREQ(attnrt_last_error(), "args.k_new is NULL");
  std::vector<int32_t> full = p.lengths;
  full[0] = p.maxPages * p.pageSize - 2;
  bad = args;
  bad.cache_seqlens = full.data();
  expectInvalidCall(kernel, bad,
                    "args.cache_seqlens[0] = 46 is outside [0, 45] (the "
                    "cache's max_pages_per_seq * page_size minus the 3 "
                    "appended keys)");
  std::vector<int32_t> noPage = p.table;
  noPage[1 * p.maxPages + 0] = -1; // sequence 1's first (new) page
  bad = args;
  bad.page_table = noPage.data();
  expectInvalidCall(kernel, bad, "args.page_table[1, 0] = -1");
  EXPECT_EQ(std::memcmp(poolAfter.data(), p.kPool.data(), poolAfter.size() * 4),
            0);
  attnrt_kernel_release(kernel);

  // A kernel that does not append refuses new keys.
  ASSERT_EQ(attnrt_kernel_load(packagePath("paged_f32").c_str(), &kernel),
            ATTNRT_OK);
  PagedProblem plain = makePagedProblem(info, 1, {5});
  attnrt_attention_args notAppending = pagedArgs(plain);
  notAppending.k_new = kNew.data();
  expectInvalidCall(kernel, notAppending, "does not append");
  attnrt_kernel_release(kernel);
}

TEST(SplitKv, MergedChunksMatchTheReference) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("split_f32", info);
  ASSERT_NE(kernel, nullptr);
  // Decode-like (1 and 3 queries: few work items, many chunks) and a
  // prefill with seqlen_q > seqlen_k (rows without keys), on 1 and 2
  // threads (the chunk count follows the threads).
  for (auto [sq, sk] : {std::make_pair(1, 900), std::make_pair(3, 257),
                        std::make_pair(130, 70)}) {
    for (int threads : {1, 2}) {
      Problem p = makeProblem(info, 2, sq, sk);
      attnrt_attention_args args = argsFor(p, true);
      ASSERT_EQ(attnrt_run_cpu(kernel, &args, threads), ATTNRT_OK)
          << attnrt_last_error();
      std::vector<double> refO, refLse;
      referenceAttention(info, p.q.data(), p.k.data(), p.v.data(), 2, sq, sk,
                         refO, refLse);
      for (size_t i = 0; i < refO.size(); ++i) {
        ASSERT_NEAR(p.o[i], refO[i], 1e-4) << sq << "x" << sk << " " << i;
      }
      for (size_t i = 0; i < refLse.size(); ++i) {
        if (std::isinf(refLse[i])) {
          ASSERT_TRUE(std::isinf(p.lse[i]) && p.lse[i] < 0) << i;
        } else {
          ASSERT_NEAR(p.lse[i], refLse[i], 1e-4) << sq << "x" << sk << " " << i;
        }
      }
    }
  }
  attnrt_kernel_release(kernel);
}

TEST(Varlen, PackedQueriesOverAPagedCache) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("varlen_paged_f32", info);
  ASSERT_NE(kernel, nullptr);
  EXPECT_TRUE(info.varlen);
  EXPECT_EQ(info.kv_cache, ATTNRT_KV_PAGED);
  // A prefill chunk (20 queries over 40 keys), a sequence without queries,
  // a decode step (1 over 17) and 5 queries over 5 keys.
  std::vector<int32_t> cuQ = {0, 20, 20, 21, 26};
  PagedProblem p = makePagedProblem(info, 20, {40, 0, 17, 5});
  int64_t hq = info.num_q_heads, d = info.head_dim, dv = info.head_dim_v;
  int64_t totalQ = cuQ.back();
  std::vector<float> q;
  for (int64_t b = 0; b < p.batch; ++b) {
    q.insert(q.end(), p.q.begin() + b * 20 * hq * d,
             p.q.begin() + (b * 20 + cuQ[b + 1] - cuQ[b]) * hq * d);
  }
  std::vector<float> o(totalQ * hq * dv, NAN), lse(hq * totalQ, NAN);
  attnrt_attention_args args = packedPagedArgs(p, q, o, lse, cuQ);
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  for (int64_t b = 0; b < p.batch; ++b) {
    expectPackedSequence(info, b, q.data(), p.kDense[b].data(),
                         p.vDense[b].data(), cuQ[b], cuQ[b + 1] - cuQ[b],
                         p.lengths[b], o, lse, totalQ);
  }
  // Keys come from the cache: key offsets are refused.
  std::vector<int32_t> cuK = {0, 40, 40, 57, 62};
  attnrt_attention_args bad = args;
  bad.cu_seqlens_k = cuK.data();
  expectInvalidCall(kernel, bad, "no args.cu_seqlens_k");
  attnrt_kernel_release(kernel);
}

TEST(Varlen, AppendsPackedNewKeys) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("varlen_append_f32", info);
  ASSERT_NE(kernel, nullptr);
  ASSERT_TRUE(info.varlen && info.appends_kv);
  // New tokens 3, 0 and 2 (packed rows 0-2 and 3-4) after 14, 5 and 16
  // cached keys: the first crosses a page boundary.
  std::vector<int32_t> cuQ = {0, 3, 3, 5};
  PagedProblem p = makePagedProblem(info, 3, {14, 5, 16}, 3);
  int64_t hq = info.num_q_heads, hkv = info.num_kv_heads;
  int64_t d = info.head_dim, dv = info.head_dim_v, totalQ = cuQ.back();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::vector<float> q(totalQ * hq * d), kNew(totalQ * hkv * d),
      vNew(totalQ * hkv * dv);
  for (auto *t : {&q, &kNew, &vNew}) {
    for (float &x : *t) {
      x = normal(rng);
    }
  }
  std::vector<float> o(totalQ * hq * dv, NAN), lse(hq * totalQ, NAN);
  attnrt_attention_args args = packedPagedArgs(p, q, o, lse, cuQ);
  args.k_new = kNew.data();
  args.v_new = vNew.data();
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t sq = cuQ[b + 1] - cuQ[b], length = p.lengths[b];
    std::vector<float> keys = p.kDense[b], values = p.vDense[b];
    for (int64_t j = 0; j < sq; ++j) {
      int64_t row = length + j;
      int64_t poolRow =
          p.table[b * p.maxPages + row / p.pageSize] * p.pageSize +
          row % p.pageSize;
      for (int64_t x = 0; x < hkv * d; ++x) {
        ASSERT_EQ(p.kPool[poolRow * hkv * d + x],
                  kNew[(cuQ[b] + j) * hkv * d + x])
            << "sequence " << b << " new key " << j;
      }
      keys.insert(keys.end(), kNew.begin() + (cuQ[b] + j) * hkv * d,
                  kNew.begin() + (cuQ[b] + j + 1) * hkv * d);
      values.insert(values.end(), vNew.begin() + (cuQ[b] + j) * hkv * dv,
                    vNew.begin() + (cuQ[b] + j + 1) * hkv * dv);
    }
    expectPackedSequence(info, b, q.data(), keys.data(), values.data(), cuQ[b],
                         sq, length + sq, o, lse, totalQ);
  }
  // Sequence 2's 2 new keys do not fit after 47 of 48 rows.
  std::vector<int32_t> full = p.lengths;
  full[2] = p.maxPages * p.pageSize - 1;
  attnrt_attention_args bad = args;
  bad.cache_seqlens = full.data();
  expectInvalidCall(kernel, bad, "minus the 2 appended keys");
  attnrt_kernel_release(kernel);
}

TEST(Varlen, PackedSequencesMatchTheReference) {
  attnrt_kernel_info info;
  attnrt_kernel *kernel = loadKernel("varlen_f32", info);
  ASSERT_NE(kernel, nullptr);
  EXPECT_TRUE(info.varlen);
  // Sequences of 70x90, 0x5 (no queries), 1x0 (no keys) and 130x40 rows.
  std::vector<int32_t> cuQ = {0, 70, 70, 71, 201}, cuK = {0, 90, 95, 95, 135};
  int64_t totalQ = cuQ.back(), totalK = cuK.back(), hq = 4, hkv = 2, d = 40;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> q(totalQ * hq * d), k(totalK * hkv * d),
      v(totalK * hkv * d);
  for (auto *t : {&q, &k, &v}) {
    for (float &x : *t) {
      x = normal(rng);
    }
  }
  std::vector<float> o(totalQ * hq * d, NAN), lse(hq * totalQ, NAN);
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = q.data();
  args.k = k.data();
  args.v = v.data();
  args.o = o.data();
  args.lse = lse.data();
  args.batch = 4;
  args.seqlen_q = totalQ;
  args.seqlen_k = totalK;
  args.cu_seqlens_q = cuQ.data();
  args.cu_seqlens_k = cuK.data();
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  for (int64_t b = 0; b < 4; ++b) {
    expectPackedSequence(info, b, q.data(), k.data() + cuK[b] * hkv * d,
                         v.data() + cuK[b] * hkv * d, cuQ[b],
                         cuQ[b + 1] - cuQ[b], cuK[b + 1] - cuK[b], o, lse,
                         totalQ);
  }
  // Offsets that do not describe the packed rows are refused.
  std::vector<int32_t> short_ = {0, 70, 70, 71, 200};
  args.cu_seqlens_q = short_.data();
  expectInvalidCall(kernel, args,
                    "args.cu_seqlens_q must start at 0 and end at 201");
  std::vector<int32_t> decreasing = {0, 70, 60, 71, 201};
  args.cu_seqlens_q = decreasing.data();
  expectInvalidCall(kernel, args,
                    "args.cu_seqlens_q[2] = 60 is below the entry before it");
  args.cu_seqlens_q = nullptr;
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_INVALID_ARGUMENT);
  attnrt_kernel_release(kernel);
}

} // namespace
