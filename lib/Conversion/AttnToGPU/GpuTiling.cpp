//===- GpuTiling.cpp - the kernel's CTA tiling ----------------------------===//
//
// See GpuTiling.h.
//
//===----------------------------------------------------------------------===//

#include "GpuTiling.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::attn::attn_to_gpu {

int64_t kvBufferCountOf(const GpuTiling &tiling) {
  return tiling.numStages >= 3 ? tiling.numStages - 1 : 1;
}

int64_t maxSharedMemoryBytes(Target target) {
  return target == Target::SM90 ? 227 * 1024 : 163 * 1024;
}

int64_t slabsPerWarpOf(const GpuTiling &tiling) {
  return tiling.blockM / (kMmaM * tiling.numWarps);
}

int64_t accumulatorRegistersPerSlab(AttentionOp op, const GpuTiling &tiling) {
  return 4 * (tiling.blockN / kMmaN +
              llvm::alignTo(op.getHeadDimV(), kMmaK) / kMmaN);
}

/// A window on either side, or sink tokens.
static bool hasWindowOrSinks(AttentionOp op) {
  return op.getWindowLeft() >= 0 || op.getWindowRight() >= 0 ||
         op.getSinkTokens() > 0;
}

bool masksKeys(AttentionOp op) {
  return op.getMask() != MaskKind::None || hasWindowOrSinks(op);
}

/// Accumulator registers a warp's slabs may take, from ptxas -v (sm_80,
/// sm_90) over head dims 32-128 at 128 x 64 and 128 x 128 on 4 warps, causal
/// or not, with windows, softcap and ALiBi: 192 (FlashAttention-2's 128 x 64
/// tile for d = 128, 128 x 128 for d = 64) assemble without spills for plain
/// scores and power-of-two head dims; other head dims (88-120 at 128 x 64, 56
/// and 59 at 128 x 128 spilled 4-64 bytes at 152-184: padding columns and
/// partial rows cost registers) get 144; softcap and ALiBi, whose per-score
/// terms need registers of their own, 128.
static int64_t accumulatorRegisterBudget(AttentionOp op) {
  bool plainScores = op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi();
  bool powerOfTwoDims = llvm::isPowerOf2_64(op.getHeadDim()) &&
                        llvm::isPowerOf2_64(op.getHeadDimV());
  return !plainScores ? 128 : (powerOfTwoDims ? 192 : 144);
}

/// `tiling: "auto"`, from sweeps of every tiling that assembles without
/// spills (bench/gpu/make_specs.py --sweep, bench/decode's decode_sweep;
/// results for an H200 and an H100 are in bench/gpu and bench/decode):
/// - KV-cache kernels are memory-bound (decode reads each cache row once):
///   small CTAs of 32 rows on 2 warps keep the most cache bytes in flight
///   per multiprocessor (0.90 of the copy bandwidth vs 0.68 for 64 x 64 on
///   4 warps, at batch 64 on the H200);
/// - head dim 128 (plain scores, no sinks): FlashAttention-2's 128 x 64 on
///   4 warps, two 16-row slabs per warp that share every K and V fragment:
///   on an H100 at seqlen 8k 323 vs 274 TFLOP/s for 64 x 64 non-causal, 274
///   vs 258 causal. Only where ptxas assembles it without spills at 255
///   registers on sm_80 and sm_90: head_dim_v 128 with smaller head_dims
///   spilled 8-24 bytes, and sinks, a second key range in the boundary
///   tiles' mask, 16-432 bytes (streaming_llm);
/// - head dims up to 64 (head_dim_v equal), plain scores, no window or
///   sinks, fixed-length batches, causal or not: FlashAttention-2's 128 x
///   128 on 4 warps, two slabs per warp. On an H100 at seqlen 1k/8k:
///   non-causal 275/313 vs 238/275 TFLOP/s for 64 x 64 (SDPA's FA2:
///   245/287), causal 199/286 vs 194/264, GQA 204/288 vs 203/267 (with V
///   checked, see wholeValueTileCopy). Not taken: windows (199/223 against
///   184/216 and 217/228 for 64 x 64 in two runs), softcap and ALiBi (over
///   their budget; 10-20% slower), head_dim_v != head_dim and varlen
///   (ptxas spilled 4-28 bytes);
/// - otherwise 64 x 64 on 4 warps, one slab per warp, for every head dim:
///   its accumulators fit, and for head dims above 128 it is 15% faster
///   than 64 x 32.
static GpuTiling autoTiling(AttentionOp op) {
  if (op.hasKvCache())
    return {32, 64, 2, 2};
  auto fitsRegisters = [&](const GpuTiling &tiling) {
    return slabsPerWarpOf(tiling) * accumulatorRegistersPerSlab(op, tiling) <=
           accumulatorRegisterBudget(op);
  };
  GpuTiling twoSlabs{128, 64, 4, 2};
  if (op.getHeadDim() == 128 && op.getHeadDimV() == 128 &&
      op.getSinkTokens() == 0 && fitsRegisters(twoSlabs))
    return twoSlabs;
  GpuTiling wideTwoSlabs{128, 128, 4, 2};
  if (op.getHeadDim() <= 64 && op.getHeadDimV() == op.getHeadDim() &&
      !hasWindowOrSinks(op) && !op.isVarlen() && fitsRegisters(wideTwoSlabs))
    return wideTwoSlabs;
  return {64, 64, 4, 2};
}

FailureOr<GpuTiling> resolveTiling(AttentionOp op,
                                   const TilingOverrides &overrides) {
  GpuTiling tiling = autoTiling(op);
  if (TilingAttr spec = op.getTilingAttr())
    tiling = {spec.getBlockM(), spec.getBlockN(), spec.getNumWarps(),
              spec.getNumStages()};
  if (overrides.numStages)
    tiling.numStages = overrides.numStages;
  if (overrides.blockM)
    tiling.blockM = overrides.blockM;
  if (overrides.blockN)
    tiling.blockN = overrides.blockN;
  if (overrides.numWarps)
    tiling.numWarps = overrides.numWarps;
  if (tiling.numWarps < 1 || tiling.blockM % (kMmaM * tiling.numWarps) != 0 ||
      tiling.blockN < kMmaK || tiling.blockN % kMmaK != 0)
    return op.emitOpError()
           << "GPU tiling needs block_m a multiple of 16 * num_warps and "
              "block_n a multiple of 16, got block_m = "
           << tiling.blockM << ", block_n = " << tiling.blockN
           << ", num_warps = " << tiling.numWarps;

  // Where a warp's slabs would not fit the register budget, more warps
  // share the Q tile instead.
  while (slabsPerWarpOf(tiling) > 1 &&
         slabsPerWarpOf(tiling) * accumulatorRegistersPerSlab(op, tiling) >
             accumulatorRegisterBudget(op) &&
         tiling.numWarps < 16)
    tiling.numWarps *= 2;
  return tiling;
}

} // namespace mlir::attn::attn_to_gpu
