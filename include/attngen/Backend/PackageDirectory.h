//===- PackageDirectory.h - writing kernel package directories --*- C++ -*-===//

#ifndef ATTNGEN_BACKEND_PACKAGEDIRECTORY_H
#define ATTNGEN_BACKEND_PACKAGEDIRECTORY_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace attngen {

/// The version of the package format that this attngen writes.
constexpr int kPackageFormatVersion = 2;

/// Builds a package in a staging directory next to `packageDir` with `fill`,
/// then moves it into place, replacing an empty directory or an earlier
/// package but nothing else. Nothing is left behind on failure.
llvm::Error writePackageDirectory(
    const std::string &packageDir,
    const std::function<llvm::Error(llvm::StringRef stagingDir)> &fill);

/// Writes `contents` to `path`; errors name the path.
llvm::Error writePackageFile(const std::string &path, llvm::StringRef contents);

} // namespace attngen

#endif // ATTNGEN_BACKEND_PACKAGEDIRECTORY_H
