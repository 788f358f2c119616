// RUN: attn-opt %s -split-input-file -verify-diagnostics --attn-tile

// attn-tile rewrites whole spec-IR functions; other uses are reported.
func.func @not_returned(%q: tensor<?x?x4x8xf32>, %k: tensor<?x?x4x8xf32>, %v: tensor<?x?x4x8xf32>) {
  // expected-error @+1 {{attn-tile expects a function whose body is one attn.attention on its arguments, returned as is}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(8, 8) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32> -> tensor<?x?x4x8xf32>
  return
}
