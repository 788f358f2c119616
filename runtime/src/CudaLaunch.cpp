//===- CudaLaunch.cpp - launching CUDA kernel packages --------------------===//
//
// A package's PTX is loaded into a context on its first launch there and kept
// for the life of the process (as cuBLAS and Triton keep theirs): a kernel
// handle remembers its function per context (the launch path is a short
// lookup under a mutex), and a process-wide table shares one module between
// handles that load the same package.
//
// Kernel parameters follow MLIR's GPU convention: every memref argument of
// the gpu.func is passed expanded, as (allocated pointer, aligned pointer,
// offset, sizes[rank], strides[rank]), each 8 bytes.
//
//===----------------------------------------------------------------------===//

#include "Arguments.h"
#include "CudaDriver.h"
#include "Error.h"
#include "Kernel.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace attnrt::detail {

namespace {

/// Bytes of dynamic shared memory every device grants without opting in.
constexpr int64_t kDefaultDynamicSharedMemoryLimit = 48 * 1024;
/// The driver's limits on gridDim.y and gridDim.z.
constexpr int64_t kMaxGridYZ = 65535;

struct ModuleKey {
  unsigned long long context;
  std::string entry;
  size_t ptxHash;
  bool operator<(const ModuleKey &other) const {
    return std::tie(context, entry, ptxHash) <
           std::tie(other.context, other.entry, other.ptxHash);
  }
};

struct LoadedModule {
  std::string ptx; // compared on the (one-time) lookup: hashes may collide
  std::vector<float> defaultSlopes;
  CudaFunction function;
};

/// Process-wide: (context, entry, PTX) -> module, never unloaded.
std::mutex moduleTableMutex;
std::multimap<ModuleKey, LoadedModule> moduleTable;

unsigned long long contextKey(const CudaDriver &driver, CUcontext context) {
  unsigned long long id = 0;
  if (driver.cuCtxGetId && driver.cuCtxGetId(context, &id) == kCudaSuccess) {
    return id;
  }
  return reinterpret_cast<uintptr_t>(context);
}

std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
    text.pop_back();
  }
  size_t at = 0;
  while ((at = text.find('\n', at)) != std::string::npos) {
    text.replace(at, 1, "; ");
  }
  return text;
}

std::string smName(int version) { return "sm_" + std::to_string(version); }

