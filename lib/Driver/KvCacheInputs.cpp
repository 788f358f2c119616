//===- KvCacheInputs.cpp - cache lengths and page tables of a call --------===//

#include "attngen/Driver/KvCacheInputs.h"
#include "attngen/Support/Error.h"
#include "attngen/Support/Npy.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace attngen {

/// An int32 array of `expectedShape` (-1: any size) from `path`.
static llvm::Expected<NpyArray> readInt32(const std::string &path,
                                          const char *what,
                                          std::vector<int64_t> expectedShape,
                                          const std::string &shapeText) {
  llvm::Expected<NpyArray> array = readNpy(path);
  if (!array) {
    return array.takeError();
  }
  if (array->type != NpyType::I32) {
    return makeError(path + ": " + what + " must be int32 (<i4)");
  }
  bool matches = array->shape.size() == expectedShape.size();
  for (size_t i = 0; matches && i < expectedShape.size(); ++i) {
    matches = expectedShape[i] < 0 || array->shape[i] == expectedShape[i];
  }
  if (!matches) {
    return makeError(path + ": " + what + " has shape " + array->shapeString() +
                     ", expected " + shapeText);
  }
  return array;
}

llvm::Expected<KvCacheInputs>
readKvCacheInputs(const AttentionSpec &spec, const std::string &specPath,
                  const std::string &seqlensPath,
                  const std::string &pageTablePath, int64_t batch,
                  const std::vector<int64_t> &keyShape,
                  const std::vector<int64_t> &appendedKeys) {
  KvCacheInputs inputs;
  bool paged = spec.kvCache.layout == KvCacheLayout::Paged;
  if (spec.kvCache.layout == KvCacheLayout::None) {
    if (!seqlensPath.empty() || !pageTablePath.empty()) {
      return makeError(specPath + ": --cache-seqlens and --page-table need a "
                                  "spec with \"kv_cache\"");
    }
    return inputs;
  }
  if (seqlensPath.empty()) {
    return makeError(specPath + ": the spec reads a KV cache; pass "
                                "--cache-seqlens LENGTHS.npy ([batch], int32)");
  }
  if (paged && pageTablePath.empty()) {
    return makeError(specPath + ": the spec reads a paged KV cache; pass "
                                "--page-table TABLE.npy ([batch, max_pages], "
                                "int32)");
  }
  if (!paged && !pageTablePath.empty()) {
    return makeError(specPath + ": --page-table needs \"kv_cache\": "
                                "{\"layout\": \"paged\", ...}");
  }
  llvm::Expected<NpyArray> lengths =
      readInt32(seqlensPath, "cache_seqlens", {batch},
                llvm::formatv("({0},) = [batch]", batch).str());
  if (!lengths) {
    return lengths.takeError();
  }
  inputs.seqlens = lengths->toInt32();

  int64_t capacity = keyShape[1];
  if (paged) {
    llvm::Expected<NpyArray> table = readInt32(
        pageTablePath, "page_table", {batch, -1},
        llvm::formatv("({0}, max_pages) = [batch, max_pages]", batch).str());
    if (!table) {
      return table.takeError();
    }
    inputs.pageTable = table->toInt32();
    inputs.numPages = keyShape[0];
    inputs.maxPages = table->shape[1];
    capacity = inputs.maxPages * spec.kvCache.pageSize;
  }
  for (int64_t b = 0; b < batch; ++b) {
    int64_t length = inputs.seqlens[b];
    int64_t appended = appendedKeys.empty() ? 0 : appendedKeys[b];
    if (length < 0 || length + appended > capacity) {
      return makeError(llvm::formatv(
          "{0}: cache_seqlens[{1}] = {2} is outside [0, {3}] (the cache's "
          "{4}{5})",
          seqlensPath, b, length, capacity - appended,
          paged ? "max_pages * page_size" : "capacity, K's dimension 1",
          appended
              ? llvm::formatv(" minus the {0} appended keys", appended).str()
              : std::string()));
    }
    // The appended rows are written: their pages must exist too.
    length += appended;
    if (!paged) {
      continue;
    }
    int64_t usedPages =
        (length + spec.kvCache.pageSize - 1) / spec.kvCache.pageSize;
    for (int64_t p = 0; p < usedPages; ++p) {
      int64_t page = inputs.pageTable[b * inputs.maxPages + p];
      if (page < 0 || page >= inputs.numPages) {
        return makeError(llvm::formatv(
            "{0}: page_table[{1}, {2}] = {3} is not a page of K and V "
            "(num_pages = {4})",
            pageTablePath, b, p, page, inputs.numPages));
      }
    }
  }
  return inputs;
}

KvCacheInputs fullKvCache(const AttentionSpec &spec, int64_t batch,
                          int64_t seqlenK) {
  KvCacheInputs inputs;
  if (spec.kvCache.layout == KvCacheLayout::None) {
    return inputs;
  }
  inputs.seqlens.assign(batch, static_cast<int32_t>(seqlenK));
  if (spec.kvCache.layout == KvCacheLayout::Paged) {
    int64_t pageSize = spec.kvCache.pageSize;
    inputs.maxPages = std::max<int64_t>(1, (seqlenK + pageSize - 1) / pageSize);
    inputs.numPages = batch * inputs.maxPages;
    inputs.pageTable.resize(inputs.numPages);
    std::iota(inputs.pageTable.begin(), inputs.pageTable.end(), 0);
    std::shuffle(inputs.pageTable.begin(), inputs.pageTable.end(),
                 std::mt19937(7));
  }
  return inputs;
}

} // namespace attngen
