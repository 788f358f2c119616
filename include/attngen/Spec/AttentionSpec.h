//===- AttentionSpec.h - the attention spec model ---------------*- C++ -*-===//
//
// The in-memory form of a spec file (version 1). It is independent of MLIR:
// the parser fills it, SpecToIR turns it into an attn.attention op, and
// package manifests embed it as JSON.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_SPEC_ATTENTIONSPEC_H
#define ATTNGEN_SPEC_ATTENTIONSPEC_H

#include <cstdint>
#include <optional>
#include <string>

namespace attngen {

enum class ElementType { F32, F16, BF16 };
enum class MaskKind { None, Causal };
enum class CausalAlign { BottomRight, TopLeft };
enum class Target { SM80, SM90, CPU };

const char *toString(ElementType type);
const char *toString(MaskKind mask);
const char *toString(CausalAlign align);
const char *toString(Target target);

/// Block sizes and pipeline depth; see attngen/Support/TilingRules.h.
struct Tiling {
  int64_t blockM = 128;
  int64_t blockN = 64;
  int64_t numWarps = 4;
  int64_t numStages = 2;
  bool operator==(const Tiling &other) const;
};

/// Window bound meaning "no bound on this side".
constexpr int64_t kUnboundedWindow = -1;

struct AttentionSpec {
  int64_t version = 1;
  std::string name = "attention";
  ElementType dtype = ElementType::F16;
  int64_t headDim = 0;
  int64_t headDimV = 0;
  int64_t numQHeads = 0;
  int64_t numKvHeads = 0;
  MaskKind mask = MaskKind::None;
  CausalAlign causalAlign = CausalAlign::BottomRight;
  int64_t windowLeft = kUnboundedWindow;
  int64_t windowRight = kUnboundedWindow;
  int64_t sinkTokens = 0;
  /// Absent: 1/sqrt(head_dim).
  std::optional<double> scale;
  /// 0 = off; otherwise s = softcap * tanh(s / softcap).
  double softcap = 0.0;
  bool alibi = false;
  bool returnLse = false;
  /// Absent: "auto", the compiler picks per target.
  std::optional<Tiling> tiling;
  Target target = Target::SM80;

  /// The scale applied to q.k: the given one or 1/sqrt(head_dim).
  double effectiveScale() const;
  bool operator==(const AttentionSpec &other) const;
};

} // namespace attngen

#endif // ATTNGEN_SPEC_ATTENTIONSPEC_H
