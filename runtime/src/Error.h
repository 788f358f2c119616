//===- Error.h - per-thread error messages of the C API ---------*- C++ -*-===//

#ifndef ATTNRT_SRC_ERROR_H
#define ATTNRT_SRC_ERROR_H

#include "attnrt/attnrt.h"

#include <string>

namespace attnrt::detail {

/// Records `message` as the calling thread's last error and returns `status`.
attnrt_status fail(attnrt_status status, std::string message);
/// Clears the calling thread's last error and returns ATTNRT_OK.
attnrt_status succeed();
const char *lastError();

} // namespace attnrt::detail

#endif // ATTNRT_SRC_ERROR_H
