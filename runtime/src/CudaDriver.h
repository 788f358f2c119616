//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// libcuda.so.1 is opened with dlopen, never linked: an engine that links
// libattnrt starts on machines without an NVIDIA driver and gets a status.
// Only the few driver types and entry points libattnrt calls are declared
// here (the toolkit's cuda.h is not needed to build). Versioned entry points
// are looked up by their ABI names (cuMemAlloc_v2, ...), as cuda.h's macros
// would name them.
//
// ATTNRT_CUDA_DRIVER=/path/to/libcuda.so overrides the library (as Triton's
// TRITON_LIBCUDA_PATH does); the tests point it at a recording mock driver.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_SRC_CUDADRIVER_H
#define ATTNRT_SRC_CUDADRIVER_H

#include "attnrt/attnrt.h"

#include <cstdint>
#include <string>

namespace attnrt::detail {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;

/// The enumerator values libattnrt uses (stable driver ABI).
enum : int {
  kCudaSuccess = 0,
  kDeviceAttributeMultiprocessorCount = 16,
  kDeviceAttributeComputeCapabilityMajor = 75,
  kDeviceAttributeComputeCapabilityMinor = 76,
  kDeviceAttributeMaxSharedMemoryPerBlockOptin = 97,
  kFuncAttributeMaxDynamicSharedSizeBytes = 8,
  kJitErrorLogBuffer = 5,
  kJitErrorLogBufferSizeBytes = 6,
};

/// The driver's entry points; optional ones may be null.
struct CudaDriver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxGetDevice)(CUdevice *);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  /// Optional (CUDA 12.0+): a context's unique id, for the module cache.
  CUresult (*cuCtxGetId)(CUcontext, unsigned long long *);
  /// Optional: resident CTAs of a function per multiprocessor (split-KV
  /// "auto"; without it, two are assumed).
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *, CUfunction,
                                                          int, size_t);
};

/// A kernel's function in one context, and its default ALiBi slopes there.
struct CudaFunction {
  CUfunction function = nullptr;
  /// Split-KV kernels: the merge kernel.
  CUfunction merge = nullptr;
  /// Appending kernels: the append kernel, launched first.
  CUfunction append = nullptr;
  CUdeviceptr defaultSlopes = 0;
  /// CTAs split-KV "auto" aims a call's grid at: two per multiprocessor,
  /// or one wave of resident CTAs where fewer fit.
  int64_t splitTargetCtas = 0;
};

/// The process's driver, loaded and initialized on first use; null (with the
/// thread's error set to `status`) when there is no usable driver or device.
const CudaDriver *cudaDriver(attnrt_status &status);

/// Fails with ATTNRT_DRIVER_ERROR: "`call` failed: CUDA_ERROR_X (N)".
attnrt_status driverFailure(const CudaDriver &driver, const char *call,
                            CUresult result, const std::string &detail = "");

/// The calling thread's context and its device. A thread without a current
/// context gets device 0's primary context (the one the CUDA runtime API,
/// and so PyTorch, uses), made current.
attnrt_status currentContext(const CudaDriver &driver, CUcontext &context,
                             CUdevice &device);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_CUDADRIVER_H
