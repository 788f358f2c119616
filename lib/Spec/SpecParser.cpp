//===- SpecParser.cpp - JSON spec files to AttentionSpec ------------------===//
//
// nlohmann/json parses the text; this file walks the document field by field,
// applies the defaults of spec version 1 and reports the first error as one
// line naming the JSON pointer, what was expected and what was found. This
// translation unit is built with exceptions (nlohmann reports syntax errors
// by throwing); none escape it.
//
//===----------------------------------------------------------------------===//

#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/TilingRules.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <vector>

using json = nlohmann::json;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace attngen {
namespace {

/// Spec values never nest deeper than 2 (root -> window/tiling); anything
/// past this is rejected before it can cost time or stack.
constexpr int kMaxNestingDepth = 16;
/// Upper bound for token counts and window extents: seqlens are int32.
constexpr int64_t kMaxTokens = 2147483647;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 256;

/// A parse failure raised from nlohmann's parser callback.
struct StructureError {
  std::string pointer;
  std::string message;
};

/// Escapes one JSON pointer reference token (RFC 6901).
std::string escapePointerToken(const std::string &token) {
  std::string escaped;
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

/// Keeps error lines printable and one line long, whatever bytes the input had.
std::string printable(const std::string &text, size_t maxLength = 60) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= maxLength) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char *hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// What a JSON value is, for the "got ..." half of an error.
std::string describe(const json &value) {
  switch (value.type()) {
  case json::value_t::object:
    return "an object";
  case json::value_t::array:
    return "an array";
  case json::value_t::null:
    return "null";
  default:
    return printable(value.dump());
  }
}

/// Walks one spec document; the first failure becomes the result.
class SpecReader {
public:
  explicit SpecReader(StringRef sourceName) : sourceName(sourceName.str()) {}

  Error fail(const std::string &pointer, const std::string &what) const {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        sourceName + ": " + (pointer.empty() ? "/" : pointer) + ": " + what);
  }

  Error expected(const std::string &pointer, const std::string &expectation,
                 const json &found) const {
    return fail(pointer,
                "expected " + expectation + ", got " + describe(found));
  }

  Error rejectUnknownKeys(const json &object, const std::string &pointer,
                          llvm::ArrayRef<const char *> known) const {
    for (const auto &item : object.items()) {
      if (llvm::is_contained(known, item.key())) {
        continue;
      }
      std::string list;
      for (const char *key : known) {
        list += (list.empty() ? "" : ", ") + std::string(key);
      }
      return fail(pointer + "/" + escapePointerToken(item.key()),
                  "unknown field, expected one of: " + list);
    }
    return Error::success();
  }

  /// Reads an integer in [lo, hi]; `fallback` when absent (required if none).
  Expected<int64_t> integer(const json &object, const std::string &pointer,
                            const char *key, int64_t lo, int64_t hi,
                            std::optional<int64_t> fallback) const {
    std::string path = pointer + "/" + key;
    std::string expectation = hi == kMaxTokens
                                  ? "an integer >= " + std::to_string(lo)
                                  : "an integer in [" + std::to_string(lo) +
                                        ", " + std::to_string(hi) + "]";
    auto it = object.find(key);
    if (it == object.end()) {
      if (fallback) {
        return *fallback;
      }
      return fail(path, "missing required field, expected " + expectation);
    }
    const json &value = *it;
    if (!value.is_number_integer()) {
      return expected(path, expectation, value);
    }
    // Unsigned values above INT64_MAX are out of every range we accept.
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(hi)) {
      return expected(path, expectation, value);
    }
    int64_t result = value.get<int64_t>();
    if (result < lo || result > hi) {
      return expected(path, expectation, value);
    }
    return result;
  }

  /// Reads a finite number satisfying `accept`; `fallback` when absent.
  template <typename Predicate>
  Expected<double> number(const json &object, const std::string &pointer,
                          const char *key, const std::string &expectation,
                          Predicate accept, double fallback) const {
    auto it = object.find(key);
    if (it == object.end()) {
      return fallback;
    }
    if (!it->is_number()) {
      return expected(pointer + "/" + key, expectation, *it);
    }
    double value = it->get<double>();
    if (!std::isfinite(value) || !accept(value)) {
      return expected(pointer + "/" + key, expectation, *it);
    }
    return value;
  }

  Expected<bool> boolean(const json &object, const char *key, bool fallback,
                         const std::string &pointer = "") const {
    auto it = object.find(key);
    if (it == object.end()) {
      return fallback;
    }
    if (!it->is_boolean()) {
      return expected(pointer + "/" + key, "true or false", *it);
    }
    return it->get<bool>();
  }

  /// Reads one of `choices` (a string); returns its index.
  Expected<size_t> choice(const json &object, const char *key,
                          llvm::ArrayRef<const char *> choices,
                          std::optional<size_t> fallback) const {
    std::string path = std::string("/") + key;
    std::string expectation;
    for (const char *option : choices) {
      expectation += (expectation.empty() ? "one of \"" : ", \"") +
                     std::string(option) + "\"";
    }
    auto it = object.find(key);
    if (it == object.end()) {
      if (fallback) {
        return *fallback;
      }
      return fail(path, "missing required field, expected " + expectation);
    }
    if (it->is_string()) {
      const std::string &text = it->get_ref<const std::string &>();
      for (auto [index, option] : llvm::enumerate(choices)) {
        if (text == option) {
          return index;
        }
      }
    }
    return expected(path, expectation, *it);
  }

  Expected<AttentionSpec> read(const json &root) const;

private:
  Error readWindow(const json &root, AttentionSpec &spec) const;
  Error readTiling(const json &root, AttentionSpec &spec) const;
  Error readKvCache(const json &root, AttentionSpec &spec) const;
  Error readRope(const json &root, AttentionSpec &spec) const;
  std::string sourceName;
};

