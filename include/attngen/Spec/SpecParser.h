//===- SpecParser.h - JSON spec files to AttentionSpec ----------*- C++ -*-===//

#ifndef ATTNGEN_SPEC_SPECPARSER_H
#define ATTNGEN_SPEC_SPECPARSER_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace attngen {

/// Largest spec file accepted; real specs are a few hundred bytes.
constexpr uint64_t kMaxSpecFileBytes = 1 << 20;

/// Parses and validates a version-1 spec. Every error is one line:
/// `SOURCE: /json/pointer: expected ..., got ...`.
llvm::Expected<AttentionSpec> parseSpec(llvm::StringRef text,
                                        llvm::StringRef sourceName);

/// Reads `path` and parses it; I/O errors are reported as `PATH: ...`.
llvm::Expected<AttentionSpec> parseSpecFile(llvm::StringRef path);

/// The spec as canonical JSON (every field explicit, scale resolved only if
/// it was given); parseSpec(specToJson(s)) == s.
std::string specToJson(const AttentionSpec &spec, int indent = 2);

} // namespace attngen

#endif // ATTNGEN_SPEC_SPECPARSER_H
