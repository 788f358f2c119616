//===- GpuContract.cpp - contractible float arithmetic for the GPU -------===//
//
// nvcc's --fmad=true for attngen's kernels: every floating-point arith op
// gets the `contract` fast-math flag, which LLVM carries to its fmul/fadd
// and NVPTX uses to fuse them into fma.rn.f32.
//
//===----------------------------------------------------------------------===//

#include "attngen/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNGPUCONTRACT
#include "attngen/Transforms/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {

struct AttnGpuContractPass
    : public mlir::attn::impl::AttnGpuContractBase<AttnGpuContractPass> {
  void runOnOperation() override {
    getOperation()->walk([](arith::ArithFastMathInterface op) {
      arith::FastMathFlagsAttr current = op.getFastMathFlagsAttr();
      arith::FastMathFlags flags =
          current ? current.getValue() : arith::FastMathFlags::none;
      op->setAttr(op.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(
                      op->getContext(), flags | arith::FastMathFlags::contract));
    });
  }
};

} // namespace
