//===- HostCpu.cpp - the CPU that CPU packages are compiled for -----------===//

#include "attngen/Backend/Cpu/HostCpu.h"

#include "llvm/Analysis/TargetTransformInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <memory>

namespace attngen {

HostCpu hostCpu() {
  HostCpu cpu{llvm::sys::getProcessTriple(), llvm::sys::getHostCPUName().str(),
              ""};
  for (const auto &feature : llvm::sys::getHostCPUFeatures()) {
    cpu.features += (cpu.features.empty() ? "" : ",") +
                    std::string(feature.second ? "+" : "-") +
                    feature.first().str();
  }
  return cpu;
}

std::unique_ptr<llvm::TargetMachine> createTargetMachine(const HostCpu &cpu,
                                                         std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::Triple triple(cpu.triple);
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    return nullptr;
  }
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu.name, cpu.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

int64_t preferredF32VectorWidth(const HostCpu &cpu) {
  constexpr int64_t kMinLanes = 8, kMaxLanes = 16;
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(cpu, error);
  if (!machine) {
    return kMinLanes;
  }
  // The register width LLVM's cost model vectorizes for, which a function
  // of this CPU gets (prefer-vector-width included).
  llvm::LLVMContext context;
  llvm::Module module("probe", context);
  llvm::Function *function = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(context), false),
      llvm::GlobalValue::ExternalLinkage, "probe", module);
  int64_t bits =
      machine->getTargetTransformInfo(*function)
          .getRegisterBitWidth(llvm::TargetTransformInfo::RGK_FixedWidthVector)
          .getFixedValue();
  return std::clamp<int64_t>(bits / 32, kMinLanes, kMaxLanes);
}

int64_t hostF32VectorWidth() {
  static const int64_t lanes = preferredF32VectorWidth(hostCpu());
  return lanes;
}

} // namespace attngen