Error SpecReader::readWindow(const json &root, AttentionSpec &spec) const {
  auto it = root.find("window");
  if (it == root.end() || it->is_null()) {
    return Error::success();
  }
  if (!it->is_object()) {
    return expected("/window", "an object {\"left\": L, \"right\": R} or null",
                    *it);
  }
  if (Error err = rejectUnknownKeys(*it, "/window", {"left", "right"})) {
    return err;
  }
  for (auto [key, bound] : {std::make_pair("left", &spec.windowLeft),
                            std::make_pair("right", &spec.windowRight)}) {
    Expected<int64_t> value = integer(*it, "/window", key, kUnboundedWindow,
                                      kMaxTokens, kUnboundedWindow);
    if (!value) {
      return value.takeError();
    }
    *bound = *value;
  }
  return Error::success();
}

Error SpecReader::readKvCache(const json &root, AttentionSpec &spec) const {
  auto it = root.find("kv_cache");
  if (it == root.end() || it->is_null()) {
    return Error::success();
  }
  if (!it->is_object()) {
    return expected("/kv_cache",
                    "an object {\"layout\": \"contiguous\"} or "
                    "{\"layout\": \"paged\", \"page_size\": N} or null",
                    *it);
  }
  if (Error err = rejectUnknownKeys(*it, "/kv_cache",
                                    {"layout", "page_size", "append"})) {
    return err;
  }
  Expected<bool> append = boolean(*it, "append", false, "/kv_cache");
  if (!append) {
    return append.takeError();
  }
  spec.kvCache.append = *append;
  auto layout = it->find("layout");
  if (layout == it->end()) {
    return fail("/kv_cache/layout",
                "missing required field, expected one of \"contiguous\", "
                "\"paged\"");
  }
  if (*layout == "contiguous") {
    if (it->contains("page_size")) {
      return fail("/kv_cache/page_size",
                  "unexpected field, page_size needs \"layout\": \"paged\"");
    }
    spec.kvCache.layout = KvCacheLayout::Contiguous;
    return Error::success();
  }
  if (*layout != "paged") {
    return expected("/kv_cache/layout", "one of \"contiguous\", \"paged\"",
                    *layout);
  }
  Expected<int64_t> pageSize =
      integer(*it, "/kv_cache", "page_size", 1, 1 << 16, std::nullopt);
  if (!pageSize) {
    return pageSize.takeError();
  }
  spec.kvCache.layout = KvCacheLayout::Paged;
  spec.kvCache.pageSize = *pageSize;
  return Error::success();
}

