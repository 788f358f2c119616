//===- Kernel.cpp - a loaded CPU kernel package ---------------------------===//

#include "Kernel.h"
#include "Error.h"
#include "ThreadPool.h"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace attnrt::detail {

namespace {

/// Upper bound for a manifest; real ones are a few KB.
constexpr std::streamsize kMaxManifestBytes = 1 << 20;

attnrt_status readFile(const std::string &path, std::string &text) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return fail(ATTNRT_IO_ERROR, path + ": cannot open");
  std::ostringstream contents;
  contents << file.rdbuf();
  text = contents.str();
  if (static_cast<std::streamsize>(text.size()) > kMaxManifestBytes)
    return fail(ATTNRT_CORRUPT_PACKAGE, path + ": larger than 1 MiB");
  return ATTNRT_OK;
}

/// Features the kernel was compiled with that this CPU lacks, for the
/// vector extensions whose absence would crash the kernel (SIGILL).
std::string missingCpuFeatures(const std::string &features) {
  std::string missing;
  auto wants = [&](const char *name) {
    return ("," + features + ",").find(std::string(",+") + name + ",") !=
           std::string::npos;
  };
#if defined(__x86_64__)
  __builtin_cpu_init();
  struct Check {
    const char *name;
    bool present;
  };
  const Check checks[] = {
      {"avx", static_cast<bool>(__builtin_cpu_supports("avx"))},
      {"avx2", static_cast<bool>(__builtin_cpu_supports("avx2"))},
      {"fma", static_cast<bool>(__builtin_cpu_supports("fma"))},
      {"f16c", static_cast<bool>(__builtin_cpu_supports("f16c"))},
      {"avx512f", static_cast<bool>(__builtin_cpu_supports("avx512f"))},
      {"avx512bw", static_cast<bool>(__builtin_cpu_supports("avx512bw"))},
      {"avx512vl", static_cast<bool>(__builtin_cpu_supports("avx512vl"))},
  };
  for (const Check &check : checks)
    if (wants(check.name) && !check.present)
      missing += (missing.empty() ? "" : ", ") + std::string(check.name);
#else
  (void)wants;
#endif
  return missing;
}

/// A dense row-major view as MLIR's memref descriptor; strides in elements.
template <int Rank> struct Descriptor {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <int Rank>
Descriptor<Rank> describe(const void *data, const int64_t (&sizes)[Rank],
                          const int64_t *strides) {
  Descriptor<Rank> d;
  d.allocated = d.aligned = const_cast<void *>(data);
  d.offset = 0;
  int64_t dense = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    d.sizes[i] = sizes[i];
    d.strides[i] = strides ? strides[i] : dense;
    dense *= sizes[i];
  }
  return d;
}

/// Checks one BSHD tensor's pointer, alignment and strides; fills the
/// strides to use (dense when all given strides are zero).
attnrt_status checkTensor(const char *name, const void *data,
                          const int64_t (&sizes)[4], const int64_t (&given)[4],
                          size_t elementBytes, int64_t (&strides)[4]) {
  if (!data)
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + " is NULL");
  if (reinterpret_cast<uintptr_t>(data) % elementBytes != 0)
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + " is not aligned to its " +
                    std::to_string(elementBytes) + "-byte elements");
  int64_t dense[4];
  dense[3] = 1;
  for (int i = 2; i >= 0; --i)
    dense[i] = dense[i + 1] * sizes[i + 1];
  bool allZero = std::all_of(given, given + 4, [](int64_t s) { return s == 0; });
  for (int i = 0; i < 4; ++i)
    strides[i] = allZero ? dense[i] : given[i];
  if (strides[1] != dense[1] || strides[2] != dense[2] || strides[3] != 1 ||
      strides[0] < dense[0])
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + "_strides: (" +
                    std::to_string(strides[0]) + ", " +
                    std::to_string(strides[1]) + ", " +
                    std::to_string(strides[2]) + ", " +
                    std::to_string(strides[3]) +
                    ") unsupported; only the batch stride may differ from "
                    "dense BSHD (" +
                    std::to_string(dense[0]) + ", " + std::to_string(dense[1]) +
                    ", " + std::to_string(dense[2]) + ", 1), and not be "
                    "smaller");
  return ATTNRT_OK;
}

} // namespace

