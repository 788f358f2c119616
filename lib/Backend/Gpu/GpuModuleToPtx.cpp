//===- GpuModuleToPtx.cpp - gpu.module to PTX by LLVM's NVPTX backend -----===//
//
// Serializes each gpu.module (NVVM and LLVM dialects, an #nvvm.target
// attached) to PTX in-process: translation to LLVM IR, then LLVM's NVPTX
// code generator at -O3, as `llc -O3` does. Unlike MLIR's
// gpu-module-to-binary, no LLVM IR optimization pipeline runs first: the
// kernels arrive canonicalized, CSE'd and fully unrolled, and the O3 IR
// pipeline only hoists address arithmetic out of the KV loop (LICM, GVN),
// which keeps it live across the loop. Measured with ptxas -v on the bench
// grid (bench/gpu/make_specs.py --sweep, sm_80): 5-10% fewer PTX
// instructions and up to 21 fewer registers per thread (noncausal d128
// 64x64: 246 -> 225; d64 64x64: 192 -> 173), and fewer spill bytes where a
// tiling spilled. NVPTX's own IR passes (GVN, straight-line strength
// reduction, load/store vectorization, address-space inference) still run.
//
// Shared-memory pointers are 32-bit (NVPTX's short pointers, as clang's
// -fcuda-short-ptr): a CTA's shared memory is at most 228 KB, and every
// shared address kept across the KV loop (tile bases, ldmatrix addresses)
// then takes one register instead of two. With the i32 lane arithmetic of
// the pre-NVVM pipeline (GpuPipeline.cpp), FlashAttention-2's non-causal
// d128 tile (128x64, 4 warps, two slabs each) went from 16 B (sm_80) and
// 248 B (sm_90) of spills to none; either change alone left spills. The
// PTX is `llc -O3 -nvptx-short-ptr -enable-poison-reuse-guard=false` on
// `--emit llvm` (setCodegenOptions).
//
//===----------------------------------------------------------------------===//

#include "attngen/Backend/Gpu/GpuPipeline.h"
#include "attngen/Support/Error.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

#include <mutex>

using namespace mlir;

namespace attngen {

namespace {

/// Sets one of LLVM's process-wide command-line options, as `llc -NAME=VALUE`
/// would; false when this LLVM has no such option.
bool setLlvmOption(llvm::StringRef name, llvm::StringRef value) {
  auto options = llvm::cl::getRegisteredOptions();
  auto option = options.find(name);
  return option != options.end() &&
         !option->second->addOccurrence(0, name, value);
}

/// Sets the code generator's options, once per process:
/// - `-nvptx-short-ptr`: 32-bit pointers for the shared, const and local
///   address spaces. NVPTX reads it only when a target machine computes its
///   data layout (a module's own data layout is replaced by the machine's);
///   required.
/// - `-enable-poison-reuse-guard=false`: LLVM 22's straight-line strength
///   reduction asks ScalarEvolution::canReuseInstruction, for every pair of
///   a candidate and its basis, whether reusing the basis could introduce
///   poison, and each answer walks operand chains to a fixed depth (a 64-bit
///   index expression of a KV loop is deeper): 25% of gemma2_9b_local's
///   compile, and the walk gives up, refusing reuses that were safe. LLVM
///   later asks once per basis (llvm-project #196545). The question has one
///   answer for our kernels: reused and reusing expressions are built from
///   kernel parameters, global integer loads, special registers (all
///   noundef) and constants through integer operations (add, mul, and, xor,
///   div/rem, min/max, select, shifts by constants, casts) that make poison
///   only through the flags dropPoisonGeneratingFlags removes; no kernel has
///   a shift by a variable amount or a float-to-int conversion (checked on
///   the 144 kernels before strength reduction). Without the guard:
///   gemma2_9b_local -26% instructions to compile, and of 144 kernels (specs/,
///   numerics inputs, sm_80 and sm_90) 67 are 0.2-3.5% shorter in SASS, none
///   longer (registers -6 to +6, no spills). Optional: an LLVM without the
///   option keeps its guard.
llvm::Error setCodegenOptions() {
  static std::once_flag once;
  static bool shortPointers = false;
  std::call_once(once, [] {
    shortPointers = setLlvmOption("nvptx-short-ptr", "true");
    (void)setLlvmOption("enable-poison-reuse-guard", "false");
  });
  if (!shortPointers) {
    return makeError("LLVM's NVPTX backend has no -nvptx-short-ptr option");
  }
  return llvm::Error::success();
}

/// The NVPTX target machine for `chip` and PTX `features`, code generation
/// at -O3 with setCodegenOptions.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createNvptxMachine(llvm::StringRef chip, llvm::StringRef features) {
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTarget();
  LLVMInitializeNVPTXTargetMC();
  LLVMInitializeNVPTXAsmPrinter();
  if (llvm::Error error = setCodegenOptions()) {
    return std::move(error);
  }
  llvm::Triple triple("nvptx64-nvidia-cuda");
  std::string lookupError;
  const llvm::Target *nvptx =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!nvptx) {
    return makeError("the NVPTX target is unavailable: " + lookupError);
  }
  std::unique_ptr<llvm::TargetMachine> machine(nvptx->createTargetMachine(
      triple, chip, features, llvm::TargetOptions(), std::nullopt, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    return makeError("no NVPTX target machine for " + chip);
  }
  return machine;
}

/// The target a gpu.module was given by gpu-nvvm-attach-target.
NVVM::NVVMTargetAttr nvvmTargetOf(gpu::GPUModuleOp kernels) {
  if (ArrayAttr targets = kernels.getTargetsAttr()) {
    for (Attribute target : targets) {
      if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(target)) {
        return nvvm;
      }
    }
  }
  return {};
}