Error SpecReader::readRope(const json &root, AttentionSpec &spec) const {
  auto it = root.find("rope");
  if (it == root.end() || it->is_null()) {
    return Error::success();
  }
  if (!it->is_object()) {
    return expected("/rope",
                    "an object {\"base\": B, \"rotary_dim\": R, "
                    "\"interleaved\": false} or null",
                    *it);
  }
  if (Error err = rejectUnknownKeys(*it, "/rope",
                                    {"base", "rotary_dim", "interleaved"})) {
    return err;
  }
  // Rotary embeddings position the new tokens after the cached ones; without
  // a cache, q and k are rotated by the engine before the call.
  if (spec.kvCache.layout == KvCacheLayout::None) {
    return fail("/rope", "expected null without \"kv_cache\": the kernel "
                         "rotates q and the appended keys of a KV cache call");
  }
  Rope rope;
  Expected<double> base = number(
      *it, "/rope", "base", "a finite number > 1",
      [](double v) { return v > 1; }, rope.base);
  if (!base) {
    return base.takeError();
  }
  rope.base = *base;
  Expected<int64_t> rotaryDim =
      integer(*it, "/rope", "rotary_dim", 2, spec.headDim, spec.headDim);
  if (!rotaryDim) {
    return rotaryDim.takeError();
  }
  if (*rotaryDim % 2 != 0) {
    return expected("/rope/rotary_dim",
                    "an even integer (dimensions rotate in pairs)",
                    json(*rotaryDim));
  }
  rope.rotaryDim = *rotaryDim;
  Expected<bool> interleaved =
      boolean(*it, "interleaved", rope.interleaved, "/rope");
  if (!interleaved) {
    return interleaved.takeError();
  }
  rope.interleaved = *interleaved;
  spec.rope = rope;
  return Error::success();
}

Error SpecReader::readTiling(const json &root, AttentionSpec &spec) const {
  auto it = root.find("tiling");
  if (it == root.end() || (it->is_string() && *it == "auto")) {
    return Error::success();
  }
  if (!it->is_object()) {
    return expected("/tiling",
                    "\"auto\" or an object {\"block_m\", \"block_n\", "
                    "\"num_warps\", \"num_stages\"}",
                    *it);
  }
  if (Error err = rejectUnknownKeys(
          *it, "/tiling", {"block_m", "block_n", "num_warps", "num_stages"})) {
    return err;
  }
  Tiling tiling;
  for (auto [key, field, fallback] :
       {std::make_tuple("block_m", &tiling.blockM, std::optional<int64_t>()),
        std::make_tuple("block_n", &tiling.blockN, std::optional<int64_t>()),
        std::make_tuple("num_warps", &tiling.numWarps,
                        std::optional<int64_t>(4)),
        std::make_tuple("num_stages", &tiling.numStages,
                        std::optional<int64_t>(2))}) {
    Expected<int64_t> value = integer(*it, "/tiling", key, 1, 1024, fallback);
    if (!value) {
      return value.takeError();
    }
    *field = *value;
  }
  if (auto violation = checkTiling(tiling.blockM, tiling.blockN,
                                   tiling.numWarps, tiling.numStages)) {
    std::string key = violation->field;
    int64_t found = key == "block_m"     ? tiling.blockM
                    : key == "block_n"   ? tiling.blockN
                    : key == "num_warps" ? tiling.numWarps
                                         : tiling.numStages;
    return expected("/tiling/" + key, violation->expected, json(found));
  }
  spec.tiling = tiling;
  return Error::success();
}

