//===- Manifest.h - reading and checking package manifests ------*- C++ -*-===//

#ifndef ATTNRT_SRC_MANIFEST_H
#define ATTNRT_SRC_MANIFEST_H

#include "attnrt/attnrt.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnrt::detail {

/// The parts of manifest.json that loading and launching need.
struct Manifest {
  std::string name;
  attnrt_target target = ATTNRT_TARGET_CPU;
  attnrt_dtype dtype = ATTNRT_F32;
  int64_t numQHeads = 0, numKvHeads = 0, headDim = 0, headDimV = 0;
  bool returnsLse = false, usesAlibi = false;
  bool causal = false, causalTopLeft = false;
  int64_t windowLeft = -1, windowRight = -1, sinkTokens = 0;
  double scale = 0.0, softcap = 0.0;
  attnrt_kv_cache_layout kvCache = ATTNRT_KV_NONE;
  int64_t pageSize = 0;
  /// Packed variable-length batches (cu_seqlens).
  bool varlen = false;
  /// KV cache kernels that append the call's k_new/v_new first, through
  /// `appendEntry` (CPU symbol or CUDA kernel).
  bool appendsKv = false;
  std::string appendEntry;
  int64_t appendBlockThreads = 0;
  /// New rows per CTA of the CUDA append kernel (4: a warp each; 128: a
  /// thread each, in earlier packages).
  int64_t appendRowsPerBlock = 0;
  /// RoPE (ropeDim 0 = none).
  double ropeBase = 0.0;
  int64_t ropeDim = 0;
  bool ropeInterleaved = false;
  /// Split-KV chunks: 1 = off, 0 = chosen per call, N.
  int64_t splitKv = 1;
  /// Split-KV packages: the merge's entry point (CPU symbol or CUDA kernel).
  std::string mergeEntry;
  int64_t mergeBlockThreads = 0;
  /// CUDA split-KV kernels that write the output themselves when a call has
  /// one chunk (no merge, no workspace); false in earlier packages.
  bool mergeSkippedForOneChunk = false;
  int64_t blockN = 0;
  /// ALiBi slopes used when a call passes none (alibi kernels only).
  std::vector<float> defaultAlibiSlopes;
  std::string kernelFile, entry;
  /// `kernel.digest` (attnrt/package_digest.hpp) and the manifest text it
  /// covers; empty in packages of attngen versions that did not write one.
  std::string digest, digestedManifest;
  int64_t blockM = 0;
  /// "+avx2,+fma,-avx512f,..." as the compiler saw the host (CPU packages).
  std::string cpuFeatures;

  // CUDA packages (target sm_XY): PTX launched on a grid of
  // (ceil(seqlen_q / block_m), num_q_heads, batch) blocks.
  /// XY of sm_XY: the oldest compute capability the PTX runs on.
  int smVersion = 0;
  int64_t blockThreads = 0;
  /// The grid's rows are (query, q head) pairs of one kv head: grid
  /// (ceil(seqlen_q * group / block_m), num_kv_heads, batch).
  bool packGqa = false;
  int64_t dynamicSharedMemoryBytes = 0;
  /// Required alignment of q/k/v/o (16 for the kernels' 16-byte loads).
  int64_t inputAlignmentBytes = 0;
};

/// Parses and validates `text` (the contents of `path`); on failure returns
/// a status with the thread's error set, naming `path` and the field.
attnrt_status parseManifest(const std::string &text, const std::string &path,
                            Manifest &manifest);

} // namespace attnrt::detail

#endif // ATTNRT_SRC_MANIFEST_H
