//===- Manifest.cpp - reading and checking package manifests --------------===//
//
// Built without exceptions: nlohmann/json parses in non-throwing mode and
// every field's type is checked before it is read.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"
#include "Error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <tuple>
#include <vector>

namespace attnrt::detail {

using json = nlohmann::json;

namespace {
class ManifestReader {
public:
  ManifestReader(const json &root, const std::string &path)
      : root(root), path(path) {}

  attnrt_status corrupt(const std::string &pointer, const std::string &what) {
    return fail(ATTNRT_CORRUPT_PACKAGE, path + ": " + pointer + ": " + what);
  }

  bool has(const std::string &pointer) {
    return root.contains(json::json_pointer(pointer));
  }

  /// The value at `pointer` if it exists and satisfies `isType`.
  const json *find(const std::string &pointer, bool (json::*isType)() const) {
    json::json_pointer ptr(pointer);
    if (!root.contains(ptr)) {
      return nullptr;
    }
    const json &value = root.at(ptr);
    return (value.*isType)() ? &value : nullptr;
  }

  bool string(const std::string &pointer, std::string &out) {
    const json *value = find(pointer, &json::is_string);
    if (value) {
      out = value->get<std::string>();
    }
    return value != nullptr;
  }

  bool positive(const std::string &pointer, int64_t &out) {
    const json *value = find(pointer, &json::is_number_integer);
    if (!value || value->get<int64_t>() < 1) {
      return false;
    }
    out = value->get<int64_t>();
    return true;
  }

