// RUN: attn-opt %s --attn-gpu-contract | FileCheck %s

// Every float arith op becomes contractible (kept flags are merged), so
// that NVPTX fuses s * scale - m into one fma.rn.f32; integer ops and math
// ops are left alone.
// CHECK-LABEL: func.func @softmax_step
// CHECK: arith.mulf %{{.+}}, %{{.+}} fastmath<contract> : f32
// CHECK: arith.subf %{{.+}}, %{{.+}} fastmath<nnan,contract> : f32
// CHECK: arith.addi %{{.+}}, %{{.+}} : i32
// CHECK: math.exp2 %{{.+}} : f32
func.func @softmax_step(%s: f32, %scale: f32, %m: f32, %i: i32) -> (f32, i32) {
  %scaled = arith.mulf %s, %scale : f32
  %shifted = arith.subf %scaled, %m fastmath<nnan> : f32
  %next = arith.addi %i, %i : i32
  %p = math.exp2 %shifted : f32
  return %p, %next : f32, i32
}
