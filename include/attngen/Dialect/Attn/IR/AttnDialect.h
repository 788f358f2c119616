//===- AttnDialect.h - the attn dialect -------------------------*- C++ -*-===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_H
#define ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"

#include "attngen/Dialect/Attn/IR/AttnOpsDialect.h.inc"

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_H
