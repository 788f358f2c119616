//===- MockCudaDriver.cpp - a recording stand-in for libcuda.so.1 ---------===//

#include "MockCudaDriver.h"

#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2,
                   kInvalidContext = 201, kInvalidPtx = 218, kNotFound = 500,
                   kInvalidHandle = 400;

struct Context {
  unsigned long long id;
};
struct Function {
  std::string entry;
  size_t numParams;
};
struct Module {
  std::vector<std::unique_ptr<Function>> functions;
};

MockCudaState state;
std::vector<std::unique_ptr<Context>> contexts;
std::vector<std::unique_ptr<Module>> modules;
thread_local Context *current = nullptr;

Context *contextWithId(unsigned long long id) {
  for (auto &context : contexts) {
    if (context->id == id) {
      return context.get();
    }
  }
  contexts.push_back(std::make_unique<Context>(Context{id}));
  return contexts.back().get();
}

/// The `.entry NAME(` kernels of a PTX text and their `.param` counts.
std::unique_ptr<Module> parsePtx(const std::string &ptx) {
  auto module = std::make_unique<Module>();
  size_t at = 0;
  while ((at = ptx.find(".entry ", at)) != std::string::npos) {
    size_t open = ptx.find('(', at);
    size_t close = ptx.find(')', open);
    if (open == std::string::npos || close == std::string::npos) {
      break;
    }
    auto function = std::make_unique<Function>();
    function->entry = ptx.substr(at + 7, open - at - 7);
    for (size_t p = ptx.find(".param", open); p < close;
         p = ptx.find(".param", p + 1)) {
      ++function->numParams;
    }
    module->functions.push_back(std::move(function));
    at = close;
  }
  return module;
}

} // namespace

