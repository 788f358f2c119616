//===- SpecParserTest.cpp - spec v1 parsing and validation ----------------===//

#include "attngen/Spec/SpecParser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

using namespace attngen;

namespace {

/// The smallest valid spec; tests add or replace fields in it.
constexpr const char *kMinimal =
    R"json({"version": 1, "dtype": "f16", "head_dim": 64, "num_q_heads": 8)json";

AttentionSpec parseOk(const std::string &extraFields) {
  std::string text = std::string(kMinimal) +
                     (extraFields.empty() ? "" : ", " + extraFields) + "}";
  llvm::Expected<AttentionSpec> spec = parseSpec(text, "t.json");
  if (!spec) {
    ADD_FAILURE() << "unexpected error: " << llvm::toString(spec.takeError())
                  << "\nfor: " << text;
    return AttentionSpec();
  }
  return *spec;
}

std::string parseError(const std::string &text) {
  llvm::Expected<AttentionSpec> spec = parseSpec(text, "t.json");
  if (spec) {
    ADD_FAILURE() << "expected an error for: " << text;
    return "";
  }
  return llvm::toString(spec.takeError());
}

std::string fieldError(const std::string &extraFields) {
  return parseError(std::string(kMinimal) + ", " + extraFields + "}");
}

TEST(SpecParser, DefaultsOfTheMinimalSpec) {
  AttentionSpec spec = parseOk("");
  EXPECT_EQ(spec.version, 1);
  EXPECT_EQ(spec.name, "attention");
  EXPECT_EQ(spec.dtype, ElementType::F16);
  EXPECT_EQ(spec.headDim, 64);
  EXPECT_EQ(spec.headDimV, 64);
  EXPECT_EQ(spec.numQHeads, 8);
  EXPECT_EQ(spec.numKvHeads, 8);
  EXPECT_EQ(spec.mask, MaskKind::None);
  EXPECT_EQ(spec.causalAlign, CausalAlign::BottomRight);
  EXPECT_EQ(spec.windowLeft, -1);
  EXPECT_EQ(spec.windowRight, -1);
  EXPECT_EQ(spec.sinkTokens, 0);
  EXPECT_FALSE(spec.scale.has_value());
  EXPECT_DOUBLE_EQ(spec.effectiveScale(), 0.125);
  EXPECT_EQ(spec.softcap, 0.0);
  EXPECT_FALSE(spec.alibi);
  EXPECT_FALSE(spec.returnLse);
  EXPECT_FALSE(spec.tiling.has_value());
  EXPECT_EQ(spec.target, Target::SM80);
}

TEST(SpecParser, EveryFieldIsRead) {
  AttentionSpec spec = parseOk(
      R"("name": "llama", "head_dim_v": 32, "num_kv_heads": 2,
         "mask": "causal", "causal_align": "top_left",
         "window": {"left": 4095, "right": 0}, "sink_tokens": 4,
         "scale": 0.5, "softcap": 30, "alibi": true, "return_lse": true,
         "tiling": {"block_m": 128, "block_n": 32, "num_warps": 8,
                    "num_stages": 3},
         "target": "sm_90")");
  EXPECT_EQ(spec.name, "llama");
  EXPECT_EQ(spec.headDimV, 32);
  EXPECT_EQ(spec.numKvHeads, 2);
  EXPECT_EQ(spec.mask, MaskKind::Causal);
  EXPECT_EQ(spec.causalAlign, CausalAlign::TopLeft);
  EXPECT_EQ(spec.windowLeft, 4095);
  EXPECT_EQ(spec.windowRight, 0);
  EXPECT_EQ(spec.sinkTokens, 4);
  ASSERT_TRUE(spec.scale.has_value());
  EXPECT_DOUBLE_EQ(*spec.scale, 0.5);
  EXPECT_DOUBLE_EQ(spec.effectiveScale(), 0.5);
  EXPECT_DOUBLE_EQ(spec.softcap, 30.0);
  EXPECT_TRUE(spec.alibi);
  EXPECT_TRUE(spec.returnLse);
  ASSERT_TRUE(spec.tiling.has_value());
  EXPECT_EQ(*spec.tiling, (Tiling{128, 32, 8, 3}));
  EXPECT_EQ(spec.target, Target::SM90);
}

TEST(SpecParser, DtypesAndTargets) {
  EXPECT_EQ(
      parseError(
          R"({"version": 1, "dtype": "f64", "head_dim": 64, "num_q_heads": 8})"),
      R"(t.json: /dtype: expected one of "f32", "f16", "bf16", got "f64")");
  AttentionSpec bf16 =
      parseSpec(
          R"({"version": 1, "dtype": "bf16", "head_dim": 64, "num_q_heads": 8})",
          "t")
          .get();
  EXPECT_EQ(bf16.dtype, ElementType::BF16);
  AttentionSpec f32 =
      parseSpec(
          R"({"version": 1, "dtype": "f32", "head_dim": 64, "num_q_heads": 8})",
          "t")
          .get();
  EXPECT_EQ(f32.dtype, ElementType::F32);
  EXPECT_EQ(parseOk(R"("target": "cpu")").target, Target::CPU);
  EXPECT_EQ(parseOk(R"("target": "sm_80")").target, Target::SM80);
  EXPECT_EQ(
      fieldError(R"("target": "sm_70")"),
      R"(t.json: /target: expected one of "sm_80", "sm_90", "cpu", got "sm_70")");
}

TEST(SpecParser, NullWindowAndAutoTilingAreDefaults) {
  AttentionSpec spec =
      parseOk(R"("window": null, "tiling": "auto", "scale": null)");
  EXPECT_EQ(spec.windowLeft, -1);
  EXPECT_EQ(spec.windowRight, -1);
  EXPECT_FALSE(spec.tiling.has_value());
  EXPECT_FALSE(spec.scale.has_value());
  // A window may set one side only.
  EXPECT_EQ(parseOk(R"("window": {"right": 0})").windowLeft, -1);
  // num_warps and num_stages have defaults.
  EXPECT_EQ(*parseOk(R"("tiling": {"block_m": 64, "block_n": 64})").tiling,
            (Tiling{64, 64, 4, 2}));
}

TEST(SpecParser, SyntaxErrors) {
  EXPECT_EQ(parseError(""),
            "t.json: /: expected a JSON object, got invalid JSON (parse error "
            "at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal)");
  EXPECT_NE(parseError("{\"version\": 1,")
                .find("t.json: /: expected a JSON object, got invalid JSON "
                      "(parse error at line 1, column 15"),
            std::string::npos);
  // Binary bytes are escaped so that the message stays one printable line.
  std::string binary = parseError(std::string("\x01\xff\n", 3));
  EXPECT_EQ(binary.find('\n'), std::string::npos);
  EXPECT_NE(binary.find("<U+0001>"), std::string::npos);
}

TEST(SpecParser, WrongTopLevel) {
  EXPECT_EQ(parseError("[]"),
            "t.json: /: expected a JSON object, got an array");
  EXPECT_EQ(parseError("42"), "t.json: /: expected a JSON object, got 42");
  EXPECT_EQ(parseError("null"), "t.json: /: expected a JSON object, got null");
}

TEST(SpecParser, Version) {
  EXPECT_EQ(parseError(R"({"dtype": "f16", "head_dim": 64, "num_q_heads": 8})"),
            "t.json: /version: missing required field, expected 1");
  EXPECT_EQ(
      parseError(
          R"({"version": "1", "dtype": "f16", "head_dim": 64, "num_q_heads": 8})"),
      R"(t.json: /version: expected 1 (the spec version this attngen reads), got "1")");
}

TEST(SpecParser, MissingRequiredFields) {
  EXPECT_EQ(
      parseError(R"({"version": 1, "head_dim": 64, "num_q_heads": 8})"),
      R"(t.json: /dtype: missing required field, expected one of "f32", "f16", "bf16")");
  EXPECT_EQ(parseError(R"({"version": 1, "dtype": "f16", "num_q_heads": 8})"),
            "t.json: /head_dim: missing required field, expected an integer in "
            "[1, 256]");
  EXPECT_EQ(parseError(R"({"version": 1, "dtype": "f16", "head_dim": 64})"),
            "t.json: /num_q_heads: missing required field, expected an integer "
            "in [1, 1024]");
  EXPECT_EQ(fieldError(R"("tiling": {"block_n": 64})"),
            "t.json: /tiling/block_m: missing required field, expected an "
            "integer in [1, 1024]");
}

TEST(SpecParser, UnknownFields) {
  std::string error = fieldError(R"("head_dims": 64)");
  EXPECT_EQ(
      error.rfind(
          "t.json: /head_dims: unknown field, expected one of: version, name,",
          0),
      0u)
      << error;
  EXPECT_EQ(fieldError(R"("window": {"left": 1, "up": 2})"),
            "t.json: /window/up: unknown field, expected one of: left, right");
  EXPECT_EQ(
      fieldError(R"("tiling": {"block_m": 64, "block_n": 64, "warps": 2})"),
      "t.json: /tiling/warps: unknown field, expected one of: block_m, "
      "block_n, num_warps, num_stages");
  // JSON pointer escaping (RFC 6901) of odd keys.
  EXPECT_EQ(
      fieldError(R"("a/b~c": 1)").rfind("t.json: /a~1b~0c: unknown field", 0),
      0u);
}

TEST(SpecParser, WrongTypes) {
  EXPECT_EQ(
      fieldError(R"("head_dim_v": "64")"),
      R"(t.json: /head_dim_v: expected an integer in [1, 256], got "64")");
  EXPECT_EQ(fieldError(R"("head_dim_v": 64.0)"),
            "t.json: /head_dim_v: expected an integer in [1, 256], got 64.0");
  EXPECT_EQ(fieldError(R"("alibi": 1)"),
            "t.json: /alibi: expected true or false, got 1");
  EXPECT_EQ(fieldError(R"("return_lse": "yes")"),
            R"(t.json: /return_lse: expected true or false, got "yes")");
  EXPECT_EQ(fieldError(R"("mask": true)"),
            R"(t.json: /mask: expected one of "none", "causal", got true)");
  EXPECT_EQ(
      fieldError(R"("causal_align": "bottom")"),
      R"(t.json: /causal_align: expected one of "bottom_right", "top_left", got "bottom")");
  EXPECT_EQ(
      fieldError(R"("window": [1, 0])"),
      R"(t.json: /window: expected an object {"left": L, "right": R} or null, got an array)");
  EXPECT_EQ(fieldError(R"("window": {"left": "big"})"),
            R"(t.json: /window/left: expected an integer >= -1, got "big")");
  EXPECT_EQ(
      fieldError(R"("scale": "0.1")"),
      R"(t.json: /scale: expected a finite number > 0 or null, got "0.1")");
  EXPECT_EQ(
      fieldError(R"("softcap": null)"),
      "t.json: /softcap: expected a finite number >= 0 (0 = off), got null");
  EXPECT_EQ(
      fieldError(R"("tiling": "fast")"),
      R"(t.json: /tiling: expected "auto" or an object {"block_m", "block_n", "num_warps", "num_stages"}, got "fast")");
  EXPECT_EQ(fieldError(R"("name": 7)"),
            "t.json: /name: expected an identifier ([A-Za-z_][A-Za-z0-9_]*, at "
            "most 64 characters), got 7");
}

TEST(SpecParser, OutOfRangeNumbers) {
  EXPECT_EQ(fieldError(R"("head_dim_v": 0)"),
            "t.json: /head_dim_v: expected an integer in [1, 256], got 0");
  EXPECT_EQ(fieldError(R"("head_dim_v": 257)"),
            "t.json: /head_dim_v: expected an integer in [1, 256], got 257");
  EXPECT_EQ(fieldError(R"("num_kv_heads": -8)"),
            "t.json: /num_kv_heads: expected an integer in [1, 1024], got -8");
  EXPECT_EQ(fieldError(R"("window": {"left": -2})"),
            "t.json: /window/left: expected an integer >= -1, got -2");
  EXPECT_EQ(
      fieldError(R"("window": {"left": 1, "right": 99999999999})"),
      "t.json: /window/right: expected an integer >= -1, got 99999999999");
  EXPECT_EQ(fieldError(R"("sink_tokens": -1)"),
            "t.json: /sink_tokens: expected an integer >= 0, got -1");
  EXPECT_EQ(fieldError(R"("scale": 0)"),
            "t.json: /scale: expected a finite number > 0 or null, got 0");
  EXPECT_EQ(fieldError(R"("scale": -0.5)"),
            "t.json: /scale: expected a finite number > 0 or null, got -0.5");
  EXPECT_EQ(
      fieldError(R"("softcap": -1)"),
      "t.json: /softcap: expected a finite number >= 0 (0 = off), got -1");
  EXPECT_EQ(
      fieldError(R"("name": "")"),
      R"(t.json: /name: expected an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters), got "")");
  EXPECT_EQ(
      fieldError(R"("name": "9lives")"),
      R"(t.json: /name: expected an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters), got "9lives")");
}

TEST(SpecParser, TilingRules) {
  EXPECT_EQ(
      fieldError(R"("tiling": {"block_m": 96, "block_n": 64})"),
      "t.json: /tiling/block_m: expected a power of two in [16, 256], got 96");
  EXPECT_EQ(fieldError(R"("tiling": {"block_m": 64, "block_n": 512})"),
            "t.json: /tiling/block_n: expected a multiple of 16 in [16, 256], "
            "got 512");
  EXPECT_EQ(fieldError(R"("tiling": {"block_m": 64, "block_n": 40})"),
            "t.json: /tiling/block_n: expected a multiple of 16 in [16, 256], "
            "got 40");
  EXPECT_EQ(
      fieldError(R"("tiling": {"block_m": 64, "block_n": 64, "num_warps": 3})"),
      "t.json: /tiling/num_warps: expected a power of two in [1, 16], got 3");
  EXPECT_EQ(fieldError(
                R"("tiling": {"block_m": 64, "block_n": 64, "num_stages": 9})"),
            "t.json: /tiling/num_stages: expected an integer in [1, 8], got 9");
  // The defaulted num_warps (4) does not fit a 16-row Q tile.
  EXPECT_EQ(fieldError(R"("tiling": {"block_m": 16, "block_n": 64})"),
            "t.json: /tiling/num_warps: expected at most block_m / 16 = 1 "
            "(each warp owns 16-row slabs of the Q tile), got 4");
}

TEST(SpecParser, UnsupportedCombinations) {
  EXPECT_EQ(
      fieldError(R"("num_kv_heads": 3)"),
      "t.json: /num_kv_heads: expected a divisor of num_q_heads (8), got 3");
  EXPECT_EQ(fieldError(R"("mask": "causal", "sink_tokens": 4)"),
            "t.json: /sink_tokens: expected 0 unless window.left >= 0 (sinks "
            "keep the first keys visible past a window's left edge), got 4");
  // With a bounded left edge, sinks are fine.
  EXPECT_EQ(parseOk(R"("window": {"left": 16, "right": 0}, "sink_tokens": 4)")
                .sinkTokens,
            4);
}

TEST(SpecParser, DuplicateFieldsAndDeepNesting) {
  EXPECT_EQ(fieldError(R"("mask": "none", "mask": "causal")"),
            "t.json: /mask: duplicate field, expected each field once");
  EXPECT_EQ(fieldError(R"("window": {"left": 1, "left": 2})"),
            "t.json: /window/left: duplicate field, expected each field once");
  std::string deep = std::string(kMinimal) + R"(, "window": )" +
                     std::string(5000, '[') + std::string(5000, ']') + "}";
  EXPECT_EQ(
      parseError(deep).rfind("t.json: /window: expected a spec (values nest at "
                             "most 2 deep), got JSON nested more than 16 deep",
                             0),
      0u)
      << parseError(deep);
}

TEST(SpecParser, MissingAndOversizedFiles) {
  llvm::Expected<AttentionSpec> missing =
      parseSpecFile("/nonexistent/spec.json");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_EQ(
      llvm::toString(missing.takeError()),
      "/nonexistent/spec.json: cannot read spec: No such file or directory");
}

TEST(SpecParser, AppendAndRope) {
  AttentionSpec spec = parseOk(
      R"("kv_cache": {"layout": "contiguous", "append": true}, "rope": {})");
  EXPECT_TRUE(spec.kvCache.append);
  ASSERT_TRUE(spec.rope.has_value());
  // Defaults: base 10000, every dimension rotated, GPT-NeoX pairs.
  EXPECT_EQ(spec.rope->base, 10000.0);
  EXPECT_EQ(spec.rope->rotaryDim, spec.headDim);
  EXPECT_FALSE(spec.rope->interleaved);
  AttentionSpec plain = parseOk(R"("kv_cache": {"layout": "contiguous"})");
  EXPECT_FALSE(plain.kvCache.append);
  EXPECT_FALSE(plain.rope.has_value());
}

TEST(SpecParser, JsonRoundTrip) {
  AttentionSpec spec = parseOk(
      R"("name": "rt", "head_dim_v": 40, "num_kv_heads": 4, "mask": "causal",
         "window": {"left": 100, "right": 0}, "sink_tokens": 2, "scale": 0.3,
         "softcap": 12.5, "alibi": true, "return_lse": true,
         "tiling": {"block_m": 64, "block_n": 128, "num_warps": 2, "num_stages": 4},
         "target": "cpu")");
  llvm::Expected<AttentionSpec> again = parseSpec(specToJson(spec), "again");
  ASSERT_TRUE(static_cast<bool>(again)) << llvm::toString(again.takeError());
  EXPECT_TRUE(*again == spec);
  AttentionSpec serving = parseOk(
      R"("kv_cache": {"layout": "paged", "page_size": 16, "append": true},
         "rope": {"base": 500000, "rotary_dim": 32, "interleaved": true})");
  llvm::Expected<AttentionSpec> servingAgain =
      parseSpec(specToJson(serving), "again");
  ASSERT_TRUE(static_cast<bool>(servingAgain))
      << llvm::toString(servingAgain.takeError());
  EXPECT_TRUE(*servingAgain == serving);
  AttentionSpec defaults = parseOk("");
  llvm::Expected<AttentionSpec> defaultsAgain =
      parseSpec(specToJson(defaults), "again");
  ASSERT_TRUE(static_cast<bool>(defaultsAgain));
  EXPECT_TRUE(*defaultsAgain == defaults);
}

} // namespace
