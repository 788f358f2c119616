//===- package_digest.hpp - the digest of a package -----------*- C++ -*-===//
//
// attngen writes `kernel.digest` into every package's manifest and libattnrt
// checks it on load, so that a package edited after attngen wrote it (a spec
// field changed next to a kernel compiled for the old value, a truncated
// kernel file) is refused instead of launched with the wrong shapes. It
// guards against corruption, not tampering: FNV-1a is not a cryptographic
// hash.
//
// The digest is FNV-1a (64-bit) over the kernel file's bytes, then over the
// manifest without `kernel.digest` as nlohmann::json's compact dump (object
// keys sorted), written "fnv1a64:" and 16 lowercase hex digits.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_PACKAGE_DIGEST_HPP
#define ATTNRT_PACKAGE_DIGEST_HPP

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace attnrt {

/// "fnv1a64:" followed by the 64-bit FNV-1a hash of `kernelFile` then
/// `canonicalManifest`: h = 0xcbf29ce484222325, then for each byte
/// h = (h ^ byte) * 0x100000001b3 (mod 2^64).
inline std::string packageDigest(std::string_view kernelFile,
                                 std::string_view canonicalManifest) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::string_view bytes : {kernelFile, canonicalManifest}) {
    for (unsigned char byte : bytes) {
      hash = (hash ^ byte) * 0x100000001b3ull;
    }
  }
  char text[8 + 16 + 1];
  std::snprintf(text, sizeof(text), "fnv1a64:%016llx",
                static_cast<unsigned long long>(hash));
  return text;
}

} // namespace attnrt

#endif // ATTNRT_PACKAGE_DIGEST_HPP
