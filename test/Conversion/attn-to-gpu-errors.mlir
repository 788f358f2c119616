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

// A pipeline whose K and V buffers pass the target's shared memory: d = 256
// at 64 x 64 with num_stages 8 needs Q 32 KiB + 7 x (32 + 32) KiB.
func.func @eight_stages(%q: tensor<?x?x4x256xf16>, %k: tensor<?x?x4x256xf16>, %v: tensor<?x?x4x256xf16>) -> tensor<?x?x4x256xf16> {
  // expected-error @+1 {{the GPU tiling (block_m = 64, block_n = 64, num_stages = 8) needs 491520 bytes of shared memory per CTA, more than the 232448 that sm_90 GPUs allow; use smaller blocks or fewer stages}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 8> target(sm_90)
      : tensor<?x?x4x256xf16>, tensor<?x?x4x256xf16>, tensor<?x?x4x256xf16> -> tensor<?x?x4x256xf16>
  return %o : tensor<?x?x4x256xf16>
}

// -----

// sm_80's limit is 163 KiB: d = 256 at 64 x 64 with num_stages 3 fits
// (160 KiB), 4 (224 KiB) only on sm_90.
func.func @four_stages_sm80(%q: tensor<?x?x4x256xf16>, %k: tensor<?x?x4x256xf16>, %v: tensor<?x?x4x256xf16>) -> tensor<?x?x4x256xf16> {
  // expected-error @+1 {{needs 229376 bytes of shared memory per CTA, more than the 166912 that sm_80 GPUs allow}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 4> target(sm_80)
      : tensor<?x?x4x256xf16>, tensor<?x?x4x256xf16>, tensor<?x?x4x256xf16> -> tensor<?x?x4x256xf16>
  return %o : tensor<?x?x4x256xf16>
}

// -----

// block_m 256 on 8 warps: two slabs of 4 x (8 + 10) accumulator registers
// each pass the 128 that ALiBi leaves, so 16 warps share the Q tile, and
// at 16 warps a thread has 128 registers (ptxas spilled 12 bytes here).
func.func @sixteen_warps(%q: tensor<?x?x4x80xbf16>, %k: tensor<?x?x4x80xbf16>, %v: tensor<?x?x4x80xbf16>) -> tensor<?x?x4x80xbf16> {
  // expected-error @+1 {{GPU tiling block_m = 256, block_n = 64 on 16 warps (raised from 8 so that each warp's slabs fit its registers) leaves 128 registers per thread, too few for 72 accumulator registers per warp (at most 64); use a smaller block_m or block_n}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(80, 80) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.11) softcap(0.0) alibi tiling <block_m = 256, block_n = 64, num_warps = 8, num_stages = 2> target(sm_90)
      : tensor<?x?x4x80xbf16>, tensor<?x?x4x80xbf16>, tensor<?x?x4x80xbf16> -> tensor<?x?x4x80xbf16>
  return %o : tensor<?x?x4x80xbf16>
}

// -----

// Asked for directly, the same limit.
func.func @sixteen_warps_asked(%q: tensor<?x?x4x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>) -> tensor<?x?x4x256xbf16> {
  // expected-error @+1 {{GPU tiling block_m = 256, block_n = 64 on 16 warps leaves 128 registers per thread, too few for 160 accumulator registers per warp (at most 96); use a smaller block_m or block_n}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 256, block_n = 64, num_warps = 16, num_stages = 1> target(sm_90)
      : tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x4x256xbf16>
  return %o : tensor<?x?x4x256xbf16>
}

// -----

// At 16 warps a small kernel fits (d32: 4 x (8 + 4) = 48 accumulator
// registers), with no error (-verify-diagnostics).
func.func @sixteen_warps_small(%q: tensor<?x?x4x32xbf16>, %k: tensor<?x?x4x32xbf16>, %v: tensor<?x?x4x32xbf16>) -> tensor<?x?x4x32xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(32, 32) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.17) softcap(0.0) tiling <block_m = 256, block_n = 64, num_warps = 16, num_stages = 2> target(sm_90)
      : tensor<?x?x4x32xbf16>, tensor<?x?x4x32xbf16>, tensor<?x?x4x32xbf16> -> tensor<?x?x4x32xbf16>
  return %o : tensor<?x?x4x32xbf16>
}

// -----

// Two slabs per warp above head dim 128 are raised to one per warp: 256 rows
// take 16 warps, whose 128 registers per thread are too few for head dim 192
// (ptxas spilled 172-240 bytes).
func.func @sixteen_warps_d192(%q: tensor<?x?x8x192xbf16>, %k: tensor<?x?x2x192xbf16>, %v: tensor<?x?x2x64xbf16>) -> tensor<?x?x8x64xbf16> {
  // expected-error @+1 {{GPU tiling block_m = 256, block_n = 80 on 16 warps (raised from 8 so that each warp's slabs fit its registers) leaves 128 registers per thread, too few for head dim 192 (at most 128); use a smaller block_m}}
  %o = attn.attention %q, %k, %v heads(8, 2) head_dims(192, 64) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(1.0) softcap(0.0) tiling <block_m = 256, block_n = 80, num_warps = 8, num_stages = 1> target(sm_90)
      : tensor<?x?x8x192xbf16>, tensor<?x?x2x192xbf16>, tensor<?x?x2x64xbf16> -> tensor<?x?x8x64xbf16>
  return %o : tensor<?x?x8x64xbf16>
}

// -----

// One slab per warp past 160 accumulator registers (4 * (12 + 32) = 176 for
// head dim 256 at 64 x 96; ptxas spilled 28-32 bytes on sm_90): no split
// helps, so it is an error.
func.func @one_slab_over_limit(%q: tensor<?x?x4x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>) -> tensor<?x?x4x256xbf16> {
  // expected-error @+1 {{GPU tiling block_m = 64, block_n = 96 on 4 warps gives a warp's one 16-row slab 176 accumulator registers, more than the 160 that fit in a thread's 255 without spilling; use a smaller block_n}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 64, block_n = 96, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x4x256xbf16>
  return %o : tensor<?x?x4x256xbf16>
}

// -----

// Two slabs raised to one per warp meet the same limit: 128 x 128 on 4 warps
// at head dim 256 becomes 8 warps of 4 * (16 + 32) = 192.
func.func @one_slab_raised_over_limit(%q: tensor<?x?x4x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>) -> tensor<?x?x4x256xbf16> {
  // expected-error @+1 {{GPU tiling block_m = 128, block_n = 128 on 8 warps (raised from 4 so that each warp's slabs fit its registers) gives a warp's one 16-row slab 192 accumulator registers, more than the 160 that fit in a thread's 255 without spilling; use a smaller block_n}}
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 128, block_n = 128, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x4x256xbf16>
  return %o : tensor<?x?x4x256xbf16>
}

// -----

// At the limit, 160 (head dim 256 at 64 x 64, auto's tiling), no error.
func.func @one_slab_at_limit(%q: tensor<?x?x4x256xbf16>, %k: tensor<?x?x4x256xbf16>, %v: tensor<?x?x4x256xbf16>) -> tensor<?x?x4x256xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 4) head_dims(256, 256) mask(none, bottom_right) window(-1, -1) sinks(0) scale(0.0625) softcap(0.0) tiling <block_m = 64, block_n = 64, num_warps = 4, num_stages = 2> target(sm_90)
      : tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16>, tensor<?x?x4x256xbf16> -> tensor<?x?x4x256xbf16>
  return %o : tensor<?x?x4x256xbf16>
}