  bool boolean(const std::string &pointer, bool &out) {
    const json *value = find(pointer, &json::is_boolean);
    if (value) {
      out = value->get<bool>();
    }
    return value != nullptr;
  }

private:
  const json &root;
  const std::string &path;
};
} // namespace

attnrt_status parseManifest(const std::string &text, const std::string &path,
                            Manifest &manifest) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return fail(ATTNRT_CORRUPT_PACKAGE,
                path + ": not a JSON object (truncated or corrupt manifest)");
  }
  ManifestReader reader(root, path);

  std::string format;
  if (!reader.string("/format", format) || format != "attngen-package") {
    return reader.corrupt("/format", "expected \"attngen-package\"");
  }
  int64_t version = 0;
  if (!reader.positive("/format_version", version)) {
    return reader.corrupt("/format_version", "expected a positive integer");
  }
  if (version != ATTNRT_PACKAGE_FORMAT_VERSION) {
    return fail(ATTNRT_VERSION_MISMATCH,
                path + ": package format version " + std::to_string(version) +
                    ", this libattnrt reads version " +
                    std::to_string(ATTNRT_PACKAGE_FORMAT_VERSION) +
                    "; recompile the package with a matching attngen");
  }

  std::string target;
  if (!reader.string("/target", target)) {
    return reader.corrupt("/target", "expected a string");
  }
  if (target == "cpu") {
    manifest.target = ATTNRT_TARGET_CPU;
    reader.string("/cpu_features", manifest.cpuFeatures);
  } else if (target == "sm_80" || target == "sm_90") {
    manifest.target = ATTNRT_TARGET_CUDA;
    manifest.smVersion = std::stoi(target.substr(3));
  } else {
    return fail(ATTNRT_UNSUPPORTED,
                path + ": target '" + target +
                    "' is not supported by this libattnrt (cpu, sm_80, sm_90)");
  }

  if (!reader.string("/spec/name", manifest.name) || manifest.name.empty()) {
    return reader.corrupt("/spec/name", "expected a non-empty string");
  }
  std::string dtype;
  reader.string("/spec/dtype", dtype);
  if (dtype == "f32") {
    manifest.dtype = ATTNRT_F32;
  } else if (dtype == "f16") {
    manifest.dtype = ATTNRT_F16;
  } else if (dtype == "bf16") {
    manifest.dtype = ATTNRT_BF16;
  } else {
    return reader.corrupt("/spec/dtype",
                          "expected \"f32\", \"f16\" or \"bf16\"");
  }
  for (auto [pointer, field] :
       {std::make_pair("/spec/num_q_heads", &manifest.numQHeads),
        std::make_pair("/spec/num_kv_heads", &manifest.numKvHeads),
        std::make_pair("/spec/head_dim", &manifest.headDim),
        std::make_pair("/spec/head_dim_v", &manifest.headDimV),
        std::make_pair("/kernel/block_m", &manifest.blockM)}) {
    if (!reader.positive(pointer, *field)) {
      return reader.corrupt(pointer, "expected a positive integer");
    }
  }
  if (manifest.numQHeads % manifest.numKvHeads != 0) {
    return reader.corrupt("/spec/num_kv_heads", "does not divide num_q_heads");
  }
  if (!reader.boolean("/spec/return_lse", manifest.returnsLse)) {
    return reader.corrupt("/spec/return_lse", "expected true or false");
  }
  if (!reader.boolean("/spec/alibi", manifest.usesAlibi)) {
    return reader.corrupt("/spec/alibi", "expected true or false");
  }

  std::string mask, align;
  reader.string("/spec/mask", mask);
  reader.string("/spec/causal_align", align);
  if (mask != "none" && mask != "causal") {
    return reader.corrupt("/spec/mask", "expected \"none\" or \"causal\"");
  }
  if (align != "bottom_right" && align != "top_left") {
    return reader.corrupt("/spec/causal_align",
                          "expected \"bottom_right\" or \"top_left\"");
  }
  manifest.causal = mask == "causal";
  manifest.causalTopLeft = align == "top_left";
  for (auto [pointer, field, lo] :
       {std::make_tuple("/spec/window/left", &manifest.windowLeft, -1),
        std::make_tuple("/spec/window/right", &manifest.windowRight, -1),
        std::make_tuple("/spec/sink_tokens", &manifest.sinkTokens, 0)}) {
    const json *value = reader.find(pointer, &json::is_number_integer);
    if (!value || value->get<int64_t>() < lo) {
      return reader.corrupt(pointer,
                            "expected an integer >= " + std::to_string(lo));
    }
    *field = value->get<int64_t>();
  }
  if (const json *scale = reader.find("/spec/scale", &json::is_number)) {
    manifest.scale = scale->get<double>();
  } else if (reader.find("/spec/scale", &json::is_null)) {
    manifest.scale = 1.0 / std::sqrt(static_cast<double>(manifest.headDim));
  }
  if (!(manifest.scale > 0.0)) {
    return reader.corrupt("/spec/scale", "expected a number > 0 or null");
  }
  const json *softcap = reader.find("/spec/softcap", &json::is_number);
  if (!softcap || softcap->get<double>() < 0.0) {
    return reader.corrupt("/spec/softcap", "expected a number >= 0");
  }
  manifest.softcap = softcap->get<double>();

  if (reader.find("/spec/kv_cache", &json::is_object)) {
    std::string layout;
    reader.string("/spec/kv_cache/layout", layout);
    if (layout == "contiguous") {
      manifest.kvCache = ATTNRT_KV_CONTIGUOUS;
    } else if (layout == "paged") {
      manifest.kvCache = ATTNRT_KV_PAGED;
      if (!reader.positive("/spec/kv_cache/page_size", manifest.pageSize)) {
        return reader.corrupt("/spec/kv_cache/page_size",
                              "expected a positive integer");
      }
    } else {
      return reader.corrupt("/spec/kv_cache/layout",
                            "expected \"contiguous\" or \"paged\"");
    }
    if (reader.find("/spec/kv_cache/append", &json::is_boolean)) {
      reader.boolean("/spec/kv_cache/append", manifest.appendsKv);
    }
  } else if (!reader.find("/spec/kv_cache", &json::is_null)) {
    return reader.corrupt("/spec/kv_cache", "expected an object or null");
  }

  if (reader.find("/spec/rope", &json::is_object)) {
    const json *base = reader.find("/spec/rope/base", &json::is_number);
    if (!base || !(base->get<double>() > 1.0)) {
      return reader.corrupt("/spec/rope/base", "expected a number > 1");
    }
    manifest.ropeBase = base->get<double>();
    if (!reader.positive("/spec/rope/rotary_dim", manifest.ropeDim) ||
        manifest.ropeDim % 2 != 0 || manifest.ropeDim > manifest.headDim) {
      return reader.corrupt("/spec/rope/rotary_dim",
                            "expected an even integer up to head_dim");
    }
    if (!reader.boolean("/spec/rope/interleaved", manifest.ropeInterleaved)) {
      return reader.corrupt("/spec/rope/interleaved", "expected true or false");
    }
  }
  if (reader.find("/spec/varlen", &json::is_boolean)) {
    reader.boolean("/spec/varlen", manifest.varlen);
  }
  if (const json *split = reader.find("/spec/split_kv", &json::is_string)) {
    if (*split != "auto") {
      return reader.corrupt("/spec/split_kv",
                            "expected an integer in [1, 64] or \"auto\"");
    }
    manifest.splitKv = 0;
  } else if (const json *split =
                 reader.find("/spec/split_kv", &json::is_number_integer)) {
    manifest.splitKv = split->get<int64_t>();
    if (manifest.splitKv < 1 || manifest.splitKv > 64) {
      return reader.corrupt("/spec/split_kv",
                            "expected an integer in [1, 64] or \"auto\"");
    }
  }

  if (manifest.usesAlibi) {
    const json *slopes =
        reader.find("/kernel/default_alibi_slopes", &json::is_array);
    if (!slopes || static_cast<int64_t>(slopes->size()) != manifest.numQHeads) {
      return reader.corrupt("/kernel/default_alibi_slopes",
                            "expected num_q_heads numbers");
    }
    for (const json &slope : *slopes) {
      if (!slope.is_number()) {
        return reader.corrupt("/kernel/default_alibi_slopes",
                              "expected num_q_heads numbers");
      }
      manifest.defaultAlibiSlopes.push_back(slope.get<float>());
    }
  }

  bool cuda = manifest.target == ATTNRT_TARGET_CUDA;
  // The calling convention this library implements, parameter by parameter:
  // CPU kernels take MLIR C-interface descriptors and a work-item range;
  // CUDA kernels take each memref as its expanded descriptor.
  const char *expectedAbi =
      cuda ? "mlir-gpu-expanded-memrefs" : "mlir-c-interface";
  std::string abi;
  if (!reader.string("/kernel/abi", abi) || abi != expectedAbi) {
    return reader.corrupt("/kernel/abi",
                          std::string("expected \"") + expectedAbi + "\"");
  }
  if (!reader.string("/kernel/file", manifest.kernelFile) ||
      manifest.kernelFile.empty() ||
      manifest.kernelFile.find('/') != std::string::npos) {
    return reader.corrupt("/kernel/file",
                          "expected a file name inside the package");
  }
  if (!reader.string("/kernel/entry", manifest.entry) ||
      manifest.entry.empty()) {
    return reader.corrupt("/kernel/entry", "expected a symbol name");
  }
  if (reader.has("/kernel/digest")) {
    if (!reader.string("/kernel/digest", manifest.digest) ||
        manifest.digest.size() != 24 ||
        manifest.digest.rfind("fnv1a64:", 0) != 0 ||
        manifest.digest.find_first_not_of("0123456789abcdef", 8) !=
            std::string::npos) {
      return reader.corrupt("/kernel/digest",
                            "expected \"fnv1a64:\" and 16 hex digits");
    }
    json digested = root;
    digested["kernel"].erase("digest");
    manifest.digestedManifest = digested.dump();
  }

  struct Param {
    const char *name;
    int64_t rank;
  };
  std::vector<Param> expected = {{"q", 4},
                                 {"k", 4},
                                 {"v", 4},
                                 {"o", 4},
                                 {"lse", 3},
                                 {"alibi_slopes", 1},
                                 {"cache_seqlens", 1},
                                 {"page_table", 2},
                                 {"partial_o", 5},
                                 {"partial_lse", 4},
                                 {"cu_seqlens_q", 1},
                                 {"cu_seqlens_k", 1}};
  if (!cuda) {
    expected.push_back({"begin", 0});
    expected.push_back({"end", 0});
  }
  std::string names;
  for (const Param &param : expected) {
    names += (names.empty() ? "" : ", ") + std::string(param.name);
  }
  const json *params = reader.find("/kernel/params", &json::is_array);
  if (!params || params->size() != expected.size()) {
    return reader.corrupt("/kernel/params",
                          "expected the " + std::to_string(expected.size()) +
                              " parameters " + names);
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const json &param = (*params)[i];
    std::string pointer = "/kernel/params/" + std::to_string(i);
    if (!param.is_object() || !param.contains("name") ||
        !param["name"].is_string() || param["name"] != expected[i].name) {
      return reader.corrupt(pointer, "expected parameter '" +
                                         std::string(expected[i].name) + "'");
    }
    if (expected[i].rank > 0 &&
        (!param.contains("rank") || param["rank"] != expected[i].rank)) {
      return reader.corrupt(pointer + "/rank",
                            "expected " + std::to_string(expected[i].rank));
    }
  }
  if (!cuda) {
    if (!reader.boolean("/kernel/pack_gqa", manifest.packGqa)) {
      return reader.corrupt("/kernel/pack_gqa", "expected true or false");
    }
    if (manifest.appendsKv &&
        (!reader.string("/kernel/append_entry", manifest.appendEntry) ||
         manifest.appendEntry.empty())) {
      return reader.corrupt("/kernel/append_entry",
                            "expected the append's symbol (kv_cache.append "
                            "package)");
    }
    if (manifest.splitKv != 1 &&
        (!reader.string("/kernel/merge_entry", manifest.mergeEntry) ||
         manifest.mergeEntry.empty())) {
      return reader.corrupt("/kernel/merge_entry",
                            "expected the merge's symbol (split_kv package)");
    }
    if (manifest.splitKv != 1 &&
        !reader.positive("/kernel/block_n", manifest.blockN)) {
      return reader.corrupt("/kernel/block_n", "expected a positive integer");
    }
    return succeed();
  }
  if (!reader.positive("/kernel/block_n", manifest.blockN)) {
    return reader.corrupt("/kernel/block_n", "expected a positive integer");
  }
  if (manifest.appendsKv) {
    if (!reader.string("/kernel/append/entry", manifest.appendEntry) ||
        manifest.appendEntry.empty()) {
      return reader.corrupt("/kernel/append/entry",
                            "expected the append kernel's name");
    }
    // 128-thread CTAs: one warp per new row (4 rows per CTA), or, in
    // packages of earlier attngen versions, one thread per row.
    const json kWarpPerRow = {"ceil(batch * seqlen_q * num_kv_heads / 4)", 1,
                              1};
    const json kThreadPerRow = {"ceil(batch * seqlen_q * num_kv_heads / 128)",
                                1, 1};
    const json *appendGrid =
        reader.find("/kernel/append/grid", &json::is_array);
    if (!reader.positive("/kernel/append/block_threads",
                         manifest.appendBlockThreads) ||
        manifest.appendBlockThreads != 128 || !appendGrid ||
        (*appendGrid != kWarpPerRow && *appendGrid != kThreadPerRow)) {
      return reader.corrupt("/kernel/append/grid",
                            "expected 128-thread CTAs of 4 new rows (one warp "
                            "each) or 128 new rows (one thread each)");
    }
    manifest.appendRowsPerBlock = *appendGrid == kWarpPerRow ? 4 : 128;
  }
  if (manifest.splitKv != 1) {
    bool perSplit = false;
    if (!reader.boolean("/kernel/grid_x_per_split", perSplit) || !perSplit) {
      return reader.corrupt("/kernel/grid_x_per_split",
                            "expected true for a split_kv kernel");
    }
    if (!reader.string("/kernel/merge/entry", manifest.mergeEntry) ||
        manifest.mergeEntry.empty()) {
      return reader.corrupt("/kernel/merge/entry",
                            "expected the merge kernel's name");
    }
    if (!reader.positive("/kernel/merge/block_threads",
                         manifest.mergeBlockThreads) ||
        manifest.mergeBlockThreads % 32 != 0 ||
        manifest.mergeBlockThreads > 1024) {
      return reader.corrupt("/kernel/merge/block_threads",
                            "expected a multiple of 32 up to 1024");
    }
    const json kMergeGrid = {"ceil(batch * seqlen_q * num_q_heads / 4)", 1, 1};
    const json *mergeGrid = reader.find("/kernel/merge/grid", &json::is_array);
    if (!mergeGrid || *mergeGrid != kMergeGrid ||
        manifest.mergeBlockThreads != 128) {
      return reader.corrupt("/kernel/merge/grid",
                            "expected one 4-warp CTA per 4 output rows");
    }
    // Absent in packages of earlier attngen versions: always merge.
    if (reader.has("/kernel/merge/skipped_for_one_chunk") &&
        !reader.boolean("/kernel/merge/skipped_for_one_chunk",
                        manifest.mergeSkippedForOneChunk)) {
      return reader.corrupt("/kernel/merge/skipped_for_one_chunk",
                            "expected true or false");
    }
  }

  if (!reader.positive("/kernel/block_threads", manifest.blockThreads) ||
      manifest.blockThreads % 32 != 0 || manifest.blockThreads > 1024) {
    return reader.corrupt("/kernel/block_threads",
                          "expected a multiple of 32 up to 1024");
  }
  const json *sharedBytes = reader.find("/kernel/dynamic_shared_memory_bytes",
                                        &json::is_number_integer);
  if (!sharedBytes || sharedBytes->get<int64_t>() < 0 ||
      sharedBytes->get<int64_t>() > (1 << 30)) {
    return reader.corrupt("/kernel/dynamic_shared_memory_bytes",
                          "expected a byte count >= 0");
  }
  manifest.dynamicSharedMemoryBytes = sharedBytes->get<int64_t>();
  int64_t alignment = 0;
  if (!reader.positive("/kernel/input_alignment_bytes", alignment) ||
      (alignment & (alignment - 1)) != 0 || alignment > 16) {
    return reader.corrupt("/kernel/input_alignment_bytes",
                          "expected 1, 2, 4, 8 or 16");
  }
  manifest.inputAlignmentBytes = alignment;
  // The grid rules this library launches: query rows per q head, or
  // (query, q head) rows per kv head (GQA packing).
  const json kGrid = {"ceil(seqlen_q / block_m)", "num_q_heads", "batch"};
  const json kPackedGrid = {
      "ceil(seqlen_q * (num_q_heads / num_kv_heads) / block_m)", "num_kv_heads",
      "batch"};
  const json *grid = reader.find("/kernel/grid", &json::is_array);
  if (!grid || (*grid != kGrid && *grid != kPackedGrid)) {
    return reader.corrupt("/kernel/grid",
                          "expected [\"ceil(seqlen_q / block_m)\", "
                          "\"num_q_heads\", \"batch\"] or its GQA-packed "
                          "form");
  }
  manifest.packGqa = *grid == kPackedGrid;
  return succeed();
}

} // namespace attnrt::detail