/// Loads the kernel's PTX into `context`, checks the device can run it,
/// opts in to its shared memory and uploads its default ALiBi slopes.
attnrt_status loadModule(const CudaDriver &driver, CUdevice device,
                         const attnrt_kernel &kernel, LoadedModule &loaded) {
  const Manifest &m = kernel.manifest;
  int major = 0, minor = 0;
  if (CUresult r = driver.cuDeviceGetAttribute(
          &major, kDeviceAttributeComputeCapabilityMajor, device)) {
    return driverFailure(driver, "cuDeviceGetAttribute", r);
  }
  if (CUresult r = driver.cuDeviceGetAttribute(
          &minor, kDeviceAttributeComputeCapabilityMinor, device)) {
    return driverFailure(driver, "cuDeviceGetAttribute", r);
  }
  char name[256] = {};
  driver.cuDeviceGetName(name, sizeof(name) - 1, device);
  int deviceVersion = major * 10 + minor;
  if (deviceVersion < m.smVersion) {
    return fail(ATTNRT_UNSUPPORTED,
                "kernel '" + m.name + "' was compiled for " +
                    smName(m.smVersion) + " but device " +
                    std::to_string(device) + " (" + name + ") is " +
                    smName(deviceVersion) + "; recompile for its target");
  }
  if (m.dynamicSharedMemoryBytes > kDefaultDynamicSharedMemoryLimit) {
    int optin = 0;
    if (CUresult r = driver.cuDeviceGetAttribute(
            &optin, kDeviceAttributeMaxSharedMemoryPerBlockOptin, device)) {
      return driverFailure(driver, "cuDeviceGetAttribute", r);
    }
    if (m.dynamicSharedMemoryBytes > optin) {
      return fail(ATTNRT_UNSUPPORTED,
                  "kernel '" + m.name + "' needs " +
                      std::to_string(m.dynamicSharedMemoryBytes) +
                      " bytes of shared memory per block; device " +
                      std::to_string(device) + " (" + name + ") allows " +
                      std::to_string(optin) + "; recompile with smaller tiles");
    }
  }

  std::vector<char> log(8192, '\0');
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes};
  void *values[] = {log.data(),
                    reinterpret_cast<void *>(uintptr_t(log.size() - 1))};
  CUmodule module = nullptr;
  if (CUresult r = driver.cuModuleLoadDataEx(&module, kernel.ptx.c_str(), 2,
                                             options, values)) {
    driverFailure(driver, "cuModuleLoadDataEx", r, oneLine(log.data()));
    // CUDA_ERROR_INVALID_IMAGE / _INVALID_PTX: the PTX is bad;
    // CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the driver is older than the PTX.
    attnrt_status status = r == 200 || r == 218 ? ATTNRT_CORRUPT_PACKAGE
                           : r == 222           ? ATTNRT_UNSUPPORTED
                                                : ATTNRT_DRIVER_ERROR;
    return fail(status, "kernel '" + m.name + "': the driver rejected " +
                            m.kernelFile + ": " + lastError());
  }
  if (CUresult r = driver.cuModuleGetFunction(&loaded.function.function, module,
                                              m.entry.c_str())) {
    return driverFailure(driver, "cuModuleGetFunction", r, m.entry);
  }
  if (!m.mergeEntry.empty()) {
    if (CUresult r = driver.cuModuleGetFunction(&loaded.function.merge, module,
                                                m.mergeEntry.c_str())) {
      return driverFailure(driver, "cuModuleGetFunction", r, m.mergeEntry);
    }
  }
  if (!m.appendEntry.empty()) {
    if (CUresult r = driver.cuModuleGetFunction(&loaded.function.append, module,
                                                m.appendEntry.c_str())) {
      return driverFailure(driver, "cuModuleGetFunction", r, m.appendEntry);
    }
  }
  int multiprocessors = 0;
  if (CUresult r = driver.cuDeviceGetAttribute(
          &multiprocessors, kDeviceAttributeMultiprocessorCount, device)) {
    return driverFailure(driver, "cuDeviceGetAttribute", r);
  }
  // Opted in beyond the default 48 KiB, and at any size: a kernel's static
  // shared memory counts against the default too (attngen's packages
  // before the dynamic window became `.extern` declared it as a 1-byte
  // static, and 48 KiB of dynamic memory then failed to launch).
  if (m.dynamicSharedMemoryBytes > 0) {
    if (CUresult r = driver.cuFuncSetAttribute(
            loaded.function.function, kFuncAttributeMaxDynamicSharedSizeBytes,
            static_cast<int>(m.dynamicSharedMemoryBytes))) {
      return driverFailure(driver, "cuFuncSetAttribute", r,
                           "MAX_DYNAMIC_SHARED_SIZE_BYTES");
    }
  }
  // Resident CTAs per multiprocessor (registers, shared memory, threads),
  // after the shared-memory opt-in above.
  int perMultiprocessor = 2;
  if (driver.cuOccupancyMaxActiveBlocksPerMultiprocessor) {
    if (CUresult r = driver.cuOccupancyMaxActiveBlocksPerMultiprocessor(
            &perMultiprocessor, loaded.function.function,
            static_cast<int>(m.blockThreads),
            static_cast<size_t>(m.dynamicSharedMemoryBytes))) {
      return driverFailure(driver,
                           "cuOccupancyMaxActiveBlocksPerMultiprocessor", r);
    }
  }
  loaded.function.splitTargetCtas = static_cast<int64_t>(multiprocessors) *
                                    std::min(std::max(perMultiprocessor, 1), 2);
  if (!m.defaultAlibiSlopes.empty()) {
    size_t bytes = m.defaultAlibiSlopes.size() * sizeof(float);
    if (CUresult r = driver.cuMemAlloc(&loaded.function.defaultSlopes, bytes)) {
      return driverFailure(driver, "cuMemAlloc", r);
    }
    if (CUresult r = driver.cuMemcpyHtoD(loaded.function.defaultSlopes,
                                         m.defaultAlibiSlopes.data(), bytes)) {
      return driverFailure(driver, "cuMemcpyHtoD", r);
    }
  }
  loaded.ptx = kernel.ptx;
  loaded.defaultSlopes = m.defaultAlibiSlopes;
  return ATTNRT_OK;
}

