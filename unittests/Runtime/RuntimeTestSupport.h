//===- RuntimeTestSupport.h - what libattnrt's tests share ------*- C++ -*-===//
//
// The packages the tests load (compiled by attngen at build time into
// ATTNRT_TEST_PACKAGES), a float64 reference attention written from the
// DESIGN rules, host problems and their call arguments, and file edits for
// broken-package tests.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H
#define ATTNGEN_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H

#include "attnrt/attnrt.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace attnrt_test {

namespace fs = std::filesystem;

/// The directory of test package `name`.
std::string packagePath(const std::string &name);

/// Loads package `name` and reads its info; null (and a test failure) if
/// either fails.
attnrt_kernel *loadKernel(const std::string &name, attnrt_kernel_info &info);

/// The CPU call is refused as invalid, with `message` in the error.
void expectInvalidCall(attnrt_kernel *kernel, const attnrt_attention_args &args,
                       const std::string &message);

/// O and LSE in float64 straight from the definition, for dense BSHD f32.
void referenceAttention(const attnrt_kernel_info &info, const float *q,
                        const float *k, const float *v, int64_t batch,
                        int64_t sq, int64_t sk, std::vector<double> &out,
                        std::vector<double> &lse);

/// Sequence `b` of a packed batch (queries from row `firstRow` of q, o and
/// lse, `totalQ` rows in all) against referenceAttention over its keys.
void expectPackedSequence(const attnrt_kernel_info &info, int64_t b,
                          const float *q, const float *keys,
                          const float *values, int64_t firstRow, int64_t sq,
                          int64_t sk, const std::vector<float> &o,
                          const std::vector<float> &lse, int64_t totalQ);

/// Dense f32 BSHD tensors of one call: Q, K, V normal(0, 1), O and LSE NaN.
struct Problem {
  int64_t batch, sq, sk;
  std::vector<float> q, k, v, o, lse;
};
Problem makeProblem(const attnrt_kernel_info &info, int64_t batch, int64_t sq,
                    int64_t sk);
attnrt_attention_args argsFor(Problem &p, bool withLse);

std::string readText(const fs::path &path);
void writeText(const fs::path &path, const std::string &text);
/// Makes a package look like one of an attngen that wrote no digest.
void removeDigest(const fs::path &dir);

} // namespace attnrt_test

#endif // ATTNGEN_UNITTESTS_RUNTIME_RUNTIMETESTSUPPORT_H
