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
#include <vector>

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

/// Where keys and values come from: the call's K/V tensors (none), or a KV
/// cache with per-sequence lengths (`cache_seqlens`), contiguous
/// `[batch, capacity, heads, dim]` or paged `[num_pages, page_size, heads,
/// dim]` with a page table.
enum class KvCacheLayout { None, Contiguous, Paged };
const char *toString(KvCacheLayout layout);

struct KvCache {
  KvCacheLayout layout = KvCacheLayout::None;
  /// Rows per page (paged only).
  int64_t pageSize = 0;
  /// The call also appends new keys/values (`k_new`, `v_new`, `[batch,
  /// seqlen_q, num_kv_heads, head_dim(_v)]`) to each sequence's cache at rows
  /// cache_seqlens[b] .. cache_seqlens[b] + seqlen_q - 1 (rotated by `rope`)
  /// before attending to cache_seqlens[b] + seqlen_q keys.
  bool append = false;
  bool operator==(const KvCache &other) const;
};

/// Rotary position embedding applied inside the kernel (KV cache specs): to
/// q at positions seqlen_k - seqlen_q + i (seqlen_k = the keys attended) and
/// to the appended keys at cache_seqlens[b] + j. Pair p < rotary_dim / 2 is
/// (x[p], x[p + rotary_dim / 2]) (GPT-NeoX/Llama) or (x[2p], x[2p + 1])
/// (`interleaved`, GPT-J), rotated by the angle pos * base^(-2p /
/// rotary_dim); dimensions past rotary_dim are unchanged.
struct Rope {
  double base = 10000.0;
  int64_t rotaryDim = 0;
  bool interleaved = false;
  bool operator==(const Rope &other) const;
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
  KvCache kvCache;
  std::optional<Rope> rope;
  /// Sequences of different lengths packed along the sequence dimension,
  /// delimited by cu_seqlens_q / cu_seqlens_k (FlashAttention's varlen).
  bool varlen = false;
  /// Split-KV chunks per row tile: 1 = off, 0 = "auto" (chosen per call).
  int64_t splitKv = 1;
  /// Absent: "auto", the compiler picks per target.
  std::optional<Tiling> tiling;
  Target target = Target::SM80;

  /// The scale applied to q.k: the given one or 1/sqrt(head_dim).
  double effectiveScale() const;
  bool operator==(const AttentionSpec &other) const;
};

/// Whether key j is visible to query i (DESIGN section 2), the plain
/// definition the kernels are checked against.
bool isVisible(const AttentionSpec &spec, int64_t row, int64_t key,
               int64_t seqlenQ, int64_t seqlenK);

/// The number of visible (query, key) pairs of one head, for FLOP counts:
/// FLOPs = 2 * batch * num_q_heads * pairs * (head_dim + head_dim_v).
int64_t countVisiblePairs(const AttentionSpec &spec, int64_t seqlenQ,
                          int64_t seqlenK);

/// ALiBi's standard slopes for `numHeads` heads (Press et al.): for the
/// largest power of two p <= n, 2^(-8k/p) for k = 1..p, then the odd terms
/// 2^(-4k/p), k = 1, 3, 5, ... for the remaining heads.
std::vector<float> defaultAlibiSlopes(int64_t numHeads);

} // namespace attngen

#endif // ATTNGEN_SPEC_ATTENTIONSPEC_H