/// The kernel's function in the calling thread's context.
attnrt_status functionFor(const CudaDriver &driver, const attnrt_kernel &kernel,
                          CudaFunction &function) {
  CUcontext context = nullptr;
  CUdevice device = 0;
  if (attnrt_status status = currentContext(driver, context, device)) {
    return status;
  }
  unsigned long long key = contextKey(driver, context);
  {
    std::lock_guard<std::mutex> lock(kernel.cudaMutex);
    for (const auto &[cachedContext, cached] : kernel.cudaFunctions) {
      if (cachedContext == key) {
        function = cached;
        return ATTNRT_OK;
      }
    }
  }
  std::lock_guard<std::mutex> tableLock(moduleTableMutex);
  ModuleKey moduleKey{key, kernel.manifest.entry,
                      std::hash<std::string>()(kernel.ptx)};
  auto [begin, end] = moduleTable.equal_range(moduleKey);
  auto match = begin;
  while (match != end &&
         (match->second.ptx != kernel.ptx ||
          match->second.defaultSlopes != kernel.manifest.defaultAlibiSlopes)) {
    ++match;
  }
  if (match == end) {
    LoadedModule loaded;
    if (attnrt_status status = loadModule(driver, device, kernel, loaded)) {
      return status;
    }
    match = moduleTable.emplace(moduleKey, std::move(loaded));
  }
  function = match->second.function;
  std::lock_guard<std::mutex> lock(kernel.cudaMutex);
  kernel.cudaFunctions.emplace_back(key, function);
  return ATTNRT_OK;
}

/// Row-major strides of `sizes`.
void denseStrides(const int64_t *sizes, int64_t *strides, int rank) {
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= sizes[i];
  }
}

/// The 8-byte kernel parameters of the expanded memref convention.
class KernelParams {
public:
  void memref(uint64_t pointer, const int64_t *sizes, const int64_t *strides,
              int rank) {
    values.push_back(pointer); // allocated
    values.push_back(pointer); // aligned
    values.push_back(0);       // offset
    for (int i = 0; i < rank; ++i) {
      values.push_back(static_cast<uint64_t>(sizes[i]));
    }
    for (int i = 0; i < rank; ++i) {
      values.push_back(static_cast<uint64_t>(strides[i]));
    }
  }
  void tensor(const TensorArgument &t) {
    memref(reinterpret_cast<uintptr_t>(t.data), t.sizes, t.strides, 4);
  }
  /// cuLaunchKernel's array of pointers to each value.
  std::vector<void *> pointers() {
    std::vector<void *> result;
    for (uint64_t &value : values) {
      result.push_back(&value);
    }
    return result;
  }

private:
  std::vector<uint64_t> values;
};

/// A call's grid and, for split-KV kernels, its chunks, workspace and
/// whether the merge runs (not for one chunk where the kernel then writes
/// the output itself).
struct LaunchPlan {
  int64_t gridX = 0, gridY = 0, numSplits = 0;
  bool merge = false;
  size_t outputBytes = 0, lseOffset = 0, workspaceBytes = 0;
};

