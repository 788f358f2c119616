//===- Run.cpp - `attngen run` and `attngen bench` ------------------------===//

#include "attngen/Driver/Run.h"
#include "attngen/Backend/GpuSim/GpuSimulator.h"
#include "attngen/Driver/CpuAttention.h"
#include "attngen/Driver/CudaAttention.h"
#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/SpecCompiler.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/Float16.h"
#include "attngen/Support/Npy.h"
#include "attngen/Support/SplitCount.h"
#include "attnrt/attnrt.h"
#include "llvm/Support/Format.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

namespace attngen {

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::Error checkBackend(const std::string &command,
                                const std::string &backend) {
  if (backend == "cpu" || backend == "cuda" ||
      (backend == "gpu-sim" && command == "run")) {
    return llvm::Error::success();
  }
  return makeError("attngen " + command + ": unknown --backend '" + backend +
                   "', expected cpu, cuda" +
                   (command == "run" ? std::string(" or gpu-sim") : ""));
}

static size_t elementBytes(ElementType type) {
  return type == ElementType::F32 ? 4 : 2;
}

/// Converts f32 values to the kernel's element type (round to nearest even).
static std::vector<uint8_t> fromFloat(const std::vector<float> &values,
                                      ElementType type) {
  std::vector<uint8_t> bytes(values.size() * elementBytes(type));
  if (type == ElementType::F32) {
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits = type == ElementType::F16 ? floatToHalf(values[i])
                                             : floatToBFloat16(values[i]);
    std::memcpy(bytes.data() + 2 * i, &bits, 2);
  }
  return bytes;
}

static std::vector<float> toFloat(const std::vector<uint8_t> &bytes,
                                  ElementType type) {
  size_t count = bytes.size() / elementBytes(type);
  std::vector<float> values(count);
  if (type == ElementType::F32) {
    std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }
  for (size_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, bytes.data() + 2 * i, 2);
    values[i] =
        type == ElementType::F16 ? halfToFloat(bits) : bfloat16ToFloat(bits);
  }
  return values;
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

/// An appending call's new keys and values (empty for other specs).
struct NewKeysAndValues {
  std::vector<uint8_t> keys, values;
};

/// One line per kind of shared access: wavefronts per phase (ldmatrix,
/// loads, stores) and lines per cp.async request, with their counts.
static void printSharedMemoryTraffic(llvm::raw_ostream &os,
                                     const SharedMemoryTraffic &traffic) {
  auto ratio = [](int64_t total, int64_t count) {
    return llvm::format("%.2f", count ? double(total) / double(count) : 0.0);
  };
  for (auto [name, counter] : {std::pair{"ldmatrix", traffic.ldmatrix},
                               std::pair{"shared loads", traffic.loads},
                               std::pair{"shared stores", traffic.stores}}) {
    os << "gpu-sim shared memory: " << name << ": "
       << ratio(counter.wavefronts, counter.phases) << " wavefronts per phase ("
       << counter.phases << " phases)\n";
  }
  os << "gpu-sim shared memory: cp.async: "
     << ratio(traffic.asyncCopyLines, traffic.asyncCopyRequests)
     << " lines per 128-byte request (" << traffic.asyncCopyRequests
     << " requests)\n";
  os << "gpu-sim global memory: cp.async: "
     << ratio(traffic.asyncCopyGlobalSectors, traffic.asyncCopyGlobalLines)
     << " sectors per 128-byte line (" << traffic.asyncCopyGlobalLines
     << " lines)\n";
}

/// The GPU kernel, executed by the emulator on the CPU (inputs already
/// rounded to the spec's dtype).
static llvm::Error runOnGpuSimulator(
    const RunOptions &options, const AttentionSpec &spec, int64_t batch,
    int64_t seqlenQ, const std::vector<int64_t> &keyShape,
    std::vector<float> query, std::vector<float> key, std::vector<float> value,
    const std::vector<float> &slopes, const KvCacheInputs &cache,
    const VarlenInputs &varlen, const NewKeysAndValues &added) {
  Target target = spec.target == Target::CPU ? Target::SM80 : spec.target;
  llvm::Expected<LoweredSpec> lowered =
      lowerSpec(spec, options.specPath, target, Stage::GpuPreNvvm);
  if (!lowered) {
    return lowered.takeError();
  }
  // The attention kernel (and, for split-KV specs, its merge kernel; for
  // appending specs, the append kernel that runs first).
  mlir::gpu::GPUFuncOp kernel, mergeKernel, appendKernel;
  lowered->module->walk([&](mlir::gpu::GPUFuncOp func) {
    if (func->hasAttr("attn.tile_sizes")) {
      kernel = func;
    }
  });
  auto kernelNamedBy = [&](const char *attribute) {
    mlir::gpu::GPUFuncOp named;
    if (auto name = kernel->getAttrOfType<mlir::StringAttr>(attribute)) {
      lowered->module->walk([&](mlir::gpu::GPUFuncOp func) {
        if (func.getName() == name.getValue()) {
          named = func;
        }
      });
    }
    return named;
  };
  mergeKernel = kernelNamedBy("attn.merge_kernel");
  appendKernel = kernelNamedBy("attn.append_kernel");
  auto tiles =
      kernel->getAttrOfType<mlir::DenseI64ArrayAttr>("attn.tile_sizes");
  mlir::Type element =
      mlir::cast<mlir::MemRefType>(kernel.getArgumentTypes()[0])
          .getElementType();
  mlir::Type f32 = mlir::Float32Type::get(element.getContext());
  auto buffer = [&](mlir::Type type, std::vector<int64_t> shape,
                    const std::vector<float> &data) {
    SimBuffer b{type, shape, std::vector<double>(data.begin(), data.end())};
    if (b.data.empty()) {
      int64_t n = 1;
      for (int64_t d : shape) {
        n *= d;
      }
      b.data.assign(n, NAN);
    }
    return b;
  };
  SimBuffer q =
      buffer(element, {batch, seqlenQ, spec.numQHeads, spec.headDim}, query);
  SimBuffer k = buffer(
      element, {keyShape[0], keyShape[1], spec.numKvHeads, spec.headDim}, key);
  SimBuffer v =
      buffer(element,
             {keyShape[0], keyShape[1], spec.numKvHeads, spec.headDimV}, value);
  SimBuffer o =
      buffer(element, {batch, seqlenQ, spec.numQHeads, spec.headDimV}, {});
  SimBuffer lse = buffer(f32, {batch, spec.numQHeads, seqlenQ}, {});
  SimBuffer slopeBuffer = buffer(
      f32, {spec.numQHeads},
      slopes.empty() ? std::vector<float>(spec.numQHeads, 0.0f) : slopes);
  mlir::Type i32 = mlir::IntegerType::get(element.getContext(), 32);
  SimBuffer lengths =
      buffer(i32, {static_cast<int64_t>(cache.seqlens.size())},
             std::vector<float>(cache.seqlens.begin(), cache.seqlens.end()));
  SimBuffer table = buffer(
      i32,
      {cache.pageTable.empty() ? 0 : static_cast<int64_t>(cache.seqlens.size()),
       cache.maxPages},
      std::vector<float>(cache.pageTable.begin(), cache.pageTable.end()));
  SimBuffer cuSeqlensQ = buffer(
      i32, {static_cast<int64_t>(varlen.cuSeqlensQ.size())},
      std::vector<float>(varlen.cuSeqlensQ.begin(), varlen.cuSeqlensQ.end()));
  SimBuffer cuSeqlensK = buffer(
      i32, {static_cast<int64_t>(varlen.cuSeqlensK.size())},
      std::vector<float>(varlen.cuSeqlensK.begin(), varlen.cuSeqlensK.end()));
  // GQA-packed kernels tile (query, head) rows per kv head; varlen grids
  // cover the longest sequence, one z per sequence.
  bool packGqa = kernel->hasAttr("attn.pack_gqa");
  int64_t group = spec.numQHeads / spec.numKvHeads;
  int64_t rows =
      (spec.varlen ? varlen.maxSeqlenQ : seqlenQ) * (packGqa ? group : 1);
  int64_t sequences = spec.varlen ? varlen.numSequences : batch;
  int64_t numRowTiles = (rows + tiles[0] - 1) / tiles[0];
  int64_t gridY = packGqa ? spec.numKvHeads : spec.numQHeads;
  // Split-KV: "auto" as libattnrt would choose it on a 132-multiprocessor
  // card (an H100), so that the emulator sees several chunks.
  int64_t capacity = keyShape[1];
  if (spec.kvCache.layout == KvCacheLayout::Paged) {
    capacity = cache.maxPages * spec.kvCache.pageSize;
  }
  int64_t numSplits =
      mergeKernel
          ? chooseSplitCount(spec.splitKv, 132, numRowTiles * gridY * sequences,
                             (capacity + tiles[1] - 1) / tiles[1])
          : 0;
  SimBuffer partialOutput = buffer(
      f32, {numSplits, batch, seqlenQ, spec.numQHeads, spec.headDimV}, {});
  SimBuffer partialLse =
      buffer(f32, {numSplits, batch, spec.numQHeads, seqlenQ}, {});
  if (appendKernel) {
    // One warp per new (token, kv head) row, 4 per 128-thread CTA (the
    // package's append grid rule).
    SimBuffer keyNew =
        buffer(element, {batch, seqlenQ, spec.numKvHeads, spec.headDim},
               toFloat(added.keys, spec.dtype));
    SimBuffer valueNew =
        buffer(element, {batch, seqlenQ, spec.numKvHeads, spec.headDimV},
               toFloat(added.values, spec.dtype));
    int64_t rows = batch * seqlenQ * spec.numKvHeads;
    if (llvm::Error error = simulateKernel(
            appendKernel,
            {&keyNew, &valueNew, &k, &v, &lengths, &table, &cuSeqlensQ},
            {(rows + 3) / 4, 1, 1}, 128)) {
      return error;
    }
  }
  SharedMemoryTraffic traffic;
  if (llvm::Error error = simulateKernel(
          kernel,
          {&q, &k, &v, &o, &lse, &slopeBuffer, &lengths, &table, &partialOutput,
           &partialLse, &cuSeqlensQ, &cuSeqlensK},
          {numRowTiles * std::max<int64_t>(numSplits, 1), gridY, sequences},
          tiles[2] * 32, options.sharedMemoryTraffic ? &traffic : nullptr)) {
    return error;
  }
  if (options.sharedMemoryTraffic) {
    printSharedMemoryTraffic(llvm::outs(), traffic);
  }
  // With one chunk the attention kernel wrote O and the LSE itself.
  if (mergeKernel && numSplits > 1) {
    int64_t rows = batch * seqlenQ * spec.numQHeads;
    if (llvm::Error error =
            simulateKernel(mergeKernel, {&o, &lse, &partialOutput, &partialLse},
                           {(rows + 3) / 4, 1, 1}, 128)) {
      return error;
    }
  }
  // Varlen outputs are packed like the inputs: [total_q, heads, dim_v] and
  // [heads, total_q].
  std::vector<int64_t> outShape =
      spec.varlen
          ? std::vector<int64_t>{seqlenQ, spec.numQHeads, spec.headDimV}
          : std::vector<int64_t>{batch, seqlenQ, spec.numQHeads, spec.headDimV};
  std::vector<int64_t> lseShape =
      spec.varlen ? std::vector<int64_t>{spec.numQHeads, seqlenQ}
                  : std::vector<int64_t>{batch, spec.numQHeads, seqlenQ};
  if (llvm::Error error =
          writeNpyF32(options.outputPath, outShape,
                      std::vector<float>(o.data.begin(), o.data.end()))) {
    return error;
  }
  if (!options.lsePath.empty()) {
    if (llvm::Error error =
            writeNpyF32(options.lsePath, lseShape,
                        std::vector<float>(lse.data.begin(), lse.data.end()))) {
      return error;
    }
  }
  for (auto [path, cache] : {std::make_pair(&options.keyCacheOutPath, &k),
                             std::make_pair(&options.valueCacheOutPath, &v)}) {
    if (!path->empty()) {
      if (llvm::Error error = writeNpyF32(
              *path, cache->shape,
              std::vector<float>(cache->data.begin(), cache->data.end()))) {
        return error;
      }
    }
  }
  return llvm::Error::success();
}

/// libattnrt's arguments for one call on dense host buffers: Q/K/V/O of
/// the spec's dtype ([batch or 1 when packed, rows, heads, dim]; K/V the
/// cache layout for KV cache specs), and the call's cache, varlen and
/// append inputs. `batch` counts sequences.
static attnrt_attention_args
hostArguments(const AttentionSpec &spec, int64_t batch, int64_t seqlenQ,
              int64_t seqlenK, const void *query, const void *key,
              const void *value, void *output, float *lse, const float *slopes,
              const KvCacheInputs &cache, const VarlenInputs &varlen,
              const NewKeysAndValues &added) {
  attnrt_attention_args args;
  std::memset(&args, 0, sizeof(args));
  args.q = query;
  args.k = key;
  args.v = value;
  args.o = output;
  args.lse = spec.returnLse ? lse : nullptr;
  args.alibi_slopes = spec.alibi ? slopes : nullptr;
  args.batch = batch;
  args.seqlen_q = seqlenQ;
  args.seqlen_k = seqlenK;
  if (spec.kvCache.layout != KvCacheLayout::None) {
    args.cache_seqlens = cache.seqlens.data();
  }
  if (spec.kvCache.layout == KvCacheLayout::Paged) {
    args.page_table = cache.pageTable.data();
    args.num_pages = cache.numPages;
    args.max_pages_per_seq = cache.maxPages;
  }
  if (spec.varlen) {
    args.cu_seqlens_q = varlen.cuSeqlensQ.data();
    args.cu_seqlens_k =
        varlen.cuSeqlensK.empty() ? nullptr : varlen.cuSeqlensK.data();
    args.max_seqlen_q = varlen.maxSeqlenQ;
  }
  if (spec.kvCache.append) {
    args.k_new = added.keys.data();
    args.v_new = added.values.data();
  }
  return args;
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

llvm::Error benchSpec(const BenchOptions &options, llvm::raw_ostream &out) {
  if (llvm::Error error = checkBackend("bench", options.backend)) {
    return error;
  }
  if (options.batch < 1 || options.seqlenQ < 1 || options.seqlenK < 1) {
    return makeError("attngen bench: --batch, --seqlen-q and --seqlen-k must "
                     "be >= 1");
  }
  if (options.repetitions < 1 || options.warmup < 0) {
    return makeError("attngen bench: --reps must be >= 1 and --warmup >= 0");
  }
  llvm::Expected<AttentionSpec> spec = parseSpecFile(options.specPath);
  if (!spec) {
    return spec.takeError();
  }
  // Varlen specs: `batch` sequences of equal lengths, packed (keys too,
  // unless they are in a KV cache).
  bool packedKeys = spec->varlen && spec->kvCache.layout == KvCacheLayout::None;
  VarlenInputs varlen;
  if (spec->varlen) {
    varlen.numSequences = options.batch;
    varlen.maxSeqlenQ = options.seqlenQ;
    for (int64_t b = 0; b <= options.batch; ++b) {
      varlen.cuSeqlensQ.push_back(static_cast<int32_t>(b * options.seqlenQ));
      if (packedKeys) {
        varlen.cuSeqlensK.push_back(static_cast<int32_t>(b * options.seqlenK));
      }
    }
  }
  // Tensor shapes: per sequence, or one packed batch entry.
  int64_t tensorBatch = spec->varlen ? 1 : options.batch;
  int64_t rowsQ =
      spec->varlen ? options.batch * options.seqlenQ : options.seqlenQ;
  int64_t rowsK =
      packedKeys ? options.batch * options.seqlenK : options.seqlenK;
  // Uniform(-1, 1) inputs from a fixed seed.
  std::mt19937 generator(1234);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto randomTensor = [&](int64_t count) {
    std::vector<float> values(count);
    for (float &v : values) {
      v = uniform(generator);
    }
    return fromFloat(values, spec->dtype);
  };
  std::vector<uint8_t> query = randomTensor(options.batch * options.seqlenQ *
                                            spec->numQHeads * spec->headDim);
  // KV cache specs: full caches of seqlen_k keys per sequence. Appending
  // specs hold seqlen_k - seqlen_q of them and append seqlen_q per call
  // (each repetition rewrites the same rows), so every call attends to
  // seqlen_k keys.
  KvCacheInputs cache = fullKvCache(*spec, options.batch, options.seqlenK);
  NewKeysAndValues added;
  if (spec->kvCache.append) {
    if (options.seqlenQ > options.seqlenK) {
      return makeError("attngen bench: appending specs need --seqlen-q <= "
                       "--seqlen-k (the new keys are part of seqlen_k)");
    }
    for (int32_t &length : cache.seqlens) {
      length = static_cast<int32_t>(options.seqlenK - options.seqlenQ);
    }
    added.keys = randomTensor(options.batch * options.seqlenQ *
                              spec->numKvHeads * spec->headDim);
    added.values = randomTensor(options.batch * options.seqlenQ *
                                spec->numKvHeads * spec->headDimV);
  }
  bool paged = spec->kvCache.layout == KvCacheLayout::Paged;
  std::vector<int64_t> keyShape = {paged ? cache.numPages : options.batch,
                                   paged ? spec->kvCache.pageSize
                                         : options.seqlenK};
  std::vector<uint8_t> key = randomTensor(keyShape[0] * keyShape[1] *
                                          spec->numKvHeads * spec->headDim);
  std::vector<uint8_t> value = randomTensor(keyShape[0] * keyShape[1] *
                                            spec->numKvHeads * spec->headDimV);

  using Clock = std::chrono::steady_clock;
  auto millisecondsSince = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start)
        .count();
  };
  std::vector<double> times;
  std::string device = "host CPU";
  if (options.backend == "cuda") {
    auto attention = CudaAttention::create(
        *spec, options.specPath, options.batch, rowsQ, rowsK, cache, varlen);
    if (!attention) {
      return attention.takeError();
    }
    CudaAttention &gpu = **attention;
    device = gpu.deviceDescription();
    if (llvm::Error error = gpu.upload(query, key, value, {})) {
      return error;
    }
    if (spec->kvCache.append) {
      if (llvm::Error error =
              gpu.uploadNewKeysAndValues(added.keys, added.values)) {
        return error;
      }
    }
    // Back-to-back launches between two synchronizations, so that launch
    // latency overlaps with the kernels: `calls` launches take >= 2 ms.
    auto timeLaunches = [&](int64_t calls) -> llvm::Expected<double> {
      auto start = Clock::now();
      for (int64_t i = 0; i < calls; ++i) {
        if (llvm::Error error = gpu.launch()) {
          return std::move(error);
        }
      }
      if (llvm::Error error = gpu.synchronize()) {
        return std::move(error);
      }
      return millisecondsSince(start) / calls;
    };
    llvm::Expected<double> single = timeLaunches(1);
    if (!single) {
      return single.takeError();
    }
    int64_t calls =
        std::clamp<int64_t>(static_cast<int64_t>(2.0 / *single) + 1, 1, 1000);
    for (int64_t i = 0; i < options.warmup; ++i) {
      if (llvm::Expected<double> warm = timeLaunches(calls); !warm) {
        return warm.takeError();
      }
    }
    for (int64_t i = 0; i < options.repetitions; ++i) {
      llvm::Expected<double> time = timeLaunches(calls);
      if (!time) {
        return time.takeError();
      }
      times.push_back(*time);
    }
  } else {
    llvm::Expected<std::unique_ptr<CpuAttention>> attention =
        CpuAttention::create(*spec, options.specPath);
    if (!attention) {
      return attention.takeError();
    }
    std::vector<uint8_t> output(tensorBatch * rowsQ * spec->numQHeads *
                                spec->headDimV * elementBytes(spec->dtype));
    std::vector<float> lse(
        spec->returnLse ? tensorBatch * spec->numQHeads * rowsQ : 0);
    // (ALiBi: the package's standard slopes.)
    attnrt_attention_args args = hostArguments(
        *spec, options.batch, rowsQ, rowsK, query.data(), key.data(),
        value.data(), output.data(), lse.data(), nullptr, cache, varlen, added);
    llvm::Error failure = llvm::Error::success();
    auto timeOnce = [&] {
      auto start = Clock::now();
      if (llvm::Error error = (*attention)->run(args, options.threads)) {
        failure = std::move(error);
      }
      return millisecondsSince(start);
    };
    if (llvm::Error error = (*attention)->run(args, options.threads)) {
      return error;
    }
    for (int64_t i = 0; i < options.warmup; ++i) {
      timeOnce();
    }
    for (int64_t i = 0; i < options.repetitions; ++i) {
      times.push_back(timeOnce());
      // Long runs report progress on stderr (stdout stays machine-readable).
      if (times.back() > 500.0) {
        llvm::errs() << llvm::formatv("bench: repetition {0}/{1}: {2:F1} ms\n",
                                      i + 1, options.repetitions, times.back());
      }
    }
    if (failure) {
      return failure;
    }
  }
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  double median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  double pairs = static_cast<double>(
      countVisiblePairs(*spec, options.seqlenQ, options.seqlenK));
  double flops = 2.0 * options.batch * spec->numQHeads * pairs *
                 (spec->headDim + spec->headDimV);
  double gflops = median > 0 ? flops / (median * 1e-3) / 1e9 : 0.0;

