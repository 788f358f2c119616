//===- MockCudaDriver.h - a recording stand-in for libcuda.so.1 -*- C++ -*-===//
//
// Tests of libattnrt's CUDA path on machines without a GPU load this library
// through ATTNRT_CUDA_DRIVER. It implements the driver entry points libattnrt
// binds with host memory as "device" memory, parses the PTX it is given for
// its entries and their parameter counts (as the real driver would), and
// records every module load, attribute and launch for the test to check.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_UNITTESTS_RUNTIME_MOCKCUDADRIVER_H
#define ATTNGEN_UNITTESTS_RUNTIME_MOCKCUDADRIVER_H

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct MockLaunch {
  std::string entry;
  unsigned grid[3], block[3], sharedBytes;
  void *stream;
  /// The 8-byte parameters, as many as the PTX entry declares.
  std::vector<uint64_t> params;
};

struct MockCudaState {
  std::mutex mutex;
  // The device.
  int computeCapabilityMajor = 8, computeCapabilityMinor = 0;
  int sharedMemoryPerBlockOptin = 163 * 1024;
  /// What cuOccupancyMaxActiveBlocksPerMultiprocessor reports.
  int residentCtasPerMultiprocessor = 2;
  /// Its last query: (block threads, dynamic shared memory bytes).
  std::pair<int, size_t> lastOccupancyQuery{0, 0};
  /// PTX containing this text is rejected as CUDA_ERROR_INVALID_PTX.
  std::string rejectPtxContaining = "MOCK_REJECT";
  // What libattnrt did.
  int moduleLoads = 0;
  /// (attribute, value) set by cuFuncSetAttribute.
  std::vector<std::pair<int, int>> functionAttributes;
  std::vector<MockLaunch> launches;
  /// Live allocations: address -> bytes.
  std::map<uint64_t, size_t> allocations;
};

using MockCudaStateFn = MockCudaState *(*)();
/// Exported by the mock as "mockcuda_state".
extern "C" MockCudaState *mockcuda_state();
/// Exported as "mockcuda_set_context": makes a context with this id current
/// on the calling thread (0: none).
extern "C" void mockcuda_set_context(unsigned long long id);

#endif // ATTNGEN_UNITTESTS_RUNTIME_MOCKCUDADRIVER_H
