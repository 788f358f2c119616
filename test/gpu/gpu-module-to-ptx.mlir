// attn-gpu-module-to-ptx: each gpu.module becomes a gpu.binary holding the
// PTX of LLVM's NVPTX code generator for the module's #nvvm.target.
// RUN: attn-opt %s -split-input-file --attn-gpu-module-to-ptx -verify-diagnostics | FileCheck %s

// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK-NOT: gpu.module
// CHECK: gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">, assembly = "{{.*}}.version 8.0\0A.target sm_90\0A{{.*}}.visible .entry scale({{.*}}mul.rn.f32{{.*}}">]
module attributes {gpu.container_module} {
  gpu.module @kernels [#nvvm.target<chip = "sm_90", features = "+ptx80">] {
    llvm.func @scale(%arg0: !llvm.ptr<1>, %arg1: f32) attributes {gpu.kernel, nvvm.kernel} {
      %0 = llvm.load %arg0 : !llvm.ptr<1> -> f32
      %1 = llvm.fmul %0, %arg1 : f32
      llvm.store %1, %arg0 : f32, !llvm.ptr<1>
      llvm.return
    }
  }
}

// -----

// Without an #nvvm.target there is no chip to generate for: a clear error.
module attributes {gpu.container_module} {
  // expected-error @+1 {{gpu.module @untargeted has no #nvvm.target}}
  gpu.module @untargeted {
    llvm.func @empty() attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}
