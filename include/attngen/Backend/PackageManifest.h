//===- PackageManifest.h - the parts every package manifest has -*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_PACKAGEMANIFEST_H
#define ATTNGEN_BACKEND_PACKAGEMANIFEST_H

#include "attngen/Spec/AttentionSpec.h"

#include <nlohmann/json.hpp>

namespace attngen {

/// The kernel's six tensor parameters (q, k, v, o, lse, alibi_slopes) with
/// their access, rank, BSHD shape and dtype, as manifests list them.
nlohmann::ordered_json manifestTensorParams(const AttentionSpec &spec);

/// {format, format_version, spec, target}: the head of every manifest.
nlohmann::ordered_json manifestHeader(const AttentionSpec &spec,
                                      Target target);

} // namespace attngen

#endif // ATTNGEN_BACKEND_PACKAGEMANIFEST_H
