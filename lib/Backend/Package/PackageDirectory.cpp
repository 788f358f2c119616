//===- PackageDirectory.cpp - writing kernel package directories ----------===//

#include "attngen/Backend/PackageDirectory.h"
#include "attngen/Support/Error.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace attngen {

llvm::Error writePackageFile(const std::string &path,
                             llvm::StringRef contents) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    return makeError(path + ": cannot write: " + ec.message());
  }
  os << contents;
  os.close();
  if (os.has_error()) {
    return makeError(path + ": cannot write: " + os.error().message());
  }
  return llvm::Error::success();
}

llvm::Error writePackageDirectory(
    const std::string &packageDir,
    const std::function<llvm::Error(llvm::StringRef stagingDir)> &fill) {
  // Replace only an empty directory or what is recognizably a package.
  bool exists = llvm::sys::fs::exists(packageDir);
  if (exists && !llvm::sys::fs::exists(packageDir + "/manifest.json")) {
    std::error_code ec;
    bool isEmptyDirectory = llvm::sys::fs::is_directory(packageDir) &&
                            llvm::sys::fs::directory_iterator(packageDir, ec) ==
                                llvm::sys::fs::directory_iterator();
    if (!isEmptyDirectory || ec) {
      return makeError(packageDir +
                       ": exists and is not an attngen package; not "
                       "overwriting it");
    }
  }

  // Build the package next to its destination (same file system), then
  // move it into place. The prefix is made absolute first: a relative one
  // would be taken relative to the temporary directory.
  llvm::SmallString<256> parent(llvm::sys::path::parent_path(packageDir));
  if (parent.empty()) {
    parent = ".";
  }
  if (std::error_code ec = llvm::sys::fs::make_absolute(parent)) {
    return makeError(packageDir + ": cannot create: " + ec.message());
  }
  llvm::SmallString<256> staging;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory(parent + "/.attnpkg", staging)) {
    return makeError(packageDir + ": cannot create: " + ec.message());
  }
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(staging); });
  if (llvm::Error error = fill(staging)) {
    return error;
  }
  if (exists) {
    if (std::error_code ec = llvm::sys::fs::remove_directories(packageDir)) {
      return makeError(packageDir + ": cannot replace: " + ec.message());
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(staging, packageDir)) {
    return makeError(packageDir + ": cannot create: " + ec.message());
  }
  cleanup.release();
  return llvm::Error::success();
}

} // namespace attngen
