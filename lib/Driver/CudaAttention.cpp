//===- CudaAttention.cpp - a spec run on this machine's GPU ---------------===//

#include "attngen/Driver/CudaAttention.h"
#include "attngen/Driver/Compile.h"
#include "attngen/Driver/TemporaryPackage.h"

#include "attnrt/attnrt.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>

namespace attngen {

namespace {

/// libattnrt's status as an error: "--backend cuda: MESSAGE (STATUS)".
llvm::Error runtimeError(attnrt_status status) {
  return attngen::runtimeError("cuda", status);
}

size_t elementBytes(ElementType type) {
  return type == ElementType::F32 ? 4 : 2;
}

} // namespace

llvm::Expected<std::unique_ptr<CudaAttention>>
CudaAttention::create(const AttentionSpec &spec, const std::string &specPath,
                      int64_t batch, int64_t seqlenQ, int64_t seqlenK,
                      const KvCacheInputs &cache, const VarlenInputs &varlen) {
  attnrt_cuda_device_info info;
  if (attnrt_status status = attnrt_cuda_device_get_info(&info)) {
    return runtimeError(status);
  }
  int version =
      info.compute_capability_major * 10 + info.compute_capability_minor;
  if (version < 80) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        llvm::formatv("--backend cuda: device {0} ({1}) is sm_{2}; attngen's "
                      "GPU kernels need sm_80 or newer",
                      info.ordinal, info.name, version));
  }
  Target target = version >= 90 ? Target::SM90 : Target::SM80;

  // The package goes through the files an engine would load.
  llvm::Expected<attnrt_kernel *> kernel =
      loadTemporaryPackage("cuda", [&](const std::string &packageDir) {
        return writeGpuPackageForSpec(spec, specPath, target, packageDir);
      });
  if (!kernel) {
    return kernel.takeError();
  }
  std::unique_ptr<CudaAttention> attention(new CudaAttention());
  attention->kernel = *kernel;

  attention->device = llvm::formatv("{0} (sm_{1})", info.name, version).str();
  attention->batch = batch;
  attention->seqlenQ = seqlenQ;
  attention->seqlenK = seqlenK;
  attention->numPages = cache.numPages;
  attention->maxPages = cache.maxPages;
  attention->varlen = spec.varlen;
  attention->maxSeqlenQ = spec.varlen ? varlen.maxSeqlenQ : seqlenQ;
  // Tensors' batch dimension: 1 when sequences are packed.
  int64_t tensorBatch = spec.varlen ? 1 : batch;
  size_t bytes = elementBytes(spec.dtype);
  bool paged = spec.kvCache.layout == KvCacheLayout::Paged;
  // K/V rows: per sequence, or the pages of the pool.
  // (Contiguous caches: one entry per sequence, packed or not.)
  bool cached = spec.kvCache.layout != KvCacheLayout::None;
  size_t kvRows = paged ? cache.numPages * spec.kvCache.pageSize
                        : (cached ? batch : tensorBatch) * seqlenK;
  struct Allocation {
    Buffer &buffer;
    size_t bytes;
  };
  const Allocation allocations[] = {
      {attention->query,
       tensorBatch * seqlenQ * spec.numQHeads * spec.headDim * bytes},
      {attention->key, kvRows * spec.numKvHeads * spec.headDim * bytes},
      {attention->value, kvRows * spec.numKvHeads * spec.headDimV * bytes},
      {attention->output,
       tensorBatch * seqlenQ * spec.numQHeads * spec.headDimV * bytes},
      {attention->lse,
       spec.returnLse ? tensorBatch * spec.numQHeads * seqlenQ * sizeof(float)
                      : 0},
      {attention->slopes, spec.alibi ? spec.numQHeads * sizeof(float) : 0},
      {attention->cacheSeqlens, cache.seqlens.size() * sizeof(int32_t)},
      {attention->pageTable, cache.pageTable.size() * sizeof(int32_t)},
      {attention->cuSeqlensQ, varlen.cuSeqlensQ.size() * sizeof(int32_t)},
      {attention->cuSeqlensK, varlen.cuSeqlensK.size() * sizeof(int32_t)},
      {attention->keyNew,
       spec.kvCache.append
           ? tensorBatch * seqlenQ * spec.numKvHeads * spec.headDim * bytes
           : 0},
      {attention->valueNew,
       spec.kvCache.append
           ? tensorBatch * seqlenQ * spec.numKvHeads * spec.headDimV * bytes
           : 0}};
  for (const Allocation &allocation : allocations) {
    if (allocation.bytes) {
      if (llvm::Error error =
              attention->allocate(allocation.buffer, allocation.bytes)) {
        return std::move(error);
      }
    }
  }
  for (auto [buffer, data] :
       {std::make_pair(&attention->cacheSeqlens, cache.seqlens.data()),
        std::make_pair(&attention->pageTable, cache.pageTable.data()),
        std::make_pair(&attention->cuSeqlensQ, varlen.cuSeqlensQ.data()),
        std::make_pair(&attention->cuSeqlensK, varlen.cuSeqlensK.data())}) {
    if (buffer->bytes) {
      if (attnrt_status status = attnrt_cuda_copy_to_device(
              buffer->pointer, data, buffer->bytes)) {
        return runtimeError(status);
      }
    }
  }
  // Split-KV kernels: the workspace this call's shape needs on this device.
  attnrt_attention_args args;
  attention->fillArgs(args);
  size_t workspaceBytes = 0;
  if (attnrt_status status =
          attnrt_workspace_bytes(attention->kernel, &args, &workspaceBytes)) {
    return runtimeError(status);
  }
  if (workspaceBytes) {
    if (llvm::Error error =
            attention->allocate(attention->workspace, workspaceBytes)) {
      return std::move(error);
    }
  }
  return std::move(attention);
}