attnrt_status loadKernel(const std::string &packageDir,
                         std::unique_ptr<attnrt_kernel> &kernel) {
  auto loaded = std::make_unique<attnrt_kernel>();
  std::string manifestPath = packageDir + "/manifest.json";
  std::string text;
  if (attnrt_status status = readFile(manifestPath, text))
    return status;
  if (attnrt_status status = parseManifest(text, manifestPath, loaded->manifest))
    return status;
  const Manifest &manifest = loaded->manifest;
  std::string missing = missingCpuFeatures(manifest.cpuFeatures);
  if (!missing.empty())
    return fail(ATTNRT_UNSUPPORTED,
                packageDir + ": compiled for CPU features this machine lacks (" +
                    missing + "); recompile the package on this machine");

  std::string libraryPath = packageDir + "/" + manifest.kernelFile;
  if (!std::ifstream(libraryPath))
    return fail(ATTNRT_IO_ERROR, libraryPath + ": cannot open");
  loaded->library = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!loaded->library) {
    const char *reason = dlerror();
    return fail(ATTNRT_CORRUPT_PACKAGE,
                libraryPath + ": cannot load: " + (reason ? reason : "?"));
  }
  void *symbol = dlsym(loaded->library, manifest.entry.c_str());
  if (!symbol)
    return fail(ATTNRT_CORRUPT_PACKAGE, libraryPath + ": no entry point '" +
                                            manifest.entry + "'");
  loaded->entry = reinterpret_cast<attnrt_kernel::Entry>(symbol);
  kernel = std::move(loaded);
  return succeed();
}

attnrt_status runCpu(const attnrt_kernel &kernel,
                     const attnrt_attention_args &args, int numThreads) {
  const Manifest &m = kernel.manifest;
  if (args.batch < 0 || args.seqlen_q < 0 || args.seqlen_k < 0)
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args: batch, seqlen_q and seqlen_k must be >= 0");
  if (numThreads < 0)
    return fail(ATTNRT_INVALID_ARGUMENT, "num_threads must be >= 0");
  size_t elementBytes = m.dtype == ATTNRT_F32 ? 4 : 2;
  int64_t qSizes[4] = {args.batch, args.seqlen_q, m.numQHeads, m.headDim};
  int64_t kSizes[4] = {args.batch, args.seqlen_k, m.numKvHeads, m.headDim};
  int64_t vSizes[4] = {args.batch, args.seqlen_k, m.numKvHeads, m.headDimV};
  int64_t oSizes[4] = {args.batch, args.seqlen_q, m.numQHeads, m.headDimV};
  int64_t qStrides[4], kStrides[4], vStrides[4], oStrides[4];
  if (attnrt_status s = checkTensor("q", args.q, qSizes, args.q_strides,
                                    elementBytes, qStrides))
    return s;
  if (attnrt_status s = checkTensor("k", args.k, kSizes, args.k_strides,
                                    elementBytes, kStrides))
    return s;
  if (attnrt_status s = checkTensor("v", args.v, vSizes, args.v_strides,
                                    elementBytes, vStrides))
    return s;
  if (attnrt_status s = checkTensor("o", args.o, oSizes, args.o_strides,
                                    elementBytes, oStrides))
    return s;
  if (m.returnsLse && !args.lse)
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.lse is NULL but kernel '" + m.name + "' returns the LSE");
  if (!m.returnsLse && args.lse)
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.lse is given but kernel '" + m.name +
                    "' was compiled without return_lse");
  if (!m.usesAlibi && args.alibi_slopes)
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.alibi_slopes is given but kernel '" + m.name +
                    "' was compiled without alibi");

  const float *slopes =
      args.alibi_slopes ? args.alibi_slopes : m.defaultAlibiSlopes.data();

  int64_t numQTiles = (args.seqlen_q + m.blockM - 1) / m.blockM;
  int64_t numItems = args.batch * m.numQHeads * numQTiles;
  if (numItems == 0)
    return succeed();
  auto q = describe<4>(args.q, qSizes, qStrides);
  auto k = describe<4>(args.k, kSizes, kStrides);
  auto v = describe<4>(args.v, vSizes, vStrides);
  auto o = describe<4>(args.o, oSizes, oStrides);
  int64_t lseSizes[3] = {args.lse ? args.batch : 0, m.numQHeads,
                         args.lse ? args.seqlen_q : 0};
  auto lse = describe<3>(args.lse, lseSizes, nullptr);
  int64_t slopeSizes[1] = {m.numQHeads};
  auto slopeView = describe<1>(slopes, slopeSizes, nullptr);

  ThreadPool &pool = ThreadPool::shared();
  unsigned threads =
      numThreads ? static_cast<unsigned>(numThreads) : pool.numWorkers() + 1;
  // Many small chunks, claimed in order: the kernel numbers the costly
  // causal Q tiles first.
  int64_t numChunks = std::min<int64_t>(numItems, int64_t(threads) * 16);
  pool.parallelFor(numChunks, threads, [&](int64_t chunk) {
    int64_t begin = numItems * chunk / numChunks;
    int64_t end = numItems * (chunk + 1) / numChunks;
    auto qc = q, kc = k, vc = v, oc = o;
    auto lc = lse;
    auto sc = slopeView;
    kernel.entry(&qc, &kc, &vc, &oc, &lc, &sc, begin, end);
  });
  return succeed();
}

} // namespace attnrt::detail

attnrt_kernel::~attnrt_kernel() {
  if (library)
    dlclose(library);
}
