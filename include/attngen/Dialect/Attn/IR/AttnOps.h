//===- AttnOps.h - attn dialect ops -----------------------------*- C++ -*-===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_H
#define ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_H

#include "attngen/Dialect/Attn/IR/AttnAttrs.h"
#include "attngen/Dialect/Attn/IR/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "attngen/Dialect/Attn/IR/AttnOps.h.inc"

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNOPS_H