CudaAttention::~CudaAttention() {
  for (Buffer *buffer :
       {&query, &key, &value, &output, &lse, &slopes, &cacheSeqlens, &pageTable,
        &workspace, &cuSeqlensQ, &cuSeqlensK, &keyNew, &valueNew}) {
    attnrt_cuda_free(buffer->pointer);
  }
  attnrt_kernel_release(kernel);
}

llvm::Error CudaAttention::allocate(Buffer &buffer, size_t bytes) {
  buffer.bytes = bytes;
  if (attnrt_status status = attnrt_cuda_malloc(bytes, &buffer.pointer)) {
    return runtimeError(status);
  }
  return llvm::Error::success();
}

llvm::Error CudaAttention::upload(const std::vector<uint8_t> &queryData,
                                  const std::vector<uint8_t> &keyData,
                                  const std::vector<uint8_t> &valueData,
                                  const std::vector<float> &slopeData) {
  struct Copy {
    Buffer &buffer;
    const void *data;
    size_t bytes;
  };
  const Copy copies[] = {
      {query, queryData.data(), queryData.size()},
      {key, keyData.data(), keyData.size()},
      {value, valueData.data(), valueData.size()},
      {slopes, slopeData.data(), slopeData.size() * sizeof(float)}};
  for (const Copy &copy : copies) {
    if (copy.bytes != copy.buffer.bytes && copy.bytes != 0) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--backend cuda: input of %zu bytes for "
                                     "a buffer of %zu",
                                     copy.bytes, copy.buffer.bytes);
    }
    if (copy.bytes) {
      if (attnrt_status status = attnrt_cuda_copy_to_device(
              copy.buffer.pointer, copy.data, copy.bytes)) {
        return runtimeError(status);
      }
    }
  }
  hasSlopes = !slopeData.empty();
  return llvm::Error::success();
}

llvm::Error
CudaAttention::uploadNewKeysAndValues(const std::vector<uint8_t> &keys,
                                      const std::vector<uint8_t> &values) {
  for (auto [buffer, data] :
       {std::make_pair(&keyNew, &keys), std::make_pair(&valueNew, &values)}) {
    if (data->size() != buffer->bytes) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--backend cuda: new keys/values of %zu "
                                     "bytes for a buffer of %zu",
                                     data->size(), buffer->bytes);
    }
    if (buffer->bytes) {
      if (attnrt_status status = attnrt_cuda_copy_to_device(
              buffer->pointer, data->data(), buffer->bytes)) {
        return runtimeError(status);
      }
    }
  }
  return llvm::Error::success();
}

llvm::Error CudaAttention::downloadCaches(std::vector<uint8_t> &keys,
                                          std::vector<uint8_t> &values) {
  for (auto [buffer, data] :
       {std::make_pair(&key, &keys), std::make_pair(&value, &values)}) {
    data->resize(buffer->bytes);
    if (attnrt_status status = attnrt_cuda_copy_to_host(
            data->data(), buffer->pointer, buffer->bytes)) {
      return runtimeError(status);
    }
  }
  return llvm::Error::success();
}

void CudaAttention::fillArgs(attnrt_attention_args &args) const {
  std::memset(&args, 0, sizeof(args));
  args.q = query.pointer;
  args.k = key.pointer;
  args.v = value.pointer;
  args.o = output.pointer;
  args.lse = static_cast<float *>(lse.pointer);
  args.alibi_slopes =
      hasSlopes ? static_cast<const float *>(slopes.pointer) : nullptr;
  args.batch = batch;
  args.seqlen_q = seqlenQ;
  args.seqlen_k = seqlenK;
  args.cache_seqlens = static_cast<const int32_t *>(cacheSeqlens.pointer);
  args.page_table = static_cast<const int32_t *>(pageTable.pointer);
  args.num_pages = numPages;
  args.max_pages_per_seq = maxPages;
  args.workspace = workspace.pointer;
  args.workspace_bytes = workspace.bytes;
  args.k_new = keyNew.pointer;
  args.v_new = valueNew.pointer;
  if (varlen) {
    args.cu_seqlens_q = static_cast<const int32_t *>(cuSeqlensQ.pointer);
    args.cu_seqlens_k = static_cast<const int32_t *>(cuSeqlensK.pointer);
    args.max_seqlen_q = maxSeqlenQ;
  }
}

llvm::Error CudaAttention::launch() {
  attnrt_attention_args args;
  fillArgs(args);
  if (attnrt_status status = attnrt_run_cuda(kernel, &args, nullptr)) {
    return runtimeError(status);
  }
  return llvm::Error::success();
}

llvm::Error CudaAttention::synchronize() {
  if (attnrt_status status = attnrt_cuda_synchronize(nullptr)) {
    return runtimeError(status);
  }
  return llvm::Error::success();
}

llvm::Error CudaAttention::download(std::vector<uint8_t> &outputData,
                                    std::vector<float> &lseData) {
  outputData.resize(output.bytes);
  lseData.resize(lse.bytes / sizeof(float));
  if (attnrt_status status = attnrt_cuda_copy_to_host(
          outputData.data(), output.pointer, output.bytes)) {
    return runtimeError(status);
  }
  if (lse.bytes) {
    if (attnrt_status status =
            attnrt_cuda_copy_to_host(lseData.data(), lse.pointer, lse.bytes)) {
      return runtimeError(status);
    }
  }
  return llvm::Error::success();
}

} // namespace attngen
