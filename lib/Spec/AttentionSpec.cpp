//===- AttentionSpec.cpp - the attention spec model -----------------------===//

#include "attngen/Spec/AttentionSpec.h"

#include <algorithm>
#include <cmath>

namespace attngen {

const char *toString(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F16:
    return "f16";
  case ElementType::BF16:
    return "bf16";
  }
  return "?";
}

const char *toString(MaskKind mask) {
  return mask == MaskKind::Causal ? "causal" : "none";
}

const char *toString(CausalAlign align) {
  return align == CausalAlign::TopLeft ? "top_left" : "bottom_right";
}

const char *toString(Target target) {
  switch (target) {
  case Target::SM80:
    return "sm_80";
  case Target::SM90:
    return "sm_90";
  case Target::CPU:
    return "cpu";
  }
  return "?";
}

const char *toString(KvCacheLayout layout) {
  switch (layout) {
  case KvCacheLayout::None:
    return "none";
  case KvCacheLayout::Contiguous:
    return "contiguous";
  case KvCacheLayout::Paged:
    return "paged";
  }
  return "?";
}

bool KvCache::operator==(const KvCache &other) const {
  return layout == other.layout && pageSize == other.pageSize &&
         append == other.append;
}

bool Rope::operator==(const Rope &other) const {
  return base == other.base && rotaryDim == other.rotaryDim &&
         interleaved == other.interleaved;
}

bool Tiling::operator==(const Tiling &other) const {
  return blockM == other.blockM && blockN == other.blockN &&
         numWarps == other.numWarps && numStages == other.numStages;
}

double AttentionSpec::effectiveScale() const {
  return scale ? *scale : 1.0 / std::sqrt(static_cast<double>(headDim));
}

bool AttentionSpec::operator==(const AttentionSpec &other) const {
  return version == other.version && name == other.name &&
         dtype == other.dtype && headDim == other.headDim &&
         headDimV == other.headDimV && numQHeads == other.numQHeads &&
         numKvHeads == other.numKvHeads && mask == other.mask &&
         causalAlign == other.causalAlign && windowLeft == other.windowLeft &&
         windowRight == other.windowRight && sinkTokens == other.sinkTokens &&
         scale == other.scale && softcap == other.softcap &&
         alibi == other.alibi && returnLse == other.returnLse &&
         kvCache == other.kvCache && rope == other.rope &&
         varlen == other.varlen && splitKv == other.splitKv &&
         tiling == other.tiling && target == other.target;
}

bool isVisible(const AttentionSpec &spec, int64_t row, int64_t key,
               int64_t seqlenQ, int64_t seqlenK) {
  int64_t offset =
      spec.causalAlign == CausalAlign::BottomRight ? seqlenK - seqlenQ : 0;
  int64_t left = spec.windowLeft, right = spec.windowRight;
  if (spec.mask == MaskKind::Causal) {
    right = right == kUnboundedWindow ? 0 : std::min<int64_t>(right, 0);
  }
  bool leftOk = left == kUnboundedWindow || key >= row + offset - left;
  bool rightOk = right == kUnboundedWindow || key <= row + offset + right;
  return (leftOk || key < spec.sinkTokens) && rightOk;
}

int64_t countVisiblePairs(const AttentionSpec &spec, int64_t seqlenQ,
                          int64_t seqlenK) {
  int64_t offset =
      spec.causalAlign == CausalAlign::BottomRight ? seqlenK - seqlenQ : 0;
  int64_t left = spec.windowLeft, right = spec.windowRight;
  if (spec.mask == MaskKind::Causal) {
    right = right == kUnboundedWindow ? 0 : std::min<int64_t>(right, 0);
  }
  int64_t pairs = 0;
  for (int64_t row = 0; row < seqlenQ; ++row) {
    // Window keys [lo, hi] and sink keys [0, sinkEnd), clipped to the keys
    // that exist; the union counts their overlap once.
    int64_t lo = left == kUnboundedWindow
                     ? 0
                     : std::max<int64_t>(0, row + offset - left);
    int64_t hi = right == kUnboundedWindow
                     ? seqlenK - 1
                     : std::min<int64_t>(seqlenK - 1, row + offset + right);
    int64_t window = std::max<int64_t>(0, hi - lo + 1);
    int64_t sinkEnd =
        std::max<int64_t>(0, std::min({spec.sinkTokens, hi + 1, seqlenK}));
    int64_t overlap = std::max<int64_t>(0, std::min(sinkEnd - 1, hi) - lo + 1);
    pairs += window + sinkEnd - overlap;
  }
  return pairs;
}

std::vector<float> defaultAlibiSlopes(int64_t numHeads) {
  int64_t power = 1;
  while (power * 2 <= numHeads) {
    power *= 2;
  }
  std::vector<float> slopes;
  for (int64_t k = 1; k <= power; ++k) {
    slopes.push_back(static_cast<float>(std::exp2(-8.0 * k / power)));
  }
  for (int64_t k = 1; static_cast<int64_t>(slopes.size()) < numHeads; k += 2) {
    slopes.push_back(static_cast<float>(std::exp2(-4.0 * k / power)));
  }
  return slopes;
}

} // namespace attngen
