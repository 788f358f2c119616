//===- GpuSimRun.cpp - `attngen run --backend gpu-sim` --------------------===//
//
// The spec's GPU kernel (the gpu.module before NVVM) run by the emulator on
// the CPU, on the call's inputs, with its outputs written as `attngen run`
// writes them.
//
//===----------------------------------------------------------------------===//

#include "attngen/Driver/GpuSimRun.h"
#include "attngen/Backend/GpuSim/GpuSimulator.h"
#include "attngen/Driver/SpecCompiler.h"
#include "attngen/Support/Error.h"
#include "attngen/Support/Npy.h"
#include "attngen/Support/SplitCount.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

namespace attngen {

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
llvm::Error runOnGpuSimulator(
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

} // namespace attngen
