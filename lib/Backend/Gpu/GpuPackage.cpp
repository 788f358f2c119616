//===- GpuPackage.cpp - kernel packages for NVIDIA GPUs -------------------===//

#include "attngen/Backend/Gpu/GpuPackage.h"
#include "attngen/Backend/PackageDirectory.h"
#include "attngen/Backend/PackageManifest.h"
#include "attngen/Spec/SpecParser.h"

#include <nlohmann/json.hpp>

namespace attngen {

llvm::Error writeGpuPackage(const std::string &ptx, const AttentionSpec &spec,
                            Target target, const GpuLaunchShape &launch,
                            const std::string &packageDir) {
  using json = nlohmann::ordered_json;
  json params = manifestTensorParams(spec);
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
      // The resolved tiling (tiling "auto", or num_warps doubled where the
      // spec's slabs would pass the register budget), for reading: the
      // launch needs only block_m, block_threads and the shared memory.
      {"num_stages", launch.numStages},
      {"block_threads", launch.numWarps * 32},
      // GQA-packed kernels: one CTA row tile holds (query, q head) pairs of
      // one kv head, row = query * (num_q_heads / num_kv_heads) + head %
      // (num_q_heads / num_kv_heads).
      {"grid",
       launch.packGqa
           ? json{"ceil(seqlen_q * (num_q_heads / num_kv_heads) / block_m)",
                  "num_kv_heads", "batch"}
           : json{"ceil(seqlen_q / block_m)", "num_q_heads", "batch"}},
      // Split-KV: grid x times num_splits (the workspace's leading
      // dimension), then the merge kernel.
      {"grid_x_per_split", !launch.mergeEntry.empty()},
      // Above 48 KB the launcher must opt in
      // (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
      {"dynamic_shared_memory_bytes", launch.sharedMemoryBytes},
      // 16-byte cp.async and vector loads of Q/K/V rows.
      {"input_alignment_bytes",
       spec.headDim % 8 == 0 && spec.headDimV % 8 == 0 ? 16 : 2}};
  if (spec.alibi) {
    kernel["default_alibi_slopes"] = defaultAlibiSlopes(spec.numQHeads);
  }
  if (!launch.mergeEntry.empty()) {
    kernel["merge"] = {
        {"entry", launch.mergeEntry},
        {"params", {"o", "lse", "partial_o", "partial_lse"}},
        {"block_threads", 128},
        // One warp per output row, row = (b * seqlen_q + i) * num_q_heads + h.
        {"grid", {"ceil(batch * seqlen_q * num_q_heads / 4)", 1, 1}},
        // With one chunk the attention kernel writes o and lse itself.
        {"skipped_for_one_chunk", true}};
  }
  if (!launch.appendEntry.empty()) {
    kernel["append"] = {
        {"entry", launch.appendEntry},
        {"params",
         {"k_new", "v_new", "k", "v", "cache_seqlens", "page_table",
          "cu_seqlens_q"}},
        {"block_threads", 128},
        // Launched first: one warp per new row r = (b * seqlen_q + j) *
        // num_kv_heads + h, stored at cache row cache_seqlens[b] + j.
        {"grid", {"ceil(batch * seqlen_q * num_kv_heads / 4)", 1, 1}}};
  }
  json manifest = manifestHeader(spec, target);
  manifest["kernel"] = kernel;
  std::string manifestText = manifestTextWithDigest(manifest, ptx);
  return writePackageDirectory(packageDir, [&](llvm::StringRef staging) {
    if (llvm::Error error =
            writePackageFile((staging + "/kernel.ptx").str(), ptx)) {
      return error;
    }
    return writePackageFile((staging + "/manifest.json").str(), manifestText);
  });
}

} // namespace attngen