LaunchPlan planLaunch(const Manifest &m, const CheckedCall &call,
                      int64_t splitTargetCtas) {
  LaunchPlan plan;
  // Tile rows: queries of one q head, or (query, q head) pairs of one kv
  // head when the kernel packs GQA groups.
  int64_t rows = call.maxSeqlenQ * (m.packGqa ? m.numQHeads / m.numKvHeads : 1);
  plan.gridX = (rows + m.blockM - 1) / m.blockM;
  plan.gridY = m.packGqa ? m.numKvHeads : m.numQHeads;
  if (m.splitKv == 1) {
    return plan;
  }
  int64_t capacity =
      m.kvCache == ATTNRT_KV_NONE ? call.seqlenK : call.cacheCapacity;
  plan.numSplits = cudaSplitCount(m.splitKv, splitTargetCtas,
                                  plan.gridX * plan.gridY * call.batch,
                                  (capacity + m.blockN - 1) / m.blockN);
  plan.merge = plan.numSplits > 1 || !m.mergeSkippedForOneChunk;
  if (!plan.merge) {
    return plan;
  }
  // [splits, b, s_q, h_q, d_v] partial outputs, then [splits, b, h_q, s_q]
  // log-sum-exps, f32.
  size_t rowsTotal =
      plan.numSplits * call.tensorBatch * call.seqlenQ * m.numQHeads;
  plan.outputBytes = rowsTotal * m.headDimV * sizeof(float);
  plan.lseOffset = (plan.outputBytes + 255) / 256 * 256;
  plan.workspaceBytes = plan.lseOffset + rowsTotal * sizeof(float);
  return plan;
}

} // namespace

attnrt_status workspaceBytes(const attnrt_kernel &kernel,
                             const attnrt_attention_args &args, size_t &bytes) {
  bytes = 0;
  const Manifest &m = kernel.manifest;
  if (m.target != ATTNRT_TARGET_CUDA || m.splitKv == 1) {
    return succeed();
  }
  CheckedCall call;
  if (attnrt_status status = checkCall(
          m, args, static_cast<size_t>(m.inputAlignmentBytes), call)) {
    return status;
  }
  attnrt_status driverStatus;
  const CudaDriver *driver = cudaDriver(driverStatus);
  if (!driver) {
    return driverStatus;
  }
  // The chunk count depends on the kernel's occupancy on this device: the
  // kernel is loaded in the calling thread's context, as a launch would.
  CudaFunction function;
  if (attnrt_status status = functionFor(*driver, kernel, function)) {
    return status;
  }
  bytes = planLaunch(m, call, function.splitTargetCtas).workspaceBytes;
  return succeed();
}

