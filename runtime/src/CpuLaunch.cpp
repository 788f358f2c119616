//===- CpuLaunch.cpp - running CPU kernel packages on host buffers --------===//

#include "Arguments.h"
#include "Error.h"
#include "Kernel.h"
#include "ThreadPool.h"

#include <algorithm>
#include <vector>

namespace attnrt::detail {

namespace {

/// MLIR's ranked memref descriptor; sizes and strides in elements.
template <int Rank> struct Descriptor {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <int Rank>
Descriptor<Rank> describe(const void *data, const int64_t (&sizes)[Rank],
                          const int64_t *strides) {
  Descriptor<Rank> d;
  d.allocated = d.aligned = const_cast<void *>(data);
  d.offset = 0;
  int64_t dense = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    d.sizes[i] = sizes[i];
    d.strides[i] = strides ? strides[i] : dense;
    dense *= sizes[i];
  }
  return d;
}

Descriptor<4> describe(const TensorArgument &tensor) {
  return describe<4>(tensor.data, tensor.sizes, tensor.strides);
}

} // namespace

attnrt_status runCpu(const attnrt_kernel &kernel,
                     const attnrt_attention_args &args, int numThreads) {
  const Manifest &m = kernel.manifest;
  if (m.target != ATTNRT_TARGET_CPU) {
    return fail(ATTNRT_UNSUPPORTED,
                "kernel '" + m.name + "' is a sm_" +
                    std::to_string(m.smVersion) +
                    " package; run it with attnrt_run_cuda");
  }
  if (numThreads < 0) {
    return fail(ATTNRT_INVALID_ARGUMENT, "num_threads must be >= 0");
  }
  CheckedCall call;
  if (attnrt_status status = checkCall(m, args, elementBytes(m.dtype), call)) {
    return status;
  }
  // (Offsets first: the cache check counts each sequence's appended keys.)
  if (attnrt_status status = checkVarlenContents(m, args, call)) {
    return status;
  }
  if (attnrt_status status = checkCacheContents(m, args, call)) {
    return status;
  }

  const float *slopes =
      args.alibi_slopes ? args.alibi_slopes : m.defaultAlibiSlopes.data();
  // Rows are queries, or (query, q head) pairs of a kv head when packed.
  int64_t rows = call.maxSeqlenQ * (m.packGqa ? m.numQHeads / m.numKvHeads : 1);
  int64_t numQTiles = (rows + m.blockM - 1) / m.blockM;
  int64_t numItems =
      call.batch * (m.packGqa ? m.numKvHeads : m.numQHeads) * numQTiles;
  if (numItems == 0) {
    return succeed();
  }
  auto q = describe(call.q), k = describe(call.k), v = describe(call.v),
       o = describe(call.o);
  int64_t lseSizes[3] = {args.lse ? call.tensorBatch : 0, m.numQHeads,
                         args.lse ? call.seqlenQ : 0};
  auto lse = describe<3>(args.lse, lseSizes, nullptr);
  int64_t slopeSizes[1] = {m.numQHeads};
  auto slopeView = describe<1>(slopes, slopeSizes, nullptr);
  int64_t lengthSizes[1] = {args.cache_seqlens ? call.batch : 0};
  auto lengths = describe<1>(args.cache_seqlens, lengthSizes, nullptr);
  int64_t tableSizes[2] = {args.page_table ? call.batch : 0, call.maxPages};
  auto table = describe<2>(args.page_table, tableSizes, nullptr);
  int64_t offsetSizes[1] = {m.varlen ? call.batch + 1 : 0};
  auto cuQ = describe<1>(args.cu_seqlens_q, offsetSizes, nullptr);
  // (Varlen batches with a KV cache have no key offsets.)
  int64_t keyOffsetSizes[1] = {args.cu_seqlens_k ? offsetSizes[0] : 0};
  auto cuK = describe<1>(args.cu_seqlens_k, keyOffsetSizes, nullptr);

  ThreadPool &pool = ThreadPool::shared();
  unsigned threads =
      numThreads ? static_cast<unsigned>(numThreads) : pool.numWorkers() + 1;

  // Split-KV: num_splits work items per (Q tile, batch, head) write partial
  // results to a workspace; the merge then combines each output row.
  int64_t capacity =
      m.kvCache == ATTNRT_KV_PAGED ? call.cacheCapacity : call.seqlenK;
  int64_t numSplits = m.splitKv == 1
                          ? 0
                          : splitCount(m.splitKv, threads, numItems,
                                       (capacity + m.blockN - 1) / m.blockN);
  std::vector<float> partialOutputs(numSplits * call.tensorBatch *
                                    call.seqlenQ * m.numQHeads * m.headDimV);
  std::vector<float> partialLses(numSplits * call.tensorBatch * m.numQHeads *
                                 call.seqlenQ);
  int64_t partialOutputSizes[5] = {numSplits, call.tensorBatch, call.seqlenQ,
                                   m.numQHeads, m.headDimV};
  int64_t partialLseSizes[4] = {numSplits, call.tensorBatch, m.numQHeads,
                                call.seqlenQ};
  auto partialOutput =
      describe<5>(partialOutputs.data(), partialOutputSizes, nullptr);
  auto partialLse = describe<4>(partialLses.data(), partialLseSizes, nullptr);
  if (numSplits) {
    numItems *= numSplits;
  }

  // Many small chunks, claimed in order: the kernel numbers the costly
  // causal Q tiles first.
  auto forChunks = [&](int64_t items, auto &&body) {
    int64_t numChunks = std::min<int64_t>(items, int64_t(threads) * 16);
    pool.parallelFor(numChunks, threads, [&](int64_t chunk) {
      body(items * chunk / numChunks, items * (chunk + 1) / numChunks);
    });
  };
  if (kernel.append) {
    // The new rows (b, token, kv head) go into the cache before any work
    // item reads it.
    auto kNew = describe(call.kNew), vNew = describe(call.vNew);
    forChunks(call.tensorBatch * call.seqlenQ * m.numKvHeads,
              [&](int64_t begin, int64_t end) {
                auto knc = kNew, vnc = vNew, kc = k, vc = v;
                auto cc = lengths;
                auto pc = table;
                auto cqc = cuQ;
                kernel.append(&knc, &vnc, &kc, &vc, &cc, &pc, &cqc, begin, end);
              });
  }
  forChunks(numItems, [&](int64_t begin, int64_t end) {
    auto qc = q, kc = k, vc = v, oc = o;
    auto lc = lse;
    auto sc = slopeView;
    auto cc = lengths;
    auto pc = table;
    auto poc = partialOutput;
    auto plc = partialLse;
    auto cqc = cuQ, ckc = cuK;
    kernel.entry(&qc, &kc, &vc, &oc, &lc, &sc, &cc, &pc, &poc, &plc, &cqc, &ckc,
                 begin, end);
  });
  if (numSplits) {
    forChunks(call.tensorBatch * call.seqlenQ * m.numQHeads,
              [&](int64_t begin, int64_t end) {
                auto oc = o;
                auto lc = lse;
                auto poc = partialOutput;
                auto plc = partialLse;
                kernel.merge(&oc, &lc, &poc, &plc, begin, end);
              });
  }
  return succeed();
}

} // namespace attnrt::detail
