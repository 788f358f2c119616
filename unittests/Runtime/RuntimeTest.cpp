//===- RuntimeTest.cpp - libattnrt's C and C++ APIs -----------------------===//
//
// Packages are compiled by attngen at build time (ATTNRT_TEST_PACKAGES).
// Results are compared with a plain float64 attention written here from the
// DESIGN rules; bad input is checked for its status and message.
//
//===----------------------------------------------------------------------===//

#include "attnrt/attnrt.h"
#include "attnrt/attnrt.hpp"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string packagePath(const std::string &name) {
  return std::string(ATTNRT_TEST_PACKAGES) + "/" + name + ".attnpkg";
}

/// Loads package `name` and reads its info; null (and a test failure) if
/// either fails.
attnrt_kernel *loadKernel(const std::string &name, attnrt_kernel_info &info) {
  attnrt_kernel *kernel = nullptr;
  if (attnrt_kernel_load(packagePath(name).c_str(), &kernel) != ATTNRT_OK) {
    ADD_FAILURE() << name << ": " << attnrt_last_error();
    return nullptr;
  }
  EXPECT_EQ(attnrt_kernel_get_info(kernel, &info), ATTNRT_OK);
  return kernel;
}

/// The CPU call is refused as invalid, with `message` in the error.
void expectInvalidCall(attnrt_kernel *kernel, const attnrt_attention_args &args,
                       const std::string &message) {
  EXPECT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_INVALID_ARGUMENT)
      << message;
  EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
      << attnrt_last_error();
}

/// O and LSE in float64 straight from the definition, for dense BSHD f32.
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
  if (info.causal)
    right = right < 0 ? 0 : std::min<int64_t>(right, 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < sq; ++i) {
        int64_t kvh = h / (hq / hkv);
        std::vector<double> s(sk, -INFINITY);
        double max = -INFINITY;
        for (int64_t j = 0; j < sk; ++j) {
          bool leftOk = info.window_left < 0 || j >= i + off - info.window_left;
          bool rightOk = right < 0 || j <= i + off + right;
          if (!((leftOk || j < info.sink_tokens) && rightOk))
            continue;
          double dot = 0;
          for (int64_t x = 0; x < d; ++x)
            dot += double(q[((b * sq + i) * hq + h) * d + x]) *
                   k[((b * sk + j) * hkv + kvh) * d + x];
          s[j] = dot * info.scale;
          max = std::max(max, s[j]);
        }
        if (max == -INFINITY)
          continue;
        double sum = 0;
        for (int64_t j = 0; j < sk; ++j)
          sum += std::exp(s[j] - max);
        for (int64_t j = 0; j < sk; ++j) {
          double p = std::exp(s[j] - max) / sum;
          for (int64_t x = 0; x < dv; ++x)
            out[((b * sq + i) * hq + h) * dv + x] +=
                p * v[((b * sk + j) * hkv + kvh) * dv + x];
        }
        lse[(b * hq + h) * sq + i] = max + std::log(sum);
      }
}

/// Sequence `b` of a packed batch (queries from row `firstRow` of q, o and
/// lse, `totalQ` rows in all) against referenceAttention over its keys.
void expectPackedSequence(const attnrt_kernel_info &info, int64_t b,
                          const float *q, const float *keys,
                          const float *values, int64_t firstRow, int64_t sq,
                          int64_t sk, const std::vector<float> &o,
                          const std::vector<float> &lse, int64_t totalQ) {
  int64_t hq = info.num_q_heads, d = info.head_dim, dv = info.head_dim_v;
  std::vector<double> refO, refLse;
  referenceAttention(info, q + firstRow * hq * d, keys, values, 1, sq, sk, refO,
                     refLse);
  for (size_t i = 0; i < refO.size(); ++i)
    ASSERT_NEAR(o[firstRow * hq * dv + i], refO[i], 1e-4) << "sequence " << b;
  for (int64_t h = 0; h < hq; ++h)
    for (int64_t i = 0; i < sq; ++i) {
      double expected = refLse[h * sq + i];
      float got = lse[h * totalQ + firstRow + i];
      if (std::isinf(expected))
        ASSERT_TRUE(std::isinf(got) && got < 0) << "sequence " << b;
      else
        ASSERT_NEAR(got, expected, 1e-4) << "sequence " << b;
    }
}

