//===- HostCpu.h - the CPU that CPU packages are compiled for ---*- C++ -*-===//
//
// CPU packages are compiled for the machine attngen runs on: its triple,
// CPU name and features, and the vector width its kernels are tiled with.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_BACKEND_CPU_HOSTCPU_H
#define ATTNGEN_BACKEND_CPU_HOSTCPU_H

#include <cstdint>
#include <memory>
#include <string>

namespace llvm {
class TargetMachine;
} // namespace llvm

namespace attngen {

struct HostCpu {
  std::string triple;
  /// LLVM's name of the CPU ("znver4") and its feature string
  /// ("+avx2,+fma,-avx512f,...").
  std::string name, features;
};

/// This machine's CPU.
HostCpu hostCpu();

/// LLVM's target machine for `cpu` as CPU packages are compiled for it
/// (position-independent code, -O3); null, with `error` set, where its
/// triple has no LLVM target here.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(const HostCpu &cpu,
                                                         std::string &error);

/// f32 lanes of the CPU kernels' vector ops (attn-tile's vector-width) for
/// `cpu` (an empty feature string: the CPU's own): the vector register
/// width LLVM prefers for it over 32 bits, 8 to 16 (8 where the triple has
/// no LLVM target here).
int64_t preferredF32VectorWidth(const HostCpu &cpu);

/// preferredF32VectorWidth for this machine's CPU: 16 where LLVM prefers
/// 512-bit registers (AMD Zen 4 and later: prefill 5-10% faster than with 8
/// lanes at head dims 64 and 128, f32 and bf16, one thread,
/// bench/cpu/README.md); 8 elsewhere, Intel's AVX-512 parts included, which
/// LLVM tunes for 256 bits.
int64_t hostF32VectorWidth();

} // namespace attngen

#endif // ATTNGEN_BACKEND_CPU_HOSTCPU_H
