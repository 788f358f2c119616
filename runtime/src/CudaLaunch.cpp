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
  if (driver.cuCtxGetId && driver.cuCtxGetId(context, &id) == kCudaSuccess)
    return id;
  return reinterpret_cast<uintptr_t>(context);
}

std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    text.pop_back();
  size_t at = 0;
  while ((at = text.find('\n', at)) != std::string::npos)
    text.replace(at, 1, "; ");
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
          &major, kDeviceAttributeComputeCapabilityMajor, device))
    return driverFailure(driver, "cuDeviceGetAttribute", r);
  if (CUresult r = driver.cuDeviceGetAttribute(
          &minor, kDeviceAttributeComputeCapabilityMinor, device))
    return driverFailure(driver, "cuDeviceGetAttribute", r);
  char name[256] = {};
  driver.cuDeviceGetName(name, sizeof(name) - 1, device);
  int deviceVersion = major * 10 + minor;
  if (deviceVersion < m.smVersion)
    return fail(ATTNRT_UNSUPPORTED,
                "kernel '" + m.name + "' was compiled for " +
                    smName(m.smVersion) + " but device " +
                    std::to_string(device) + " (" + name + ") is " +
                    smName(deviceVersion) + "; recompile for its target");
  if (m.dynamicSharedMemoryBytes > kDefaultDynamicSharedMemoryLimit) {
    int optin = 0;
    if (CUresult r = driver.cuDeviceGetAttribute(
            &optin, kDeviceAttributeMaxSharedMemoryPerBlockOptin, device))
      return driverFailure(driver, "cuDeviceGetAttribute", r);
    if (m.dynamicSharedMemoryBytes > optin)
      return fail(ATTNRT_UNSUPPORTED,
                  "kernel '" + m.name + "' needs " +
                      std::to_string(m.dynamicSharedMemoryBytes) +
                      " bytes of shared memory per block; device " +
                      std::to_string(device) + " (" + name + ") allows " +
                      std::to_string(optin) +
                      "; recompile with smaller tiles");
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
  if (CUresult r = driver.cuModuleGetFunction(&loaded.function.function,
                                              module, m.entry.c_str()))
    return driverFailure(driver, "cuModuleGetFunction", r, m.entry);
  if (m.dynamicSharedMemoryBytes > kDefaultDynamicSharedMemoryLimit)
    if (CUresult r = driver.cuFuncSetAttribute(
            loaded.function.function, kFuncAttributeMaxDynamicSharedSizeBytes,
            static_cast<int>(m.dynamicSharedMemoryBytes)))
      return driverFailure(driver, "cuFuncSetAttribute", r,
                           "MAX_DYNAMIC_SHARED_SIZE_BYTES");
  if (!m.defaultAlibiSlopes.empty()) {
    size_t bytes = m.defaultAlibiSlopes.size() * sizeof(float);
    if (CUresult r = driver.cuMemAlloc(&loaded.function.defaultSlopes, bytes))
      return driverFailure(driver, "cuMemAlloc", r);
    if (CUresult r = driver.cuMemcpyHtoD(loaded.function.defaultSlopes,
                                         m.defaultAlibiSlopes.data(), bytes))
      return driverFailure(driver, "cuMemcpyHtoD", r);
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
  if (attnrt_status status = currentContext(driver, context, device))
    return status;
  unsigned long long key = contextKey(driver, context);
  {
    std::lock_guard<std::mutex> lock(kernel.cudaMutex);
    for (const auto &[cachedContext, cached] : kernel.cudaFunctions)
      if (cachedContext == key) {
        function = cached;
        return ATTNRT_OK;
      }
  }
  std::lock_guard<std::mutex> tableLock(moduleTableMutex);
  ModuleKey moduleKey{key, kernel.manifest.entry,
                      std::hash<std::string>()(kernel.ptx)};
  auto [begin, end] = moduleTable.equal_range(moduleKey);
  auto match = begin;
  while (match != end && (match->second.ptx != kernel.ptx ||
                          match->second.defaultSlopes !=
                              kernel.manifest.defaultAlibiSlopes))
    ++match;
  if (match == end) {
    LoadedModule loaded;
    if (attnrt_status status = loadModule(driver, device, kernel, loaded))
      return status;
    match = moduleTable.emplace(moduleKey, std::move(loaded));
  }
  function = match->second.function;
  std::lock_guard<std::mutex> lock(kernel.cudaMutex);
  kernel.cudaFunctions.emplace_back(key, function);
  return ATTNRT_OK;
}

/// The 8-byte kernel parameters of the expanded memref convention.
class KernelParams {
public:
  void memref(uint64_t pointer, const int64_t *sizes, const int64_t *strides,
              int rank) {
    values.push_back(pointer); // allocated
    values.push_back(pointer); // aligned
    values.push_back(0);       // offset
    for (int i = 0; i < rank; ++i)
      values.push_back(static_cast<uint64_t>(sizes[i]));
    for (int i = 0; i < rank; ++i)
      values.push_back(static_cast<uint64_t>(strides[i]));
  }
  void tensor(const TensorArgument &t) {
    memref(reinterpret_cast<uintptr_t>(t.data), t.sizes, t.strides, 4);
  }
  /// cuLaunchKernel's array of pointers to each value.
  std::vector<void *> pointers() {
    std::vector<void *> result;
    for (uint64_t &value : values)
      result.push_back(&value);
    return result;
  }

private:
  std::vector<uint64_t> values;
};

} // namespace