struct Problem {
  int64_t batch, sq, sk;
  std::vector<float> q, k, v, o, lse;
};

Problem makeProblem(const attnrt_kernel_info &info, int64_t batch, int64_t sq,
                    int64_t sk) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  Problem p{batch, sq, sk, {}, {}, {}, {}, {}};
  p.q.resize(batch * sq * info.num_q_heads * info.head_dim);
  p.k.resize(batch * sk * info.num_kv_heads * info.head_dim);
  p.v.resize(batch * sk * info.num_kv_heads * info.head_dim_v);
  for (auto *t : {&p.q, &p.k, &p.v})
    for (float &x : *t)
      x = normal(rng);
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
    ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
    std::vector<double> refO, refLse;
    referenceAttention(info, p.q.data(), p.k.data(), p.v.data(), 2, sq, sk,
                       refO, refLse);
    double maxError = 0;
    for (size_t i = 0; i < refO.size(); ++i)
      maxError = std::max(maxError, std::abs(p.o[i] - refO[i]));
    EXPECT_LT(maxError, 1e-4) << sq << "x" << sk;
    for (size_t i = 0; i < refLse.size(); ++i) {
      if (std::isinf(refLse[i]))
        EXPECT_TRUE(std::isinf(p.lse[i]) && p.lse[i] < 0) << i;
      else
        EXPECT_NEAR(p.lse[i], refLse[i], 1e-4) << i;
    }
  }
}

TEST_F(F32Kernel, BatchStrideAndThreadCounts) {
  // Q as every other batch entry of a larger buffer: only the batch stride
  // differs from dense.
  Problem p = makeProblem(info, 2, 65, 70);
  int64_t qBatch = 65 * 6 * 96;
  std::vector<float> spaced(4 * qBatch, NAN);
  for (int64_t b = 0; b < 2; ++b)
    std::copy(p.q.begin() + b * qBatch, p.q.begin() + (b + 1) * qBatch,
              spaced.begin() + 2 * b * qBatch);
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
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::fill(copies[t].o.begin(), copies[t].o.end(), NAN);
      attnrt_attention_args a = argsFor(copies[t], true);
      statuses[t] = attnrt_run_cpu(kernel, &a, 0);
    });
  for (auto &thread : threads)
    thread.join();
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
    for (float x : p.o)
      ASSERT_EQ(x, 7.0f) << "the kernel ran";
  };
  attnrt_attention_args args = argsFor(p, true);
  args.q = nullptr;
  expectInvalid(args, "args.q is NULL");
  args = argsFor(p, true);
  args.k = reinterpret_cast<const char *>(p.k.data()) + 1;
  expectInvalid(args, "args.k is not aligned to 4 bytes");
  args = argsFor(p, false);
  expectInvalid(args, "args.lse is NULL but kernel 'f32_reference' returns the LSE");
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
  for (float x : noKeys.o)
    ASSERT_EQ(x, 0.0f);
  for (float x : noKeys.lse)
    ASSERT_TRUE(std::isinf(x) && x < 0) << x;
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

