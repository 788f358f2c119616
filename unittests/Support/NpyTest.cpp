//===- NpyTest.cpp - .npy parsing and writing -----------------------------===//

#include "attngen/Support/Npy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "gtest/gtest.h"

#include <cstring>

using namespace attngen;

namespace {

std::string npyBytes(const std::string &dict, size_t dataBytes) {
  std::string header = dict;
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(dataBytes, '\0');
  return bytes;
}

std::string parseError(const std::string &bytes) {
  auto array = parseNpy(bytes, "x.npy");
  if (array) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(array.takeError());
}

TEST(Npy, ParsesFloat32AndFloat16) {
  auto f32 = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
               24),
      "x");
  ASSERT_TRUE(static_cast<bool>(f32)) << llvm::toString(f32.takeError());
  EXPECT_EQ(f32->type, NpyType::F32);
  EXPECT_EQ(f32->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f32->numElements(), 6);
  auto f16 = parseNpy(
      npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", 10),
      "x");
  ASSERT_TRUE(static_cast<bool>(f16));
  EXPECT_EQ(f16->type, NpyType::F16);
  EXPECT_EQ(f16->shapeString(), "(5,)");
  auto scalar = parseNpy(
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4),
      "x");
  ASSERT_TRUE(static_cast<bool>(scalar));
  EXPECT_EQ(scalar->numElements(), 1);
}

/// Integer arrays convert by value, never by reinterpreting their bits; as
/// tensors they are an error naming the file and the dtype.
TEST(Npy, Int32ConvertsByValueAndIsNoTensor) {
  std::string bytes =
      npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", 0);
  for (int32_t value : {-2, 0, 70000}) {
    bytes.append(reinterpret_cast<const char *>(&value), sizeof(value));
  }
  auto i32 = parseNpy(bytes, "x");
  ASSERT_TRUE(static_cast<bool>(i32)) << llvm::toString(i32.takeError());
  EXPECT_EQ(i32->type, NpyType::I32);
  EXPECT_EQ(i32->toFloat(), (std::vector<float>{-2.0f, 0.0f, 70000.0f}));
  EXPECT_EQ(llvm::toString(requireFloatArray(*i32, "x.npy", "Q")),
            "x.npy: Q must be float32 (<f4) or float16 (<f2), got int32 (<i4)");
  auto f16 = parseNpy(
      npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", 10),
      "x");
  ASSERT_TRUE(static_cast<bool>(f16));
  EXPECT_FALSE(static_cast<bool>(requireFloatArray(*f16, "x.npy", "Q")));
}

TEST(Npy, RejectsBadFiles) {
  EXPECT_EQ(parseError("hello"),
            "x.npy: not a .npy file (no \\x93NUMPY magic)");
  EXPECT_EQ(
      parseError(npyBytes(
          "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8)),
      "x.npy: dtype '>f4' is not supported; expected <f4 (float32), <f2 "
      "(float16) or <i4 (int32)");
  EXPECT_EQ(parseError(npyBytes(
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8)),
            "x.npy: Fortran-order arrays are not supported; save a "
            "C-contiguous array");
  EXPECT_EQ(
      parseError(npyBytes(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 7)),
      "x.npy: data is 7 bytes, expected 8 for shape (2,) (truncated file?)");
  EXPECT_EQ(
      parseError(npyBytes(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", 8)),
      "x.npy: malformed .npy header (shape)");
  EXPECT_EQ(
      parseError(npyBytes("{'descr': '<f4', 'shape': (2,), }", 8)),
      "x.npy: malformed .npy header (missing descr, fortran_order or shape)");
  EXPECT_EQ(
      parseError(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': "
                          "(99999999999, 99999999999, 99999999999), }",
                          8)),
      "x.npy: shape (99999999999, 99999999999, 99999999999) is too large");
  // Bytes of a corrupt header are quoted escaped, never raw.
  EXPECT_EQ(
      parseError(npyBytes(
          "{'des\xf6r': '<f4', 'fortran_order': False, 'shape': (2,), }", 8)),
      "x.npy: unexpected key 'des\\F6r' in .npy header");
  EXPECT_EQ(
      parseError(npyBytes(
          "{'descr': '<f\x01', 'fortran_order': False, 'shape': (2,), }", 8)),
      "x.npy: dtype '<f\\01' is not supported; expected <f4 (float32), <f2 "
      "(float16) or <i4 (int32)");
  std::string truncatedHeader =
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 0);
  EXPECT_EQ(parseError(truncatedHeader.substr(0, 30)),
            "x.npy: truncated .npy header");
}

TEST(Npy, WriteThenReadRoundTrips) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("npytest", "npy", path));
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1e-3f};
  ASSERT_FALSE(static_cast<bool>(writeNpyF32(path, {3, 2}, values)));
  auto array = readNpy(path);
  ASSERT_TRUE(static_cast<bool>(array)) << llvm::toString(array.takeError());
  EXPECT_EQ(array->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(array->toFloat(), values);
  // numpy's own rule: the data starts at a multiple of 64 bytes.
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE(static_cast<bool>(buffer));
  EXPECT_EQ(((*buffer)->getBufferSize() - values.size() * 4) % 64, 0u);
  llvm::sys::fs::remove(path);
}

} // namespace
