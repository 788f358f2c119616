//===- GpuTiling.cpp - the kernel's CTA tiling ----------------------------===//
//
// See GpuTiling.h.
//
//===----------------------------------------------------------------------===//

#include "GpuTiling.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>

namespace mlir::attn::attn_to_gpu {

int64_t kvBufferCountOf(const GpuTiling &tiling) {
  return tiling.numStages >= 3 ? tiling.numStages - 1 : 1;
}

/// Registers of a multiprocessor (sm_80, sm_90), which one CTA may take
/// all of, and the most a thread may have.
static constexpr int64_t kRegistersPerMultiprocessor = 64 * 1024;
static constexpr int64_t kMaxRegistersPerThread = 255;

int64_t maxSharedMemoryBytes(Target target) {
  return target == Target::SM90 ? 227 * 1024 : 163 * 1024;
}

int64_t slabsPerWarpOf(const GpuTiling &tiling) {
  return tiling.blockM / (kMmaM * tiling.numWarps);
}

bool hasPaddedColumns(AttentionOp op) {
  return op.getHeadDim() % kMmaK != 0 || op.getHeadDimV() % kMmaK != 0;
}

int64_t accumulatorRegistersPerSlab(AttentionOp op, const GpuTiling &tiling) {
  return 4 * (tiling.blockN / kMmaN +
              llvm::alignTo(op.getHeadDimV(), kMmaK) / kMmaN);
}

int64_t accumulatorRegistersPerWarp(AttentionOp op, const GpuTiling &tiling) {
  return slabsPerWarpOf(tiling) * accumulatorRegistersPerSlab(op, tiling);
}

/// The wider of head_dim and head_dim_v.
static int64_t widestHeadDimOf(AttentionOp op) {
  return std::max(op.getHeadDim(), op.getHeadDimV());
}

/// No softcap or ALiBi: scores are Q K^T scaled.
static bool hasPlainScores(AttentionOp op) {
  return op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi();
}

/// A window on either side, or sink tokens.
static bool hasWindowOrSinks(AttentionOp op) {
  return op.getWindowLeft() >= 0 || op.getWindowRight() >= 0 ||
         op.getSinkTokens() > 0;
}

/// One slab of 128 keys at head dims up to 64 (4 * (128 + 64) / 8 = 96
/// accumulator registers) with prefetched K/V tiles (two stages or more),
/// causal without a window or sinks, plain scores, fixed-length batches, no
/// KV cache: assembles in 168 registers without spills (ptxas 13, sm_80
/// and sm_90, 1-8 warps, head dims 16-64 with head_dim_v != head_dim; not
/// tried with split-KV).
/// Outside it ptxas spilled at 168: non-causal 4 bytes (the loop over
/// seqlen_k's partial tile), ALiBi 128-416, one stage 44-84, KV caches
/// 4-68.
static bool fitsWideCausalKeyTiles(AttentionOp op, const GpuTiling &tiling) {
  return tiling.blockN == 128 && tiling.numStages >= 2 &&
         widestHeadDimOf(op) <= 64 && op.getMask() == MaskKind::Causal &&
         !hasWindowOrSinks(op) && hasPlainScores(op) && !op.isVarlen() &&
         !op.hasKvCache() && !op.getSplitKv();
}

int64_t minCtasPerMultiprocessor(AttentionOp op, const GpuTiling &tiling,
                                 int64_t sharedBytes) {
  // One slab per warp of at most 64 keys per tile and head dims up to 96
  // (64 x 64: at most 4 * (64 + 96) / 8 = 80 accumulator registers)
  // assembles without spills in 168 registers per thread where no column
  // is padded (ptxas 13, sm_80 and sm_90, make_ptxas_grid.py,
  // random_specs.py's tilings; d59 spilled 96-368 bytes, d128 at 64 x 32
  // with softcap 16, two slabs of 32 x 48 on one warp at d32 8, 16 x 128 on
  // one warp at d32 with ALiBi 8), where ptxas otherwise spends 158-196 and
  // fits two CTAs of 4 warps: on an H200, causal d80 at 64 x 64 with three
  // stages ran 12% slower at 172 registers than at 168. Above 72 (head
  // dims 81-96), kernels with three of softcap or ALiBi, a window, sinks
  // (which come with a window), varlen and split-KV used all 168 or spilled
  // (varlen, window, sinks and softcap: 4 bytes on sm_90; window, sinks and
  // softcap at d96: 28-40 bytes on sm_90, where a change to softcap's
  // multiplies moved the spill from one to the other of two such specs).
  constexpr int64_t kRegistersPerThread = 168;
  constexpr int64_t kFullFeaturedAccumulatorLimit = 72;
  constexpr int64_t kHeadDimLimit = 96, kBlockNLimit = 64;
  // Each CTA also holds 1 KiB of shared memory reserved for the system.
  constexpr int64_t kReservedSharedBytes = 1024;
  int64_t accumulators = accumulatorRegistersPerSlab(op, tiling);
  int64_t featuresWithRegisters = !hasPlainScores(op) + hasWindowOrSinks(op) +
                                  (op.getSinkTokens() > 0) + op.isVarlen() +
                                  op.getSplitKv().has_value();
  int64_t widestHeadDim = widestHeadDimOf(op);
  bool narrowKeyTiles = tiling.blockN <= kBlockNLimit &&
                        widestHeadDim <= kHeadDimLimit &&
                        (accumulators <= kFullFeaturedAccumulatorLimit ||
                         featuresWithRegisters < 3);
  if (slabsPerWarpOf(tiling) != 1 || hasPaddedColumns(op) ||
      (!narrowKeyTiles && !fitsWideCausalKeyTiles(op, tiling))) {
    return 1;
  }
  int64_t byRegisters = kRegistersPerMultiprocessor /
                        (tiling.numWarps * kWarpSize * kRegistersPerThread);
  int64_t bySharedMemory =
      (maxSharedMemoryBytes(op.getTarget()) + kReservedSharedBytes) /
      (sharedBytes + kReservedSharedBytes);
  return std::max<int64_t>(1, std::min(byRegisters, bySharedMemory));
}

bool masksKeys(AttentionOp op) {
  return op.getMask() != MaskKind::None || hasWindowOrSinks(op);
}

bool twoSlabsRescaleLazily(AttentionOp op, const GpuTiling &tiling) {
  return op.getTarget() == Target::SM90 &&
         accumulatorRegistersPerWarp(op, tiling) <= 144 &&
         !hasWindowOrSinks(op);
}

/// Accumulator registers a warp's slabs may take, from ptxas -v (sm_80,
/// sm_90) over head dims 32-128 at 128 x 32, 48, 64 and 128 on 4 warps
/// with every mask, GQA/MQA, varlen, KV caches, softcap, ALiBi and one to
/// four stages (make_ptxas_grid.py and random specs):
/// - 192 (FlashAttention-2's 128 x 64 tile for d = 128, 128 x 128 for d =
///   64) assemble without spills for plain scores, head_dim == head_dim_v,
///   both and block_n powers of two;
/// - 176 there for per-batch lengths (varlen, KV caches) at 128 keys per
///   tile: d64 at 128 x 128 spilled 8-28 bytes;
/// - 144 for other plain scores: head dims 88-120 at 128 x 64, 56 and 59 at
///   128 x 128 spilled 4-64 bytes at 152-184 (padding columns and partial
///   rows cost registers); head_dim_v 128 with head_dim 64 (non-causal,
///   MQA, varlen) 4-36 bytes at 176-192, and 128 x 48's d128 4-8 at 176;
/// - 128 with softcap or ALiBi, whose per-score terms need registers of
///   their own, and for rings of K/V buffers (three stages or more, whose
///   buffer indices stay live): at 144-192 ptxas spilled 4-256 bytes;
/// - 112 with sink tokens, and for rings with a window, whose loop versions
///   keep the most bounds live, or with padded columns: sinks d80 at 128 x
///   48 spilled 8 bytes at 128, a window's d64 ring at 128 x 64 on sm_90 4,
///   d59's ring at 128 x 64 on sm_80 8-12;
/// - 128 for KV caches with a window: d128 at 128 x 64 (192) spilled 4-412
///   bytes in 11 of 16 kernels (contiguous and paged, RoPE, split-KV).
static int64_t accumulatorRegisterBudget(AttentionOp op,
                                         const GpuTiling &tiling) {
  bool powerOfTwoShape = op.getHeadDim() == op.getHeadDimV() &&
                         llvm::isPowerOf2_64(op.getHeadDim()) &&
                         llvm::isPowerOf2_64(tiling.blockN);
  int64_t budget = !hasPlainScores(op) ? 128 : (powerOfTwoShape ? 192 : 144);
  if ((op.isVarlen() || op.hasKvCache()) && tiling.blockN >= 128) {
    budget = std::min<int64_t>(budget, 176);
  }
  if (tiling.numStages >= 3) {
    budget = std::min<int64_t>(
        budget, hasWindowOrSinks(op) || hasPaddedColumns(op) ? 112 : 128);
  }
  if (op.getSinkTokens() > 0) {
    budget = std::min<int64_t>(budget, 112);
  }
  if (op.hasKvCache() && hasWindowOrSinks(op)) {
    budget = std::min<int64_t>(budget, 128);
  }
  return budget;
}

/// Above this head dim a warp's one slab needs a thread's 255 registers:
/// neither a second slab (d192 with head_dim_v 64 at 256 x 80 on 8 warps,
/// 144 accumulator registers, spilled 148-208 bytes; make_ptxas_grid.py
/// leaves them out) nor 16 warps of 128 registers (the same tiling raised
/// to them, 72 accumulator registers, spilled 172-240 bytes) fit.
static constexpr int64_t kMaxHeadDimBelowFullRegisters = 128;

/// Whether a warp's slabs fit its registers: their accumulators within the
/// budget, and several slabs per warp only up to
/// kMaxHeadDimBelowFullRegisters.
static bool warpSlabsFit(AttentionOp op, const GpuTiling &tiling) {
  if (slabsPerWarpOf(tiling) > 1 &&
      widestHeadDimOf(op) > kMaxHeadDimBelowFullRegisters) {
    return false;
  }
  return accumulatorRegistersPerWarp(op, tiling) <=
         accumulatorRegisterBudget(op, tiling);
}

/// `tiling: "auto"`, from sweeps of every tiling that assembles without
/// spills (bench/gpu/make_specs.py --sweep, bench/decode's decode_sweep;
/// results for an H200 and an H100 are in bench/gpu and bench/decode):
/// - KV-cache kernels are memory-bound (decode reads each cache row once):
///   small CTAs of 32 rows on 2 warps keep the most cache bytes in flight
///   per multiprocessor (0.90 of the copy bandwidth vs 0.68 for 64 x 64 on
///   4 warps, at batch 64 on the H200); 64 keys per tile;
/// - head dim 128 without a mask over keys (plain scores, no sinks):
///   FlashAttention-2's 128 x 64 on 4 warps, two 16-row slabs per warp that
///   share every K and V fragment: on an H100 at seqlen 1k/8k 299/353 vs
///   282/336 TFLOP/s for one slab of 64 x 128 and 263/303 for 64 x 64.
///   Only where ptxas assembles it without spills at 255 registers on sm_80
///   and sm_90: head_dim_v 128 with smaller head_dims spilled 8-24 bytes;
/// - head dims up to 64 (head_dim_v equal), plain scores, no mask over
///   keys, fixed-length batches: FlashAttention-2's 128 x 128 on 4 warps,
///   two slabs per warp. On an H100 at seqlen 1k/8k 275/316 vs 260/295
///   TFLOP/s for one slab of 64 x 64 with three stages (SDPA's FA2:
///   271/303). Head_dim_v != head_dim and varlen spilled 4-28 bytes;
/// - head dims 48 and 64 on sm_90, causal without a window or sinks, plain
///   scores, fixed lengths (fitsWideCausalKeyTiles): one slab of 64 x 128
///   with three stages, three CTAs per multiprocessor in 165-168
///   registers. On an H200 at seqlen 1k/4k/8k/16k (TFLOP/s, mean of two
///   runs) against 64 x 64 with three stages: causal d64
///   222/289/301/298 vs 208/270/282/286, GQA 225/289/295/298 vs
///   223/270/282/282 (SDPA's FA2: 175/267/283/290 and 197/271/283/293);
///   with two CTAs (215 registers) 64 x 128 ran 194/258/275/283, two slabs
///   of 128 x 128 on 4 warps 200/268/288/298. With a window it was 2%
///   slower than 64 x 64, with softcap 6% slower at 1k and 3-6% faster
///   from 4k (both three CTAs, 168 registers; d80 and d96 at 64 x 128
///   with three CTAs 6-24% slower). Causal d48 at 1k/4k/16k: 191/251/275
///   vs 193/245/260; d32 163/214/233 vs 179/222/235 (64 x 64 stays);
/// - other head dims up to 80 (masked, softcap, ALiBi, varlen, head_dim_v
///   != head_dim): one slab of 64 x 64 with three stages (two K/V tiles in
///   flight: a tile's MMAs are too short to hide one copy). On an H100 at
///   1k/8k against two stages: d64 causal 219/288 vs 150/214 (and 128 x
///   128: 203/286), GQA 219/288 vs 164/231, window 210/239 vs 145/187,
///   ALiBi 159/210 vs 139/189, softcap 148/182 vs 144/177; d80 causal
///   157/208 vs 144/196, non-causal 217/241 vs 175/205 (64 x 128: 191/213).
///   Two stages where neither head dim is a multiple of 8 (untimed: tiles
///   copied element by element leave nothing for a ring to overlap).
///   Three CTAs per multiprocessor in 168 registers at most
///   (minCtasPerMultiprocessor) against the two that ptxas's 172-196 left
///   room for, on an H200 at 1k/8k: d80 causal +21%/+11%, GQA +16%/+12%,
///   window +19%/+17%, ALiBi +17%/+14%, d64 ALiBi +15%/+9%; kernels that
///   already fit three were within -5..+3%;
/// - head dims from 81 to 96 on sm_90, multiples of 16 (padded columns
///   cost registers): one slab of 64 x 64 with three stages, three CTAs
///   per multiprocessor in 159-168 registers (minCtasPerMultiprocessor).
///   On an H200 at seqlen 512/1k/2k/4k/8k/16k against SDPA's FA2, d96:
///   causal 1.19/1.10/1.07/1.06/1.04/0.98 vs 1.03/0.99/1.00/1.01/1.01/1.04
///   for two slabs of 128 x 48 on 4 warps (the rule until then for plain
///   scores: one CTA per multiprocessor), non-causal
///   1.11/1.07/1.05/1.05/1.04/0.95 vs 0.99/0.96/0.98/0.96/0.96/0.95, GQA
///   1.22/1.14/1.06/1.07/1.05/0.96 vs 1.06/1.03/1.01/1.01/1.00/1.01 (only
///   at 16k, batch 1, is 128 x 48 ahead); TFLOP/s against one slab of 64 x
///   128 (the rule until then otherwise): window 187/241/265/272/276/279 vs
///   152/203/226/221/234/229, softcap 157/190/210/224/229/235 vs
///   115/157/188/206/220/227, ALiBi 171/214/238/261/270/267 vs
///   144/191/226/247/266/275 (sinks not timed; they assemble in 164);
/// - head dims from 113 to 128 with a window or sinks: one slab of 64 x 64
///   on 4 warps. On an H100 at 1k/8k, window d128 ran 217/252 TFLOP/s
///   against 218/252 for 64 x 128, and the kernel, with half the key
///   columns in each of its loop versions (sinks, window edge, diagonal,
///   unmasked), compiles in half the time: streaming_llm's spec -> PTX
///   5.2 -> 3.0 G instructions, 1.4-1.6 -> 0.46 s (bench/compile);
/// - head dims from 81 to 128 otherwise (sm_80, padded head dims, above
///   96): one slab of 64 x 128 on 4 warps
///   (128 accumulator registers at most, within every budget). On an H100
///   at 1k/8k against 64 x 64: d96 188/269 vs 175/250 causal, 250/290 vs
///   213/268 non-causal; d112 164/214 vs 160/210 causal, 212/235 vs 193/217
///   non-causal; d128 causal 223/316 (128 x 64: 226/314), GQA 228/313 (128
///   x 64: 230/313), window 218/252 vs 217/252, softcap 167/244 vs 174/224,
///   ALiBi 198/280 vs 193/258. Three stages were slower at d112 and d128
///   (one CTA per multiprocessor) and even at d96;
/// - otherwise (head dims above 128) 64 x 64 on 4 warps, one slab per
///   warp: 15% faster than 64 x 32, and three stages were 20% slower.
static GpuTiling autoTiling(AttentionOp op) {
  if (op.hasKvCache()) {
    // 32 keys for ALiBi with a window or sinks up to head dim 128: at 64,
    // ptxas spilled 4-56 bytes in 12 of 32 kernels (head dims 64 and 128,
    // contiguous and paged caches, appends, sm_80 and sm_90), at 32 in
    // none; at head dim 192 32 keys spilled 16-80 bytes in 6 of 8, 64 none.
    bool alibiWithWindow =
        op.getAlibi() && hasWindowOrSinks(op) && widestHeadDimOf(op) <= 128;
    return {32, alibiWithWindow ? 32 : 64, 2, 2};
  }
  GpuTiling twoSlabs{128, 64, 4, 2};
  if (op.getHeadDim() == 128 && op.getHeadDimV() == 128 && !masksKeys(op) &&
      warpSlabsFit(op, twoSlabs)) {
    return twoSlabs;
  }
  GpuTiling wideTwoSlabs{128, 128, 4, 2};
  if (op.getHeadDim() <= 64 && op.getHeadDimV() == op.getHeadDim() &&
      !masksKeys(op) && !op.isVarlen() && warpSlabsFit(op, wideTwoSlabs)) {
    return wideTwoSlabs;
  }
  GpuTiling wideCausal{64, 128, 4, 3};
  if (op.getTarget() == Target::SM90 && !hasPaddedColumns(op) &&
      std::min(op.getHeadDim(), op.getHeadDimV()) >= 48 &&
      fitsWideCausalKeyTiles(op, wideCausal)) {
    return wideCausal;
  }
  int64_t widestHeadDim = widestHeadDimOf(op);
  if (widestHeadDim <= 80 ||
      (widestHeadDim <= 96 && op.getTarget() == Target::SM90 &&
       !hasPaddedColumns(op))) {
    // Rows of head dims that are not multiples of 8 are not 16-byte
    // aligned: their tiles are copied element by element through registers,
    // not by cp.async, so where K's and V's both are, a ring of buffers
    // overlaps nothing and its buffer indices only hold registers (causal
    // top-left d59 with a window spilled 12 bytes on sm_80 with three
    // stages; head dims 17-75 took 203-253 registers with two, 254-255
    // with three).
    bool elementCopies = op.getHeadDim() % 8 != 0 && op.getHeadDimV() % 8 != 0;
    return {64, 64, 4, elementCopies ? 2 : 3};
  }
  if (widestHeadDim > 112 && widestHeadDim <= 128 && hasWindowOrSinks(op)) {
    return {64, 64, 4, 2};
  }
  if (widestHeadDim <= 128) {
    return {64, 128, 4, 2};
  }
  return {64, 64, 4, 2};
}

FailureOr<GpuTiling> resolveTiling(AttentionOp op,
                                   const TilingOverrides &overrides) {
  GpuTiling tiling = autoTiling(op);
  if (TilingAttr spec = op.getTilingAttr()) {
    tiling = {spec.getBlockM(), spec.getBlockN(), spec.getNumWarps(),
              spec.getNumStages()};
  }
  if (overrides.numStages) {
    tiling.numStages = overrides.numStages;
  }
  if (overrides.blockM) {
    tiling.blockM = overrides.blockM;
  }
  if (overrides.blockN) {
    tiling.blockN = overrides.blockN;
  }
  if (overrides.numWarps) {
    tiling.numWarps = overrides.numWarps;
  }
  if (tiling.numWarps < 1 || tiling.blockM % (kMmaM * tiling.numWarps) != 0 ||
      tiling.blockN < kMmaK || tiling.blockN % kMmaK != 0) {
    return op.emitOpError()
           << "GPU tiling needs block_m a multiple of 16 * num_warps and "
              "block_n a multiple of 16, got block_m = "
           << tiling.blockM << ", block_n = " << tiling.blockN
           << ", num_warps = " << tiling.numWarps;
  }

  // Where a warp's slabs would not fit the register budget, more warps
  // share the Q tile instead.
  int64_t requestedWarps = tiling.numWarps;
  while (slabsPerWarpOf(tiling) > 1 && !warpSlabsFit(op, tiling) &&
         tiling.numWarps < 16) {
    tiling.numWarps *= 2;
  }
  // Above 8 warps a thread has fewer than 255 registers (64 Ki per CTA):
  // 128 at 16 warps, where ptxas spilled 4-2800 bytes for 72-160
  // accumulator registers per warp (block_m 256 raised from 8 warps). There
  // the budget shrinks in proportion.
  int64_t registersPerThread =
      kRegistersPerMultiprocessor / (tiling.numWarps * kWarpSize);
  int64_t accumulators = accumulatorRegistersPerWarp(op, tiling);
  int64_t budget = accumulatorRegisterBudget(op, tiling) * registersPerThread /
                   kMaxRegistersPerThread;
  auto tilingError = [&]() {
    InFlightDiagnostic error = op.emitOpError()
                               << "GPU tiling block_m = " << tiling.blockM
                               << ", block_n = " << tiling.blockN << " on "
                               << tiling.numWarps << " warps";
    if (tiling.numWarps != requestedWarps) {
      error << " (raised from " << requestedWarps
            << " so that each warp's slabs fit its registers)";
    }
    return error;
  };
  if (registersPerThread < kMaxRegistersPerThread && accumulators > budget) {
    InFlightDiagnostic error = tilingError();
    error << " leaves " << registersPerThread
          << " registers per thread, too few for " << accumulators
          << " accumulator registers per warp (at most " << budget
          << "); use a smaller block_m or block_n";
    return error;
  }
  // Nor for head dims above kMaxHeadDimBelowFullRegisters.
  if (registersPerThread < kMaxRegistersPerThread &&
      widestHeadDimOf(op) > kMaxHeadDimBelowFullRegisters) {
    InFlightDiagnostic error = tilingError();
    error << " leaves " << registersPerThread
          << " registers per thread, too few for head dim "
          << widestHeadDimOf(op) << " (at most "
          << kMaxHeadDimBelowFullRegisters << "); use a smaller block_m";
    return error;
  }
  // One slab's accumulators cannot be shared out among more warps. Past 160
  // registers (4 * (block_n + head_dim_v) / 8: head dim 256 at 64 x 80 to
  // 64 x 128, 168-192) ptxas spilled 8-244 bytes at 255 registers per
  // thread in 16 of 40 kernels (sm_80, sm_90; plain, softcap, ALiBi, sinks,
  // paged KV caches; two and three stages), at 160 or fewer in 1 of 225
  // (softcap d192 at 64 x 96 with three stages on sm_90, 144: 28 bytes).
  constexpr int64_t kOneSlabAccumulatorLimit = 160;
  if (registersPerThread >= kMaxRegistersPerThread &&
      slabsPerWarpOf(tiling) == 1 && accumulators > kOneSlabAccumulatorLimit) {
    InFlightDiagnostic error = tilingError();
    error << " gives a warp's one 16-row slab " << accumulators
          << " accumulator registers, more than the "
          << kOneSlabAccumulatorLimit
          << " that fit in a thread's 255 without spilling; use a smaller "
             "block_n";
    return error;
  }
  return tiling;
}

} // namespace mlir::attn::attn_to_gpu
