//===- Api.cpp - the C API ------------------------------------------------===//

#include "attnrt/attnrt.h"

#include "CudaDevice.h"
#include "Error.h"
#include "Kernel.h"

using namespace attnrt::detail;

extern "C" {

attnrt_status attnrt_kernel_load(const char *package_dir,
                                 attnrt_kernel **kernel) {
  if (!kernel) {
    return fail(ATTNRT_INVALID_ARGUMENT, "attnrt_kernel_load: kernel is NULL");
  }
  *kernel = nullptr;
  if (!package_dir) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_kernel_load: package_dir is NULL");
  }
  std::unique_ptr<attnrt_kernel> loaded;
  if (attnrt_status status = loadKernel(package_dir, loaded)) {
    return status;
  }
  *kernel = loaded.release();
  return succeed();
}

void attnrt_kernel_release(attnrt_kernel *kernel) { delete kernel; }

attnrt_status attnrt_kernel_get_info(const attnrt_kernel *kernel,
                                     attnrt_kernel_info *info) {
  if (!kernel || !info) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_kernel_get_info: kernel and info must not be NULL");
  }
  const Manifest &m = kernel->manifest;
  info->name = m.name.c_str();
  info->target = m.target;
  info->dtype = m.dtype;
  info->num_q_heads = m.numQHeads;
  info->num_kv_heads = m.numKvHeads;
  info->head_dim = m.headDim;
  info->head_dim_v = m.headDimV;
  info->returns_lse = m.returnsLse;
  info->uses_alibi = m.usesAlibi;
  info->causal = m.causal;
  info->causal_top_left = m.causalTopLeft;
  info->window_left = m.windowLeft;
  info->window_right = m.windowRight;
  info->sink_tokens = m.sinkTokens;
  info->scale = m.scale;
  info->softcap = m.softcap;
  info->kv_cache = m.kvCache;
  info->page_size = m.pageSize;
  info->split_kv = m.splitKv;
  info->varlen = m.varlen;
  info->appends_kv = m.appendsKv;
  info->rope_base = m.ropeBase;
  info->rope_dim = m.ropeDim;
  info->rope_interleaved = m.ropeInterleaved;
  return succeed();
}

attnrt_status attnrt_run_cpu(const attnrt_kernel *kernel,
                             const attnrt_attention_args *args,
                             int num_threads) {
  if (!kernel || !args) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_run_cpu: kernel and args must not be NULL");
  }
  return runCpu(*kernel, *args, num_threads);
}

attnrt_status attnrt_run_cuda(const attnrt_kernel *kernel,
                              const attnrt_attention_args *args, void *stream) {
  if (!kernel || !args) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_run_cuda: kernel and args must not be NULL");
  }
  return runCuda(*kernel, *args, stream);
}

attnrt_status attnrt_cuda_available(void) { return cudaAvailable(); }

attnrt_status attnrt_cuda_device_get_info(attnrt_cuda_device_info *info) {
  if (!info) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_cuda_device_get_info: info is NULL");
  }
  return cudaDeviceInfo(*info);
}

attnrt_status attnrt_cuda_malloc(size_t bytes, void **device_pointer) {
  return cudaMalloc(bytes, device_pointer);
}

attnrt_status attnrt_cuda_free(void *device_pointer) {
  return cudaFree(device_pointer);
}

attnrt_status attnrt_cuda_copy_to_device(void *device_destination,
                                         const void *host_source,
                                         size_t bytes) {
  return cudaCopy(device_destination, host_source, bytes, /*toDevice=*/true);
}

attnrt_status attnrt_cuda_copy_to_host(void *host_destination,
                                       const void *device_source,
                                       size_t bytes) {
  return cudaCopy(host_destination, device_source, bytes, /*toDevice=*/false);
}

attnrt_status attnrt_workspace_bytes(const attnrt_kernel *kernel,
                                     const attnrt_attention_args *args,
                                     size_t *bytes) {
  if (!kernel || !args || !bytes) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "attnrt_workspace_bytes: kernel, args and bytes must not be "
                "NULL");
  }
  return workspaceBytes(*kernel, *args, *bytes);
}

attnrt_status attnrt_cuda_synchronize(void *stream) {
  return cudaSynchronize(stream);
}

const char *attnrt_last_error(void) { return lastError(); }

const char *attnrt_status_string(attnrt_status status) {
  switch (status) {
  case ATTNRT_OK:
    return "ok";
  case ATTNRT_INVALID_ARGUMENT:
    return "invalid argument";
  case ATTNRT_IO_ERROR:
    return "I/O error";
  case ATTNRT_CORRUPT_PACKAGE:
    return "corrupt package";
  case ATTNRT_VERSION_MISMATCH:
    return "package version mismatch";
  case ATTNRT_UNSUPPORTED:
    return "unsupported";
  case ATTNRT_NO_DEVICE:
    return "no device";
  case ATTNRT_DRIVER_ERROR:
    return "driver error";
  }
  return "unknown status";
}

} // extern "C"
