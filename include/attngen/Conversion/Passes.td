//===- Passes.td - attngen conversion passes ---------------*- tablegen -*-===//

#ifndef ATTNGEN_CONVERSION_PASSES_TD
#define ATTNGEN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnToGPU : Pass<"attn-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower attn.attention to a tensor-core GPU kernel (gpu.module)";
  let description = [{
    Rewrites each spec-IR function (one `attn.attention` on its arguments,
    as `attngen compile --emit spec-ir` produces) into a `gpu.func` kernel in
    the `gpu.module @attn_kernels`:

    ```
    gpu.func @name(%q, %k, %v, %o, %lse, %alibi_slopes) kernel
    grid (ceil(seqlen_q / block_m), num_q_heads, batch), block (32 * num_warps)
    ```

    One CTA per (Q tile, q head, batch); causal kernels take the Q tiles
    in reverse order of block index, the heaviest first. Each warp owns
    16-row slabs of the Q tile and keeps their Q fragments in registers
    when the accumulators leave room (else re-reads them from shared
    memory with ldmatrix.x4).
    Q reaches shared memory by cp.async (its rows in 16-byte chunks; two-slab
    kernels with padded rows and head dims that are not multiples of 8 copy
    it synchronously), in flight together with the first KV tile's copies
    as in FlashAttention-2's prologue: where Q is read before the KV loops
    (its fragments kept in registers, RoPE), the first loop's head copies
    are issued before the wait for Q's group alone; else the first tile's
    wait covers Q too.
    Per KV tile, K and V are staged in shared memory by cp.async in
    separate groups, so V's transfer overlaps S and the softmax. Shared
    tiles are swizzled (FlashAttention-2's XOR of 16-byte chunks, rows whole
    and copied row by row; 32- or 16-column XOR windows where rows are
    not multiples of 64 columns) in one-slab
    kernels and in two-slab kernels whose head dims are not multiples of
    64; in the other two-slab kernels Q's rows are padded by 16 bytes, and
    K and V are swizzled for 64-key tiles with fixed-length batches on
    sm_90 (else padded too); either way ldmatrix is free of bank conflicts. With num_stages =
    2 (the default) each KV tile has FlashAttention-2's two barriers: one
    after K(j) has landed, before V(j) is issued (every warp is done with
    V(j - 1)), one after V(j) has landed, before K(j + 1) is issued (every
    warp has read K(j)), so the next tile's K loads during PV (within each
    loop of tiles). Two-slab kernels on sm_80 and varlen two-slab kernels
    keep four barriers per tile (with two, ptxas spilled 4 bytes there).
    With num_stages = s >= 3, K and V have a ring of s - 1 buffers each
    (tile t in buffer t % (s - 1)) and one barrier per tile: tiles j + 1
    ... j + s - 2 are in flight, a cp.async group each, while tile j is
    computed; tile j + s - 2 is issued into the buffer of tile j - 1 after
    the barrier that ends tile j - 1. Tilings whose shared memory passes
    the target's (163 KiB on sm_80, 227 KiB on sm_90) are refused.
    S = Q K^T and O += P V run on mma.sync m16n8k16 with f32 accumulators
    (nvgpu.mma.sync for f16; nvvm.mma.sync for bf16, which nvgpu does not
    lower), with ldmatrix.x4 for K (two key tiles per load, k16 step by k16
    step so one Q fragment per slab is live) and ldmatrix.x4.trans for V (two
    n8 columns per load). A warp with two slabs (block_m = 32 * num_warps)
    computes S for both at once and then O for both: every K and V fragment
    read from shared memory feeds both slabs' MMAs (FlashAttention-2's
    128-row tiles on 4 warps: half the shared-memory traffic per MMA).
    The online softmax
    stays in registers with warp shuffles across each quad of lanes for row
    max and sum (on the raw dot products when the score is a plain scaling,
    so that each probability is one FMA and one exp2), and P goes from the
    S accumulators, rounded pairwise, to the A fragments of the second MMA
    without touching shared memory. In one-slab kernels a row's softmax
    reference moves, and O is rescaled, only when some row of the warp
    outgrew it by more than 8 in log2 units (a vote.sync per tile;
    FlashAttention-4's conditional rescaling: P <= 2^8 is exact in the
    16-bit types), and each thread's K/V copies are unrolled; two-slab
    kernels, at the register ceiling, rescale every tile (on sm_90 those
    whose accumulators take at most 144 registers, without a window or
    sinks, rescale lazily as well) and copy in a loop, except tiles whose
    rows all exist (the loop over unmasked tiles, and with a mask the
    masked loop's tiles before seqlen_k's last, told apart at run time):
    K unrolled, one unchecked cp.async per 16 bytes, and on sm_90 V in an
    unchecked loop (in masked loops, below head_dim_v 128). The KV
    tiles come from
    the same MaskAnalysis as the CPU path: empty tiles are never loaded,
    only boundary tiles evaluate the mask, by comparing per-row bounds
    (clamped per row, then relative to the thread's first key in i32;
    seqlen_k folded into the
    mask's upper bound, one compare and one select per score, except in
    padded two-slab kernels and at head dims that are not multiples of 8,
    where the fold spilled) against each score's
    constant key offset. When a warp's slabs would need more accumulator
    registers than fit (192 for plain scores, head_dim == head_dim_v and
    block_n powers of two, 176 there for varlen or a KV cache at block_n
    128; 144 for other plain scores; 128 with softcap or ALiBi, for
    rings of three stages or more and for a KV cache with a window; 112
    with sink tokens, or a window or padded head dims and a ring; none
    above head dim 128; measured with ptxas), num_warps is raised so that more warps share the Q tile (at 16
    warps, with 128 registers per thread, a kernel whose accumulators pass
    half the budget is an error instead of a spilling kernel, and so is one
    slab per warp of more than 160 accumulator registers). The
    launch bounds (`nvvm.minctasm`) ask for one CTA per multiprocessor, so
    that ptxas does not cap the registers of the larger kernels and spill;
    one slab per warp of at most 64 keys and 80 accumulator registers with
    head dims that are multiples of 16 up to 96 (64 x 64 tiles; at head
    dims 81-96 with at most two of softcap or ALiBi, a window, sinks,
    varlen and split-KV), and one causal slab of 128 keys at head dims up
    to 64 (plain scores, no window or sinks, fixed lengths, no KV cache,
    two stages or more), ask for as many CTAs as shared memory holds, up
    to three of 4 warps (168 registers).
    Shared memory is dynamic (its size is the `attn.shared_memory_bytes`
    attribute of the kernel); the resolved tiling is `attn.tile_sizes`
    (block_m, block_n, num_warps) and `attn.num_stages`, which packages
    carry into their manifest.
  }];
  let options = [
    Option<"blockM", "block-m", "int64_t", /*default=*/"0",
           "Query rows per CTA (0: the spec's tiling, or auto)">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "Keys per KV tile (0: the spec's tiling, or auto)">,
    Option<"numWarps", "num-warps", "int64_t", /*default=*/"0",
           "Warps per CTA (0: the spec's tiling, or auto)">,
    Option<"numStages", "num-stages", "int64_t", /*default=*/"0",
           "1: load a tile's K and V when it starts; 2: load the next "
           "tile's K during the current one; s >= 3: a ring of s - 1 K and "
           "V buffers, s - 2 tiles ahead (0: the spec's tiling, or 2)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTNGEN_CONVERSION_PASSES_TD
