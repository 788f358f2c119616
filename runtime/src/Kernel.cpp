//===- Kernel.cpp - loading kernel packages -------------------------------===//

#include "Kernel.h"
#include "Error.h"
#include "attnrt/package_digest.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace attnrt::detail {

namespace {

/// Upper bounds: real manifests are a few KB, PTX a few hundred KB.
constexpr std::streamsize kMaxManifestBytes = 1 << 20;
constexpr std::streamsize kMaxPtxBytes = 64 << 20;
constexpr std::streamsize kMaxLibraryBytes = 256 << 20;

attnrt_status readFile(const std::string &path, std::string &text,
                       std::streamsize maxBytes, const char *maxText) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return fail(ATTNRT_IO_ERROR, path + ": cannot open");
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  text = contents.str();
  if (static_cast<std::streamsize>(text.size()) > maxBytes) {
    return fail(ATTNRT_CORRUPT_PACKAGE, path + ": larger than " + maxText);
  }
  return ATTNRT_OK;
}

/// Refuses a package whose kernel file or manifest changed after attngen
/// wrote it (`kernel.digest`); packages without a digest pass.
attnrt_status checkDigest(const Manifest &manifest,
                          const std::string &packageDir,
                          const std::string &kernelFile) {
  if (manifest.digest.empty() ||
      packageDigest(kernelFile, manifest.digestedManifest) == manifest.digest) {
    return ATTNRT_OK;
  }
  return fail(ATTNRT_CORRUPT_PACKAGE,
              packageDir + "/manifest.json: /kernel/digest: does not match " +
                  manifest.kernelFile +
                  " and the manifest (changed after attngen wrote the "
                  "package); recompile it");
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
  for (const Check &check : checks) {
    if (wants(check.name) && !check.present) {
      missing += (missing.empty() ? "" : ", ") + std::string(check.name);
    }
  }
#else
  (void)wants;
#endif
  return missing;
}

} // namespace

attnrt_status loadKernel(const std::string &packageDir,
                         std::unique_ptr<attnrt_kernel> &kernel) {
  auto loaded = std::make_unique<attnrt_kernel>();
  std::string manifestPath = packageDir + "/manifest.json";
  std::string text;
  if (attnrt_status status =
          readFile(manifestPath, text, kMaxManifestBytes, "1 MiB")) {
    return status;
  }
  if (attnrt_status status =
          parseManifest(text, manifestPath, loaded->manifest)) {
    return status;
  }
  const Manifest &manifest = loaded->manifest;
  std::string missing = manifest.target == ATTNRT_TARGET_CPU
                            ? missingCpuFeatures(manifest.cpuFeatures)
                            : "";
  if (!missing.empty()) {
    return fail(ATTNRT_UNSUPPORTED,
                packageDir +
                    ": compiled for CPU features this machine lacks (" +
                    missing + "); recompile the package on this machine");
  }

  if (manifest.target == ATTNRT_TARGET_CUDA) {
    // The PTX is kept in memory; it is given to the driver (and cached per
    // context) on the first launch, so loading needs no GPU.
    std::string ptxPath = packageDir + "/" + manifest.kernelFile;
    if (attnrt_status status =
            readFile(ptxPath, loaded->ptx, kMaxPtxBytes, "64 MiB")) {
      return status;
    }
    if (loaded->ptx.find(".entry " + manifest.entry + "(") ==
        std::string::npos) {
      return fail(ATTNRT_CORRUPT_PACKAGE,
                  ptxPath + ": no kernel entry '.entry " + manifest.entry +
                      "(' (truncated or not attngen's PTX)");
    }
    if (attnrt_status status = checkDigest(manifest, packageDir, loaded->ptx)) {
      return status;
    }
    kernel = std::move(loaded);
    return succeed();
  }

  std::string libraryPath = packageDir + "/" + manifest.kernelFile;
  if (!std::ifstream(libraryPath)) {
    return fail(ATTNRT_IO_ERROR, libraryPath + ": cannot open");
  }
  loaded->library = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!loaded->library) {
    const char *reason = dlerror();
    return fail(ATTNRT_CORRUPT_PACKAGE,
                libraryPath + ": cannot load: " + (reason ? reason : "?"));
  }
  void *symbol = dlsym(loaded->library, manifest.entry.c_str());
  if (!symbol) {
    return fail(ATTNRT_CORRUPT_PACKAGE,
                libraryPath + ": no entry point '" + manifest.entry + "'");
  }
  loaded->entry = reinterpret_cast<attnrt_kernel::Entry>(symbol);
  if (!manifest.mergeEntry.empty()) {
    void *merge = dlsym(loaded->library, manifest.mergeEntry.c_str());
    if (!merge) {
      return fail(ATTNRT_CORRUPT_PACKAGE, libraryPath + ": no merge entry '" +
                                              manifest.mergeEntry + "'");
    }
    loaded->merge = reinterpret_cast<attnrt_kernel::Merge>(merge);
  }
  if (!manifest.appendEntry.empty()) {
    void *append = dlsym(loaded->library, manifest.appendEntry.c_str());
    if (!append) {
      return fail(ATTNRT_CORRUPT_PACKAGE, libraryPath + ": no append entry '" +
                                              manifest.appendEntry + "'");
    }
    loaded->append = reinterpret_cast<attnrt_kernel::Append>(append);
  }
  // The digest guards against corruption, not tampering: the library is
  // already loaded when its bytes are checked.
  if (!manifest.digest.empty()) {
    std::string library;
    if (attnrt_status status =
            readFile(libraryPath, library, kMaxLibraryBytes, "256 MiB")) {
      return status;
    }
    if (attnrt_status status = checkDigest(manifest, packageDir, library)) {
      return status;
    }
  }
  kernel = std::move(loaded);
  return succeed();
}

} // namespace attnrt::detail

attnrt_kernel::~attnrt_kernel() {
  if (library) {
    dlclose(library);
  }
}