/// A copy of a good package with `edit` applied to its files.
std::string brokenPackage(const std::string &name,
                          const std::function<void(const fs::path &)> &edit,
                          const std::string &from = "f32_reference") {
  fs::path dir = fs::temp_directory_path() /
                 ("attnrt_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(packagePath(from), dir);
  edit(dir);
  return dir.string();
}

std::string readText(const fs::path &path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

void writeText(const fs::path &path, const std::string &text) {
  std::ofstream(path, std::ios::trunc) << text;
}

void replaceIn(const fs::path &path, const std::string &from,
               const std::string &to) {
  std::string text = readText(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  writeText(path, text.replace(at, from.size(), to));
}

/// Makes a package look like one of an attngen that wrote no digest.
void removeDigest(const fs::path &dir) {
  std::string text = readText(dir / "manifest.json");
  std::string without = std::regex_replace(
      text, std::regex(R"(,\s*"digest": "fnv1a64:[0-9a-f]{16}")"), "");
  ASSERT_NE(without, text);
  writeText(dir / "manifest.json", without);
}

void expectLoadFails(const std::string &dir, attnrt_status status,
                     const std::string &message) {
  attnrt_kernel *kernel = reinterpret_cast<attnrt_kernel *>(0x1);
  EXPECT_EQ(attnrt_kernel_load(dir.c_str(), &kernel), status)
      << attnrt_last_error();
  EXPECT_EQ(kernel, nullptr);
  EXPECT_NE(std::string(attnrt_last_error()).find(message), std::string::npos)
      << attnrt_last_error();
}

TEST(Load, BadPackages) {
  expectLoadFails("/nonexistent.attnpkg", ATTNRT_IO_ERROR,
                  "/nonexistent.attnpkg/manifest.json: cannot open");
  expectLoadFails(brokenPackage("truncated",
                                [](const fs::path &dir) {
                                  std::string text =
                                      readText(dir / "manifest.json");
                                  writeText(dir / "manifest.json",
                                            text.substr(0, text.size() / 2));
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "not a JSON object");
  expectLoadFails(brokenPackage("version",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"format_version\": 2",
                                            "\"format_version\": 7");
                                }),
                  ATTNRT_VERSION_MISMATCH, "package format version 7");
  expectLoadFails(brokenPackage("target",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"target\": \"cpu\",\n  \"triple\"",
                                            "\"target\": \"sm_70\",\n  \"triple\"");
                                }),
                  ATTNRT_UNSUPPORTED, "target 'sm_70' is not supported");
  // A CPU package relabelled as a CUDA one: its kernel ABI gives it away.
  expectLoadFails(brokenPackage("relabelled",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"target\": \"cpu\",\n  \"triple\"",
                                            "\"target\": \"sm_80\",\n  \"triple\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/kernel/abi: expected \"mlir-gpu-expanded-memrefs\"");
  expectLoadFails(brokenPackage("heads",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"num_kv_heads\": 3",
                                            "\"num_kv_heads\": 4");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "/spec/num_kv_heads: does not divide");
  expectLoadFails(brokenPackage("params",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"name\": \"lse\"",
                                            "\"name\": \"log_sum_exp\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/params/4: expected parameter 'lse'");
  expectLoadFails(brokenPackage("nolib",
                                [](const fs::path &dir) {
                                  fs::remove(dir / "kernel.so");
                                }),
                  ATTNRT_IO_ERROR, "kernel.so: cannot open");
  expectLoadFails(brokenPackage("badlib",
                                [](const fs::path &dir) {
                                  writeText(dir / "kernel.so", "not an ELF file");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "kernel.so: cannot load");
  expectLoadFails(brokenPackage("entry",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"entry\": \"_mlir_ciface_f32_reference\"",
                                            "\"entry\": \"missing_symbol\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "no entry point 'missing_symbol'");
  expectLoadFails(brokenPackage("escape",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"file\": \"kernel.so\"",
                                            "\"file\": \"../../etc/passwd\"");
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/file: expected a file name");
  // An appending package needs its append function, and RoPE an even
  // rotary dim within the head dim.
  expectLoadFails(brokenPackage(
                      "append",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json",
                                  "\"append_entry\": "
                                  "\"_mlir_ciface_paged_append_f32_append\"",
                                  "\"append_entry\": \"missing_append\"");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE, "no append entry 'missing_append'");
  expectLoadFails(brokenPackage(
                      "noappend",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json",
                                  "\"append_entry\": ", "\"append_symbol\": ");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/append_entry");
  expectLoadFails(brokenPackage(
                      "rope",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json", "\"rotary_dim\": 32",
                                  "\"rotary_dim\": 33");
                      },
                      "paged_append_f32"),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/spec/rope/rotary_dim: expected an even integer up to "
                  "head_dim");
  // A CUDA appending package must launch its append kernel as compiled.
  expectLoadFails(brokenPackage(
                      "appendgrid",
                      [](const fs::path &dir) {
                        replaceIn(dir / "manifest.json", "num_kv_heads / 4)",
                                  "num_kv_heads / 64)");
                      },
                      "append_sm80"),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/append/grid");
  {
    // Packages of earlier attngen versions, with one thread per new row,
    // still load.
    std::string earlier = brokenPackage(
        "appendthreads",
        [](const fs::path &dir) {
          replaceIn(dir / "manifest.json", "num_kv_heads / 4)",
                    "num_kv_heads / 128)");
          removeDigest(dir);
        },
        "append_sm80");
    attnrt_kernel *kernel = nullptr;
    EXPECT_EQ(attnrt_kernel_load(earlier.c_str(), &kernel), ATTNRT_OK)
        << attnrt_last_error();
    attnrt_kernel_release(kernel);
  }
  // Edits that leave the manifest consistent with itself (a spec field, the
  // kernel file) are refused by the digest attngen wrote over both; a
  // package without a digest (earlier attngen) is not checked.
  auto softcap = [](const fs::path &dir) {
    replaceIn(dir / "manifest.json", "\"softcap\": 0.0", "\"softcap\": 30.0");
  };
  expectLoadFails(brokenPackage("digestspec", softcap), ATTNRT_CORRUPT_PACKAGE,
                  "manifest.json: /kernel/digest: does not match kernel.so and "
                  "the manifest");
  expectLoadFails(brokenPackage("digestptx",
                                [](const fs::path &dir) {
                                  std::ofstream(dir / "kernel.ptx",
                                                std::ios::app)
                                      << "// appended\n";
                                },
                                "append_sm80"),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/kernel/digest: does not match kernel.ptx");
  expectLoadFails(brokenPackage("digesthex",
                                [](const fs::path &dir) {
                                  fs::path path = dir / "manifest.json";
                                  writeText(path, std::regex_replace(
                                                      readText(path),
                                                      std::regex("fnv1a64:[0-9a-f]{16}"),
                                                      "fnv1a64:0123456789abcdeZ"));
                                }),
                  ATTNRT_CORRUPT_PACKAGE, "/kernel/digest: expected");
  expectLoadFails(brokenPackage("digestform",
                                [](const fs::path &dir) {
                                  replaceIn(dir / "manifest.json",
                                            "\"digest\": \"fnv1a64:",
                                            "\"digest\": \"sha1:");
                                }),
                  ATTNRT_CORRUPT_PACKAGE,
                  "/kernel/digest: expected \"fnv1a64:\" and 16 hex digits");
  {
    std::string unchecked = brokenPackage("nodigest", [&](const fs::path &dir) {
      softcap(dir);
      removeDigest(dir);
    });
    attnrt_kernel *kernel = nullptr;
    EXPECT_EQ(attnrt_kernel_load(unchecked.c_str(), &kernel), ATTNRT_OK)
        << attnrt_last_error();
    attnrt_kernel_release(kernel);
  }
  EXPECT_EQ(attnrt_kernel_load(nullptr, nullptr), ATTNRT_INVALID_ARGUMENT);
  attnrt_kernel *kernel = nullptr;
  EXPECT_EQ(attnrt_kernel_load(nullptr, &kernel), ATTNRT_INVALID_ARGUMENT);
  EXPECT_STREQ(attnrt_status_string(ATTNRT_CORRUPT_PACKAGE), "corrupt package");
}

TEST(Cuda, AvailabilityIsAStatusNeverACrash) {
  attnrt_status status = attnrt_cuda_available();
  if (status != ATTNRT_OK) {
    EXPECT_TRUE(status == ATTNRT_NO_DEVICE || status == ATTNRT_DRIVER_ERROR);
    EXPECT_STRNE(attnrt_last_error(), "");
  }
}

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
  for (float &x : p.q)
    x = normal(rng);
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
      if (j % p.pageSize == 0)
        p.table[b * p.maxPages + slot] = order[b * p.maxPages + slot];
      int64_t row = p.table[b * p.maxPages + slot] * p.pageSize + j % p.pageSize;
      for (int64_t x = 0; x < rowFloats; ++x) {
        float kx = normal(rng), vx = normal(rng);
        p.kPool[row * rowFloats + x] = kx;
        p.vPool[row * rowFloats + x] = vx;
        p.kDense[b].push_back(kx);
        p.vDense[b].push_back(vx);
      }
    }
    for (int64_t slot = (lengths[b] + p.pageSize - 1) / p.pageSize;
         slot < (lengths[b] + reserve + p.pageSize - 1) / p.pageSize; ++slot)
      p.table[b * p.maxPages + slot] = order[b * p.maxPages + slot];
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
    for (size_t i = 0; i < refO.size(); ++i)
      EXPECT_NEAR(p.o[b * p.sq * hq * dv + i], refO[i], 1e-4)
          << "sequence " << b << " element " << i;
    for (size_t i = 0; i < refLse.size(); ++i) {
      float lse = p.lse[b * hq * p.sq + i];
      if (std::isinf(refLse[i]))
        EXPECT_TRUE(std::isinf(lse) && lse < 0) << "sequence " << b;
      else
        EXPECT_NEAR(lse, refLse[i], 1e-4) << "sequence " << b;
    }
  }

  // Bad cache inputs are refused before anything runs.
  auto expectInvalid = [&](attnrt_attention_args bad, const char *message) {
    std::vector<float> before = p.o;
    EXPECT_EQ(attnrt_run_cpu(kernel, &bad, 0), ATTNRT_INVALID_ARGUMENT)
        << message;
    EXPECT_NE(std::string(attnrt_last_error()).find(message),
              std::string::npos)
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
  for (int64_t s = 0; s < rows; ++s)
    for (int64_t h = 0; h < heads; ++h)
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
  for (auto *t : {&kNew, &vNew})
    for (float &x : *t)
      x = normal(rng);
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
      for (int64_t x = 0; x < hkv * d; ++x)
        EXPECT_NEAR(p.kPool[poolRow * hkv * d + x], added[j * hkv * d + x],
                    1e-5)
            << "sequence " << b << " new key " << j;
      for (int64_t x = 0; x < hkv * dv; ++x)
        EXPECT_EQ(p.vPool[poolRow * hkv * dv + x],
                  vNew[((b * sq) + j) * hkv * dv + x]);
    }
    // Attention over the cached keys and the new ones, q rotated.
    std::vector<float> keys = p.kDense[b], values = p.vDense[b];
    for (double x : added)
      keys.push_back(static_cast<float>(x));
    values.insert(values.end(), vNew.begin() + b * sq * hkv * dv,
                  vNew.begin() + (b + 1) * sq * hkv * dv);
    std::vector<double> query(p.q.begin() + b * sq * hq * d,
                              p.q.begin() + (b + 1) * sq * hq * d);
    query = rotate(info, query, sq, hq, queryPositions);
    std::vector<float> rotatedQuery(query.begin(), query.end());
    std::vector<double> refO, refLse;
    referenceAttention(info, rotatedQuery.data(), keys.data(), values.data(), 1,
                       sq, length + sq, refO, refLse);
    for (size_t i = 0; i < refO.size(); ++i)
      EXPECT_NEAR(p.o[b * sq * hq * dv + i], refO[i], 1e-4)
          << "sequence " << b << " element " << i;
  }
  // Rows that are no sequence's new keys are untouched.
  size_t changed = 0;
  for (size_t i = 0; i < kPoolBefore.size(); ++i)
    changed += !(kPoolBefore[i] == p.kPool[i] ||
                 (std::isnan(kPoolBefore[i]) && std::isnan(p.kPool[i])));
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
      for (size_t i = 0; i < refO.size(); ++i)
        ASSERT_NEAR(p.o[i], refO[i], 1e-4) << sq << "x" << sk << " " << i;
      for (size_t i = 0; i < refLse.size(); ++i) {
        if (std::isinf(refLse[i]))
          ASSERT_TRUE(std::isinf(p.lse[i]) && p.lse[i] < 0) << i;
        else
          ASSERT_NEAR(p.lse[i], refLse[i], 1e-4) << sq << "x" << sk << " " << i;
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
  for (int64_t b = 0; b < p.batch; ++b)
    q.insert(q.end(), p.q.begin() + b * 20 * hq * d,
             p.q.begin() + (b * 20 + cuQ[b + 1] - cuQ[b]) * hq * d);
  std::vector<float> o(totalQ * hq * dv, NAN), lse(hq * totalQ, NAN);
  attnrt_attention_args args = pagedArgs(p);
  args.q = q.data();
  args.o = o.data();
  args.lse = lse.data();
  args.seqlen_q = totalQ;
  args.cu_seqlens_q = cuQ.data();
  ASSERT_EQ(attnrt_run_cpu(kernel, &args, 0), ATTNRT_OK) << attnrt_last_error();
  for (int64_t b = 0; b < p.batch; ++b)
    expectPackedSequence(info, b, q.data(), p.kDense[b].data(),
                         p.vDense[b].data(), cuQ[b], cuQ[b + 1] - cuQ[b],
                         p.lengths[b], o, lse, totalQ);
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
  for (auto *t : {&q, &kNew, &vNew})
    for (float &x : *t)
      x = normal(rng);
  std::vector<float> o(totalQ * hq * dv, NAN), lse(hq * totalQ, NAN);
  attnrt_attention_args args = pagedArgs(p);
  args.q = q.data();
  args.o = o.data();
  args.lse = lse.data();
  args.seqlen_q = totalQ;
  args.cu_seqlens_q = cuQ.data();
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
      for (int64_t x = 0; x < hkv * d; ++x)
        ASSERT_EQ(p.kPool[poolRow * hkv * d + x],
                  kNew[(cuQ[b] + j) * hkv * d + x])
            << "sequence " << b << " new key " << j;
      keys.insert(keys.end(), kNew.begin() + (cuQ[b] + j) * hkv * d,
                  kNew.begin() + (cuQ[b] + j + 1) * hkv * d);
      values.insert(values.end(), vNew.begin() + (cuQ[b] + j) * hkv * dv,
                    vNew.begin() + (cuQ[b] + j + 1) * hkv * dv);
    }
    expectPackedSequence(info, b, q.data(), keys.data(), values.data(),
                         cuQ[b], sq, length + sq, o, lse, totalQ);
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
  std::vector<float> q(totalQ * hq * d), k(totalK * hkv * d), v(totalK * hkv * d);
  for (auto *t : {&q, &k, &v})
    for (float &x : *t)
      x = normal(rng);
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
  for (int64_t b = 0; b < 4; ++b)
    expectPackedSequence(info, b, q.data(), k.data() + cuK[b] * hkv * d,
                         v.data() + cuK[b] * hkv * d, cuQ[b],
                         cuQ[b + 1] - cuQ[b], cuK[b + 1] - cuK[b], o, lse,
                         totalQ);
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
  for (int h = 1; h <= info.num_q_heads; ++h)
    slopes.push_back(std::exp2(-8.0f * h / info.num_q_heads));
  args.alibi_slopes = slopes.data();
  ASSERT_TRUE(kernel.runCpu(args).ok());
  EXPECT_EQ(p.o, standard);
  auto [missing, none] = attnrt::Kernel::load("/nonexistent.attnpkg");
  EXPECT_EQ(missing.code(), ATTNRT_IO_ERROR);
  EXPECT_NE(missing.message().find("cannot open"), std::string::npos);
  EXPECT_FALSE(static_cast<bool>(none));
}

} // namespace
