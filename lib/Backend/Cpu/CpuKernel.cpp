//===- CpuKernel.cpp - a tiled attention kernel compiled for the host -----===//

#include "attngen/Backend/Cpu/CpuKernel.h"
#include "attngen/Support/SplitCount.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/Threading.h"

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

using namespace mlir;

namespace attngen {

CpuKernel::CpuKernel(std::unique_ptr<ExecutionEngine> engine, EntryPoint entry,
                     MergePoint merge, AppendPoint append,
                     const CpuKernelTraits &traits)
    : engine(std::move(engine)), entry(entry), merge(merge), append(append),
      traits(traits) {}

CpuKernel::~CpuKernel() = default;

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(ModuleOp llvmModule, const std::string &name,
                   const CpuKernelTraits &traits) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  registerBuiltinDialectTranslation(*llvmModule->getContext());
  registerLLVMDialectTranslation(*llvmModule->getContext());

  // Optimize for this machine's CPU and its vector features.
  auto hostBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!hostBuilder)
    return hostBuilder.takeError();
  hostBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto targetMachine = hostBuilder->createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();

  ExecutionEngineOptions options;
  options.transformer = makeOptimizingTransformer(
      /*optLevel=*/3, /*sizeLevel=*/0, targetMachine->get());
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(llvmModule, options,
                                        std::move(*targetMachine));
  if (!engine)
    return engine.takeError();
  auto symbol = (*engine)->lookup("_mlir_ciface_" + name);
  if (!symbol)
    return symbol.takeError();
  auto entry = reinterpret_cast<EntryPoint>(*symbol);
  MergePoint merge = nullptr;
  if (traits.splitKv != 1) {
    auto mergeSymbol = (*engine)->lookup("_mlir_ciface_" + name + "_merge");
    if (!mergeSymbol)
      return mergeSymbol.takeError();
    merge = reinterpret_cast<MergePoint>(*mergeSymbol);
  }
  AppendPoint append = nullptr;
  if (traits.appendsKv) {
    auto appendSymbol = (*engine)->lookup("_mlir_ciface_" + name + "_append");
    if (!appendSymbol)
      return appendSymbol.takeError();
    append = reinterpret_cast<AppendPoint>(*appendSymbol);
  }
  return std::unique_ptr<CpuKernel>(
      new CpuKernel(std::move(*engine), entry, merge, append, traits));
}

/// A dense row-major memref descriptor over `data` (the C interface of the
/// kernel takes pointers to these).
template <int Rank>
static StridedMemRefType<char, Rank> describe(const void *data,
                                              std::array<int64_t, Rank> sizes) {
  StridedMemRefType<char, Rank> descriptor;
  descriptor.basePtr = descriptor.data =
      static_cast<char *>(const_cast<void *>(data));
  descriptor.offset = 0;
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    descriptor.sizes[i] = sizes[i];
    descriptor.strides[i] = stride;
    stride *= sizes[i];
  }
  return descriptor;
}