/// gpu.dynamic_shared_memory becomes an internal zero-length array in
/// address space 3, which NVPTX emits as a 1-byte static `.shared`
/// variable: kernels then needed static + dynamic bytes (one more than the
/// manifest's) and, at exactly 48 KiB of dynamic memory, failed to launch
/// without the opt-in. As `extern __shared__` (a declaration), it is
/// `.extern .shared .b8 name[]`: the dynamic window itself.
void externalizeDynamicSharedMemory(llvm::Module &module) {
  constexpr unsigned kSharedAddressSpace = 3;
  for (llvm::GlobalVariable &global : module.globals()) {
    auto *array = llvm::dyn_cast<llvm::ArrayType>(global.getValueType());
    if (global.getAddressSpace() != kSharedAddressSpace || !array ||
        array->getNumElements() != 0) {
      continue;
    }
    global.setInitializer(nullptr);
    global.setLinkage(llvm::GlobalValue::ExternalLinkage);
  }
}

/// Marks what a kernel reads from its launch as defined (noundef): every
/// parameter, as clang does for CUDA kernels, and every integer loaded from
/// global memory (cache_seqlens, page tables, cu_seqlens). Both hold the
/// bits the caller wrote (libattnrt passes every parameter, absent tensors
/// as null pointers and zero sizes); MLIR's lowering leaves the attributes
/// off. The marks are facts the reuse-guard argument of setCodegenOptions
/// relies on, and LLVM's code generator uses them: 3 paged/varlen kernels
/// are 0.3-0.5% longer in SASS without them. Before the guard was turned
/// off they also cut its cost (llama3_8b_decode_rope_append 7.07 -> 5.68 G
/// instructions to compile; paged, varlen and split-KV kernels -1 to -12%
/// SASS).
void markLaunchInputsDefined(llvm::Module &module) {
  constexpr unsigned kSharedAddressSpace = 3;
  for (llvm::Function &function : module) {
    if (function.getCallingConv() != llvm::CallingConv::PTX_Kernel) {
      continue;
    }
    for (llvm::Argument &parameter : function.args()) {
      parameter.addAttr(llvm::Attribute::NoUndef);
    }
    for (llvm::Instruction &instruction : llvm::instructions(function)) {
      auto *load = llvm::dyn_cast<llvm::LoadInst>(&instruction);
      if (load && load->getType()->isIntegerTy() &&
          load->getPointerAddressSpace() != kSharedAddressSpace) {
        load->setMetadata(llvm::LLVMContext::MD_noundef,
                          llvm::MDNode::get(module.getContext(), {}));
      }
    }
  }
}

