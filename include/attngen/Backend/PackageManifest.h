//===- PackageManifest.h - the parts every package manifest has -*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_PACKAGEMANIFEST_H
#define ATTNGEN_BACKEND_PACKAGEMANIFEST_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/ADT/StringRef.h"

#include <nlohmann/json.hpp>
#include <string>

namespace attngen {

/// The kernel's six tensor parameters (q, k, v, o, lse, alibi_slopes) with
/// their access, rank, BSHD shape and dtype, as manifests list them.
nlohmann::ordered_json manifestTensorParams(const AttentionSpec &spec);

/// {format, format_version, spec, target}: the head of every manifest.
nlohmann::ordered_json manifestHeader(const AttentionSpec &spec, Target target);

/// The manifest's text, `kernel.digest` added: the digest libattnrt checks
/// on load (attnrt/package_digest.hpp) over `kernelFile`, the bytes of the
/// package's kernel file, and the manifest.
std::string manifestTextWithDigest(nlohmann::ordered_json manifest,
                                   llvm::StringRef kernelFile);

} // namespace attngen

#endif // ATTNGEN_BACKEND_PACKAGEMANIFEST_H
