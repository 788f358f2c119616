// RUN: attn-opt %s -split-input-file --attn-approximate-math | FileCheck %s

// exp2(x) = p(f) * 2^n with x clamped to [-127, 127], n = x rounded to
// the nearest integer by adding and subtracting 1.5 * 2^23, f = x - n, p the
// degree-6 Taylor polynomial of e^(f ln 2) in Horner form, and 2^n built in
// the exponent bits: bitcast((n + 127) << 23).
// CHECK-LABEL: func.func @exp2_vector
// CHECK-SAME: (%[[X:.+]]: vector<8xf32>)
// CHECK-DAG: %[[LO:.+]] = arith.constant dense<-1.270000e+02> : vector<8xf32>
// CHECK-DAG: %[[HI:.+]] = arith.constant dense<1.270000e+02> : vector<8xf32>
// CHECK-DAG: %[[MAGIC:.+]] = arith.constant dense<0x4B400000> : vector<8xf32>
// CHECK: %[[CLAMPLO:.+]] = arith.maximumf %[[X]], %[[LO]]
// CHECK: %[[CLAMP:.+]] = arith.minimumf %[[CLAMPLO]], %[[HI]]
// CHECK: %[[SHIFTED:.+]] = arith.addf %[[CLAMP]], %[[MAGIC]]
// CHECK: %[[N:.+]] = arith.subf %[[SHIFTED]], %[[MAGIC]]
// CHECK: %[[F:.+]] = arith.subf %[[CLAMP]], %[[N]]
// CHECK-COUNT-6: math.fma %{{.+}}, %[[F]], %{{.+}} : vector<8xf32>
// CHECK: %[[NI:.+]] = arith.fptosi %[[N]] : vector<8xf32> to vector<8xi32>
// CHECK: %[[BIASED:.+]] = arith.addi %[[NI]]
// CHECK: %[[BITS:.+]] = arith.shli %[[BIASED]]
// CHECK: %[[SCALE:.+]] = arith.bitcast %[[BITS]] : vector<8xi32> to vector<8xf32>
// CHECK: arith.mulf %{{.+}}, %[[SCALE]]
// CHECK-NOT: math.exp2
func.func @exp2_vector(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.exp2 %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// -----

// Scalars too; tanh becomes MLIR's polynomial approximation.
// CHECK-LABEL: func.func @scalar_exp2_and_tanh
// CHECK: arith.constant 0x4B400000 : f32
// CHECK-NOT: math.exp2
// CHECK-NOT: math.tanh
func.func @scalar_exp2_and_tanh(%x: f32) -> (f32, f32) {
  %0 = math.exp2 %x : f32
  %1 = math.tanh %x : f32
  return %0, %1 : f32, f32
}

// -----

// Other element types are left alone.
// CHECK-LABEL: func.func @f64_untouched
// CHECK: math.exp2 %{{.+}} : f64
func.func @f64_untouched(%x: f64) -> f64 {
  %0 = math.exp2 %x : f64
  return %0 : f64
}

// -----

// exp2=false (the GPU pipeline): exp2 stays for NVPTX's ex2.approx.f32;
// log2 is still replaced.
// RUN: attn-opt %s -split-input-file --attn-approximate-math=exp2=false | FileCheck %s --check-prefix=KEEP
// KEEP-LABEL: func.func @exp2_kept
// KEEP: math.exp2 %{{.+}} : vector<4xf32>
// KEEP-NOT: math.log2
func.func @exp2_kept(%x: vector<4xf32>) -> (vector<4xf32>, vector<4xf32>) {
  %0 = math.exp2 %x : vector<4xf32>
  %1 = math.log2 %x : vector<4xf32>
  return %0, %1 : vector<4xf32>, vector<4xf32>
}
