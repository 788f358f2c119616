//===- Run.cpp - `attngen run` --------------------------------------------===//

#include "attngen/Driver/Run.h"
#include "attngen/Driver/CpuAttention.h"
#include "attngen/Driver/CudaAttention.h"
#include "attngen/Driver/GpuSimRun.h"
#include "attngen/Driver/HostTensors.h"
#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/Error.h"
#include "attngen/Support/Npy.h"

#include "llvm/Support/FormatVariadic.h"

namespace attngen {

llvm::Error checkBackend(const std::string &command,
                         const std::string &backend) {
  if (backend == "cpu" || backend == "cuda" ||
      (backend == "gpu-sim" && command == "run")) {
    return llvm::Error::success();
  }
  return makeError("attngen " + command + ": unknown --backend '" + backend +
                   "', expected cpu, cuda" +
                   (command == "run" ? std::string(" or gpu-sim") : ""));
}

/// One BSHD input: checks rank, dtype and the dims the spec fixes, and
/// converts it to the kernel's element type.
static llvm::Expected<std::vector<uint8_t>>
loadInput(const std::string &path, const char *role, const AttentionSpec &spec,
          const char *seqName, int64_t heads, const char *headsName,
          int64_t dim, const char *dimName, std::vector<int64_t> &shape,
          bool packed) {
  llvm::Expected<NpyArray> array = readNpy(path);
  if (!array) {
    return array.takeError();
  }
  // Varlen specs take packed [total, heads, dim] tensors (batch 1 inside).
  if (packed && array->shape.size() == 3) {
    array->shape.insert(array->shape.begin(), 1);
  }
  std::string expected =
      packed ? llvm::formatv("[total, {0} = {1}, {2} = {3}] (packed sequences)",
                             headsName, heads, dimName, dim)
                   .str()
             : llvm::formatv("[batch, {0}, {1} = {2}, {3} = {4}] (BSHD)",
                             seqName, headsName, heads, dimName, dim)
                   .str();
  if (array->shape.size() != 4 || array->shape[2] != heads ||
      array->shape[3] != dim || (packed && array->shape[0] != 1)) {
    return makeError(path + ": " + role + " has shape " + array->shapeString() +
                     ", expected " + expected + " for spec '" + spec.name +
                     "'");
  }
  if (llvm::Error error = requireFloatArray(*array, path, role)) {
    return std::move(error);
  }
  if (array->type == NpyType::F16 && spec.dtype != ElementType::F16) {
    return makeError(path + ": " + role +
                     " is float16 but the spec's dtype "
                     "is " +
                     toString(spec.dtype) + "; pass float32 (<f4)");
  }
  shape = array->shape;
  if (array->type == NpyType::F16) {
    return std::move(array->data);
  }
  return fromFloat(array->toFloat(), spec.dtype);
}

/// Writes O (the spec's dtype, BSHD) and, when asked, LSE as f32 .npy.
static llvm::Error writeOutputs(const RunOptions &options,
                                const AttentionSpec &spec,
                                const std::vector<int64_t> &outShape,
                                const std::vector<uint8_t> &output,
                                const std::vector<float> &lse) {
  if (llvm::Error error = writeNpyF32(options.outputPath, outShape,
                                      toFloat(output, spec.dtype))) {
    return error;
  }
  if (!options.lsePath.empty()) {
    return writeNpyF32(
        options.lsePath,
        spec.varlen
            ? std::vector<int64_t>{spec.numQHeads, outShape[0]}
            : std::vector<int64_t>{outShape[0], spec.numQHeads, outShape[1]},
        lse);
  }
  return llvm::Error::success();
}

/// Reads --k-new/--v-new for appending KV cache specs: [batch, seqlen_q,
/// num_kv_heads, head_dim(_v)], batch and seqlen_q those of Q.
static llvm::Expected<NewKeysAndValues>
loadNewKeysAndValues(const RunOptions &options, const AttentionSpec &spec,
                     const std::vector<int64_t> &queryShape) {
  bool given = !options.keyNewPath.empty() || !options.valueNewPath.empty() ||
               !options.keyCacheOutPath.empty() ||
               !options.valueCacheOutPath.empty();
  if (!spec.kvCache.append) {
    if (given) {
      return makeError(options.specPath +
                       ": --k-new, --v-new, --k-cache-out and --v-cache-out "
                       "need a spec with \"kv_cache\": {..., \"append\": "
                       "true}");
    }
    return NewKeysAndValues();
  }
  if (options.keyNewPath.empty() || options.valueNewPath.empty()) {
    return makeError(options.specPath +
                     ": the spec appends to its KV cache; pass --k-new "
                     "KNEW.npy and --v-new VNEW.npy ([batch, seqlen_q, "
                     "num_kv_heads, head_dim(_v)])");
  }
  NewKeysAndValues added;
  for (auto [path, role, dim, dimName, bytes] :
       {std::make_tuple(&options.keyNewPath, "new K", spec.headDim, "head_dim",
                        &added.keys),
        std::make_tuple(&options.valueNewPath, "new V", spec.headDimV,
                        "head_dim_v", &added.values)}) {
    std::vector<int64_t> shape;
    auto loaded = loadInput(*path, role, spec, "seqlen_q", spec.numKvHeads,
                            "num_kv_heads", dim, dimName, shape, spec.varlen);
    if (!loaded) {
      return loaded.takeError();
    }
    if (shape[0] != queryShape[0] || shape[1] != queryShape[1]) {
      return makeError(llvm::formatv(
          "{0}: {1} has {2} sequences of {3} tokens, expected Q's {4} of {5} "
          "(one new key and value per query)",
          *path, role, shape[0], shape[1], queryShape[0], queryShape[1]));
    }
    *bytes = std::move(*loaded);
  }
  return std::move(added);
}

/// Writes the caches after an appending call when --k/v-cache-out ask.
static llvm::Error writeUpdatedCaches(const RunOptions &options,
                                      const AttentionSpec &spec,
                                      const std::vector<int64_t> &keyShape,
                                      const std::vector<int64_t> &valueShape,
                                      const std::vector<uint8_t> &key,
                                      const std::vector<uint8_t> &value) {
  if (!options.keyCacheOutPath.empty()) {
    if (llvm::Error error = writeNpyF32(options.keyCacheOutPath, keyShape,
                                        toFloat(key, spec.dtype))) {
      return error;
    }
  }
  if (!options.valueCacheOutPath.empty()) {
    return writeNpyF32(options.valueCacheOutPath, valueShape,
                       toFloat(value, spec.dtype));
  }
  return llvm::Error::success();
}

llvm::Error runSpec(const RunOptions &options) {
  if (llvm::Error error = checkBackend("run", options.backend)) {
    return error;
  }
  if (options.sharedMemoryTraffic && options.backend != "gpu-sim") {
    return makeError("attngen run: --shared-memory-traffic needs --backend "
                     "gpu-sim (the emulator counts the accesses)");
  }
  llvm::Expected<AttentionSpec> spec = parseSpecFile(options.specPath);
  if (!spec) {
    return spec.takeError();
  }
  if (!options.lsePath.empty() && !spec->returnLse) {
    return makeError(options.specPath + ": --lse needs a spec with "
                                        "\"return_lse\": true");
  }
  if (!options.slopesPath.empty() && !spec->alibi) {
    return makeError(options.specPath + ": --alibi-slopes needs a spec with "
                                        "\"alibi\": true");
  }
  if ((!options.cacheSeqlensPath.empty() || !options.pageTablePath.empty()) &&
      spec->kvCache.layout == KvCacheLayout::None) {
    return makeError(options.specPath + ": --cache-seqlens and --page-table "
                                        "need a spec with \"kv_cache\"");
  }

  std::vector<int64_t> qShape, kShape, vShape;
  // Varlen specs pack Q (and, without a cache, K and V) as [total, heads,
  // dim]; caches keep their own layout.
  bool cached = spec->kvCache.layout != KvCacheLayout::None;
  bool packedKeys = spec->varlen && !cached;
  auto query =
      loadInput(options.queryPath, "Q", *spec, "seqlen_q", spec->numQHeads,
                "num_q_heads", spec->headDim, "head_dim", qShape, spec->varlen);
  if (!query) {
    return query.takeError();
  }
  auto key =
      loadInput(options.keyPath, "K", *spec, "seqlen_k", spec->numKvHeads,
                "num_kv_heads", spec->headDim, "head_dim", kShape, packedKeys);
  if (!key) {
    return key.takeError();
  }
  auto value = loadInput(options.valuePath, "V", *spec, "seqlen_k",
                         spec->numKvHeads, "num_kv_heads", spec->headDimV,
                         "head_dim_v", vShape, packedKeys);
  if (!value) {
    return value.takeError();
  }
  llvm::Expected<VarlenInputs> varlen =
      readVarlenInputs(*spec, options.specPath, options.cuSeqlensQPath,
                       options.cuSeqlensKPath, qShape[1], kShape[1]);
  if (!varlen) {
    return varlen.takeError();
  }
  // Sequences: batch entries, or the packed sequences.
  int64_t sequences = spec->varlen ? varlen->numSequences : qShape[0];
  bool paged = spec->kvCache.layout == KvCacheLayout::Paged;
  if (paged) {
    // K and V are page pools [num_pages, page_size, ...].
    if (kShape[1] != spec->kvCache.pageSize || vShape[1] != kShape[1] ||
        vShape[0] != kShape[0]) {
      return makeError(llvm::formatv(
          "{0}: K and V must be page pools [num_pages, page_size = {1}, ...] "
          "of the same pages, got {2} and {3} pages of {4} and {5} rows",
          options.specPath, spec->kvCache.pageSize, kShape[0], vShape[0],
          kShape[1], vShape[1]));
    }
  } else {
    // Packed K/V have batch 1 here (loadInput checked it); contiguous
    // caches have one entry per sequence.
    int64_t keyBatch = cached ? sequences : qShape[0];
    if (kShape[0] != keyBatch || vShape[0] != keyBatch) {
      return makeError(llvm::formatv(
          "{0}: batch sizes differ: {1} has {2}, K has {3}, V has {4}",
          options.specPath, spec->varlen ? "cu_seqlens_q" : "Q", keyBatch,
          kShape[0], vShape[0]));
    }
    if (vShape[1] != kShape[1]) {
      return makeError(llvm::formatv("{0}: V has seqlen_k {1} but K has {2}",
                                     options.valuePath, vShape[1], kShape[1]));
    }
  }
  llvm::Expected<NewKeysAndValues> added =
      loadNewKeysAndValues(options, *spec, qShape);
  if (!added) {
    return added.takeError();
  }
  // Appending specs add each sequence's query count to its cache.
  std::vector<int64_t> appended;
  if (spec->kvCache.append) {
    for (int64_t b = 0; b < sequences; ++b) {
      appended.push_back(spec->varlen
                             ? varlen->cuSeqlensQ[b + 1] - varlen->cuSeqlensQ[b]
                             : qShape[1]);
    }
  }
  llvm::Expected<KvCacheInputs> cache =
      readKvCacheInputs(*spec, options.specPath, options.cacheSeqlensPath,
                        options.pageTablePath, sequences, kShape, appended);
  if (!cache) {
    return cache.takeError();
  }

  std::vector<float> slopes;
  if (spec->alibi) {
    if (options.slopesPath.empty()) {
      slopes = defaultAlibiSlopes(spec->numQHeads);
    } else {
      llvm::Expected<NpyArray> array = readNpy(options.slopesPath);
      if (!array) {
        return array.takeError();
      }
      if (array->shape != std::vector<int64_t>{spec->numQHeads}) {
        return makeError(llvm::formatv(
            "{0}: ALiBi slopes have shape {1}, expected ({2},) = "
            "[num_q_heads]",
            options.slopesPath, array->shapeString(), spec->numQHeads));
      }
      if (llvm::Error error =
              requireFloatArray(*array, options.slopesPath, "ALiBi slopes")) {
        return error;
      }
      slopes = array->toFloat();
    }
  }

  if (options.backend == "gpu-sim") {
    return runOnGpuSimulator(
        options, *spec, qShape[0], qShape[1], kShape,
        toFloat(*query, spec->dtype), toFloat(*key, spec->dtype),
        toFloat(*value, spec->dtype), slopes, *cache, *varlen, *added);
  }

  // Varlen: `batch` sequences packed in totals of seqlenQ and seqlenK rows.
  int64_t batch = spec->varlen ? varlen->numSequences : qShape[0];
  int64_t seqlenQ = qShape[1], seqlenK = kShape[1];
  std::vector<int64_t> outShape =
      spec->varlen
          ? std::vector<int64_t>{seqlenQ, spec->numQHeads, spec->headDimV}
          : std::vector<int64_t>{batch, seqlenQ, spec->numQHeads,
                                 spec->headDimV};
  std::vector<uint8_t> output;
  std::vector<float> lse;
  if (options.backend == "cuda") {
    auto attention = CudaAttention::create(*spec, options.specPath, batch,
                                           seqlenQ, seqlenK, *cache, *varlen);
    if (!attention) {
      return attention.takeError();
    }
    // Explicit slopes only; the package carries the standard ones.
    std::vector<float> givenSlopes;
    if (!options.slopesPath.empty()) {
      givenSlopes = slopes;
    }
    if (llvm::Error error =
            (*attention)->upload(*query, *key, *value, givenSlopes)) {
      return error;
    }
    if (spec->kvCache.append) {
      if (llvm::Error error =
              (*attention)
                  ->uploadNewKeysAndValues(added->keys, added->values)) {
        return error;
      }
    }
    if (llvm::Error error = (*attention)->launch()) {
      return error;
    }
    if (llvm::Error error = (*attention)->synchronize()) {
      return error;
    }
    if (llvm::Error error = (*attention)->download(output, lse)) {
      return error;
    }
    if (llvm::Error error =
            writeOutputs(options, *spec, outShape, output, lse)) {
      return error;
    }
    if (!spec->kvCache.append) {
      return llvm::Error::success();
    }
    std::vector<uint8_t> keyCache, valueCache;
    if (llvm::Error error =
            (*attention)->downloadCaches(keyCache, valueCache)) {
      return error;
    }
    return writeUpdatedCaches(options, *spec, kShape, vShape, keyCache,
                              valueCache);
  }

  llvm::Expected<std::unique_ptr<CpuAttention>> attention =
      CpuAttention::create(*spec, options.specPath);
  if (!attention) {
    return attention.takeError();
  }
  int64_t tensorBatch = qShape[0]; // 1 for varlen
  output.resize(tensorBatch * seqlenQ * spec->numQHeads * spec->headDimV *
                elementBytes(spec->dtype));
  if (spec->returnLse) {
    lse.resize(tensorBatch * spec->numQHeads * seqlenQ);
  }
  if (llvm::Error error =
          (*attention)
              ->run(hostArguments(*spec, batch, seqlenQ, seqlenK, query->data(),
                                  key->data(), value->data(), output.data(),
                                  lse.data(),
                                  slopes.empty() ? nullptr : slopes.data(),
                                  *cache, *varlen, *added),
                    options.threads)) {
    return error;
  }
  if (llvm::Error error = writeOutputs(options, *spec, outShape, output, lse)) {
    return error;
  }
  return writeUpdatedCaches(options, *spec, kShape, vShape, *key, *value);
}

} // namespace attngen
