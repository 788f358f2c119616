// RUN: attn-opt %s --attn-exp2-to-nvvm | FileCheck %s

// f32 exp2 becomes the GPU's ex2.approx.ftz.f32, element by element for
// vectors (flattened, then reshaped); other element types are left alone.
// The rewrite is applied in one walk, without folding (the GPU pipeline's
// next canonicalization folds the casts).
// CHECK-LABEL: func.func @exp2_fragment
// CHECK: %[[FLAT:.+]] = vector.shape_cast %{{.+}} : vector<2x2xf32> to vector<4xf32>
// CHECK: %[[E0:.+]] = vector.extract %[[FLAT]][0] : f32 from vector<4xf32>
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%[[E0]]) : (f32) -> f32
// CHECK-COUNT-3: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%{{.+}}) : (f32) -> f32
// CHECK: %[[RESULT:.+]] = vector.from_elements %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : vector<4xf32>
// CHECK: vector.shape_cast %[[RESULT]] : vector<4xf32> to vector<2x2xf32>
// CHECK-NOT: math.exp2 %{{.+}} : vector<2x2xf32>
func.func @exp2_fragment(%x: vector<2x2xf32>) -> vector<2x2xf32> {
  %0 = math.exp2 %x : vector<2x2xf32>
  return %0 : vector<2x2xf32>
}

// CHECK-LABEL: func.func @exp2_scalar
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f32"(%{{.+}}) : (f32) -> f32
// CHECK: math.exp2 %{{.+}} : f16
func.func @exp2_scalar(%x: f32, %h: f16) -> (f32, f16) {
  %0 = math.exp2 %x : f32
  %1 = math.exp2 %h : f16
  return %0, %1 : f32, f16
}
