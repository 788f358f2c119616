//===- HostTensors.cpp - a call's tensors on the host ---------------------===//

#include "attngen/Driver/HostTensors.h"
#include "attngen/Support/Float16.h"

#include <cstring>

namespace attngen {

size_t elementBytes(ElementType type) {
  return type == ElementType::F32 ? 4 : 2;
}

std::vector<uint8_t> fromFloat(const std::vector<float> &values,
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

std::vector<float> toFloat(const std::vector<uint8_t> &bytes,
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

attnrt_attention_args
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

} // namespace attngen
