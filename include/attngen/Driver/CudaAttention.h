//===- CudaAttention.h - a spec run on this machine's GPU -------*- C++ -*-===//
//
// `attngen run/bench --backend cuda`: the spec is compiled to a GPU package
// for the device's architecture and launched through libattnrt, exactly as
// an engine embedding the runtime would run it.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_CUDAATTENTION_H
#define ATTNGEN_DRIVER_CUDAATTENTION_H

#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Driver/VarlenInputs.h"
#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct attnrt_kernel;
struct attnrt_attention_args;

namespace attngen {

/// One attention problem on the GPU: the loaded kernel and device copies of
/// its tensors (BSHD, the spec's dtype).
class CudaAttention {
public:
  /// Compiles `spec` for the current device (sm_90 on compute capability
  /// 9.0 and newer, else sm_80), allocates the call's buffers and uploads
  /// the KV cache's lengths and page table. K and V are [batch, seqlenK,
  /// ...], or page pools [cache.numPages, page_size, ...] for paged specs.
  /// Varlen specs: `batch` sequences packed in seqlenQ / seqlenK rows.
  static llvm::Expected<std::unique_ptr<CudaAttention>>
  create(const AttentionSpec &spec, const std::string &specPath, int64_t batch,
         int64_t seqlenQ, int64_t seqlenK, const KvCacheInputs &cache,
         const VarlenInputs &varlen = VarlenInputs());
  ~CudaAttention();

  /// Copies q/k/v (the spec's dtype, dense BSHD) and, for ALiBi specs,
  /// the slopes (empty: the package's defaults) to the device.
  llvm::Error upload(const std::vector<uint8_t> &query,
                     const std::vector<uint8_t> &key,
                     const std::vector<uint8_t> &value,
                     const std::vector<float> &slopes);
  /// Appending specs: copies the call's new keys and values ([batch,
  /// seqlenQ, num_kv_heads, head_dim(_v)], the spec's dtype).
  llvm::Error uploadNewKeysAndValues(const std::vector<uint8_t> &keys,
                                     const std::vector<uint8_t> &values);
  /// Queues one launch on the default stream.
  llvm::Error launch();
  /// Waits for every launch; reports a kernel that failed.
  llvm::Error synchronize();
  /// Copies O (the spec's dtype) and, if the spec returns it, LSE back.
  llvm::Error download(std::vector<uint8_t> &output, std::vector<float> &lse);

  /// Copies the K and V caches back (appending specs wrote them).
  llvm::Error downloadCaches(std::vector<uint8_t> &keys,
                             std::vector<uint8_t> &values);

  /// "NVIDIA H100 80GB HBM3 (sm_90)".
  const std::string &deviceDescription() const { return device; }

private:
  CudaAttention() = default;
  struct Buffer {
    void *pointer = nullptr;
    size_t bytes = 0;
  };
  llvm::Error allocate(Buffer &buffer, size_t bytes);

  attnrt_kernel *kernel = nullptr;
  std::string device;
  int64_t batch = 0, seqlenQ = 0, seqlenK = 0, numPages = 0, maxPages = 0;
  int64_t maxSeqlenQ = 0;
  bool varlen = false;
  Buffer query, key, value, output, lse, slopes, cacheSeqlens, pageTable,
      workspace, cuSeqlensQ, cuSeqlensK, keyNew, valueNew;
  /// The call's arguments (libattnrt's attnrt_attention_args).
  void fillArgs(attnrt_attention_args &args) const;
  /// The caller gave ALiBi slopes (else the package's defaults are used).
  bool hasSlopes = false;
};

} // namespace attngen

#endif // ATTNGEN_DRIVER_CUDAATTENTION_H
