//===- Arguments.cpp - checking one attention call's arguments ------------===//

#include "Arguments.h"
#include "Error.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>

namespace attnrt::detail {

namespace {

std::string tuple(const int64_t (&values)[4]) {
  return "(" + std::to_string(values[0]) + ", " + std::to_string(values[1]) +
         ", " + std::to_string(values[2]) + ", " + std::to_string(values[3]) +
         ")";
}

/// Checks one tensor's pointer, alignment and strides; fills the strides to
/// use (dense when all given strides are zero). A tensor without elements
/// (batch, seqlen_q or seqlen_k 0) may be NULL: nothing reads or writes it.
attnrt_status checkTensor(const char *name, const void *data,
                          const int64_t (&given)[4], size_t elementBytes,
                          size_t alignmentBytes, TensorArgument &tensor) {
  tensor.data = data;
  bool empty = std::any_of(tensor.sizes, tensor.sizes + 4,
                           [](int64_t size) { return size == 0; });
  if (!data && !empty) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + " is NULL");
  }
  if (reinterpret_cast<uintptr_t>(data) % alignmentBytes != 0) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + " is not aligned to " +
                    std::to_string(alignmentBytes) + " bytes");
  }
  int64_t dense[4];
  dense[3] = 1;
  for (int i = 2; i >= 0; --i) {
    dense[i] = dense[i + 1] * tensor.sizes[i + 1];
  }
  bool allZero =
      std::all_of(given, given + 4, [](int64_t s) { return s == 0; });
  for (int i = 0; i < 4; ++i) {
    tensor.strides[i] = allZero ? dense[i] : given[i];
  }
  const int64_t (&strides)[4] = tensor.strides;
  if (strides[1] != dense[1] || strides[2] != dense[2] || strides[3] != 1 ||
      strides[0] < dense[0]) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + "_strides: " + tuple(strides) +
                    " unsupported; only the batch stride may differ from "
                    "dense BSHD " +
                    tuple(dense) + ", and not be smaller");
  }
  if (static_cast<size_t>(strides[0]) * elementBytes % alignmentBytes != 0) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("args.") + name + "_strides: batch stride " +
                    std::to_string(strides[0]) + " is not a multiple of " +
                    std::to_string(alignmentBytes / elementBytes) +
                    " elements (" + std::to_string(alignmentBytes) +
                    "-byte alignment of every batch)");
  }
  return ATTNRT_OK;
}

} // namespace

size_t elementBytes(attnrt_dtype dtype) { return dtype == ATTNRT_F32 ? 4 : 2; }

int64_t splitCount(int64_t splitKv, int64_t workers, int64_t workItems,
                   int64_t kvTiles) {
  if (splitKv != 0) {
    return splitKv;
  }
  int64_t wanted =
      (2 * workers + workItems - 1) / std::max<int64_t>(workItems, 1);
  return std::clamp<int64_t>(wanted, 1, std::clamp<int64_t>(kvTiles, 1, 64));
}

int64_t cudaSplitCount(int64_t splitKv, int64_t targetCtas,
                       int64_t ctasPerChunk, int64_t kvTiles) {
  if (splitKv != 0) {
    return splitKv;
  }
  int64_t ctas = std::max<int64_t>(ctasPerChunk, 1);
  int64_t nearest = (targetCtas + ctas / 2) / ctas;
  return std::clamp<int64_t>(nearest, 1, std::clamp<int64_t>(kvTiles, 1, 64));
}

attnrt_status checkVarlenContents(const Manifest &m,
                                  const attnrt_attention_args &args,
                                  CheckedCall &call) {
  if (!m.varlen) {
    return ATTNRT_OK;
  }
  call.maxSeqlenQ = 0;
  for (auto [name, offsets, total] :
       {std::make_tuple("cu_seqlens_q", args.cu_seqlens_q, call.seqlenQ),
        std::make_tuple("cu_seqlens_k", args.cu_seqlens_k, call.seqlenK)}) {
    if (!offsets) { // KV cache kernels: keys come from the cache.
      continue;
    }
    if (offsets[0] != 0 || offsets[call.batch] != total) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  std::string("args.") + name + " must start at 0 and end at " +
                      std::to_string(total) + " (the packed rows), got " +
                      std::to_string(offsets[0]) + " and " +
                      std::to_string(offsets[call.batch]));
    }
    for (int64_t b = 0; b < call.batch; ++b) {
      if (offsets[b + 1] < offsets[b]) {
        return fail(ATTNRT_INVALID_ARGUMENT,
                    std::string("args.") + name + "[" + std::to_string(b + 1) +
                        "] = " + std::to_string(offsets[b + 1]) +
                        " is below the entry before it");
      }
      if (offsets == args.cu_seqlens_q) {
        call.maxSeqlenQ =
            std::max<int64_t>(call.maxSeqlenQ, offsets[b + 1] - offsets[b]);
      }
    }
  }
  return ATTNRT_OK;
}

