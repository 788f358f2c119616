// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-to-gpu

func.func @f32(%q: tensor<?x?x4x64xf32>, %k: tensor<?x?x4x64xf32>, %v: tensor<?x?x4x64xf32>) -> tensor<?x?x4x64xf32> {
  // expected-error @+1 {{the GPU kernel runs f16 and bf16 on tensor cores; 'f32' specs run on the CPU target}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(64, 64) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(sm_80)
      : tensor<?x?x4x64xf32>, tensor<?x?x4x64xf32>, tensor<?x?x4x64xf32> -> tensor<?x?x4x64xf32>
  return %o : tensor<?x?x4x64xf32>
}