attnrt_status runCuda(const attnrt_kernel &kernel,
                      const attnrt_attention_args &args, void *stream) {
  const Manifest &m = kernel.manifest;
  if (m.target != ATTNRT_TARGET_CUDA) {
    return fail(ATTNRT_UNSUPPORTED, "kernel '" + m.name +
                                        "' is a CPU package; run it with "
                                        "attnrt_run_cpu");
  }
  CheckedCall call;
  if (attnrt_status status = checkCall(
          m, args, static_cast<size_t>(m.inputAlignmentBytes), call)) {
    return status;
  }
  LaunchPlan shape = planLaunch(m, call, 1);
  int64_t gridX = shape.gridX, gridY = shape.gridY;
  if (gridX > INT32_MAX || gridY > kMaxGridYZ || call.batch > kMaxGridYZ) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args: grid (" + std::to_string(gridX) + ", " +
                    std::to_string(gridY) + ", " + std::to_string(call.batch) +
                    ") exceeds CUDA's limits (2^31-1, 65535, 65535); split "
                    "the batch");
  }
  attnrt_status driverStatus;
  const CudaDriver *driver = cudaDriver(driverStatus);
  if (!driver) {
    return driverStatus;
  }
  if (gridX == 0 || call.batch == 0) {
    return succeed();
  }
  CudaFunction function;
  if (attnrt_status status = functionFor(*driver, kernel, function)) {
    return status;
  }
  LaunchPlan plan = planLaunch(m, call, function.splitTargetCtas);
  if (m.splitKv != 1) {
    // (None for a call of one chunk that skips the merge.)
    if (plan.workspaceBytes) {
      if (!args.workspace || args.workspace_bytes < plan.workspaceBytes) {
        return fail(ATTNRT_INVALID_ARGUMENT,
                    "kernel '" + m.name + "' splits the keys in " +
                        std::to_string(plan.numSplits) +
                        " chunks and needs args.workspace of " +
                        std::to_string(plan.workspaceBytes) +
                        " bytes (attnrt_workspace_bytes), got " +
                        (args.workspace
                             ? std::to_string(args.workspace_bytes) + " bytes"
                             : std::string("NULL")));
      }
      if (reinterpret_cast<uintptr_t>(args.workspace) % 16 != 0) {
        return fail(ATTNRT_INVALID_ARGUMENT,
                    "args.workspace is not aligned to 16 bytes");
      }
    }
    gridX *= plan.numSplits;
    if (gridX > INT32_MAX) {
      return fail(ATTNRT_INVALID_ARGUMENT, "args: grid x of " +
                                               std::to_string(gridX) +
                                               " CTAs exceeds CUDA's limit");
    }
  }

  int64_t lengthSizes[1] = {args.cache_seqlens ? call.batch : 0};
  int64_t unitStride[1] = {1};
  int64_t tableSizes[2] = {args.page_table ? call.batch : 0, call.maxPages};
  int64_t tableStrides[2] = {call.maxPages, 1};
  if (m.appendsKv) {
    // First on the stream: (k_new, v_new, k, v, cache_seqlens, page_table),
    // one warp (or, in earlier packages, one thread) per new (token, kv
    // head) row.
    KernelParams appendParams;
    appendParams.tensor(call.kNew);
    appendParams.tensor(call.vNew);
    appendParams.tensor(call.k);
    appendParams.tensor(call.v);
    appendParams.memref(reinterpret_cast<uintptr_t>(args.cache_seqlens),
                        lengthSizes, unitStride, 1);
    appendParams.memref(reinterpret_cast<uintptr_t>(args.page_table),
                        tableSizes, tableStrides, 2);
    int64_t cuQSizes[1] = {m.varlen ? call.batch + 1 : 0};
    appendParams.memref(reinterpret_cast<uintptr_t>(args.cu_seqlens_q),
                        cuQSizes, unitStride, 1);
    int64_t newRows = call.tensorBatch * call.seqlenQ * m.numKvHeads;
    std::vector<void *> appendPointers = appendParams.pointers();
    if (CUresult r = driver->cuLaunchKernel(
            function.append,
            static_cast<unsigned>((newRows + m.appendRowsPerBlock - 1) /
                                  m.appendRowsPerBlock),
            1, 1, static_cast<unsigned>(m.appendBlockThreads), 1, 1, 0,
            static_cast<CUstream>(stream), appendPointers.data(), nullptr)) {
      return driverFailure(*driver, "cuLaunchKernel", r,
                           "append kernel '" + m.appendEntry + "'");
    }
  }

  KernelParams params;
  params.tensor(call.q);
  params.tensor(call.k);
  params.tensor(call.v);
  params.tensor(call.o);
  int64_t lseSizes[3] = {args.lse ? call.tensorBatch : 0, m.numQHeads,
                         args.lse ? call.seqlenQ : 0};
  int64_t lseStrides[3] = {m.numQHeads * lseSizes[2], lseSizes[2], 1};
  params.memref(reinterpret_cast<uintptr_t>(args.lse), lseSizes, lseStrides, 3);
  uint64_t slopes = args.alibi_slopes
                        ? reinterpret_cast<uintptr_t>(args.alibi_slopes)
                        : function.defaultSlopes;
  int64_t slopeSizes[1] = {m.numQHeads}, slopeStrides[1] = {1};
  params.memref(slopes, slopeSizes, slopeStrides, 1);
  params.memref(reinterpret_cast<uintptr_t>(args.cache_seqlens), lengthSizes,
                slopeStrides, 1);
  params.memref(reinterpret_cast<uintptr_t>(args.page_table), tableSizes,
                tableStrides, 2);
  // The split-KV workspace (empty for other kernels and one chunk).
  uint64_t workspace =
      plan.workspaceBytes ? reinterpret_cast<uintptr_t>(args.workspace) : 0;
  int64_t partialOutputSizes[5] = {plan.numSplits, call.tensorBatch,
                                   call.seqlenQ, m.numQHeads, m.headDimV};
  int64_t partialLseSizes[4] = {plan.numSplits, call.tensorBatch, m.numQHeads,
                                call.seqlenQ};
  int64_t partialOutputStrides[5], partialLseStrides[4];
  denseStrides(partialOutputSizes, partialOutputStrides, 5);
  denseStrides(partialLseSizes, partialLseStrides, 4);
  params.memref(workspace, partialOutputSizes, partialOutputStrides, 5);
  params.memref(workspace ? workspace + plan.lseOffset : 0, partialLseSizes,
                partialLseStrides, 4);
  // Varlen batches: cu_seqlens_q/k, [batch + 1].
  int64_t offsetSizes[1] = {m.varlen ? call.batch + 1 : 0};
  params.memref(reinterpret_cast<uintptr_t>(args.cu_seqlens_q), offsetSizes,
                unitStride, 1);
  // (Varlen batches with a KV cache have no key offsets.)
  int64_t keyOffsetSizes[1] = {args.cu_seqlens_k ? offsetSizes[0] : 0};
  params.memref(reinterpret_cast<uintptr_t>(args.cu_seqlens_k), keyOffsetSizes,
                unitStride, 1);
  std::vector<void *> pointers = params.pointers();
  if (CUresult r = driver->cuLaunchKernel(
          function.function, static_cast<unsigned>(gridX),
          static_cast<unsigned>(gridY), static_cast<unsigned>(call.batch),
          static_cast<unsigned>(m.blockThreads), 1, 1,
          static_cast<unsigned>(m.dynamicSharedMemoryBytes),
          static_cast<CUstream>(stream), pointers.data(), nullptr)) {
    return driverFailure(*driver, "cuLaunchKernel", r,
                         "kernel '" + m.name + "'");
  }
  if (!plan.merge) {
    return succeed();
  }

  // The merge: (o, lse, partial_o, partial_lse), one warp per output row.
  KernelParams mergeParams;
  mergeParams.tensor(call.o);
  mergeParams.memref(reinterpret_cast<uintptr_t>(args.lse), lseSizes,
                     lseStrides, 3);
  mergeParams.memref(workspace, partialOutputSizes, partialOutputStrides, 5);
  mergeParams.memref(workspace + plan.lseOffset, partialLseSizes,
                     partialLseStrides, 4);
  int64_t rowsToMerge = call.tensorBatch * call.seqlenQ * m.numQHeads;
  int64_t warpsPerCta = m.mergeBlockThreads / 32;
  std::vector<void *> mergePointers = mergeParams.pointers();
  if (CUresult r = driver->cuLaunchKernel(
          function.merge,
          static_cast<unsigned>((rowsToMerge + warpsPerCta - 1) / warpsPerCta),
          1, 1, static_cast<unsigned>(m.mergeBlockThreads), 1, 1, 0,
          static_cast<CUstream>(stream), mergePointers.data(), nullptr)) {
    return driverFailure(*driver, "cuLaunchKernel", r,
                         "merge kernel '" + m.mergeEntry + "'");
  }
  return succeed();
}

} // namespace attnrt::detail
