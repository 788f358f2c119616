//===- CpuKernel.cpp - a tiled attention kernel compiled for the host -----===//

#include "attngen/Backend/Cpu/CpuKernel.h"

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
#include <thread>

using namespace mlir;

namespace attngen {

CpuKernel::CpuKernel(std::unique_ptr<ExecutionEngine> engine,
                     EntryPoint entry, int64_t blockM)
    : engine(std::move(engine)), entry(entry), blockM(blockM) {}

CpuKernel::~CpuKernel() = default;

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(ModuleOp llvmModule, const std::string &name,
                   int64_t blockM) {
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
  return std::unique_ptr<CpuKernel>(
      new CpuKernel(std::move(*engine), entry, blockM));
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
  int64_t numQTiles = (buffers.seqlenQ + blockM - 1) / blockM;
  int64_t numItems = buffers.batch * buffers.numQHeads * numQTiles;
  if (numItems == 0)
    return;
  auto query = describe<4>(buffers.query, {buffers.batch, buffers.seqlenQ,
                                           buffers.numQHeads, buffers.headDim});
  bool paged = buffers.pageSize > 0;
  int64_t kvRows[2] = {paged ? buffers.numPages : buffers.batch,
                       paged ? buffers.pageSize : buffers.seqlenK};
  auto key = describe<4>(buffers.key, {kvRows[0], kvRows[1],
                                       buffers.numKvHeads, buffers.headDim});
  auto value = describe<4>(buffers.value, {kvRows[0], kvRows[1],
                                           buffers.numKvHeads, buffers.headDimV});
  auto output = describe<4>(buffers.output, {buffers.batch, buffers.seqlenQ,
                                             buffers.numQHeads, buffers.headDimV});
  auto lse = describe<3>(buffers.lse,
                         {buffers.lse ? buffers.batch : 0, buffers.numQHeads,
                          buffers.lse ? buffers.seqlenQ : 0});
  auto slopes = describe<1>(buffers.slopes, {buffers.numQHeads});
  auto cacheSeqlens = describe<1>(
      buffers.cacheSeqlens, {buffers.cacheSeqlens ? buffers.batch : 0});
  auto pageTable = describe<2>(
      buffers.pageTable,
      {buffers.pageTable ? buffers.batch : 0, buffers.maxPages});

  // Many small chunks, handed out in order (the kernel numbers the costly
  // causal Q tiles first), balance the threads without a call per item.
  unsigned threads = numThreads ? numThreads
                                : std::max(1u, std::thread::hardware_concurrency());
  int64_t numChunks = std::min<int64_t>(numItems, int64_t(threads) * 16);
  auto runChunk = [&](size_t chunk) {
    int64_t begin = numItems * int64_t(chunk) / numChunks;
    int64_t end = numItems * int64_t(chunk + 1) / numChunks;
    // The kernel only reads the descriptors; each call gets its own copies.
    auto q = query, k = key, v = value, o = output;
    auto l = lse;
    auto s = slopes;
    auto c = cacheSeqlens;
    auto p = pageTable;
    entry(&q, &k, &v, &o, &l, &s, &c, &p, begin, end);
  };
  if (threads == 1) {
    for (int64_t chunk = 0; chunk < numChunks; ++chunk)
      runChunk(chunk);
    return;
  }
  llvm::parallelFor(0, numChunks, runChunk);
}

} // namespace attngen
