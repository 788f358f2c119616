//===- GpuPackage.cpp - kernel packages for NVIDIA GPUs -------------------===//

#include "attngen/Backend/Gpu/GpuPackage.h"
#include "attngen/Backend/PackageDirectory.h"
#include "attngen/Spec/SpecParser.h"

#include <nlohmann/json.hpp>

namespace attngen {

llvm::Error writeGpuPackage(const std::string &ptx, const AttentionSpec &spec,
                            Target target, const GpuLaunchShape &launch,
                            const std::string &packageDir) {
  using json = nlohmann::ordered_json;
  auto tensor = [](const char *name, const char *access, json shape,
                   const char *dtype) {
    return json{{"name", name},     {"kind", "memref"},
                {"access", access}, {"rank", shape.size()},
                {"shape", shape},   {"dtype", dtype}};
  };
  const char *dtype = toString(spec.dtype);
  json params = json::array({
      tensor("q", "read", {"batch", "seqlen_q", spec.numQHeads, spec.headDim},
             dtype),
      tensor("k", "read", {"batch", "seqlen_k", spec.numKvHeads, spec.headDim},
             dtype),
      tensor("v", "read",
             {"batch", "seqlen_k", spec.numKvHeads, spec.headDimV}, dtype),
      tensor("o", "write",
             {"batch", "seqlen_q", spec.numQHeads, spec.headDimV}, dtype),
      tensor("lse", spec.returnLse ? "write" : "unused",
             {"batch", spec.numQHeads, "seqlen_q"}, "f32"),
      tensor("alibi_slopes", spec.alibi ? "read" : "unused",
             {spec.numQHeads}, "f32"),
  });
  json kernel = {
      {"file", "kernel.ptx"},
      {"entry", spec.name},
      // MLIR's GPU kernel convention: each memref parameter is passed as its
      // expanded descriptor: allocated pointer, aligned pointer, i64 offset,
      // i64 sizes[rank], i64 strides[rank] (elements; dense BSHD).
      {"abi", "mlir-gpu-expanded-memrefs"},
      {"params", params},
      {"block_m", launch.blockM},
      {"block_n", launch.blockN},
      {"num_warps", launch.numWarps},
      {"block_threads", launch.numWarps * 32},
      {"grid", {"ceil(seqlen_q / block_m)", "num_q_heads", "batch"}},
      // Above 48 KB the launcher must opt in
      // (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
      {"dynamic_shared_memory_bytes", launch.sharedMemoryBytes},
      // 16-byte cp.async and vector loads of Q/K/V rows.
      {"input_alignment_bytes",
       spec.headDim % 8 == 0 && spec.headDimV % 8 == 0 ? 16 : 2}};
  if (spec.alibi)
    kernel["default_alibi_slopes"] = defaultAlibiSlopes(spec.numQHeads);
  json manifest = {{"format", "attngen-package"},
                   {"format_version", kPackageFormatVersion},
                   {"spec", json::parse(specToJson(spec))},
                   {"target", toString(target)},
                   {"kernel", kernel}};
  std::string manifestText = manifest.dump(2) + "\n";
  return writePackageDirectory(packageDir, [&](llvm::StringRef staging) {
    if (llvm::Error error =
            writePackageFile((staging + "/kernel.ptx").str(), ptx))
      return error;
    return writePackageFile((staging + "/manifest.json").str(), manifestText);
  });
}

} // namespace attngen
