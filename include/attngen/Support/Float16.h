//===- Float16.h - f16 and bf16 conversions ---------------------*- C++ -*-===//
//
// Round-to-nearest-even conversions between f32 and the 16-bit float formats,
// as bit patterns (IEEE binary16 and bfloat16).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_SUPPORT_FLOAT16_H
#define ATTNGEN_SUPPORT_FLOAT16_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace attngen {

inline uint32_t floatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// f32 -> binary16, round to nearest even; overflow gives inf, NaN stays NaN.
inline uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint16_t sign = (bits >> 16) & 0x8000;
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x7f800000) { // inf or NaN
    return sign | (magnitude > 0x7f800000 ? 0x7e00 : 0x7c00);
  }
  if (magnitude >= 0x477ff000) { // >= 65520 rounds to inf
    return sign | 0x7c00;
  }
  if (magnitude < 0x38800000) { // below 2^-14: subnormal half (or zero)
    // value * 2^24 is exact in f32; rint rounds half to even.
    float scaled = bitsToFloat(magnitude) * 16777216.0f;
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  uint32_t exponent = (magnitude >> 23) - 127 + 15;
  uint32_t mantissa = magnitude & 0x7fffff;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) {
    ++half; // a carry into the exponent is the correct rounding
  }
  return sign | static_cast<uint16_t>(half);
}

inline float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
    float value = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -value : value;
  }
  if (exponent == 31) {
    return bitsToFloat(sign | 0x7f800000 | (mantissa << 13));
  }
  return bitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

/// f32 -> bfloat16, round to nearest even; NaN stays a quiet NaN.
inline uint16_t floatToBFloat16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffff) > 0x7f800000) {
    return static_cast<uint16_t>((bits >> 16) | 0x0040);
  }
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float bfloat16ToFloat(uint16_t value) {
  return bitsToFloat(static_cast<uint32_t>(value) << 16);
}

} // namespace attngen

#endif // ATTNGEN_SUPPORT_FLOAT16_H
