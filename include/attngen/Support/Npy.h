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

/// The element types attngen reads: little-endian f32, f16 (tensors) and
/// i32 (KV cache lengths and page tables); it writes f32.
enum class NpyType { F32, F16, I32 };

struct NpyArray {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  /// The raw little-endian elements, C order.
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// "(2, 113, 8, 64)"
  std::string shapeString() const;
  /// Every element as f32 (I32 elements converted by value).
  std::vector<float> toFloat() const;
  /// "float32 (<f4)", "float16 (<f2)" or "int32 (<i4)".
  std::string typeName() const;
  /// Every element (I32 arrays).
  std::vector<int32_t> toInt32() const;
};

/// Reads a C-order `<f4`, `<f2` or `<i4` array. Any other dtype, Fortran order,
/// a malformed header, or a data section of the wrong length is an error `PATH:
/// what is wrong`.
llvm::Expected<NpyArray> readNpy(llvm::StringRef path);

/// `array` (read from `path`) as float data: an error `PATH: WHAT must be
/// float32 (<f4) or float16 (<f2), got int32 (<i4)` for an integer array.
llvm::Error requireFloatArray(const NpyArray &array, llvm::StringRef path,
                              llvm::StringRef what);

/// Parses the bytes of a .npy file; `name` prefixes errors.
llvm::Expected<NpyArray> parseNpy(llvm::StringRef bytes, llvm::StringRef name);

/// Writes a C-order `<f4` array (version 1.0 header).
llvm::Error writeNpyF32(llvm::StringRef path, llvm::ArrayRef<int64_t> shape,
                        llvm::ArrayRef<float> values);

} // namespace attngen

#endif // ATTNGEN_SUPPORT_NPY_H