/// Removes nsw, nuw, exact, disjoint, inbounds, nneg and samesign from every
/// instruction: a value that breaks such a flag is poison, and with none the
/// kernels' integer arithmetic cannot make poison, which makes turning off
/// strength reduction's reuse guard (setCodegenOptions) sound. MLIR's memref
/// lowering sets a few (0-23 per kernel, on 64-bit offsets); the SASS of
/// all 144 checked kernels is the same without them.
void dropPoisonGeneratingFlags(llvm::Module &module) {
  for (llvm::Function &function : module) {
    for (llvm::Instruction &instruction : llvm::instructions(function)) {
      instruction.dropPoisonGeneratingFlags();
    }
  }
}

/// A gpu.module as an LLVM module, with the NVPTX target machine of its
/// #nvvm.target (chip and PTX features).
struct NvptxModule {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<llvm::Module> module;
};

llvm::Expected<NvptxModule> translateForNvptx(gpu::GPUModuleOp kernels,
                                              llvm::LLVMContext &context) {
  // The one verification between the spec and LLVM IR (runPasses turns
  // MLIR's per-pass verification off): translating invalid IR could crash.
  if (failed(verify(kernels))) {
    return makeError("gpu.module @" + kernels.getName() + " does not verify");
  }
  NVVM::NVVMTargetAttr target = nvvmTargetOf(kernels);
  if (!target) {
    return makeError("gpu.module @" + kernels.getName() +
                     " has no #nvvm.target");
  }
  auto machine = createNvptxMachine(target.getChip(), target.getFeatures());
  if (!machine) {
    return machine.takeError();
  }
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(kernels, context, kernels.getName());
  if (!llvmModule) {
    return makeError("translation of the kernel module to LLVM IR failed");
  }
  externalizeDynamicSharedMemory(*llvmModule);
  markLaunchInputsDefined(*llvmModule);
  dropPoisonGeneratingFlags(*llvmModule);
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  return NvptxModule{std::move(*machine), std::move(llvmModule)};
}

} // namespace

llvm::Expected<std::string> translateGpuModuleToLLVMIR(ModuleOp module) {
  gpu::GPUModuleOp kernels;
  module.walk([&](gpu::GPUModuleOp op) { kernels = op; });
  if (!kernels) {
    return makeError("no gpu.module to translate");
  }
  llvm::LLVMContext context;
  auto translated = translateForNvptx(kernels, context);
  if (!translated) {
    return translated.takeError();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  translated->module->print(os, nullptr);
  return text;
}

llvm::Expected<std::string> emitPtx(gpu::GPUModuleOp kernels) {
  llvm::LLVMContext context;
  auto translated = translateForNvptx(kernels, context);
  if (!translated) {
    return translated.takeError();
  }
  std::string ptx;
  {
    llvm::raw_string_ostream stream(ptx);
    llvm::buffer_ostream buffered(stream);
    llvm::legacy::PassManager codegen;
    if (translated->machine->addPassesToEmitFile(
            codegen, buffered, nullptr, llvm::CodeGenFileType::AssemblyFile)) {
      return makeError("the NVPTX backend cannot emit PTX");
    }
    codegen.run(*translated->module);
  }
  return ptx;
}

namespace {

/// Replaces every gpu.module with a gpu.binary holding its PTX.
struct GpuModuleToPtxPass
    : public PassWrapper<GpuModuleToPtxPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuModuleToPtxPass)

  StringRef getArgument() const final { return "attn-gpu-module-to-ptx"; }
  StringRef getDescription() const final {
    return "Serialize each gpu.module to PTX with LLVM's NVPTX backend at -O3 "
           "(no LLVM IR optimization pipeline)";
  }

  void runOnOperation() final {
    SmallVector<gpu::GPUModuleOp> modules(
        getOperation().getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp kernels : modules) {
      llvm::Expected<std::string> ptx = emitPtx(kernels);
      if (!ptx) {
        kernels.emitError() << llvm::toString(ptx.takeError());
        return signalPassFailure();
      }
      OpBuilder builder(kernels);
      auto object = gpu::ObjectAttr::get(nvvmTargetOf(kernels),
                                         gpu::CompilationTarget::Assembly,
                                         builder.getStringAttr(*ptx));
      gpu::BinaryOp::create(builder, kernels.getLoc(), kernels.getName(),
                            /*offloadingHandler=*/nullptr,
                            ArrayRef<Attribute>{object});
      kernels.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> createGpuModuleToPtxPass() {
  return std::make_unique<GpuModuleToPtxPass>();
}

} // namespace attngen
