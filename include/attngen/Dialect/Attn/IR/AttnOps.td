//===- AttnOps.td - attn dialect ops -----------------------*- tablegen -*-===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_TD
#define ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_TD

include "attngen/Dialect/Attn/IR/AttnDialect.td"
include "attngen/Dialect/Attn/IR/AttnAttrs.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// A signless i64 attribute read back as a signed int64_t (window bounds use -1).
def Attn_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                                "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

def Attn_AttentionOp : Attn_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "fused scaled dot-product attention of one variant";
  let description = [{
    Computes, for every batch `b`, query head `h` and query row `i`:

    ```
    s_ij  = scale * q_i . k_j                      (f32)
    s_ij  = softcap * tanh(s_ij / softcap)         if softcap > 0
    s_ij += -slope_h * |i + off - j|               if alibi
    p_ij  = exp(s_ij - max_j s_ij) over visible j
    o_i   = sum_j p_ij v_j / sum_j p_ij            (0 if no key is visible)
    lse_i = log(sum_j exp(s_ij))                   (-inf if no key is visible)
    ```

    Layout is BSHD: `query` is `[batch, seqlen_q, num_q_heads, head_dim]`,
    `key` is `[batch, seqlen_k, num_kv_heads, head_dim]`, `value` is
    `[batch, seqlen_k, num_kv_heads, head_dim_v]`, the output is
    `[batch, seqlen_q, num_q_heads, head_dim_v]` and the optional second
    result, the log-sum-exp, is `[batch, num_q_heads, seqlen_q]` in f32.
    Query head `h` reads kv head `h / (num_q_heads / num_kv_heads)`.

    Key `j` is visible to query `i` iff

    ```
    off      = seqlen_k - seqlen_q   (bottom_right) or 0 (top_left)
    left_ok  = window_left  == -1 or j >= i + off - window_left
    right_ok = window_right == -1 or j <= i + off + window_right
    visible  = (left_ok or j < sink_tokens) and right_ok
    ```

    where `mask = causal` intersects the window with `(-1, 0)`.
    `tiling` is absent when the compiler picks the tile sizes per target.
    `split_kv` (N in [2, 64], or 0 = chosen per call) computes each row
    tile's keys in N chunks of whole KV tiles whose partial outputs are
    merged by their log-sum-exp (flash-decoding); the result is the same.

    KV cache (decode and chunked prefill against a cache): with
    `cache_seqlens` (`[batch]`, i32), sequence `b` attends to its first
    `cache_seqlens[b]` keys, and `seqlen_k` in the mask rule above is
    `cache_seqlens[b]`. Without `page_table`, `key` and `value` are
    contiguous caches `[batch, capacity, num_kv_heads, head_dim(_v)]`
    (`cache_seqlens[b] <= capacity`). With `page_table` (`[batch,
    max_pages]`, i32) and `page_size`, they are page pools `[num_pages,
    page_size, num_kv_heads, head_dim(_v)]` and key `j` of sequence `b` is row
    `j % page_size` of page `page_table[b, j / page_size]`.

    Appending (`key_new`, `value_new`, `[batch, seqlen_q, num_kv_heads,
    head_dim(_v)]`): sequence `b` attends to its `cache_seqlens[b]` cached
    keys followed by its `seqlen_q` new ones, so `seqlen_k` is
    `cache_seqlens[b] + seqlen_q`. Kernels store the new rows into the cache
    at rows `cache_seqlens[b] + j` (the engine's cache is updated in place;
    `cache_seqlens` itself is not) and attend to the cache.

    `rope`: q row `i` is rotated at position `seqlen_k - seqlen_q + i` and
    new key `j` at `cache_seqlens[b] + j` (see `#attn.rope`); cached keys
    are stored rotated.

    Variable-length batches (`cu_seqlens_q`, `cu_seqlens_k`, `[batch + 1]`,
    i32, non-decreasing from 0): the sequences are packed along dimension 1
    of `query`, `key`, `value`, the output and the LSE, whose batch
    dimension is 1; sequence `b` has queries `cu_seqlens_q[b]` to
    `cu_seqlens_q[b + 1] - 1` and keys `cu_seqlens_k[b]` to
    `cu_seqlens_k[b + 1] - 1`, and the mask rule applies to each sequence
    with its own `seqlen_q` and `seqlen_k`. With a KV cache (vLLM's mixed
    prefill/decode batches), there is no `cu_seqlens_k`: sequence `b`'s keys
    are its cache's first `cache_seqlens[b]` rows (contiguous caches keep
    their `[batch, capacity, ...]` shape).

    Example (Llama-3-8B prefill, causal GQA):

    ```mlir
    %o, %lse = attn.attention %q, %k, %v heads(32, 8) head_dims(128, 128)
        mask(causal, bottom_right) window(-1, -1) sinks(0)
        scale(0.0883883461) softcap(0.0)
        tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2>
        target(sm_80)
        : tensor<?x?x32x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
        -> tensor<?x?x32x128xbf16>, tensor<?x32x?xf32>
    ```
  }];

  let arguments = (ins
    RankedTensorOf<[F32, F16, BF16]>:$query,
    RankedTensorOf<[F32, F16, BF16]>:$key,
    RankedTensorOf<[F32, F16, BF16]>:$value,
    Optional<RankedTensorOf<[I32]>>:$cache_seqlens,
    Optional<RankedTensorOf<[I32]>>:$page_table,
    Optional<RankedTensorOf<[I32]>>:$cu_seqlens_q,
    Optional<RankedTensorOf<[I32]>>:$cu_seqlens_k,
    Optional<RankedTensorOf<[F32, F16, BF16]>>:$key_new,
    Optional<RankedTensorOf<[F32, F16, BF16]>>:$value_new,
    Attn_I64Attr:$num_q_heads,
    Attn_I64Attr:$num_kv_heads,
    Attn_I64Attr:$head_dim,
    Attn_I64Attr:$head_dim_v,
    Attn_MaskKindAttr:$mask,
    Attn_CausalAlignAttr:$causal_align,
    Attn_I64Attr:$window_left,
    Attn_I64Attr:$window_right,
    Attn_I64Attr:$sink_tokens,
    F32Attr:$scale,
    F32Attr:$softcap,
    UnitAttr:$alibi,
    OptionalAttr<Attn_RopeAttr>:$rope,
    OptionalAttr<Attn_I64Attr>:$page_size,
    OptionalAttr<Attn_I64Attr>:$split_kv,
    OptionalAttr<Attn_TilingAttr>:$tiling,
    Attn_TargetAttr:$target
  );
  let results = (outs
    RankedTensorOf<[F32, F16, BF16]>:$output,
    Optional<RankedTensorOf<[F32]>>:$lse
  );

  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`cache_seqlens` `(` $cache_seqlens^ `:` type($cache_seqlens) `)`)?
    (`page_table` `(` $page_table^ `:` type($page_table) `)`)?
    (`page_size` `(` $page_size^ `)`)?
    (`cu_seqlens_q` `(` $cu_seqlens_q^ `:` type($cu_seqlens_q) `)`)?
    (`cu_seqlens_k` `(` $cu_seqlens_k^ `:` type($cu_seqlens_k) `)`)?
    (`append` `(` $key_new^ `,` $value_new `:` type($key_new) `,` type($value_new) `)`)?
    `heads` `(` $num_q_heads `,` $num_kv_heads `)`
    `head_dims` `(` $head_dim `,` $head_dim_v `)`
    `mask` `(` $mask `,` $causal_align `)`
    `window` `(` $window_left `,` $window_right `)`
    `sinks` `(` $sink_tokens `)`
    `scale` `(` $scale `)`
    `softcap` `(` $softcap `)`
    (`alibi` $alibi^)?
    (`rope` $rope^)?
    (`split_kv` `(` $split_kv^ `)`)?
    (`tiling` $tiling^)?
    `target` `(` $target `)`
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type(results)
  }];

  let extraClassDeclaration = [{
    /// Query heads that share one kv head (1 for MHA, num_q_heads for MQA).
    int64_t getGroupSize() { return getNumQHeads() / getNumKvHeads(); }
    /// Whether the op returns the log-sum-exp of each query row.
    bool returnsLse() { return getLse() != nullptr; }
    /// Whether keys come from a KV cache with per-sequence lengths.
    bool hasKvCache() { return getCacheSeqlens() != nullptr; }
    /// Whether the KV cache is paged.
    bool isPaged() { return getPageTable() != nullptr; }
    /// Whether kernels pack the q heads of one kv head into one tile's rows,
    /// row = query * group + head % group (KV caches: decode and chunked
    /// prefill have few queries, and each K/V tile is then loaded once per
    /// group).
    bool packsGqa() { return hasKvCache() && getGroupSize() > 1; }
    /// Whether sequences of different lengths are packed (cu_seqlens).
    bool isVarlen() { return getCuSeqlensQ() != nullptr; }
    /// Whether the call appends new keys/values to the KV cache first.
    bool appendsKv() { return getKeyNew() != nullptr; }
  }];

  let hasVerifier = 1;
}

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_TD
