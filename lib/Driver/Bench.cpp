//===- Bench.cpp - `attngen bench` ----------------------------------------===//

#include "attngen/Driver/Bench.h"
#include "attngen/Driver/CpuAttention.h"
#include "attngen/Driver/CudaAttention.h"
#include "attngen/Driver/HostTensors.h"
#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/Run.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace attngen {

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
