//===- Cuda.cpp - the CUDA driver, loaded at run time ---------------------===//
//
// libcuda.so.1 is opened with dlopen, never linked, so an engine that links
// libattnrt starts on machines without an NVIDIA driver and gets a status.
//
//===----------------------------------------------------------------------===//

#include "Error.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace attnrt::detail {

namespace {
using CUresult = int;
using cuInitFn = CUresult (*)(unsigned);
using cuDeviceGetCountFn = CUresult (*)(int *);

struct CudaDriver {
  void *library = nullptr;
  cuInitFn cuInit = nullptr;
  cuDeviceGetCountFn cuDeviceGetCount = nullptr;
  attnrt_status status = ATTNRT_NO_DEVICE;
  std::string message;
};

/// Opens and initializes the driver once per process.
const CudaDriver &driver() {
  static CudaDriver instance;
  static std::once_flag once;
  std::call_once(once, [] {
    CudaDriver &d = instance;
    d.library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!d.library) {
      d.message = "libcuda.so.1 cannot be loaded (no NVIDIA driver on this "
                  "machine?)";
      return;
    }
    d.cuInit = reinterpret_cast<cuInitFn>(dlsym(d.library, "cuInit"));
    d.cuDeviceGetCount =
        reinterpret_cast<cuDeviceGetCountFn>(dlsym(d.library, "cuDeviceGetCount"));
    if (!d.cuInit || !d.cuDeviceGetCount) {
      d.status = ATTNRT_DRIVER_ERROR;
      d.message = "libcuda.so.1 lacks cuInit or cuDeviceGetCount";
      return;
    }
    if (CUresult r = d.cuInit(0)) {
      d.message = "cuInit failed with CUresult " + std::to_string(r) +
                  " (no usable CUDA device?)";
      return;
    }
    int count = 0;
    if (CUresult r = d.cuDeviceGetCount(&count)) {
      d.status = ATTNRT_DRIVER_ERROR;
      d.message = "cuDeviceGetCount failed with CUresult " + std::to_string(r);
      return;
    }
    if (count == 0) {
      d.message = "the CUDA driver reports no device";
      return;
    }
    d.status = ATTNRT_OK;
  });
  return instance;
}
} // namespace

attnrt_status cudaAvailable() {
  const CudaDriver &d = driver();
  if (d.status != ATTNRT_OK)
    return fail(d.status, d.message);
  return succeed();
}

} // namespace attnrt::detail
