// RUN: attn-opt %s --attn-tile --attn-lower-to-llvm-cpu | FileCheck %s
// RUN: attngen compile %specs/softcap.json --target cpu --emit llvm -o - | FileCheck %s --check-prefix=LLVMIR

// The tiled kernel lowers completely to the LLVM dialect, with the C
// interface the CPU runtime calls: (q, k, v, o, lse, slopes, begin, end).
// CHECK-LABEL: llvm.func @causal(
// exp2 is a polynomial of the fraction times 2^round(x): no libm call.
// CHECK: llvm.mlir.constant(dense<0x4B400000> : vector<8xf32>)
// CHECK-NOT: llvm.call @exp
// CHECK-LABEL: llvm.func @_mlir_ciface_causal(
// CHECK-SAME: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: i64, %{{.+}}: i64)
// CHECK-NOT: scf.
// CHECK-NOT: memref.
func.func @causal(%q: tensor<?x?x4x8xbf16>, %k: tensor<?x?x2x8xbf16>, %v: tensor<?x?x2x8xbf16>) -> tensor<?x?x4x8xbf16> {
  %o = attn.attention %q, %k, %v heads(4, 2) head_dims(8, 8) mask(causal, bottom_right) window(-1, -1) sinks(0) scale(0.125) softcap(0.0) target(cpu)
      : tensor<?x?x4x8xbf16>, tensor<?x?x2x8xbf16>, tensor<?x?x2x8xbf16> -> tensor<?x?x4x8xbf16>
  return %o : tensor<?x?x4x8xbf16>
}

// LLVMIR: define void @softcap(
// LLVMIR: define void @_mlir_ciface_softcap(ptr
// softcap's tanh and softmax's exp2 are polynomials: no libm call.
// LLVMIR-NOT: call float @tanhf
// LLVMIR-NOT: call float @exp
