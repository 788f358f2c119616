//===- Passes.td - attngen transformation passes -----------*- tablegen -*-===//

#ifndef ATTNGEN_TRANSFORMS_PASSES_TD
#define ATTNGEN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnTile : Pass<"attn-tile", "::mlir::ModuleOp"> {
  let summary = "Tile attn.attention into a fused online-softmax loop nest";
  let description = [{
    Rewrites each function whose body is one `attn.attention` (the form
    `attngen compile --emit spec-ir` produces) into a kernel function on
    memrefs in destination-passing style:

    ```
    func.func @name(%q, %k, %v, %o, %lse, %alibi_slopes, %begin, %end)
    ```

    (the LSE and slope buffers are read or written only when the op has an
    LSE result or ALiBi) that computes work items `[begin, end)` of the flattened
    `(batch, q head, Q tile)` space, so a host splits the items over threads
    (and a GPU maps them to CTAs). Each item runs FlashAttention's online
    softmax over the KV tiles of its Q tile, with S = Q K^T in f32 and the
    log2(e) factor folded into the scale so that exponentials are exp2:

    ```
    m_new = max(m_old, rowmax(S))
    P     = exp2(S - m_new)            (rounded to the 16-bit dtype for P.V)
    l     = exp2(m_old - m_new) * l + rowsum(P)
    acc   = exp2(m_old - m_new) * acc + P V
    O     = acc / l,  LSE = (m + log2 l) * ln 2
    ```

    The KV tiles of a Q tile are classified from the mask (a union of key
    intervals whose bounds are monotone in the query index) into empty tiles,
    which no loop visits, fully visible tiles, which run without mask code,
    and boundary tiles, which evaluate the mask per element.

    Per KV tile, K is staged transposed and V as f32 for the item's blocks
    of 4 rows, while the next tile's K and V rows are prefetched (one
    prefetch per 64-byte line: a work item's rows are scattered over the
    cache). An item of at most 4 rows (decode) over a 16-bit K/V with head
    dims of whole vectors skips the staging, which it would use once: S by
    dot products along d straight from the cache, V vectors read in P V.
  }];
  let options = [
    Option<"blockM", "block-m", "int64_t", /*default=*/"0",
           "Query rows per tile (0: the spec's tiling, or 128 for auto)">,
    Option<"blockN", "block-n", "int64_t", /*default=*/"0",
           "Keys per tile (0: the spec's tiling, or 64 for auto)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes of the vector ops over keys and head_dim_v (a power "
           "of two, at most 16; block-n must be a multiple); KV-cache ops "
           "take at most 8">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def AttnApproximateMath : Pass<"attn-approximate-math"> {
  let summary = "Replace f32 exp2, log2 and tanh by vectorizable polynomials";
  let description = [{
    The softmax's exp2 and softcap's tanh would otherwise become libm calls,
    one per lane. exp2(x) becomes 2^round(x) (built in the exponent bits)
    times a degree-6 polynomial of the fraction (relative error < 1.3e-7,
    exactly 0 for x = -inf); log2 (for the LSE) is the exponent plus an
    odd series in (m - 1) / (m + 1) of the mantissa; tanh uses MLIR's
    polynomial approximation. All plain arith, on vectors or scalars, so the
    CPU object needs no libm and the PTX no libdevice.

    With exp2=false, exp2 stays: the GPU pipeline lowers it to the GPU's
    ex2.approx instruction instead (attn-exp2-to-nvvm).
  }];
  let options = [
    Option<"exp2", "exp2", "bool", /*default=*/"true",
           "Replace exp2 too (false: leave it for the GPU's ex2.approx)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def AttnExp2ToNvvm : Pass<"attn-exp2-to-nvvm"> {
  let summary = "Lower f32 exp2 to the GPU's ex2.approx.ftz.f32";
  let description = [{
    The softmax's exp2, one multifunction-unit instruction per score as in
    FlashAttention (exp2f under fast math): math.exp2 on f32 scalars or
    vectors becomes llvm.nvvm.ex2.approx.ftz.f32 calls, one per element
    (relative error about 2^-22; exp2(-inf) = 0 for masked scores;
    subnormal results flush to 0). Runs on GPU modules before their
    conversion to NVVM, which would otherwise make exp2 a libdevice call.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTNGEN_TRANSFORMS_PASSES_TD
