// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-to-gpu

func.func @f32(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x4x64xf32>, %v: tensor<?x?x4x64xf32>) -> tensor<?x?x4x64xf32> {
  // expected-error @+1 {{the GPU kernel runs f16 and bf16 on tensor cores; 'f32' specs run on the CPU target}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x4x64xf32>, tensor<?x?x4x64xf32>, tensor<?x?x4x64xf32> -> tensor<?x?x4x64xf32>
  return %o : tensor<?x?x4x64xf32>
}

// -----

// attn-to-gpu rewrites whole spec-IR functions; other uses are reported.
func.func @not_returned(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) {
  // expected-error @+1 {{attn-to-gpu expects a function whose body is one attn.attention on its arguments, returned as is}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return
}

// -----

// Deeper pipelines need more K/V buffers than the kernel has.
func.func @three_stages(%q: tensor<?x?x4x64xf16>, %k: tensor<?x?x4x64xf16>, %v: tensor<?x?x4x64xf16>) -> tensor<?x?x4x64xf16> {
  // expected-error @+1 {{num_stages = 3 needs more than one K and V buffer in shared memory, which the sm_80 kernel does not have yet; use 1 (no overlap) or 2 (the next tile's K loads during the current tile)}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 3> target(sm_80)
      : tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16>, tensor<?x?x4x64xf16> -> tensor<?x?x4x64xf16>
  return %o : tensor<?x?x4x64xf16>
}
