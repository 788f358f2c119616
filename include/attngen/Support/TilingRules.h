//===- TilingRules.h - what makes a tiling legal ----------------*- C++ -*-===//
//
// One statement of the tiling constraints, shared by the spec parser (which
// reports them against the JSON path) and the attn dialect's TilingAttr
// verifier (which reports them against the IR location).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_SUPPORT_TILINGRULES_H
#define ATTNGEN_SUPPORT_TILINGRULES_H

#include <cstdint>
#include <optional>
#include <string>

namespace attngen {

/// A violated tiling constraint: the offending field and what it must be.
struct TilingViolation {
  const char *field;
  std::string expected;
};

/// block_m is a power of two and block_n a multiple of 16, so that the GPU's
/// 16x8x16 MMA shapes (and ldmatrix.x4's pairs of 8-key tiles) and the CPU's
/// vector widths (up to 16) divide them; block_n need not be a power of two
/// (48 keys on 4 warps of two slabs keep head dim 96's accumulators in 144
/// registers, as FlashAttention-3 sizes its tiles by registers too); each
/// GPU warp owns 16-row slabs of the Q tile, so block_m is a multiple of 16 *
/// num_warps.
inline std::optional<TilingViolation> checkTiling(int64_t blockM,
                                                  int64_t blockN,
                                                  int64_t numWarps,
                                                  int64_t numStages) {
  auto isPowerOfTwoIn = [](int64_t value, int64_t lo, int64_t hi) {
    return value >= lo && value <= hi && (value & (value - 1)) == 0;
  };
  if (!isPowerOfTwoIn(blockM, 16, 256)) {
    return TilingViolation{"block_m", "a power of two in [16, 256]"};
  }
  if (blockN < 16 || blockN > 256 || blockN % 16 != 0) {
    return TilingViolation{"block_n", "a multiple of 16 in [16, 256]"};
  }
  if (!isPowerOfTwoIn(numWarps, 1, 16)) {
    return TilingViolation{"num_warps", "a power of two in [1, 16]"};
  }
  if (numStages < 1 || numStages > 8) {
    return TilingViolation{"num_stages", "an integer in [1, 8]"};
  }
  if (blockM % (16 * numWarps) != 0) {
    return TilingViolation{
        "num_warps", "at most block_m / 16 = " + std::to_string(blockM / 16) +
                         " (each warp owns 16-row slabs of the Q tile)"};
  }
  return std::nullopt;
}

} // namespace attngen

#endif // ATTNGEN_SUPPORT_TILINGRULES_H