  if (options.json) {
    out << llvm::formatv(
        "{{\"spec\": \"{0}\", \"backend\": \"{1}\", \"batch\": {2}, "
        "\"seqlen_q\": {3}, \"seqlen_k\": {4}, \"num_q_heads\": {5}, "
        "\"num_kv_heads\": {6}, \"head_dim\": {7}, \"head_dim_v\": {8}, "
        "\"dtype\": \"{9}\", \"repetitions\": {10}, \"median_ms\": {11:F4}, "
        "\"min_ms\": {12:F4}, \"flops\": {13:E6}, \"gflops\": {14:F3}, "
        "\"device\": \"{15}\"}\n",
        spec->name, options.backend, options.batch, options.seqlenQ,
        options.seqlenK, spec->numQHeads, spec->numKvHeads, spec->headDim,
        spec->headDimV, toString(spec->dtype), options.repetitions, median,
        times.front(), flops, gflops, device);
  } else {
    out << llvm::formatv("{0}: batch {1}, seqlen_q {2}, seqlen_k {3}: median "
                         "{4:F3} ms over {5} runs, {6:F2} GFLOP/s on {7}\n",
                         spec->name, options.batch, options.seqlenQ,
                         options.seqlenK, median, options.repetitions, gflops,
                         device);
  }
  return llvm::Error::success();
}

} // namespace attngen
