//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// Format (numpy.lib.format): "\x93NUMPY", major, minor, a little-endian
// header length (u16 for 1.x, u32 for 2.x/3.x), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "attngen/Support/Npy.h"
#include "attngen/Support/Float16.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace attngen {

static Error npyError(StringRef name, const llvm::Twine &what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 name + ": " + what);
}

/// Header text quoted in an error, its bytes outside printable ASCII written
/// as \xx (a corrupt header must not put raw bytes on the terminal).
static std::string escaped(StringRef text) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::printEscapedString(text, os);
  return result;
}

int64_t NpyArray::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape) {
    count *= dim;
  }
  return count;
}

std::string NpyArray::shapeString() const {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(shape[i]);
  }
  if (shape.size() == 1) {
    text += ",";
  }
  return text + ")";
}

std::vector<int32_t> NpyArray::toInt32() const {
  std::vector<int32_t> values(type == NpyType::I32 ? numElements() : 0);
  std::memcpy(values.data(), data.data(), values.size() * sizeof(int32_t));
  return values;
}

std::string NpyArray::typeName() const {
  switch (type) {
  case NpyType::F32:
    return "float32 (<f4)";
  case NpyType::F16:
    return "float16 (<f2)";
  case NpyType::I32:
    return "int32 (<i4)";
  }
  llvm_unreachable("unknown npy type");
}

Error requireFloatArray(const NpyArray &array, StringRef path, StringRef what) {
  if (array.type != NpyType::I32) {
    return Error::success();
  }
  return npyError(path, what + " must be float32 (<f4) or float16 (<f2), got " +
                            array.typeName());
}

std::vector<float> NpyArray::toFloat() const {
  std::vector<float> values(numElements());
  if (type == NpyType::F32) {
    std::memcpy(values.data(), data.data(), values.size() * sizeof(float));
    return values;
  }
  if (type == NpyType::I32) {
    std::vector<int32_t> integers = toInt32();
    std::copy(integers.begin(), integers.end(), values.begin());
    return values;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t half;
    std::memcpy(&half, data.data() + 2 * i, sizeof(half));
    values[i] = halfToFloat(half);
  }
  return values;
}

namespace {
/// Reads the header dict: string keys and the three values numpy writes.
class HeaderParser {
public:
  explicit HeaderParser(StringRef text) : text(text) {}

  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
  }
  bool consume(char c) {
    skipSpace();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  bool quoted(std::string &out) {
    skipSpace();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"')) {
      return false;
    }
    char quote = text[pos++];
    size_t end = text.find(quote, pos);
    if (end == StringRef::npos) {
      return false;
    }
    out = text.substr(pos, end - pos).str();
    pos = end + 1;
    return true;
  }
  bool word(std::string &out) {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() &&
           std::isalpha(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
    out = text.substr(start, pos - start).str();
    return !out.empty();
  }
  bool integer(int64_t &out) {
    skipSpace();
    size_t start = pos;
    while (pos < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
    if (pos == start || pos - start > 12) {
      return false;
    }
    out = std::stoll(text.substr(start, pos - start).str());
    return true;
  }
  bool atEnd() {
    skipSpace();
    return pos == text.size();
  }

private:
  StringRef text;
  size_t pos = 0;
};
} // namespace

Expected<NpyArray> parseNpy(StringRef bytes, StringRef name) {
  static const char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || !bytes.starts_with(StringRef(kMagic, 6))) {
    return npyError(name, "not a .npy file (no \\x93NUMPY magic)");
  }
  unsigned major = uint8_t(bytes[6]), minor = uint8_t(bytes[7]);
  size_t headerLength, headerStart;
  if (minor != 0 || major < 1 || major > 3) {
    return npyError(name, "unsupported .npy version " + llvm::Twine(major) +
                              "." + llvm::Twine(minor) +
                              " (expected 1.0, 2.0 or 3.0)");
  }
  if (major == 1) {
    headerLength = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
    headerStart = 10;
  } else {
    if (bytes.size() < 12) {
      return npyError(name, "truncated .npy header");
    }
    headerLength =
        uint32_t(uint8_t(bytes[8])) | uint32_t(uint8_t(bytes[9])) << 8 |
        uint32_t(uint8_t(bytes[10])) << 16 | uint32_t(uint8_t(bytes[11])) << 24;
    headerStart = 12;
  }
  if (headerStart + headerLength > bytes.size()) {
    return npyError(name, "truncated .npy header");
  }
  StringRef header = bytes.substr(headerStart, headerLength);