Expected<AttentionSpec> SpecReader::read(const json &root) const {
  if (!root.is_object()) {
    return expected("", "a JSON object", root);
  }
  if (Error err = rejectUnknownKeys(
          root, "", {"version",      "name",        "dtype",        "head_dim",
                     "head_dim_v",   "num_q_heads", "num_kv_heads", "mask",
                     "causal_align", "window",      "sink_tokens",  "scale",
                     "softcap",      "alibi",       "return_lse",   "kv_cache",
                     "rope",         "varlen",      "split_kv",     "tiling",
                     "target"})) {
    return std::move(err);
  }

  AttentionSpec spec;
  auto version = root.find("version");
  if (version == root.end()) {
    return fail("/version", "missing required field, expected 1");
  }
  if (!version->is_number_integer() || *version != 1) {
    return expected("/version", "1 (the spec version this attngen reads)",
                    *version);
  }

  if (auto name = root.find("name"); name != root.end()) {
    auto isIdentifier = [](const std::string &text) {
      if (text.empty() || text.size() > 64 || std::isdigit(text[0])) {
        return false;
      }
      return llvm::all_of(text, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
    };
    if (!name->is_string() || !isIdentifier(name->get<std::string>())) {
      return expected("/name",
                      "an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 "
                      "characters)",
                      *name);
    }
    spec.name = name->get<std::string>();
  }

  Expected<size_t> dtype = choice(root, "dtype", {"f32", "f16", "bf16"}, {});
  if (!dtype) {
    return dtype.takeError();
  }
  spec.dtype = static_cast<ElementType>(*dtype);

  Expected<int64_t> headDim =
      integer(root, "", "head_dim", 1, kMaxHeadDim, std::nullopt);
  if (!headDim) {
    return headDim.takeError();
  }
  spec.headDim = *headDim;
  Expected<int64_t> headDimV =
      integer(root, "", "head_dim_v", 1, kMaxHeadDim, spec.headDim);
  if (!headDimV) {
    return headDimV.takeError();
  }
  spec.headDimV = *headDimV;

  Expected<int64_t> numQHeads =
      integer(root, "", "num_q_heads", 1, kMaxHeads, std::nullopt);
  if (!numQHeads) {
    return numQHeads.takeError();
  }
  spec.numQHeads = *numQHeads;
  Expected<int64_t> numKvHeads =
      integer(root, "", "num_kv_heads", 1, kMaxHeads, spec.numQHeads);
  if (!numKvHeads) {
    return numKvHeads.takeError();
  }
  if (spec.numQHeads % *numKvHeads != 0) {
    return expected("/num_kv_heads",
                    "a divisor of num_q_heads (" +
                        std::to_string(spec.numQHeads) + ")",
                    root["num_kv_heads"]);
  }
  spec.numKvHeads = *numKvHeads;

  Expected<size_t> mask = choice(root, "mask", {"none", "causal"}, 0);
  if (!mask) {
    return mask.takeError();
  }
  spec.mask = static_cast<MaskKind>(*mask);
  Expected<size_t> align =
      choice(root, "causal_align", {"bottom_right", "top_left"}, 0);
  if (!align) {
    return align.takeError();
  }
  spec.causalAlign = static_cast<CausalAlign>(*align);

  if (Error err = readWindow(root, spec)) {
    return std::move(err);
  }
  Expected<int64_t> sinks =
      integer(root, "", "sink_tokens", 0, kMaxTokens, int64_t(0));
  if (!sinks) {
    return sinks.takeError();
  }
  spec.sinkTokens = *sinks;
  // Sinks only widen a window that has a left edge; elsewhere every key left
  // of the query is visible already and the field would be silently ignored.
  if (spec.sinkTokens > 0 && spec.windowLeft == kUnboundedWindow) {
    return expected("/sink_tokens",
                    "0 unless window.left >= 0 (sinks keep the first keys "
                    "visible past a window's left edge)",
                    root["sink_tokens"]);
  }

  if (auto scale = root.find("scale");
      scale != root.end() && !scale->is_null()) {
    Expected<double> value = number(
        root, "", "scale", "a finite number > 0 or null",
        [](double v) { return v > 0; }, 0.0);
    if (!value) {
      return value.takeError();
    }
    spec.scale = *value;
  }
  Expected<double> softcap = number(
      root, "", "softcap", "a finite number >= 0 (0 = off)",
      [](double v) { return v >= 0; }, 0.0);
  if (!softcap) {
    return softcap.takeError();
  }
  spec.softcap = *softcap;

  Expected<bool> alibi = boolean(root, "alibi", false);
  if (!alibi) {
    return alibi.takeError();
  }
  spec.alibi = *alibi;
  Expected<bool> returnLse = boolean(root, "return_lse", false);
  if (!returnLse) {
    return returnLse.takeError();
  }
  spec.returnLse = *returnLse;

  if (Error err = readKvCache(root, spec)) {
    return std::move(err);
  }
  if (Error err = readRope(root, spec)) {
    return std::move(err);
  }
  Expected<bool> varlen = boolean(root, "varlen", false);
  if (!varlen) {
    return varlen.takeError();
  }
  spec.varlen = *varlen;
  if (auto split = root.find("split_kv");
      split != root.end() && split->is_string() && *split == "auto") {
    spec.splitKv = 0;
  } else {
    Expected<int64_t> splits = integer(root, "", "split_kv", 1, 64, 1);
    if (!splits) {
      consumeError(splits.takeError());
      return expected("/split_kv", "an integer in [1, 64] or \"auto\"",
                      *root.find("split_kv"));
    }
    spec.splitKv = *splits;
  }
  if (Error err = readTiling(root, spec)) {
    return std::move(err);
  }

  Expected<size_t> target =
      choice(root, "target", {"sm_80", "sm_90", "cpu"}, 0);
  if (!target) {
    return target.takeError();
  }
  spec.target = static_cast<Target>(*target);
  return spec;
}

/// Parses `text`, rejecting duplicate keys and deep nesting as it goes.
Expected<json> parseDocument(StringRef text, const SpecReader &reader) {
  // Keys seen so far in each open object, and the key path to it.
  std::vector<std::set<std::string>> keysPerObject;
  std::vector<std::string> keyPath;
  auto pointerOf = [&](size_t depth) {
    std::string pointer;
    for (size_t i = 0; i < depth && i < keyPath.size(); ++i) {
      pointer += "/" + escapePointerToken(keyPath[i]);
    }
    return pointer;
  };
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event,
                                         json &parsed) {
    if (depth > kMaxNestingDepth) {
      throw StructureError{pointerOf(kMaxNestingDepth),
                           "expected a spec (values nest at most 2 deep), got "
                           "JSON nested more than " +
                               std::to_string(kMaxNestingDepth) + " deep"};
    }
    switch (event) {
    case json::parse_event_t::object_start:
      keysPerObject.emplace_back();
      break;
    case json::parse_event_t::object_end:
      keysPerObject.pop_back();
      break;
    case json::parse_event_t::key: {
      const std::string &key = parsed.get_ref<const std::string &>();
      keyPath.resize(depth);
      keyPath[depth - 1] = key;
      if (!keysPerObject.back().insert(key).second) {
        throw StructureError{pointerOf(depth),
                             "duplicate field, expected each field once"};
      }
      break;
    }
    default:
      break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const StructureError &error) {
    return reader.fail(error.pointer, error.message);
  } catch (const json::exception &error) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string message = error.what();
    if (size_t close = message.find("] "); close != std::string::npos) {
      message = message.substr(close + 2);
    }
    return reader.fail("", "expected a JSON object, got invalid JSON (" +
                               printable(message, 200) + ")");
  }
}

} // namespace