attnrt_status runCuda(const attnrt_kernel &kernel,
                      const attnrt_attention_args &args, void *stream) {
  const Manifest &m = kernel.manifest;
  if (m.target != ATTNRT_TARGET_CUDA)
    return fail(ATTNRT_UNSUPPORTED, "kernel '" + m.name +
                                        "' is a CPU package; run it with "
                                        "attnrt_run_cpu");
  CheckedCall call;
  if (attnrt_status status =
          checkCall(m, args, static_cast<size_t>(m.inputAlignmentBytes), call))
    return status;
  // Tile rows: queries of one q head, or (query, q head) pairs of one kv
  // head when the kernel packs GQA groups.
  int64_t rows = m.packGqa ? call.seqlenQ * (m.numQHeads / m.numKvHeads)
                           : call.seqlenQ;
  int64_t gridX = (rows + m.blockM - 1) / m.blockM;
  int64_t gridY = m.packGqa ? m.numKvHeads : m.numQHeads;
  if (gridX > INT32_MAX || gridY > kMaxGridYZ || call.batch > kMaxGridYZ)
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args: grid (" + std::to_string(gridX) + ", " +
                    std::to_string(gridY) + ", " +
                    std::to_string(call.batch) +
                    ") exceeds CUDA's limits (2^31-1, 65535, 65535); split "
                    "the batch");
  attnrt_status driverStatus;
  const CudaDriver *driver = cudaDriver(driverStatus);
  if (!driver)
    return driverStatus;
  if (gridX == 0 || call.batch == 0)
    return succeed();
  CudaFunction function;
  if (attnrt_status status = functionFor(*driver, kernel, function))
    return status;

  KernelParams params;
  params.tensor(call.q);
  params.tensor(call.k);
  params.tensor(call.v);
  params.tensor(call.o);
  int64_t lseSizes[3] = {args.lse ? call.batch : 0, m.numQHeads,
                         args.lse ? call.seqlenQ : 0};
  int64_t lseStrides[3] = {m.numQHeads * lseSizes[2], lseSizes[2], 1};
  params.memref(reinterpret_cast<uintptr_t>(args.lse), lseSizes, lseStrides, 3);
  uint64_t slopes = args.alibi_slopes
                        ? reinterpret_cast<uintptr_t>(args.alibi_slopes)
                        : function.defaultSlopes;
  int64_t slopeSizes[1] = {m.numQHeads}, slopeStrides[1] = {1};
  params.memref(slopes, slopeSizes, slopeStrides, 1);
  int64_t lengthSizes[1] = {args.cache_seqlens ? call.batch : 0};
  params.memref(reinterpret_cast<uintptr_t>(args.cache_seqlens), lengthSizes,
                slopeStrides, 1);
  int64_t tableSizes[2] = {args.page_table ? call.batch : 0, call.maxPages};
  int64_t tableStrides[2] = {call.maxPages, 1};
  params.memref(reinterpret_cast<uintptr_t>(args.page_table), tableSizes,
                tableStrides, 2);
  // The split-KV workspace: unused by the GPU kernels so far (empty).
  int64_t empty[5] = {0, 0, 0, 0, 0};
  int64_t denseStrides5[5] = {0, 0, 0, 0, 1}, denseStrides4[4] = {0, 0, 0, 1};
  params.memref(0, empty, denseStrides5, 5);
  params.memref(0, empty, denseStrides4, 4);
  std::vector<void *> pointers = params.pointers();
  if (CUresult r = driver->cuLaunchKernel(
          function.function, static_cast<unsigned>(gridX),
          static_cast<unsigned>(gridY),
          static_cast<unsigned>(call.batch),
          static_cast<unsigned>(m.blockThreads), 1, 1,
          static_cast<unsigned>(m.dynamicSharedMemoryBytes),
          static_cast<CUstream>(stream), pointers.data(), nullptr))
    return driverFailure(*driver, "cuLaunchKernel", r, "kernel '" + m.name + "'");
  return succeed();
}

} // namespace attnrt::detail