void CpuKernel::run(const AttentionBuffers &buffers, unsigned numThreads) const {
  int64_t group = buffers.numQHeads / buffers.numKvHeads;
  bool varlen = buffers.cuSeqlensQ != nullptr;
  int64_t tensorBatch = varlen ? 1 : buffers.batch;
  int64_t blockM = traits.blockM, blockN = traits.blockN;
  bool packGqa = traits.packGqa;
  // Rows of the longest sequence: queries, or (query, q head) pairs.
  int64_t rows =
      (varlen ? buffers.maxSeqlenQ : buffers.seqlenQ) * (packGqa ? group : 1);
  int64_t numQTiles = (rows + blockM - 1) / blockM;
  int64_t numItems = buffers.batch *
                     (packGqa ? buffers.numKvHeads : buffers.numQHeads) *
                     numQTiles;
  if (numItems == 0)
    return;
  unsigned threads = numThreads ? numThreads
                                : std::max(1u, std::thread::hardware_concurrency());
  // Split-KV: num_splits items per (Q tile, batch, head), partial results
  // in a workspace, then the merge over every output row.
  int64_t capacity = buffers.pageSize > 0 ? buffers.maxPages * buffers.pageSize
                                          : buffers.seqlenK;
  int64_t numSplits = traits.splitKv == 1
                          ? 0
                          : chooseSplitCount(traits.splitKv, threads, numItems,
                                             (capacity + blockN - 1) / blockN);
  std::vector<float> partialOutputs(numSplits * tensorBatch *
                                    buffers.seqlenQ * buffers.numQHeads *
                                    buffers.headDimV);
  std::vector<float> partialLses(numSplits * tensorBatch *
                                 buffers.numQHeads * buffers.seqlenQ);
  auto partialOutput = describe<5>(
      partialOutputs.data(), {numSplits, tensorBatch, buffers.seqlenQ,
                              buffers.numQHeads, buffers.headDimV});
  auto partialLse =
      describe<4>(partialLses.data(), {numSplits, tensorBatch,
                                       buffers.numQHeads, buffers.seqlenQ});
  if (numSplits)
    numItems *= numSplits;
  auto query = describe<4>(buffers.query, {tensorBatch, buffers.seqlenQ,
                                           buffers.numQHeads, buffers.headDim});
  bool paged = buffers.pageSize > 0;
  // Caches hold one entry per sequence (packed or not), or pages.
  int64_t kvRows[2] = {paged                  ? buffers.numPages
                       : buffers.cacheSeqlens ? buffers.batch
                                              : tensorBatch,
                       paged ? buffers.pageSize : buffers.seqlenK};
  auto key = describe<4>(buffers.key, {kvRows[0], kvRows[1],
                                       buffers.numKvHeads, buffers.headDim});
  auto value = describe<4>(buffers.value, {kvRows[0], kvRows[1],
                                           buffers.numKvHeads, buffers.headDimV});
  auto output = describe<4>(buffers.output, {tensorBatch, buffers.seqlenQ,
                                             buffers.numQHeads, buffers.headDimV});
  auto lse = describe<3>(buffers.lse,
                         {buffers.lse ? tensorBatch : 0, buffers.numQHeads,
                          buffers.lse ? buffers.seqlenQ : 0});
  int64_t offsets = varlen ? buffers.batch + 1 : 0;
  auto cuSeqlensQ = describe<1>(buffers.cuSeqlensQ, {offsets});
  auto cuSeqlensK =
      describe<1>(buffers.cuSeqlensK, {buffers.cuSeqlensK ? offsets : 0});
  auto slopes = describe<1>(buffers.slopes, {buffers.numQHeads});
  auto cacheSeqlens = describe<1>(
      buffers.cacheSeqlens, {buffers.cacheSeqlens ? buffers.batch : 0});
  auto pageTable = describe<2>(
      buffers.pageTable,
      {buffers.pageTable ? buffers.batch : 0, buffers.maxPages});

  // Many small chunks, handed out in order (the kernel numbers the costly
  // causal Q tiles first), balance the threads without a call per item.
  auto forChunks = [&](int64_t items,
                       const std::function<void(int64_t, int64_t)> &body) {
    int64_t numChunks = std::min<int64_t>(items, int64_t(threads) * 16);
    auto runChunk = [&](size_t chunk) {
      body(items * int64_t(chunk) / numChunks,
           items * int64_t(chunk + 1) / numChunks);
    };
    if (threads == 1) {
      for (int64_t chunk = 0; chunk < numChunks; ++chunk)
        runChunk(chunk);
      return;
    }
    llvm::parallelFor(0, numChunks, runChunk);
  };
  if (append) {
    // New rows (b, token, kv head) go into the cache before any item reads it.
    auto keyNew =
        describe<4>(buffers.keyNew, {tensorBatch, buffers.seqlenQ,
                                     buffers.numKvHeads, buffers.headDim});
    auto valueNew =
        describe<4>(buffers.valueNew, {tensorBatch, buffers.seqlenQ,
                                       buffers.numKvHeads, buffers.headDimV});
    forChunks(tensorBatch * buffers.seqlenQ * buffers.numKvHeads,
              [&](int64_t begin, int64_t end) {
                auto kn = keyNew, vn = valueNew, k = key, v = value;
                auto c = cacheSeqlens;
                auto p = pageTable;
                auto cq = cuSeqlensQ;
                append(&kn, &vn, &k, &v, &c, &p, &cq, begin, end);
              });
  }
  forChunks(numItems, [&](int64_t begin, int64_t end) {
    // The kernel only reads the descriptors; each call gets its own copies.
    auto q = query, k = key, v = value, o = output;
    auto l = lse;
    auto s = slopes;
    auto c = cacheSeqlens;
    auto p = pageTable;
    auto po = partialOutput;
    auto pl = partialLse;
    auto cq = cuSeqlensQ, ck = cuSeqlensK;
    entry(&q, &k, &v, &o, &l, &s, &c, &p, &po, &pl, &cq, &ck, begin, end);
  });
  if (!numSplits)
    return;
  forChunks(tensorBatch * buffers.seqlenQ * buffers.numQHeads,
            [&](int64_t begin, int64_t end) {
              auto o = output;
              auto l = lse;
              auto po = partialOutput;
              auto pl = partialLse;
              merge(&o, &l, &po, &pl, begin, end);
            });
}

} // namespace attngen
