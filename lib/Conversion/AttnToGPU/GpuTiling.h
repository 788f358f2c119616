//===- GpuTiling.h - the kernel's CTA tiling --------------------*- C++ -*-===//
//
// The attention kernel's tiling: Q rows per CTA (block_m), keys per KV tile
// (block_n), warps and pipeline stages; what `tiling: "auto"` picks per head
// dim and target, and the register budget that bounds a warp's slabs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_CONVERSION_ATTNTOGPU_GPUTILING_H
#define ATTNGEN_CONVERSION_ATTNTOGPU_GPUTILING_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Support/LLVM.h"

namespace mlir::attn::attn_to_gpu {

constexpr int64_t kWarpSize = 32;
/// The tensor-core MMA's shape: mma.sync m16n8k16 (A 16x16, B 16x8).
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;

struct GpuTiling {
  int64_t blockM, blockN, numWarps;
  /// 1: a tile's K and V are loaded when it starts; 2: K of the next tile
  /// is loaded while the current one finishes (FlashAttention-2's overlap);
  /// 3 and more: a ring of num_stages - 1 K and V buffers, tiles j + 1 ...
  /// j + num_stages - 2 in flight while tile j is computed.
  int64_t numStages;
};

/// Tile sizes given on the command line (attn-to-gpu's options); 0 keeps
/// the spec's or the automatic choice.
struct TilingOverrides {
  int64_t blockM = 0, blockN = 0, numWarps = 0, numStages = 0;
};

/// K and V buffers in shared memory: one each for num_stages 1 and 2, a
/// ring of num_stages - 1 for deeper pipelines.
int64_t kvBufferCountOf(const GpuTiling &tiling);

/// The most dynamic shared memory a CTA may opt in to on `target`'s GPUs
/// (A100: 163 KiB, H100: 227 KiB).
int64_t maxSharedMemoryBytes(Target target);

/// 16-row slabs of the Q tile per warp.
int64_t slabsPerWarpOf(const GpuTiling &tiling);

/// Whether head_dim or head_dim_v is not a multiple of the MMA's k (16):
/// the tiles then carry zero columns up to the next multiple.
bool hasPaddedColumns(AttentionOp op);

/// 32-bit registers of one 16-row slab's S and O accumulators (4 per 16x8
/// fragment).
int64_t accumulatorRegistersPerSlab(AttentionOp op, const GpuTiling &tiling);

/// Those of all a warp's slabs (accumulatorRegistersPerSlab per slab).
int64_t accumulatorRegistersPerWarp(AttentionOp op, const GpuTiling &tiling);

/// Whether a kernel of two slabs per warp with `tiling` keeps the branch
/// around O's rescaling that one-slab kernels have (FlashAttention-4's
/// lazy rescale): on sm_90, at most 144 accumulator registers (128 x 48 at
/// head dims 80 and 96, 128 x 64 at 80), no window or sinks. ptxas 13
/// assembles those without spills (make_ptxas_grid.py); with a window or
/// sinks they spilled 4-56 bytes, at 192 registers (128 x 64 at d128, 128
/// x 128 at d64) 8-24, and sm_80 sits at the edge (with a small change to
/// the swizzle's address arithmetic, 128 x 48 at d96 non-causal spilled
/// 4-12 bytes).
bool twoSlabsRescaleLazily(AttentionOp op, const GpuTiling &tiling);

/// CTAs per multiprocessor the kernel asks ptxas to make room for
/// (.minnctapersm), which caps its registers at 64 Ki / (CTAs * threads).
/// Where a warp's one slab has at most 80 accumulator registers, tiles at
/// most 64 keys and head dims are multiples of 16 up to 96 (64 x 64; 72 for
/// kernels with three of softcap or ALiBi, a window, sinks, varlen and
/// split-KV), and for one causal slab of 128 keys at head dims up to 64
/// (fitsWideCausalKeyTiles in GpuTiling.cpp): as many CTAs of 168 registers
/// per thread as `sharedBytes` per CTA leave room for. Else one
/// (FlashAttention-2's launch bounds), so that ptxas does not cap the registers
/// of the larger kernels and spill.
int64_t minCtasPerMultiprocessor(AttentionOp op, const GpuTiling &tiling,
                                 int64_t sharedBytes);

/// Whether keys are masked by more than seqlen_k (a causal mask, a window
/// or sink tokens): the kernel then has boundary tiles inside the sequence.
bool masksKeys(AttentionOp op);

/// The kernel's tiling: the spec's (or `tiling: "auto"`'s), with the
/// overrides, checked; where a warp's slabs would not fit the register
/// budget, more warps share the Q tile. Errors are reported on `op`.
FailureOr<GpuTiling> resolveTiling(AttentionOp op,
                                   const TilingOverrides &overrides);

} // namespace mlir::attn::attn_to_gpu

#endif // ATTNGEN_CONVERSION_ATTNTOGPU_GPUTILING_H
