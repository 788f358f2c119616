//===- AttnAttrs.h - attn dialect attributes --------------------*- C++ -*-===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_H
#define ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "attngen/Dialect/Attn/IR/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attngen/Dialect/Attn/IR/AttnAttrs.h.inc"

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNATTRS_H
