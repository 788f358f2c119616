//===- VisibilityTest.cpp - mask visibility, FLOP counts, ALiBi slopes ----===//

#include "attngen/Spec/AttentionSpec.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace attngen;

namespace {

/// Brute force over every (i, j), from the DESIGN rule written out again.
int64_t bruteForcePairs(const AttentionSpec &spec, int64_t sq, int64_t sk) {
  int64_t pairs = 0;
  for (int64_t i = 0; i < sq; ++i) {
    for (int64_t j = 0; j < sk; ++j) {
      pairs += isVisible(spec, i, j, sq, sk);
    }
  }
  return pairs;
}

TEST(Visibility, DesignRuleExamples) {
  AttentionSpec causal;
  causal.mask = MaskKind::Causal;
  // Bottom-right: the last query sees every key; with seqlen_q > seqlen_k
  // the first rows see nothing.
  EXPECT_TRUE(isVisible(causal, 2, 9, 3, 10));
  EXPECT_FALSE(isVisible(causal, 0, 9, 3, 10));
  EXPECT_TRUE(isVisible(causal, 0, 7, 3, 10));
  EXPECT_FALSE(isVisible(causal, 0, 0, 10, 3));
  causal.causalAlign = CausalAlign::TopLeft;
  EXPECT_TRUE(isVisible(causal, 0, 0, 3, 10));
  EXPECT_FALSE(isVisible(causal, 0, 1, 3, 10));

  AttentionSpec window;
  window.mask = MaskKind::Causal;
  window.windowLeft = 2;
  window.sinkTokens = 1;
  // Row 5 (square): keys 3..5 from the window, key 0 as a sink.
  EXPECT_TRUE(isVisible(window, 5, 0, 8, 8));
  EXPECT_FALSE(isVisible(window, 5, 1, 8, 8));
  EXPECT_TRUE(isVisible(window, 5, 3, 8, 8));
  EXPECT_FALSE(isVisible(window, 5, 6, 8, 8));
  // Sinks still obey the causal bound: row 0 sees only key 0.
  EXPECT_FALSE(isVisible(window, 0, 1, 8, 8));
}

TEST(Visibility, CountMatchesBruteForce) {
  for (MaskKind mask : {MaskKind::None, MaskKind::Causal}) {
    for (CausalAlign align : {CausalAlign::BottomRight, CausalAlign::TopLeft}) {
      for (auto [left, right, sinks] :
           {std::make_tuple(-1, -1, 0), std::make_tuple(5, -1, 0),
            std::make_tuple(-1, 3, 0), std::make_tuple(7, 2, 3),
            std::make_tuple(0, 0, 2), std::make_tuple(40, 40, 50)}) {
        AttentionSpec spec;
        spec.mask = mask;
        spec.causalAlign = align;
        spec.windowLeft = left;
        spec.windowRight = right;
        spec.sinkTokens = sinks;
        for (auto [sq, sk] : {std::make_pair(1, 1), std::make_pair(17, 33),
                              std::make_pair(33, 17), std::make_pair(64, 64),
                              std::make_pair(0, 5), std::make_pair(5, 0)}) {
          EXPECT_EQ(countVisiblePairs(spec, sq, sk),
                    bruteForcePairs(spec, sq, sk))
              << "mask " << toString(mask) << " " << toString(align)
              << " window (" << left << ", " << right << ") sinks " << sinks
              << " " << sq << "x" << sk;
        }
      }
    }
  }
}

TEST(AlibiSlopes, PowerOfTwoAndOtherHeadCounts) {
  std::vector<float> eight = defaultAlibiSlopes(8);
  ASSERT_EQ(eight.size(), 8u);
  for (int h = 0; h < 8; ++h) {
    EXPECT_FLOAT_EQ(eight[h], std::pow(2.0f, -(h + 1.0f)));
  }
  // 12 heads: the 8-head slopes, then 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
  std::vector<float> twelve = defaultAlibiSlopes(12);
  ASSERT_EQ(twelve.size(), 12u);
  EXPECT_FLOAT_EQ(twelve[8], std::pow(2.0f, -0.5f));
  EXPECT_FLOAT_EQ(twelve[11], std::pow(2.0f, -3.5f));
}

} // namespace
