//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
//
// The attn dialect: attention as one op on tensors, carrying every variant
// attribute of an attngen spec.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_TD
#define ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Fused attention: one op per attention variant";
  let description = [{
    The `attn` dialect models scaled dot-product attention as a single
    tensor-level op, `attn.attention`, whose attributes describe the variant:
    head grouping (MHA/GQA/MQA), the mask (causal with its alignment, sliding
    window, attention sinks) and score modifiers (scale, softcap, ALiBi).
    Passes tile it into an online-softmax loop nest and lower it to the GPU
    and the CPU.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTNGEN_DIALECT_ATTN_IR_ATTNDIALECT_TD
