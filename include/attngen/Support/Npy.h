//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//

#ifndef ATTNGEN_SUPPORT_NPY_H
#define ATTNGEN_SUPPORT_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attngen {

/// The element types attngen reads and writes: little-endian f32 and f16.
enum class NpyType { F32, F16 };

struct NpyArray {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  /// The raw little-endian elements, C order.
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// "(2, 113, 8, 64)"
  std::string shapeString() const;
  /// Every element as f32.
  std::vector<float> toFloat() const;
};

/// Reads a C-order `<f4` or `<f2` array. Any other dtype, Fortran order, a
/// malformed header, or a data section of the wrong length is an error
/// `PATH: what is wrong`.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// Parses the bytes of a .npy file; `name` prefixes errors.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// Writes a C-order `<f4` array (version 1.0 header).
llvm::Error writeNpyF32(llvm::StringRef path, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<float> values);

} // namespace attngen

#endif // ATTNGEN_SUPPORT_NPY_H
