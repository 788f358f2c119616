//===- CudaDevice.cpp - device queries and buffers of the C API -----------===//
//
// The few device operations an embedding program or `attngen run --backend
// cuda` needs besides launching: which device, and moving buffers. Engines
// with their own allocator (PyTorch, vLLM) pass their device pointers to
// attnrt_run_cuda and need none of these.
//
//===----------------------------------------------------------------------===//

#include "CudaDevice.h"
#include "CudaDriver.h"
#include "Error.h"

#include <cstring>

namespace attnrt::detail {

namespace {
/// The driver and the calling thread's context, or a status.
const CudaDriver *withContext(attnrt_status &status, CUdevice &device) {
  const CudaDriver *driver = cudaDriver(status);
  if (!driver) {
    return nullptr;
  }
  CUcontext context = nullptr;
  if ((status = currentContext(*driver, context, device))) {
    return nullptr;
  }
  return driver;
}
} // namespace

attnrt_status cudaAvailable() {
  attnrt_status status;
  if (!cudaDriver(status)) {
    return status;
  }
  return succeed();
}

attnrt_status cudaDeviceInfo(attnrt_cuda_device_info &info) {
  attnrt_status status;
  CUdevice device = 0;
  const CudaDriver *driver = withContext(status, device);
  if (!driver) {
    return status;
  }
  std::memset(&info, 0, sizeof(info));
  info.ordinal = device;
  if (CUresult r =
          driver->cuDeviceGetName(info.name, sizeof(info.name) - 1, device)) {
    return driverFailure(*driver, "cuDeviceGetName", r);
  }
  struct Query {
    int attribute;
    int *out;
  };
  const Query queries[] = {
      {kDeviceAttributeComputeCapabilityMajor, &info.compute_capability_major},
      {kDeviceAttributeComputeCapabilityMinor, &info.compute_capability_minor},
      {kDeviceAttributeMultiprocessorCount, &info.multiprocessors},
      {kDeviceAttributeMaxSharedMemoryPerBlockOptin,
       &info.max_shared_memory_per_block}};
  for (const Query &query : queries) {
    if (CUresult r =
            driver->cuDeviceGetAttribute(query.out, query.attribute, device)) {
      return driverFailure(*driver, "cuDeviceGetAttribute", r);
    }
  }
  size_t bytes = 0;
  if (CUresult r = driver->cuDeviceTotalMem(&bytes, device)) {
    return driverFailure(*driver, "cuDeviceTotalMem", r);
  }
  info.total_memory_bytes = static_cast<int64_t>(bytes);
  return succeed();
}

attnrt_status cudaMalloc(size_t bytes, void **pointer) {
  if (!pointer) {
    return fail(ATTNRT_INVALID_ARGUMENT, "attnrt_cuda_malloc: pointer is NULL");
  }
  *pointer = nullptr;
  attnrt_status status;
  CUdevice device;
  const CudaDriver *driver = withContext(status, device);
  if (!driver) {
    return status;
  }
  CUdeviceptr allocation = 0;
  if (CUresult r = driver->cuMemAlloc(&allocation, bytes ? bytes : 1)) {
    return driverFailure(*driver, "cuMemAlloc", r,
                         std::to_string(bytes) + " bytes");
  }
  *pointer = reinterpret_cast<void *>(allocation);
  return succeed();
}

attnrt_status cudaFree(void *pointer) {
  if (!pointer) {
    return succeed();
  }
  attnrt_status status;
  CUdevice device;
  const CudaDriver *driver = withContext(status, device);
  if (!driver) {
    return status;
  }
  if (CUresult r = driver->cuMemFree(reinterpret_cast<CUdeviceptr>(pointer))) {
    return driverFailure(*driver, "cuMemFree", r);
  }
  return succeed();
}

attnrt_status cudaCopy(void *destination, const void *source, size_t bytes,
                       bool toDevice) {
  if (bytes == 0) {
    return succeed();
  }
  if (!destination || !source) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_cuda_copy: destination and source must not be NULL");
  }
  attnrt_status status;
  CUdevice device;
  const CudaDriver *driver = withContext(status, device);
  if (!driver) {
    return status;
  }
  if (toDevice) {
    if (CUresult r = driver->cuMemcpyHtoD(
            reinterpret_cast<CUdeviceptr>(destination), source, bytes)) {
      return driverFailure(*driver, "cuMemcpyHtoD", r);
    }
  } else if (CUresult r = driver->cuMemcpyDtoH(
                 destination, reinterpret_cast<CUdeviceptr>(source), bytes)) {
    return driverFailure(*driver, "cuMemcpyDtoH", r);
  }
  return succeed();
}

attnrt_status cudaSynchronize(void *stream) {
  attnrt_status status;
  CUdevice device;
  const CudaDriver *driver = withContext(status, device);
  if (!driver) {
    return status;
  }
  CUresult r = stream
                   ? driver->cuStreamSynchronize(static_cast<CUstream>(stream))
                   : driver->cuCtxSynchronize();
  if (r) {
    return driverFailure(*driver,
                         stream ? "cuStreamSynchronize" : "cuCtxSynchronize", r,
                         "a kernel before it failed");
  }
  return succeed();
}

} // namespace attnrt::detail
