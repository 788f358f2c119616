// RUN: attn-opt %s -split-input-file -verify-diagnostics

// kv heads must divide q heads
func.func @kv_heads_must_divide_q_heads(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x3x64xf16>, %v: tensor<?x?x3x64xf16>) {
  // expected-error @+1 {{num_kv_heads (3) must divide num_q_heads (8)}}
  %o = attn.attention %q, %k, %v heads(8, 3) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x3x64xf16>, tensor<?x?x3x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// head counts positive
func.func @head_counts_positive(%q: tensor<?x?x0x64xf16>, %k: tensor<?x?x0x64xf16>, %v: tensor<?x?x0x64xf16>) {
  // expected-error @+1 {{head counts must be positive, got num_q_heads = 0, num_kv_heads = 0}}
  %o = attn.attention %q, %k, %v heads(0, 0) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x0x64xf16>, tensor<?x?x0x64xf16>, tensor<?x?x0x64xf16> -> tensor<?x?x0x64xf16>
  return
}

// -----

// head dims positive
func.func @head_dims_positive(%q: tensor<?x?x8x0xf16>, %k: tensor<?x?x8x0xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{head dims must be positive, got head_dim = 0, head_dim_v = 64}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(0, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x0xf16>, tensor<?x?x8x0xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// window bounds >= -1
func.func @window_bounds_ge_1(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{window bounds must be >= -1 (-1 = unbounded), got (-2, 0)}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-2, 0) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// sinks >= 0
func.func @sinks_ge_0(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{sink_tokens must be >= 0, got -1}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(-1) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// scale > 0
func.func @scale_gt_0(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{scale must be finite and > 0, got 0}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// softcap >= 0
func.func @softcap_ge_0(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{softcap must be finite and >= 0 (0 = off), got -1}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(-1.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// element types agree
func.func @element_types_agree(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xbf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{key element type 'bf16' must match the query element type 'f16'}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xbf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// rank 4
func.func @rank_4(%q: tensor<?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{query must have rank 4, got 'tensor<?x8x64xf16>'}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// query head dim
func.func @query_head_dim(%q: tensor<?x?x8x32xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{query dimension 3 (head_dim) must be 64, got 32}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x32xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// dynamic head count
func.func @dynamic_head_count(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{query dimension 2 (num_q_heads) must be 8, got ?}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x?x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// value head dim
func.func @value_head_dim(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{value dimension 3 (head_dim_v) must be 32, got 64}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 32) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x32xf16>
  return
}

// -----

// batch agrees
func.func @batch_agrees(%q: tensor<2x?x8x64xf16>, %k: tensor<3x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{batch of key (3) does not match query (2)}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<2x?x8x64xf16>, tensor<3x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// seqlen_k agrees
func.func @seqlen_k_agrees(%q: tensor<?x?x8x64xf16>, %k: tensor<?x17x8x64xf16>, %v: tensor<?x18x8x64xf16>) {
  // expected-error @+1 {{seqlen_k of value (18) does not match key (17)}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x17x8x64xf16>, tensor<?x18x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// output seqlen_q
func.func @output_seqlen_q(%q: tensor<?x5x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{seqlen_q of output (6) does not match query (5)}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x5x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x6x8x64xf16>
  return
}

// -----

// lse shape
func.func @lse_shape(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{lse dimension 1 (num_q_heads) must be 8, got 4}}
  %o, %lse = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>, tensor<?x4x?xf32>
  return
}

// -----

// The tiling attribute checks its own invariants.
func.func @bad_tiling(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+2 {{num_warps must be at most block_m / 16 = 4 (each warp owns 16-row slabs of the Q tile)}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 64, num_warps = 8, num_stages = 2> target(sm_80)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

func.func @block_n_not_a_multiple_of_16(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+2 {{block_n must be a multiple of 16 in [16, 256]}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      tiling <block_m = 64, block_n = 40, num_warps = 4, num_stages = 2> target(sm_80)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// The log-sum-exp is f32 whatever the dtype.
func.func @lse_not_f32(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{result #1 must be ranked tensor of 32-bit float values}}
  %o, %lse = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>, tensor<?x8x?xf16>
  return
}

// -----

// Integer tensors are not attention inputs.
func.func @integer_query(%q: tensor<?x?x8x64xi8>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xi8>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// A page table without lengths has nothing to index.
func.func @table_without_lengths(%q: tensor<?x?x8x64xf16>, %k: tensor<?x16x8x64xf16>, %v: tensor<?x16x8x64xf16>, %t: tensor<?x?xi32>) {
  // expected-error @+1 {{a page_table needs cache_seqlens}}
  %o = attn.attention %q, %k, %v page_table(%t : tensor<?x?xi32>) page_size(16) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

func.func @table_without_page_size(%q: tensor<?x?x8x64xf16>, %k: tensor<?x16x8x64xf16>, %v: tensor<?x16x8x64xf16>, %l: tensor<?xi32>, %t: tensor<?x?xi32>) {
  // expected-error @+1 {{page_table and page_size go together}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x16x8x64xf16>, tensor<?x16x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// Paged K and V are pools of pages: their dimension 1 is the page size.
func.func @pages_of_another_size(%q: tensor<?x?x8x64xf16>, %k: tensor<?x32x8x64xf16>, %v: tensor<?x32x8x64xf16>, %l: tensor<?xi32>, %t: tensor<?x?xi32>) {
  // expected-error @+1 {{key dimension 1 (page_size) must be 16, got 32}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) page_size(16) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x32x8x64xf16>, tensor<?x32x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// One length per sequence of the batch.
func.func @lengths_of_another_batch(%q: tensor<2x?x8x64xf16>, %k: tensor<2x?x8x64xf16>, %v: tensor<2x?x8x64xf16>, %l: tensor<3xi32>) {
  // expected-error @+1 {{batch of cache_seqlens (3) does not match query (2)}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<3xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16> -> tensor<2x?x8x64xf16>
  return
}

// -----

func.func @one_split(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{split_kv must be 0 (chosen per call) or in [2, 64], got 1}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) split_kv(1) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// Packed sequences live in one batch entry.
func.func @varlen_batch(%q: tensor<2x?x8x64xf16>, %k: tensor<2x?x8x64xf16>, %v: tensor<2x?x8x64xf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) {
  // expected-error @+1 {{query of a variable-length batch must have dimension 0 (batch) = 1: sequences are packed along dimension 1}}
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16>, tensor<2x?x8x64xf16> -> tensor<2x?x8x64xf16>
  return
}

// -----

// New keys need a cache to go into.
func.func @append_without_cache(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{appending key_new/value_new needs a KV cache (cache_seqlens)}}
  %o = attn.attention %q, %k, %v append(%k, %v : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

// One new key per query.
func.func @append_seqlen(%q: tensor<2x3x8x64xf16>, %k: tensor<?x?x2x64xf16>, %v: tensor<?x?x2x64xf16>, %l: tensor<?xi32>, %kn: tensor<2x4x2x64xf16>, %vn: tensor<2x4x2x64xf16>) {
  // expected-error @+1 {{seqlen_q of key_new (4) does not match query (3)}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) append(%kn, %vn : tensor<2x4x2x64xf16>, tensor<2x4x2x64xf16>) heads(8, 2) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<2x3x8x64xf16>, tensor<?x?x2x64xf16>, tensor<?x?x2x64xf16> -> tensor<2x3x8x64xf16>
  return
}

// -----

func.func @rope_without_cache(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>) {
  // expected-error @+1 {{rope needs a KV cache (cache_seqlens): positions follow the cached keys}}
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 10000.0, rotary_dim = 64> target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

func.func @rope_too_wide(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>, %l: tensor<?xi32>) {
  // expected-error @+1 {{rope rotary_dim (128) must be at most head_dim (64)}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 10000.0, rotary_dim = 128> target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}

// -----

func.func @rope_odd(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>, %v: tensor<?x?x8x64xf16>, %l: tensor<?xi32>) {
  // expected-error @+1 {{rope rotary_dim must be even and >= 2, got 33}}
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 8) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 10000.0, rotary_dim = 33> target(cpu)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return
}