extern "C" {

MockCudaState *mockcuda_state() { return &state; }

void mockcuda_set_context(unsigned long long id) {
  std::lock_guard<std::mutex> lock(state.mutex);
  current = id ? contextWithId(id) : nullptr;
}

/// MOCKCUDA_COMPUTE_CAPABILITY=XY sets the device's compute capability for
/// tests that run attngen itself on the mock.
CUresult cuInit(unsigned flags) {
  if (const char *capability = std::getenv("MOCKCUDA_COMPUTE_CAPABILITY")) {
    int value = std::atoi(capability);
    state.computeCapabilityMajor = value / 10;
    state.computeCapabilityMinor = value % 10;
  }
  return flags ? kInvalidValue : kSuccess;
}
CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return kSuccess;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? kSuccess : kInvalidValue;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  if (device != 0) {
    return kInvalidValue;
  }
  switch (attribute) {
  case 16:
    *value = 132;
    return kSuccess;
  case 75:
    *value = state.computeCapabilityMajor;
    return kSuccess;
  case 76:
    *value = state.computeCapabilityMinor;
    return kSuccess;
  case 97:
    *value = state.sharedMemoryPerBlockOptin;
    return kSuccess;
  }
  return kInvalidValue;
}
CUresult cuDeviceGetName(char *name, int length, int) {
  std::strncpy(name, "Mock GPU", length);
  return kSuccess;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int) {
  *bytes = size_t(80) << 30;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(Context **context, int device) {
  if (device != 0) {
    return kInvalidValue;
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  *context = contextWithId(1);
  return kSuccess;
}
CUresult cuCtxGetCurrent(Context **context) {
  *context = current;
  return kSuccess;
}
CUresult cuCtxSetCurrent(Context *context) {
  current = context;
  return kSuccess;
}
CUresult cuCtxGetDevice(int *device) {
  if (!current) {
    return kInvalidContext;
  }
  *device = 0;
  return kSuccess;
}
CUresult cuCtxGetId(Context *context, unsigned long long *id) {
  if (!context) {
    return kInvalidContext;
  }
  *id = context->id;
  return kSuccess;
}
CUresult cuCtxSynchronize() { return current ? kSuccess : kInvalidContext; }
CUresult cuStreamSynchronize(void *) {
  return current ? kSuccess : kInvalidContext;
}

CUresult cuModuleLoadDataEx(Module **module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  if (!current) {
    return kInvalidContext;
  }
  std::string ptx(static_cast<const char *>(image));
  std::lock_guard<std::mutex> lock(state.mutex);
  ++state.moduleLoads;
  if (ptx.find(state.rejectPtxContaining) != std::string::npos) {
    char *log = nullptr;
    size_t logBytes = 0;
    for (unsigned i = 0; i < numOptions; ++i) {
      if (options[i] == 5) {
        log = static_cast<char *>(values[i]);
      }
      if (options[i] == 6) {
        logBytes = reinterpret_cast<uintptr_t>(values[i]);
      }
    }
    if (log && logBytes) {
      std::strncpy(log,
                   "ptxas application ptx input, line 3; error   : Unknown "
                   "symbol 'MOCK_REJECT'\nptxas fatal   : Ptx assembly aborted "
                   "due to errors\n",
                   logBytes);
    }
    return kInvalidPtx;
  }
  modules.push_back(parsePtx(ptx));
  *module = modules.back().get();
  return kSuccess;
}
CUresult cuModuleGetFunction(Function **function, Module *module,
                             const char *name) {
  for (auto &candidate : module->functions) {
    if (candidate->entry == name) {
      *function = candidate.get();
      return kSuccess;
    }
  }
  return kNotFound;
}
CUresult cuFuncSetAttribute(Function *, int attribute, int value) {
  std::lock_guard<std::mutex> lock(state.mutex);
  state.functionAttributes.emplace_back(attribute, value);
  return kSuccess;
}
CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *count,
                                                     Function *function,
                                                     int blockThreads,
                                                     size_t sharedBytes) {
  if (!function || blockThreads <= 0) {
    return kInvalidValue;
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  state.lastOccupancyQuery = {blockThreads, sharedBytes};
  *count = state.residentCtasPerMultiprocessor;
  return kSuccess;
}
CUresult cuLaunchKernel(Function *function, unsigned gx, unsigned gy,
                        unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned sharedBytes, void *stream, void **params,
                        void **extra) {
  if (!current) {
    return kInvalidContext;
  }
  if (!function || !params || extra) {
    return kInvalidHandle;
  }
  MockLaunch launch{function->entry, {gx, gy, gz}, {bx, by, bz},
                    sharedBytes,     stream,       {}};
  for (size_t i = 0; i < function->numParams; ++i) {
    uint64_t value;
    std::memcpy(&value, params[i], sizeof(value));
    launch.params.push_back(value);
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  state.launches.push_back(std::move(launch));
  return kSuccess;
}

CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  void *memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
  if (!memory) {
    return kOutOfMemory;
  }
  *pointer = reinterpret_cast<uintptr_t>(memory);
  std::lock_guard<std::mutex> lock(state.mutex);
  state.allocations[*pointer] = bytes;
  return kSuccess;
}
CUresult cuMemFree_v2(uint64_t pointer) {
  std::lock_guard<std::mutex> lock(state.mutex);
  if (!state.allocations.erase(pointer)) {
    return kInvalidValue;
  }
  std::free(reinterpret_cast<void *>(pointer));
  return kSuccess;
}
CUresult cuMemcpyHtoD_v2(uint64_t destination, const void *source,
                         size_t bytes) {
  std::memcpy(reinterpret_cast<void *>(destination), source, bytes);
  return kSuccess;
}
CUresult cuMemcpyDtoH_v2(void *destination, uint64_t source, size_t bytes) {
  std::memcpy(destination, reinterpret_cast<void *>(source), bytes);
  return kSuccess;
}
CUresult cuGetErrorName(CUresult result, const char **name) {
  switch (result) {
  case kSuccess:
    *name = "CUDA_SUCCESS";
    return kSuccess;
  case kInvalidValue:
    *name = "CUDA_ERROR_INVALID_VALUE";
    return kSuccess;
  case kInvalidContext:
    *name = "CUDA_ERROR_INVALID_CONTEXT";
    return kSuccess;
  case kInvalidPtx:
    *name = "CUDA_ERROR_INVALID_PTX";
    return kSuccess;
  case kNotFound:
    *name = "CUDA_ERROR_NOT_FOUND";
    return kSuccess;
  }
  *name = nullptr;
  return kInvalidValue;
}

} // extern "C"