  NpyArray array;
  std::string descr;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  HeaderParser parser(header);
  if (!parser.consume('{')) {
    return npyError(name, "malformed .npy header (expected a dict)");
  }
  while (!parser.consume('}')) {
    std::string key;
    if (!parser.quoted(key) || !parser.consume(':')) {
      return npyError(name, "malformed .npy header");
    }
    if (key == "descr") {
      if (!parser.quoted(descr)) {
        return npyError(name, "malformed .npy header (descr)");
      }
      haveDescr = true;
    } else if (key == "fortran_order") {
      std::string value;
      if (!parser.word(value) || (value != "False" && value != "True")) {
        return npyError(name, "malformed .npy header (fortran_order)");
      }
      if (value == "True") {
        return npyError(name, "Fortran-order arrays are not supported; save a "
                              "C-contiguous array");
      }
      haveOrder = true;
    } else if (key == "shape") {
      // (), (n,), (n, m), (n, m,)
      if (!parser.consume('(')) {
        return npyError(name, "malformed .npy header (shape)");
      }
      while (!parser.consume(')')) {
        int64_t dim;
        if (!parser.integer(dim)) {
          return npyError(name, "malformed .npy header (shape)");
        }
        if (array.shape.size() == 8) {
          return npyError(name, "arrays of rank > 8 are not supported");
        }
        array.shape.push_back(dim);
        if (parser.consume(')')) {
          break;
        }
        if (!parser.consume(',')) {
          return npyError(name, "malformed .npy header (shape)");
        }
      }
      haveShape = true;
    } else {
      return npyError(name,
                      "unexpected key '" + escaped(key) + "' in .npy header");
    }
    if (parser.consume('}')) {
      break;
    }
    if (!parser.consume(',')) {
      return npyError(name, "malformed .npy header");
    }
  }
  if (!parser.atEnd()) {
    return npyError(name, "malformed .npy header (text after the dict)");
  }
  if (!haveDescr || !haveOrder || !haveShape) {
    return npyError(name, "malformed .npy header (missing descr, "
                          "fortran_order or shape)");
  }
  size_t elementSize;
  if (descr == "<f4") {
    array.type = NpyType::F32;
    elementSize = 4;
  } else if (descr == "<f2") {
    array.type = NpyType::F16;
    elementSize = 2;
  } else if (descr == "<i4") {
    array.type = NpyType::I32;
    elementSize = 4;
  } else {
    return npyError(name, "dtype '" + escaped(descr) +
                              "' is not supported; expected <f4 (float32), "
                              "<f2 (float16) or <i4 (int32)");
  }

  // Overflow-safe element count.
  uint64_t count = 1;
  for (int64_t dim : array.shape) {
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 8 / dim) {
      return npyError(name, "shape " + array.shapeString() + " is too large");
    }
    count *= dim;
  }
  StringRef payload = bytes.substr(headerStart + headerLength);
  if (payload.size() != count * elementSize) {
    return npyError(
        name, "data is " + llvm::Twine(payload.size()) + " bytes, expected " +
                  llvm::Twine(count * elementSize) + " for shape " +
                  array.shapeString() +
                  (payload.size() < count * elementSize ? " (truncated file?)"
                                                        : " (trailing bytes)"));
  }
  array.data.assign(payload.begin(), payload.end());
  return array;
}

Expected<NpyArray> readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = buffer.getError()) {
    return npyError(path, "cannot read: " + ec.message());
  }
  return parseNpy((*buffer)->getBuffer(), path);
}

Error writeNpyF32(StringRef path, llvm::ArrayRef<int64_t> shape,
                  llvm::ArrayRef<float> values) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    header += (i ? ", " : "") + std::to_string(shape[i]);
  }
  header += shape.size() == 1 ? ",), }" : "), }";
  // Pad so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    return npyError(path, "cannot write: " + ec.message());
  }
  os << StringRef("\x93NUMPY\x01\x00", 8);
  os << char(header.size() & 0xff) << char(header.size() >> 8);
  os << header;
  os.write(reinterpret_cast<const char *>(values.data()),
           values.size() * sizeof(float));
  os.close();
  if (os.has_error()) {
    llvm::sys::fs::remove(path);
    return npyError(path, "cannot write: " + os.error().message());
  }
  return Error::success();
}

} // namespace attngen