Expected<AttentionSpec> parseSpec(StringRef text, StringRef sourceName) {
  SpecReader reader(sourceName);
  Expected<json> document = parseDocument(text, reader);
  if (!document) {
    return document.takeError();
  }
  try {
    return reader.read(*document);
  } catch (const json::exception &error) {
    return reader.fail("", std::string("invalid spec (") + error.what() + ")");
  }
}

Expected<AttentionSpec> parseSpecFile(StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/true);
  if (std::error_code ec = buffer.getError()) {
    return llvm::createStringError(
        ec, path + ": cannot read spec: " + ec.message());
  }
  StringRef text = (*buffer)->getBuffer();
  if (text.size() > kMaxSpecFileBytes) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        path + ": /: expected a spec of at most 1 MiB, got " +
            std::to_string(text.size()) + " bytes");
  }
  return parseSpec(text, path);
}

std::string specToJson(const AttentionSpec &spec, int indent) {
  json root = json::object();
  root["version"] = spec.version;
  root["name"] = spec.name;
  root["dtype"] = toString(spec.dtype);
  root["head_dim"] = spec.headDim;
  root["head_dim_v"] = spec.headDimV;
  root["num_q_heads"] = spec.numQHeads;
  root["num_kv_heads"] = spec.numKvHeads;
  root["mask"] = toString(spec.mask);
  root["causal_align"] = toString(spec.causalAlign);
  root["window"] = {{"left", spec.windowLeft}, {"right", spec.windowRight}};
  root["sink_tokens"] = spec.sinkTokens;
  root["scale"] = spec.scale ? json(*spec.scale) : json(nullptr);
  root["softcap"] = spec.softcap;
  root["alibi"] = spec.alibi;
  root["return_lse"] = spec.returnLse;
  if (spec.kvCache.layout == KvCacheLayout::Contiguous) {
    root["kv_cache"] = {{"layout", "contiguous"},
                        {"append", spec.kvCache.append}};
  } else if (spec.kvCache.layout == KvCacheLayout::Paged) {
    root["kv_cache"] = {{"layout", "paged"},
                        {"page_size", spec.kvCache.pageSize},
                        {"append", spec.kvCache.append}};
  } else {
    root["kv_cache"] = nullptr;
  }
  if (spec.rope) {
    root["rope"] = {{"base", spec.rope->base},
                    {"rotary_dim", spec.rope->rotaryDim},
                    {"interleaved", spec.rope->interleaved}};
  } else {
    root["rope"] = nullptr;
  }
  root["varlen"] = spec.varlen;
  root["split_kv"] = spec.splitKv == 0 ? json("auto") : json(spec.splitKv);
  if (spec.tiling) {
    root["tiling"] = {{"block_m", spec.tiling->blockM},
                      {"block_n", spec.tiling->blockN},
                      {"num_warps", spec.tiling->numWarps},
                      {"num_stages", spec.tiling->numStages}};
  } else {
    root["tiling"] = "auto";
  }
  root["target"] = toString(spec.target);
  return root.dump(indent);
}

} // namespace attngen
