//===- CudaTestSupport.h - libattnrt's CUDA tests on a mock driver -*- C++
//-*-===//
//
// ATTNRT_CUDA_DRIVER points libattnrt at MockCudaDriver.cpp (set before any
// libattnrt call loads the driver), which records what the runtime asks of
// the driver; device buffers for a call, a fixture that loads a GPU
// package, and checks of MLIR's expanded memref parameters.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_UNITTESTS_RUNTIME_CUDATESTSUPPORT_H
#define ATTNGEN_UNITTESTS_RUNTIME_CUDATESTSUPPORT_H

#include "MockCudaDriver.h"
#include "RuntimeTestSupport.h"

#include "attnrt/attnrt.h"

#include "gtest/gtest.h"

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace attnrt_test {

/// Whether ATTNRT_CUDA_DRIVER was set to the mock (at static
/// initialization, before any test calls libattnrt).
extern const bool kUsesMockDriver;

/// The mock driver's recorded state (loads the driver through libattnrt).
MockCudaState &mock();
/// Makes `id` the mock's current context.
void setContext(unsigned long long id);

/// Device buffers for one call of `info`'s kernel.
struct DeviceProblem {
  int64_t batch, sq, sk;
  void *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
  float *lse = nullptr;

  DeviceProblem(const attnrt_kernel_info &info, int64_t batch, int64_t sq,
                int64_t sk)
      : batch(batch), sq(sq), sk(sk) {
    size_t bytes = info.dtype == ATTNRT_F32 ? 4 : 2;
    EXPECT_EQ(attnrt_cuda_malloc(
                  batch * sq * info.num_q_heads * info.head_dim * bytes, &q),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(
                  batch * sk * info.num_kv_heads * info.head_dim * bytes, &k),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(
                  batch * sk * info.num_kv_heads * info.head_dim_v * bytes, &v),
              ATTNRT_OK);
    EXPECT_EQ(attnrt_cuda_malloc(
                  batch * sq * info.num_q_heads * info.head_dim_v * bytes, &o),
              ATTNRT_OK);
    if (info.returns_lse) {
      void *raw = nullptr;
      EXPECT_EQ(attnrt_cuda_malloc(batch * info.num_q_heads * sq * 4, &raw),
                ATTNRT_OK);
      lse = static_cast<float *>(raw);
    }
  }
  ~DeviceProblem() {
    for (void *p : {q, k, v, o, static_cast<void *>(lse)}) {
      EXPECT_EQ(attnrt_cuda_free(p), ATTNRT_OK);
    }
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
    ASSERT_EQ(attnrt_kernel_load(packagePath(name).c_str(), &kernel), ATTNRT_OK)
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
                    const char *name);

/// A copy of package `name` with its file `file` rewritten by `edit`, and
/// without the manifest's digest (PackageLoadTest checks that libattnrt
/// refuses edited packages that have one), as an earlier attngen wrote them.
fs::path withEditedFile(const std::string &name, const std::string &tag,
                        const char *file, std::string (*edit)(std::string));
inline fs::path withPtx(const std::string &name, const std::string &tag,
                        std::string (*edit)(std::string)) {
  return withEditedFile(name, tag, "kernel.ptx", edit);
}
inline fs::path withManifest(const std::string &name, const std::string &tag,
                             std::string (*edit)(std::string)) {
  return withEditedFile(name, tag, "manifest.json", edit);
}

} // namespace attnrt_test

#endif // ATTNGEN_UNITTESTS_RUNTIME_CUDATESTSUPPORT_H
