//===- CudaDevice.h - device queries and buffers of the C API ---*- C++ -*-===//

#ifndef ATTNRT_SRC_CUDADEVICE_H
#define ATTNRT_SRC_CUDADEVICE_H

#include "attnrt/attnrt.h"

#include <cstddef>

namespace attnrt::detail {

attnrt_status cudaAvailable();
attnrt_status cudaDeviceInfo(attnrt_cuda_device_info &info);
attnrt_status cudaMalloc(size_t bytes, void **pointer);
attnrt_status cudaFree(void *pointer);
attnrt_status cudaCopy(void *destination, const void *source, size_t bytes,
                       bool toDevice);
/// Waits for `stream` (NULL: everything in the context).
attnrt_status cudaSynchronize(void *stream);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_CUDADEVICE_H
