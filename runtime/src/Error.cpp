//===- Error.cpp - per-thread error messages of the C API -----------------===//

#include "Error.h"

namespace attnrt::detail {

static thread_local std::string lastErrorMessage;

attnrt_status fail(attnrt_status status, std::string message) {
  lastErrorMessage = std::move(message);
  return status;
}

attnrt_status succeed() {
  lastErrorMessage.clear();
  return ATTNRT_OK;
}

const char *lastError() { return lastErrorMessage.c_str(); }

} // namespace attnrt::detail