attnrt_status checkCacheContents(const Manifest &m,
                                 const attnrt_attention_args &args,
                                 const CheckedCall &call) {
  if (m.kvCache == ATTNRT_KV_NONE) {
    return ATTNRT_OK;
  }
  for (int64_t b = 0; b < call.batch; ++b) {
    // Appending kernels write the sequence's queries' count more rows.
    int64_t appended = !m.appendsKv ? 0
                       : m.varlen
                           ? args.cu_seqlens_q[b + 1] - args.cu_seqlens_q[b]
                           : call.seqlenQ;
    int64_t length = args.cache_seqlens[b];
    if (length < 0 || length + appended > call.cacheCapacity) {
      return fail(
          ATTNRT_INVALID_ARGUMENT,
          "args.cache_seqlens[" + std::to_string(b) +
              "] = " + std::to_string(length) + " is outside [0, " +
              std::to_string(call.cacheCapacity - appended) +
              "] (the cache's " +
              (m.kvCache == ATTNRT_KV_PAGED ? "max_pages_per_seq * page_size"
                                            : "seqlen_k") +
              (appended
                   ? " minus the " + std::to_string(appended) + " appended keys"
                   : std::string()) +
              ")");
    }
    length += appended;
    if (m.kvCache != ATTNRT_KV_PAGED) {
      continue;
    }
    int64_t usedPages = (length + m.pageSize - 1) / m.pageSize;
    for (int64_t p = 0; p < usedPages; ++p) {
      int64_t page = args.page_table[b * call.maxPages + p];
      if (page < 0 || page >= call.numPages) {
        return fail(ATTNRT_INVALID_ARGUMENT,
                    "args.page_table[" + std::to_string(b) + ", " +
                        std::to_string(p) + "] = " + std::to_string(page) +
                        " is not a page of the pool [0, " +
                        std::to_string(call.numPages) + ")");
      }
    }
  }
  return ATTNRT_OK;
}

