//===- RuntimeTestSupport.cpp - what libattnrt's tests share
//---------------===//

#include "RuntimeTestSupport.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace attnrt_test {

std::string packagePath(const std::string &name) {
  return std::string(ATTNRT_TEST_PACKAGES) + "/" + name + ".attnpkg";
}

attnrt_kernel *loadKernel(const std::string &name, attnrt_kernel_info &info) {
  attnrt_kernel *kernel = nullptr;
  if (attnrt_kernel_load(packagePath(name).c_str(), &kernel) != ATTNRT_OK) {
    ADD_FAILURE() << name << ": " << attnrt_last_error();
    return nullptr;
  }
  EXPECT_EQ(attnrt_kernel_get_info(kernel, &info), ATTNRT_OK);
  return kernel;
}

void expectInvalidCall(attnrt_kernel *kernel, const attnrt_attention_args &args,
                       const std::string &message) {
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_INVALID_ARGUMENT)
      << message;
  EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
      << attnrt_last_error();
}

void referenceAttention(const attnrt_kernel_info &info, const float *q,
                        const float *k, const float *v, int64_t batch,
                        int64_t sq, int64_t sk, std::vector<double> &out,
                        std::vector<double> &lse) {
  int64_t hq = info.num_q_heads, hkv = info.num_kv_heads;
  int64_t d = info.head_dim, dv = info.head_dim_v;
  out.assign(batch * sq * hq * dv, 0.0);
  lse.assign(batch * hq * sq, -INFINITY);
  int64_t off = info.causal_top_left ? 0 : sk - sq;
  int64_t right = info.window_right;
  if (info.causal) {
    right = right < 0 ? 0 : std::min<int64_t>(right, 0);
  }
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < hq; ++h) {
      for (int64_t i = 0; i < sq; ++i) {
        int64_t kvh = h / (hq / hkv);
        std::vector<double> s(sk, -INFINITY);
        double max = -INFINITY;
        for (int64_t j = 0; j < sk; ++j) {
          bool leftOk = info.window_left < 0 || j >= i + off - info.window_left;
          bool rightOk = right < 0 || j <= i + off + right;
          if (!((leftOk || j < info.sink_tokens) && rightOk)) {
            continue;
          }
          double dot = 0;
          for (int64_t x = 0; x < d; ++x) {
            dot += double(q[((b * sq + i) * hq + h) * d + x]) *
                   k[((b * sk + j) * hkv + kvh) * d + x];
          }
          s[j] = dot * info.scale;
          max = std::max(max, s[j]);
        }
        if (max == -INFINITY) {
          continue;
        }
        double sum = 0;
        for (int64_t j = 0; j < sk; ++j) {
          sum += std::exp(s[j] - max);
        }
        for (int64_t j = 0; j < sk; ++j) {
          double p = std::exp(s[j] - max) / sum;
          for (int64_t x = 0; x < dv; ++x) {
            out[((b * sq + i) * hq + h) * dv + x] +=
                p * v[((b * sk + j) * hkv + kvh) * dv + x];
          }
        }
        lse[(b * hq + h) * sq + i] = max + std::log(sum);
      }
    }
  }
}

void expectPackedSequence(const attnrt_kernel_info &info, int64_t b,
                          const float *q, const float *keys,
                          const float *values, int64_t firstRow, int64_t sq,
                          int64_t sk, const std::vector<float> &o,
                          const std::vector<float> &lse, int64_t totalQ) {
  int64_t hq = info.num_q_heads, d = info.head_dim, dv = info.head_dim_v;
  std::vector<double> refO, refLse;
  referenceAttention(info, q + firstRow * hq * d, keys, values, 1, sq, sk, refO,
                     refLse);
  for (size_t i = 0; i < refO.size(); ++i) {
    ASSERT_NEAR(o[firstRow * hq * dv + i], refO[i], 1e-4) << "sequence " << b;
  }
  for (int64_t h = 0; h < hq; ++h) {
    for (int64_t i = 0; i < sq; ++i) {
      double expected = refLse[h * sq + i];
      float got = lse[h * totalQ + firstRow + i];
      if (std::isinf(expected)) {
        ASSERT_TRUE(std::isinf(got) && got < 0) << "sequence " << b;
      } else {
        ASSERT_NEAR(got, expected, 1e-4) << "sequence " << b;
      }
    }
  }
}

Problem makeProblem(const attnrt_kernel_info &info, int64_t batch, int64_t sq,
                    int64_t sk) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  Problem p{batch, sq, sk, {}, {}, {}, {}, {}};
  p.q.resize(batch * sq * info.num_q_heads * info.head_dim);
  p.k.resize(batch * sk * info.num_kv_heads * info.head_dim);
  p.v.resize(batch * sk * info.num_kv_heads * info.head_dim_v);
  for (auto *t : {&p.q, &p.k, &p.v}) {
    for (float &x : *t) {
      x = normal(rng);
    }
  }
  p.o.assign(batch * sq * info.num_q_heads * info.head_dim_v, NAN);
  p.lse.assign(batch * info.num_q_heads * sq, NAN);
  return p;
}

attnrt_attention_args argsFor(Problem &p, bool withLse) {
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = p.q.data();
  args.k = p.k.data();
  args.v = p.v.data();
  args.o = p.o.data();
  args.lse = withLse ? p.lse.data() : nullptr;
  args.batch = p.batch;
  args.seqlen_q = p.sq;
  args.seqlen_k = p.sk;
  return args;
}

std::string readText(const fs::path &path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void writeText(const fs::path &path, const std::string &text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

void removeDigest(const fs::path &dir) {
  std::string text = readText(dir / "manifest.json");
  std::string without = std::regex_replace(
      text, std::regex(R"(,\s*"digest": "fnv1a64:[0-9a-f]{16}")"), "");
  ASSERT_NE(without, text);
  writeText(dir / "manifest.json", without);
}

} // namespace attnrt_test
