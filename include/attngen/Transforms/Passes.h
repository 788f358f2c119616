//===- Passes.h - attngen transformation passes -----------------*- C++ -*-===//

#ifndef ATTNGEN_TRANSFORMS_PASSES_H
#define ATTNGEN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attn {

#define GEN_PASS_DECL
#include "attngen/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attngen/Transforms/Passes.h.inc"

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_PASSES_H
