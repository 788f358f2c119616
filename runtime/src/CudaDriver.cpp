//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//

#include "CudaDriver.h"
#include "Error.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace attnrt::detail {

namespace {

struct LoadedDriver {
  CudaDriver api{};
  attnrt_status status = ATTNRT_NO_DEVICE;
  std::string message;
};

/// Looks up `name` into `slot`; false if a required symbol is missing.
template <typename Fn>
bool bind(void *library, const char *name, Fn &slot, std::string &missing) {
  slot = reinterpret_cast<Fn>(dlsym(library, name));
  if (!slot) {
    missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  return slot != nullptr;
}

void loadDriver(LoadedDriver &d) {
  const char *override = std::getenv("ATTNRT_CUDA_DRIVER");
  std::string path = override && *override ? override : "libcuda.so.1";
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    d.message = path + " cannot be loaded (no NVIDIA driver on this machine?)";
    return;
  }
  CudaDriver &api = d.api;
  std::string missing;
  bind(library, "cuInit", api.cuInit, missing);
  bind(library, "cuDriverGetVersion", api.cuDriverGetVersion, missing);
  bind(library, "cuDeviceGetCount", api.cuDeviceGetCount, missing);
  bind(library, "cuDeviceGet", api.cuDeviceGet, missing);
  bind(library, "cuDeviceGetAttribute", api.cuDeviceGetAttribute, missing);
  bind(library, "cuDeviceGetName", api.cuDeviceGetName, missing);
  bind(library, "cuDeviceTotalMem_v2", api.cuDeviceTotalMem, missing);
  bind(library, "cuDevicePrimaryCtxRetain", api.cuDevicePrimaryCtxRetain,
       missing);
  bind(library, "cuCtxGetCurrent", api.cuCtxGetCurrent, missing);
  bind(library, "cuCtxSetCurrent", api.cuCtxSetCurrent, missing);
  bind(library, "cuCtxGetDevice", api.cuCtxGetDevice, missing);
  bind(library, "cuCtxSynchronize", api.cuCtxSynchronize, missing);
  bind(library, "cuStreamSynchronize", api.cuStreamSynchronize, missing);
  bind(library, "cuModuleLoadDataEx", api.cuModuleLoadDataEx, missing);
  bind(library, "cuModuleGetFunction", api.cuModuleGetFunction, missing);
  bind(library, "cuFuncSetAttribute", api.cuFuncSetAttribute, missing);
  bind(library, "cuLaunchKernel", api.cuLaunchKernel, missing);
  bind(library, "cuMemAlloc_v2", api.cuMemAlloc, missing);
  bind(library, "cuMemFree_v2", api.cuMemFree, missing);
  bind(library, "cuMemcpyHtoD_v2", api.cuMemcpyHtoD, missing);
  bind(library, "cuMemcpyDtoH_v2", api.cuMemcpyDtoH, missing);
  bind(library, "cuGetErrorName", api.cuGetErrorName, missing);
  api.cuCtxGetId =
      reinterpret_cast<decltype(api.cuCtxGetId)>(dlsym(library, "cuCtxGetId"));
  api.cuOccupancyMaxActiveBlocksPerMultiprocessor = reinterpret_cast<
      decltype(api.cuOccupancyMaxActiveBlocksPerMultiprocessor)>(
      dlsym(library, "cuOccupancyMaxActiveBlocksPerMultiprocessor"));
  if (!missing.empty()) {
    d.status = ATTNRT_DRIVER_ERROR;
    d.message = path + " lacks " + missing + " (driver too old?)";
    return;
  }
  if (CUresult r = api.cuInit(0)) {
    const char *name = nullptr;
    api.cuGetErrorName(r, &name);
    d.message = "cuInit failed: " + std::string(name ? name : "unknown") +
                " (" + std::to_string(r) + "); no usable CUDA device";
    return;
  }
  int count = 0;
  if (CUresult r = api.cuDeviceGetCount(&count)) {
    d.status = ATTNRT_DRIVER_ERROR;
    d.message = "cuDeviceGetCount failed with CUresult " + std::to_string(r);
    return;
  }
  if (count == 0) {
    d.message = "the CUDA driver reports no device";
    return;
  }
  d.status = ATTNRT_OK;
}

} // namespace

const CudaDriver *cudaDriver(attnrt_status &status) {
  static LoadedDriver driver;
  static std::once_flag once;
  std::call_once(once, [] { loadDriver(driver); });
  status = driver.status;
  if (status != ATTNRT_OK) {
    fail(status, driver.message);
    return nullptr;
  }
  return &driver.api;
}

attnrt_status driverFailure(const CudaDriver &driver, const char *call,
                            CUresult result, const std::string &detail) {
  const char *name = nullptr;
  if (driver.cuGetErrorName(result, &name) != kCudaSuccess || !name) {
    name = "unknown CUresult";
  }
  return fail(ATTNRT_DRIVER_ERROR, std::string(call) + " failed: " + name +
                                       " (" + std::to_string(result) + ")" +
                                       (detail.empty() ? "" : ": " + detail));
}

attnrt_status currentContext(const CudaDriver &driver, CUcontext &context,
                             CUdevice &device) {
  if (CUresult r = driver.cuCtxGetCurrent(&context)) {
    return driverFailure(driver, "cuCtxGetCurrent", r);
  }
  if (context) {
    if (CUresult r = driver.cuCtxGetDevice(&device)) {
      return driverFailure(driver, "cuCtxGetDevice", r);
    }
    return ATTNRT_OK;
  }
  // Retained once per process and never released: the runtime API keeps
  // the primary context alive the same way.
  static CUcontext primary = nullptr;
  static CUdevice primaryDevice = 0;
  static CUresult retainResult = kCudaSuccess;
  static const char *retainCall = "";
  static std::once_flag once;
  std::call_once(once, [&] {
    if ((retainResult = driver.cuDeviceGet(&primaryDevice, 0))) {
      retainCall = "cuDeviceGet";
      return;
    }
    if ((retainResult =
             driver.cuDevicePrimaryCtxRetain(&primary, primaryDevice))) {
      retainCall = "cuDevicePrimaryCtxRetain";
    }
  });
  if (retainResult) {
    return driverFailure(driver, retainCall, retainResult);
  }
  if (CUresult r = driver.cuCtxSetCurrent(primary)) {
    return driverFailure(driver, "cuCtxSetCurrent", r);
  }
  context = primary;
  device = primaryDevice;
  return ATTNRT_OK;
}

} // namespace attnrt::detail