attnrt_status checkCall(const Manifest &m, const attnrt_attention_args &args,
                        size_t alignmentBytes, CheckedCall &call) {
  if (args.batch < 0 || args.seqlen_q < 0 || args.seqlen_k < 0) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args: batch, seqlen_q and seqlen_k must be >= 0");
  }
  // The kernels compare query and key positions in 32 bits.
  constexpr int64_t kMaxPositions = INT32_MAX;
  if (args.seqlen_q > kMaxPositions || args.seqlen_k > kMaxPositions) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args: seqlen_q = " + std::to_string(args.seqlen_q) +
                    ", seqlen_k = " + std::to_string(args.seqlen_k) +
                    ": the kernels' positions are 32-bit (at most 2^31 - 1)");
  }
  call.batch = args.batch;
  call.seqlenQ = args.seqlen_q;
  call.seqlenK = args.seqlen_k;
  call.tensorBatch = m.varlen ? 1 : args.batch;
  call.maxSeqlenQ = m.varlen ? args.max_seqlen_q : args.seqlen_q;
  if (m.varlen) {
    bool cached = m.kvCache != ATTNRT_KV_NONE;
    if (cached && (!args.cu_seqlens_q || args.cu_seqlens_k)) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "the variable-length KV cache kernel '" + m.name +
                      "' takes args.cu_seqlens_q and no args.cu_seqlens_k "
                      "(keys are the first cache_seqlens[b] rows of each "
                      "sequence's cache)");
    }
    if (!cached && (!args.cu_seqlens_q || !args.cu_seqlens_k)) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.cu_seqlens_q and args.cu_seqlens_k are required by "
                  "the variable-length kernel '" +
                      m.name + "'");
    }
    if (args.max_seqlen_q < 0 || args.max_seqlen_q > args.seqlen_q) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.max_seqlen_q = " + std::to_string(args.max_seqlen_q) +
                      " is outside [0, seqlen_q = " +
                      std::to_string(args.seqlen_q) + "]");
    }
  } else if (args.cu_seqlens_q || args.cu_seqlens_k) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.cu_seqlens_q/k are given but kernel '" + m.name +
                    "' is not variable-length");
  }
  struct Tensor {
    const char *name;
    const void *data;
    const int64_t (&strides)[4];
    TensorArgument &out;
    int64_t rows0, rows1, heads, dim;
  };
  bool paged = m.kvCache == ATTNRT_KV_PAGED;
  if (m.kvCache == ATTNRT_KV_NONE) {
    if (args.cache_seqlens || args.page_table) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.cache_seqlens/page_table are given but kernel '" +
                      m.name + "' has no KV cache");
    }
  } else {
    if (!args.cache_seqlens && args.batch > 0) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.cache_seqlens is NULL but kernel '" + m.name +
                      "' reads a KV cache");
    }
    if (!paged && args.page_table) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.page_table is given but kernel '" + m.name +
                      "' has a contiguous KV cache");
    }
    if (reinterpret_cast<uintptr_t>(args.cache_seqlens) % 4 != 0 ||
        reinterpret_cast<uintptr_t>(args.page_table) % 4 != 0) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.cache_seqlens and args.page_table must be 4-byte "
                  "aligned");
    }
  }
  if (paged) {
    if (args.num_pages < 1 || args.max_pages_per_seq < 1) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.num_pages and args.max_pages_per_seq must be >= 1 "
                  "for the paged kernel '" +
                      m.name + "'");
    }
    if (!args.page_table && args.batch > 0) {
      return fail(ATTNRT_INVALID_ARGUMENT,
                  "args.page_table is NULL but kernel '" + m.name +
                      "' reads a paged KV cache");
    }
    call.numPages = args.num_pages;
    call.maxPages = args.max_pages_per_seq;
    call.cacheCapacity = args.max_pages_per_seq * m.pageSize;
  } else {
    call.cacheCapacity = args.seqlen_k;
  }
  // K/V rows: per sequence (a contiguous cache has one entry per sequence
  // even when the queries are packed), or the pages of the pool.
  int64_t kvRows0 = paged                         ? args.num_pages
                    : m.kvCache == ATTNRT_KV_NONE ? call.tensorBatch
                                                  : args.batch;
  int64_t kvRows1 = paged ? m.pageSize : args.seqlen_k;
  const Tensor tensors[] = {
      {"q", args.q, args.q_strides, call.q, call.tensorBatch, args.seqlen_q,
       m.numQHeads, m.headDim},
      {"k", args.k, args.k_strides, call.k, kvRows0, kvRows1, m.numKvHeads,
       m.headDim},
      {"v", args.v, args.v_strides, call.v, kvRows0, kvRows1, m.numKvHeads,
       m.headDimV},
      {"o", args.o, args.o_strides, call.o, call.tensorBatch, args.seqlen_q,
       m.numQHeads, m.headDimV}};
  // Appending kernels: the new keys and values, shaped like q's rows.
  const Tensor added[] = {
      {"k_new", args.k_new, args.k_new_strides, call.kNew, call.tensorBatch,
       args.seqlen_q, m.numKvHeads, m.headDim},
      {"v_new", args.v_new, args.v_new_strides, call.vNew, call.tensorBatch,
       args.seqlen_q, m.numKvHeads, m.headDimV}};
  size_t bytes = elementBytes(m.dtype);
  alignmentBytes = std::max(alignmentBytes, bytes);
  auto check = [&](const Tensor &t) {
    t.out.sizes[0] = t.rows0;
    t.out.sizes[1] = t.rows1;
    t.out.sizes[2] = t.heads;
    t.out.sizes[3] = t.dim;
    return checkTensor(t.name, t.data, t.strides, bytes, alignmentBytes, t.out);
  };
  for (const Tensor &t : tensors) {
    if (attnrt_status status = check(t)) {
      return status;
    }
  }
  if (m.appendsKv) {
    for (const Tensor &t : added) {
      if (attnrt_status status = check(t)) {
        return status;
      }
    }
  } else if (args.k_new || args.v_new) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.k_new/v_new are given but kernel '" + m.name +
                    "' does not append to a KV cache");
  }
  bool noRows = call.tensorBatch == 0 || args.seqlen_q == 0;
  if (m.returnsLse && !args.lse && !noRows) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.lse is NULL but kernel '" + m.name + "' returns the LSE");
  }
  if (!m.returnsLse && args.lse) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.lse is given but kernel '" + m.name +
                    "' was compiled without return_lse");
  }
  if (reinterpret_cast<uintptr_t>(args.lse) % alignof(float) != 0 ||
      reinterpret_cast<uintptr_t>(args.alibi_slopes) % alignof(float) != 0) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.lse and args.alibi_slopes must be 4-byte aligned");
  }
  if (!m.usesAlibi && args.alibi_slopes) {
    return fail(ATTNRT_INVALID_ARGUMENT,
                "args.alibi_slopes is given but kernel '" + m.name +
                    "' was compiled without alibi");
  }
  return ATTNRT_OK;
}

} // namespace attnrt::detail
