// RUN: attn-opt %s -split-input-file --attn-tile="block-m=32 block-n=16 vector-width=16" | FileCheck %s
// RUN: not attn-opt %s -split-input-file --attn-tile="block-m=32 block-n=16 vector-width=32" 2>&1 | FileCheck %s --check-prefix=TOO-WIDE

// A vector-width past 16 is an error, also where a KV cache would take 8.
// TOO-WIDE: error: 'attn.attention' op vector-width must be a power of two in [1, 16] dividing block-n, got vector-width = 32, block-n = 16
// TOO-WIDE: error: 'attn.attention' op vector-width must be a power of two in [1, 16] dividing block-n, got vector-width = 32 (8 lanes with a KV cache), block-n = 16

// vector-width (the host's f32 lanes; attngen passes 16 on AVX-512
// machines) sets the lanes of the vector ops over keys and head_dim_v.
// CHECK-LABEL: func.func @prefill
// CHECK: vector<16xf32>
func.func @prefill(%q: tensor<?x?x2x16xf16>, %k: tensor<?x?x2x16xf16>, %v: tensor<?x?x2x16xf16>) -> tensor<?x?x2x16xf16> {
  %o = attn.attention %q, %k, %v heads(2, 2) head_dims(16, 16) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.25) softcap(0.0) target(cpu)
      : tensor<?x?x2x16xf16>, tensor<?x?x2x16xf16>, tensor<?x?x2x16xf16> -> tensor<?x?x2x16xf16>
  return %o : tensor<?x?x2x16xf16>
}

// -----

// KV-cache kernels take at most 8 lanes: their decode items (dot products
// along d, each reduced across lanes) ran 9% slower with 16.
// CHECK-LABEL: func.func @decode
// CHECK-NOT: vector<16xf32>
// CHECK: vector<8xf32>
// CHECK-NOT: vector<16xf32>
// CHECK: return
func.func @decode(%q: tensor<?x?x2x16xf16>, %k: tensor<?x?x2x16xf16>, %v: tensor<?x?x2x16xf16>, %l: tensor<?xi32>) -> tensor<?x?x2x16xf16> {
  %o = attn.attention %q, %k, %v cache_seqlens(%l : tensor<?xi32>) heads(2, 2) head_dims(16, 16) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.25) softcap(0.0) target(cpu)
      : tensor<?x?x2x16xf16>, tensor<?x?x2x16xf16>, tensor<?x?x2x16xf16> -> tensor<?x?x2x16xf16>
  return %o : tensor<?x?x2x16xf16>
}
