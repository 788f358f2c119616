//===- AttentionSpec.cpp - the attention spec model -----------------------===//

#include "attngen/Spec/AttentionSpec.h"

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
         tiling == other.tiling && target == other.target;
}

} // namespace attngen
