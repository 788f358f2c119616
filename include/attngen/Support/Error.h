//===- Error.h - one-line errors as llvm::Error -----------------*- C++ -*-===//

#ifndef ATTNGEN_SUPPORT_ERROR_H
#define ATTNGEN_SUPPORT_ERROR_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

namespace attngen {

/// An llvm::Error carrying `message` (one line: what and where).
inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

} // namespace attngen

#endif // ATTNGEN_SUPPORT_ERROR_H
