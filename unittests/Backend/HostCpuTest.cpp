//===- HostCpuTest.cpp - the CPU kernels' vector width
//---------------------===//
//
// preferredF32VectorWidth follows LLVM's preferred vector register width
// for a CPU: 16 lanes where it prefers 512 bits (Zen 4), 8 for 256 bits
// (Intel's AVX-512 parts, tuned for 256; AVX2) and at least 8 below.
//
//===----------------------------------------------------------------------===//

#include "attngen/Backend/Cpu/HostCpu.h"

#include "gtest/gtest.h"

namespace {

using attngen::HostCpu;
using attngen::preferredF32VectorWidth;

/// An x86-64 CPU by LLVM's name, with its own features.
HostCpu x86Cpu(const char *name) {
  return {"x86_64-unknown-linux-gnu", name, ""};
}

TEST(HostCpu, VectorWidthFollowsLlvmsPreferredRegisterWidth) {
  if (attngen::hostCpu().triple.rfind("x86_64", 0) != 0) {
    GTEST_SKIP() << "LLVM's X86 target is registered only on x86-64 hosts";
  }
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("znver4")), 16);
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("znver5")), 16);
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("skylake-avx512")), 8);
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("sapphirerapids")), 8);
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("haswell")), 8);
  // SSE2 only (128-bit registers): still 8 lanes, as before.
  EXPECT_EQ(preferredF32VectorWidth(x86Cpu("x86-64")), 8);
  // Zen 4 without AVX-512 (a VM that hides it): 256 bits.
  EXPECT_EQ(preferredF32VectorWidth(
                {"x86_64-unknown-linux-gnu", "znver4", "-avx512f"}),
            8);
}

TEST(HostCpu, UnknownTargetsGetEightLanes) {
  EXPECT_EQ(preferredF32VectorWidth({"nonsense-unknown-none", "x", ""}), 8);
}

TEST(HostCpu, HostWidthIsThePreferredOne) {
  int64_t lanes = attngen::hostF32VectorWidth();
  EXPECT_TRUE(lanes == 8 || lanes == 16) << lanes;
  EXPECT_EQ(lanes, preferredF32VectorWidth(attngen::hostCpu()));
}

} // namespace
