//===- PackageManifest.cpp - the parts every package manifest has ---------===//

#include "attngen/Backend/PackageManifest.h"
#include "attngen/Backend/PackageDirectory.h"
#include "attngen/Spec/SpecParser.h"

#include "attnrt/package_digest.hpp"

namespace attngen {

using json = nlohmann::ordered_json;

json manifestTensorParams(const AttentionSpec &spec) {
  auto tensor = [](const char *name, const char *access, json shape,
                   const char *dtype) {
    return json{{"name", name},         {"kind", "memref"}, {"access", access},
                {"rank", shape.size()}, {"shape", shape},   {"dtype", dtype}};
  };
  const char *dtype = toString(spec.dtype);
  bool cache = spec.kvCache.layout != KvCacheLayout::None;
  bool paged = spec.kvCache.layout == KvCacheLayout::Paged;
  // K/V rows: per sequence, or pages of a pool.
  json rows = paged ? json{"num_pages", spec.kvCache.pageSize}
                    : json{"batch", "seqlen_k"};
  // Varlen batches pack the sequences along dimension 1 (batch dimension 1).
  json batch = spec.varlen ? json(1) : json("batch");
  // (Caches keep one entry per sequence or their pages.)
  if (spec.varlen && !cache) {
    rows[0] = 1;
  }
  return json::array({
      tensor("q", "read", {batch, "seqlen_q", spec.numQHeads, spec.headDim},
             dtype),
      tensor("k", "read", {rows[0], rows[1], spec.numKvHeads, spec.headDim},
             dtype),
      tensor("v", "read", {rows[0], rows[1], spec.numKvHeads, spec.headDimV},
             dtype),
      tensor("o", "write", {batch, "seqlen_q", spec.numQHeads, spec.headDimV},
             dtype),
      tensor("lse", spec.returnLse ? "write" : "unused",
             {batch, spec.numQHeads, "seqlen_q"}, "f32"),
      tensor("alibi_slopes", spec.alibi ? "read" : "unused", {spec.numQHeads},
             "f32"),
      tensor("cache_seqlens", cache ? "read" : "unused", {"batch"}, "i32"),
      tensor("page_table", paged ? "read" : "unused", {"batch", "max_pages"},
             "i32"),
      // Split-KV workspace (num_splits is its leading dimension).
      tensor("partial_o", spec.splitKv != 1 ? "workspace" : "unused",
             {"num_splits", "batch", "seqlen_q", spec.numQHeads, spec.headDimV},
             "f32"),
      tensor("partial_lse", spec.splitKv != 1 ? "workspace" : "unused",
             {"num_splits", "batch", spec.numQHeads, "seqlen_q"}, "f32"),
      tensor("cu_seqlens_q", spec.varlen ? "read" : "unused", {"batch + 1"},
             "i32"),
      tensor("cu_seqlens_k", spec.varlen && !cache ? "read" : "unused",
             {"batch + 1"}, "i32"),
  });
}

json manifestHeader(const AttentionSpec &spec, Target target) {
  return {{"format", "attngen-package"},
          {"format_version", kPackageFormatVersion},
          {"spec", json::parse(specToJson(spec))},
          {"target", toString(target)}};
}

std::string manifestTextWithDigest(json manifest, llvm::StringRef kernelFile) {
  // Canonical form: nlohmann::json (sorted keys), compact, no digest yet.
  std::string canonical = nlohmann::json::parse(manifest.dump()).dump();
  manifest["kernel"]["digest"] =
      attnrt::packageDigest({kernelFile.data(), kernelFile.size()}, canonical);
  return manifest.dump(2) + "\n";
}

} // namespace attngen
