// RUN: attn-opt %s -split-input-file | FileCheck %s
// Round trip: the printed form parses back to the same op.
// RUN: attn-opt %s -split-input-file | attn-opt -split-input-file | FileCheck %s

// Causal GQA with the log-sum-exp and an explicit tiling.
// CHECK-LABEL: func.func @gqa_causal_lse
// CHECK: %{{.+}}, %{{.+}} = attn.attention %{{.+}}, %{{.+}}, %{{.+}} heads(32, 8) head_dims(128, 128)
// CHECK-SAME: mask(causal, bottom_right) window(-1, -1) sinks(0)
// CHECK-SAME: scale(0.0883883461) softcap(0.000000e+00)
// CHECK-SAME: tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2> target(sm_80)
// CHECK-SAME: -> tensor<?x?x32x128xbf16>, tensor<?x32x?xf32>
func.func @gqa_causal_lse(%q: tensor<?x?x32x128xbf16>, %k: tensor<?x?x8x128xbf16>,
                          %v: tensor<?x?x8x128xbf16>)
    -> (tensor<?x?x32x128xbf16>, tensor<?x32x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v heads(32, 8) head_dims(128, 128)
      mask(causal, bottom_right) window(-1, -1) sinks(0)
      scale(0.0883883461) softcap(0.0)
      tiling <block_m = 128, block_n = 64, num_warps = 4, num_stages = 2>
      target(sm_80)
      : tensor<?x?x32x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>
      -> tensor<?x?x32x128xbf16>, tensor<?x32x?xf32>
  return %o, %lse : tensor<?x?x32x128xbf16>, tensor<?x32x?xf32>
}

// -----

// Sliding window with sinks, softcap, ALiBi, dv != d, auto tiling (no
// tiling attribute), static shapes and top-left alignment.
// CHECK-LABEL: func.func @window_sinks_softcap_alibi
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} heads(4, 1) head_dims(96, 40)
// CHECK-SAME: mask(none, top_left) window(255, 16) sinks(4)
// CHECK-SAME: scale(1.250000e-01) softcap(3.000000e+01) alibi target(cpu)
// CHECK-NOT: tiling
// CHECK-SAME: -> tensor<2x113x4x40xf32>
func.func @window_sinks_softcap_alibi(%q: tensor<2x113x4x96xf32>, %k: tensor<2x203x1x96xf32>,
                                      %v: tensor<2x203x1x40xf32>) -> tensor<2x113x4x40xf32> {
  %o = attn.attention %q, %k, %v heads(4, 1) head_dims(96, 40)
      mask(none, top_left) window(255, 16) sinks(4)
      scale(0.125) softcap(30.0) alibi target(cpu)
      : tensor<2x113x4x96xf32>, tensor<2x203x1x96xf32>, tensor<2x203x1x40xf32>
      -> tensor<2x113x4x40xf32>
  return %o : tensor<2x113x4x40xf32>
}

// -----

// f16 MHA for sm_90.
// CHECK-LABEL: func.func @mha_f16_sm90
// CHECK: attn.attention {{.*}} heads(8, 8) head_dims(64, 64) {{.*}} target(sm_90) : tensor<?x?x8x64xf16>
func.func @mha_f16_sm90(%q: tensor<?x?x8x64xf16>, %k: tensor<?x?x8x64xf16>,
                        %v: tensor<?x?x8x64xf16>) -> tensor<?x?x8x64xf16> {
  %o = attn.attention %q, %k, %v heads(8, 8) head_dims(64, 64)
      mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0)
      target(sm_90)
      : tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16>, tensor<?x?x8x64xf16> -> tensor<?x?x8x64xf16>
  return %o : tensor<?x?x8x64xf16>
}

// -----

// KV caches: contiguous with per-sequence lengths, and paged.
// CHECK-LABEL: func.func @kv_caches
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} cache_seqlens(%{{.+}} : tensor<?xi32>) heads(8, 2)
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} cache_seqlens(%{{.+}} : tensor<?xi32>) page_table(%{{.+}} : tensor<?x?xi32>) page_size(16) heads(8, 2)
func.func @kv_caches(%q: tensor<?x?x8x64xbf16>, %k: tensor<?x?x2x64xbf16>, %v: tensor<?x?x2x64xbf16>, %pk: tensor<?x16x2x64xbf16>, %pv: tensor<?x16x2x64xbf16>, %l: tensor<?xi32>, %t: tensor<?x?xi32>) -> (tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>) {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x8x64xbf16>, tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16> -> tensor<?x?x8x64xbf16>
  %p = attn.attention %q, %pk, %pv cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) page_size(16) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x8x64xbf16>, tensor<?x16x2x64xbf16>, tensor<?x16x2x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o, %p : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @varlen
// CHECK: attn.attention %{{.+}}, %{{.+}}, %{{.+}} cu_seqlens_q(%{{.+}} : tensor<?xi32>) cu_seqlens_k(%{{.+}} : tensor<?xi32>) heads(8, 2)
func.func @varlen(%q: tensor<1x?x8x64xbf16>, %k: tensor<1x?x2x64xbf16>, %v: tensor<1x?x2x64xbf16>, %cq: tensor<?xi32>, %ck: tensor<?xi32>) -> tensor<1x?x8x64xbf16> {
  %o = attn.attention %q, %k, %v cu_seqlens_q(%cq : tensor<?xi32>) cu_seqlens_k(%ck : tensor<?xi32>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<1x?x8x64xbf16>, tensor<1x?x2x64xbf16>, tensor<1x?x2x64xbf16> -> tensor<1x?x8x64xbf16>
  return %o : tensor<1x?x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @append_rope
// CHECK: append(%{{.+}}, %{{.+}} : tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16>) heads(8, 2)
// CHECK-SAME: rope <base = 5.000000e+05, rotary_dim = 64> target(sm_80)
// CHECK: rope <base = 1.000000e+04, rotary_dim = 32, interleaved> target(cpu)
func.func @append_rope(%q: tensor<?x?x8x64xbf16>, %pk: tensor<?x16x2x64xbf16>, %pv: tensor<?x16x2x64xbf16>, %l: tensor<?xi32>, %t: tensor<?x?xi32>, %kn: tensor<?x?x2x64xbf16>, %vn: tensor<?x?x2x64xbf16>) -> (tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>) {
  %o = attn.attention %q, %pk, %pv cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) page_size(16) append(%kn, %vn : tensor<?x?x2x64xbf16>, tensor<?x?x2x64xbf16>) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 500000.0, rotary_dim = 64> target(sm_80)
      : tensor<?x?x8x64xbf16>, tensor<?x16x2x64xbf16>, tensor<?x16x2x64xbf16> -> tensor<?x?x8x64xbf16>
  %p = attn.attention %q, %pk, %pv cache_seqlens(%l : tensor<?xi32>) page_table(%t : tensor<?x?xi32>) page_size(16) heads(8, 2) head_dims(64, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) rope <base = 10000.0, rotary_dim = 32, interleaved> target(cpu)
      : tensor<?x?x8x64xbf16>, tensor<?x16x2x64xbf16>, tensor<?x16x2x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o, %p : tensor<?x?x8x64xbf16>, tensor<?x?x8x64xbf16>
}
