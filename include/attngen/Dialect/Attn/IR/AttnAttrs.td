//===- AttnAttrs.td - attn dialect attributes --------------*- tablegen -*-===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_TD
#define ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_TD

include "attngen/Dialect/Attn/IR/AttnDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_MaskKindAttr : I32EnumAttr<"MaskKind", "structural mask of the scores", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Causal", 1, "causal">
  ]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_CausalAlignAttr : I32EnumAttr<"CausalAlign",
    "how query rows line up with key columns when seqlen_q != seqlen_k", [
    I32EnumAttrCase<"BottomRight", 0, "bottom_right">,
    I32EnumAttrCase<"TopLeft", 1, "top_left">
  ]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_TargetAttr : I32EnumAttr<"Target", "code generation target", [
    I32EnumAttrCase<"SM80", 0, "sm_80">,
    I32EnumAttrCase<"SM90", 1, "sm_90">,
    I32EnumAttrCase<"CPU", 2, "cpu">
  ]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_TilingAttr : AttrDef<Attn_Dialect, "Tiling"> {
  let mnemonic = "tiling";
  let summary = "block sizes and pipeline depth of the tiled kernel";
  let description = [{
    `block_m` query rows and `block_n` key columns per tile; `num_warps`
    warps per CTA on the GPU (each warp owns 16-row slabs of the Q tile, so
    `block_m` is a multiple of `16 * num_warps`); `num_stages` the depth of the
    asynchronous copy pipeline on the GPU (1: none; 2: the next tile's K
    loads during the current tile; s >= 3: s - 2 tiles ahead, in a ring of
    s - 1 K and V buffers).

    ```mlir
    #attn.tiling<block_m = 128, block_n = 64, num_warps = 4, num_stages = 2>
    ```
  }];
  let parameters = (ins "int64_t":$block_m, "int64_t":$block_n,
                        "int64_t":$num_warps, "int64_t":$num_stages);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_RopeAttr : AttrDef<Attn_Dialect, "Rope"> {
  let mnemonic = "rope";
  let summary = "rotary position embedding of q and the appended keys";
  let description = [{
    Pair `p < rotary_dim / 2` of a row at position `pos` is rotated by the
    angle `pos * base^(-2p / rotary_dim)`:

    ```
    (x1, x2) <- (x1 cos - x2 sin, x2 cos + x1 sin)
    ```

    where `(x1, x2)` is `(x[p], x[p + rotary_dim / 2])` (GPT-NeoX, Llama) or,
    `interleaved`, `(x[2p], x[2p + 1])` (GPT-J). Columns from `rotary_dim`
    on are unchanged.

    ```mlir
    #attn.rope<base = 500000.0, rotary_dim = 128>
    #attn.rope<base = 10000.0, rotary_dim = 64, interleaved>
    ```
  }];
  let parameters = (ins "::llvm::APFloat":$base, "int64_t":$rotary_dim,
                        "bool":$interleaved);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_TD
