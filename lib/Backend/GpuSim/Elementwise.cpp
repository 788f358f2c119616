//===- Elementwise.cpp - element ops in the emulator ----------------------===//
//
// Ops that map each thread's operand elements to result elements (arith,
// math, vector element ops), with f16/bf16 rounding.
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

#include "attngen/Support/Float16.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

namespace attngen::gpu_sim {

double roundTo(Type type, double value) {
  if (type.isF32()) {
    return static_cast<float>(value);
  }
  if (type.isF16()) {
    return halfToFloat(floatToHalf(static_cast<float>(value)));
  }
  if (type.isBF16()) {
    return bfloat16ToFloat(floatToBFloat16(static_cast<float>(value)));
  }
  if (type.isInteger(1)) {
    return value != 0.0;
  }
  if (type.isInteger(32)) {
    return static_cast<int32_t>(
        static_cast<uint32_t>(static_cast<int64_t>(value)));
  }
  return static_cast<double>(static_cast<int64_t>(value));
}

uint32_t bitsOf(Type type, double value) {
  if (type.isF32()) {
    return floatBits(static_cast<float>(value));
  }
  if (type.isF16()) {
    return floatToHalf(static_cast<float>(value));
  }
  if (type.isBF16()) {
    return floatToBFloat16(static_cast<float>(value));
  }
  return static_cast<uint32_t>(static_cast<int64_t>(value));
}

double fromBits(Type type, uint32_t bits) {
  if (type.isF32()) {
    return bitsToFloat(bits);
  }
  if (type.isF16()) {
    return halfToFloat(static_cast<uint16_t>(bits));
  }
  if (type.isBF16()) {
    return bfloat16ToFloat(static_cast<uint16_t>(bits));
  }
  if (type.isInteger(16)) {
    return static_cast<int16_t>(bits);
  }
  return static_cast<int32_t>(bits);
}

/// Ops that map each thread's operand elements to result elements.
LogicalResult CtaSimulator::execElementwise(Operation *op, const Mask &mask) {
  Type resultType = getElementTypeOrSelf(op->getResult(0).getType());
  Type operandType = getElementTypeOrSelf(op->getOperand(0).getType());
  auto compute = [&](ArrayRef<double> x) -> std::optional<double> {
    double a = x[0], b = x.size() > 1 ? x[1] : 0, c = x.size() > 2 ? x[2] : 0;
    auto i64 = [](double v) { return static_cast<int64_t>(v); };
    return llvm::TypeSwitch<Operation *, std::optional<double>>(op)
        .Case([&](arith::AddFOp) { return a + b; })
        .Case([&](arith::SubFOp) { return a - b; })
        .Case([&](arith::NegFOp) { return -a; })
        .Case([&](arith::MulFOp) { return a * b; })
        .Case([&](arith::DivFOp) { return a / b; })
        .Case([&](arith::MaximumFOp) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
        })
        .Case([&](arith::MinimumFOp) {
          return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
        })
        .Case([&](math::Exp2Op) {
          // ex2.approx.f32 on the GPU: f32 precision.
          return static_cast<double>(std::exp2(static_cast<float>(a)));
        })
        .Case([&](math::FmaOp) {
          return static_cast<double>(std::fma(static_cast<float>(a),
                                              static_cast<float>(b),
                                              static_cast<float>(c)));
        })
        .Case([&](arith::AddIOp) { return double(i64(a) + i64(b)); })
        .Case([&](arith::SubIOp) { return double(i64(a) - i64(b)); })
        .Case([&](arith::MulIOp) { return double(i64(a) * i64(b)); })
        .Case([&](arith::DivUIOp) { return double(uint64_t(a) / uint64_t(b)); })
        .Case([&](arith::RemUIOp) { return double(uint64_t(a) % uint64_t(b)); })
        .Case([&](arith::FloorDivSIOp) {
          int64_t q = i64(a) / i64(b);
          return double((i64(a) % i64(b) != 0 && ((i64(a) < 0) != (i64(b) < 0)))
                            ? q - 1
                            : q);
        })
        .Case([&](arith::CeilDivSIOp) {
          int64_t q = i64(a) / i64(b);
          return double((i64(a) % i64(b) != 0 && ((i64(a) < 0) == (i64(b) < 0)))
                            ? q + 1
                            : q);
        })
        .Case([&](arith::MinSIOp) { return double(std::min(i64(a), i64(b))); })
        .Case([&](arith::MaxSIOp) { return double(std::max(i64(a), i64(b))); })
        .Case([&](arith::AndIOp) { return double(i64(a) & i64(b)); })
        .Case([&](arith::OrIOp) { return double(i64(a) | i64(b)); })
        .Case([&](arith::XOrIOp) { return double(i64(a) ^ i64(b)); })
        .Case([&](arith::ShLIOp) { return double(i64(a) << i64(b)); })
        .Case([&](arith::ShRUIOp) {
          return double(static_cast<uint32_t>(i64(a)) >> i64(b));
        })
        .Case([&](arith::SelectOp) { return a != 0 ? b : c; })
        .Case([&](arith::CmpIOp cmp) -> std::optional<double> {
          int64_t x = i64(a), y = i64(b);
          switch (cmp.getPredicate()) {
          case arith::CmpIPredicate::eq:
            return x == y;
          case arith::CmpIPredicate::ne:
            return x != y;
          case arith::CmpIPredicate::slt:
            return x < y;
          case arith::CmpIPredicate::sle:
            return x <= y;
          case arith::CmpIPredicate::sgt:
            return x > y;
          case arith::CmpIPredicate::sge:
            return x >= y;
          case arith::CmpIPredicate::ult:
            return uint64_t(x) < uint64_t(y);
          case arith::CmpIPredicate::ule:
            return uint64_t(x) <= uint64_t(y);
          case arith::CmpIPredicate::ugt:
            return uint64_t(x) > uint64_t(y);
          case arith::CmpIPredicate::uge:
            return uint64_t(x) >= uint64_t(y);
          }
          return std::nullopt;
        })
        .Case([&](arith::CmpFOp cmp) -> std::optional<double> {
          bool ordered = !std::isnan(a) && !std::isnan(b);
          switch (cmp.getPredicate()) {
          case arith::CmpFPredicate::OEQ:
            return ordered && a == b;
          case arith::CmpFPredicate::OGT:
            return ordered && a > b;
          case arith::CmpFPredicate::OGE:
            return ordered && a >= b;
          case arith::CmpFPredicate::OLT:
            return ordered && a < b;
          case arith::CmpFPredicate::OLE:
            return ordered && a <= b;
          case arith::CmpFPredicate::ONE:
            return ordered && a != b;
          case arith::CmpFPredicate::UEQ:
            return !ordered || a == b;
          case arith::CmpFPredicate::UGT:
            return !ordered || a > b;
          case arith::CmpFPredicate::UGE:
            return !ordered || a >= b;
          case arith::CmpFPredicate::ULT:
            return !ordered || a < b;
          case arith::CmpFPredicate::ULE:
            return !ordered || a <= b;
          case arith::CmpFPredicate::UNE:
            return !ordered || a != b;
          case arith::CmpFPredicate::ORD:
            return ordered;
          case arith::CmpFPredicate::UNO:
            return !ordered;
          case arith::CmpFPredicate::AlwaysTrue:
            return 1.0;
          case arith::CmpFPredicate::AlwaysFalse:
            return 0.0;
          }
          return std::nullopt;
        })
        .Case([&](arith::TruncFOp) { return a; })
        .Case([&](arith::ExtFOp) { return a; })
        // Integers are kept sign-extended (i1 as 0 or 1) and results wrap
        // to their width (roundTo): narrowing is that wrap.
        .Case<arith::IndexCastOp, arith::TruncIOp>(
            [&](Operation *) { return a; })
        .Case([&](arith::ExtSIOp) { return operandType.isInteger(1) ? -a : a; })
        .Case<arith::IndexCastUIOp, arith::ExtUIOp>([&](Operation *) {
          auto integer = dyn_cast<IntegerType>(operandType);
          if (!integer || integer.getWidth() >= 64) {
            return a;
          }
          uint64_t low =
              uint64_t(i64(a)) & ((uint64_t(1) << integer.getWidth()) - 1);
          return double(low);
        })
        .Case([&](arith::SIToFPOp) { return a; })
        .Case([&](arith::FPToSIOp) { return std::trunc(a); })
        .Case([&](arith::BitcastOp) {
          return fromBits(resultType, bitsOf(operandType, a));
        })
        .Default([](Operation *) { return std::nullopt; });
  };
  for (int64_t t = 0; t < numThreads; ++t) {
    if (!mask[t]) {
      continue;
    }
    size_t count = values[op->getOperand(0)][t].size();
    // A select's condition may be a scalar over vector operands.
    for (Value operand : op->getOperands()) {
      count = std::max(count, values[operand][t].size());
    }
    Elements out;
    for (size_t e = 0; e < count; ++e) {
      SmallVector<double, 3> x;
      for (Value operand : op->getOperands()) {
        const Elements &in = values[operand][t];
        x.push_back(in.size() == 1 ? in[0] : in[e]);
      }
      std::optional<double> r = compute(x);
      if (!r) {
        return fail(op, "unsupported operation or predicate");
      }
      out.push_back(roundTo(resultType, *r));
    }
    set(op->getResult(0), t, out);
  }
  return success();
}

} // namespace attngen::gpu_sim
