//===- CpuPackage.cpp - kernel packages for the CPU -----------------------===//

#include "attngen/Backend/Cpu/CpuPackage.h"
#include "attngen/Backend/Cpu/HostCpu.h"
#include "attngen/Backend/PackageDirectory.h"
#include "attngen/Backend/PackageManifest.h"
#include "attngen/Spec/SpecParser.h"
#include "attngen/Support/Error.h"

#include "lld/Common/Driver.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <nlohmann/json.hpp>

LLD_HAS_DRIVER(elf)

using llvm::Error;

namespace attngen {

/// The manifest: everything a loader needs without reading the object.
static nlohmann::ordered_json manifestJson(const AttentionSpec &spec,
                                           int64_t blockM, int64_t blockN,
                                           const std::string &triple,
                                           const std::string &cpu,
                                           const std::string &features) {
  using json = nlohmann::ordered_json;
  bool packGqa = spec.kvCache.layout != KvCacheLayout::None &&
                 spec.numQHeads > spec.numKvHeads;
  json params = manifestTensorParams(spec);
  params.push_back(json{{"name", "begin"}, {"kind", "index"}});
  params.push_back(json{{"name", "end"}, {"kind", "index"}});
  json manifest = manifestHeader(spec, Target::CPU);
  for (auto [key, value] :
       {std::make_pair("triple", triple), std::make_pair("cpu", cpu),
        std::make_pair("cpu_features", features)}) {
    manifest[key] = value;
  }
  manifest["kernel"] = {
      {"file", "kernel.so"},
      {"entry", "_mlir_ciface_" + spec.name},
      // MLIR's C interface: every memref is passed as a pointer to
      // {T *allocated, T *aligned, int64 offset, int64 sizes[rank],
      //  int64 strides[rank]}; dense row-major BSHD buffers.
      {"abi", "mlir-c-interface"},
      {"params", params},
      {"block_m", blockM},
      {"block_n", blockN},
      // Work item w = ((num_q_tiles - 1 - q_tile) * batch + b) *
      // num_q_heads + h (costly causal Q tiles first); calls over disjoint
      // [begin, end) ranges may run concurrently.
      // GQA-packed kernels (KV caches with num_q_heads > num_kv_heads):
      // per kv head, rows = (query, q head) pairs.
      {"pack_gqa", packGqa},
      {"work_items",
       std::string(packGqa ? "batch * num_kv_heads * ceil(seqlen_q * "
                             "(num_q_heads / num_kv_heads) / block_m)"
                           : "batch * num_q_heads * ceil(seqlen_q / block_m)") +
           (spec.splitKv == 1 ? "" : " * num_splits")}};
  if (spec.splitKv != 1) {
    // Split-KV: after every work item, the merge combines the chunks of
    // each output row, row = (b * seqlen_q + i) * num_q_heads + h.
    manifest["kernel"]["merge_entry"] = "_mlir_ciface_" + spec.name + "_merge";
    manifest["kernel"]["merge_params"] = {"o",           "lse",   "partial_o",
                                          "partial_lse", "begin", "end"};
    manifest["kernel"]["merge_work_items"] = "batch * seqlen_q * num_q_heads";
  }
  if (spec.kvCache.append) {
    // Appending: before the work items, new row r = (b * seqlen_q + j) *
    // num_kv_heads + h goes into the cache at cache_seqlens[b] + j.
    manifest["kernel"]["append_entry"] =
        "_mlir_ciface_" + spec.name + "_append";
    manifest["kernel"]["append_params"] = {
        "k_new",      "v_new",        "k",     "v",  "cache_seqlens",
        "page_table", "cu_seqlens_q", "begin", "end"};
    // (Varlen batches: the packed rows, seqlen_q = total, batch 1.)
    manifest["kernel"]["append_work_items"] = "batch * seqlen_q * num_kv_heads";
  }
  // ALiBi's standard slopes, so that loaders need not re-derive them.
  if (spec.alibi) {
    manifest["kernel"]["default_alibi_slopes"] =
        defaultAlibiSlopes(spec.numQHeads);
  }
  return manifest;
}

/// LLVM dialect -> optimized LLVM IR -> object code for the host CPU.
static llvm::Expected<llvm::SmallVector<char, 0>>
compileToObject(mlir::ModuleOp llvmModule, const HostCpu &cpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  mlir::registerBuiltinDialectTranslation(*llvmModule->getContext());
  mlir::registerLLVMDialectTranslation(*llvmModule->getContext());
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module =
      mlir::translateModuleToLLVMIR(llvmModule, context);
  if (!module) {
    return makeError("translation to LLVM IR failed");
  }

  std::string lookupError;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(cpu, lookupError);
  if (!machine) {
    return makeError("no LLVM target for " + cpu.triple + ": " + lookupError);
  }
  module->setTargetTriple(machine->getTargetTriple());
  module->setDataLayout(machine->createDataLayout());
  if (Error error =
          mlir::makeOptimizingTransformer(3, 0, machine.get())(module.get())) {
    return std::move(error);
  }

  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    return makeError("the target cannot emit object files");
  }
  passes.run(*module);
  return object;
}

Error writeCpuPackage(mlir::ModuleOp llvmModule, const AttentionSpec &spec,
                      int64_t blockM, int64_t blockN,
                      const std::string &packageDir) {
  HostCpu cpu = hostCpu();
  auto object = compileToObject(llvmModule, cpu);
  if (!object) {
    return object.takeError();
  }

  return writePackageDirectory(
      packageDir, [&](llvm::StringRef staging) -> Error {
        std::string objectPath = (staging + "/kernel.o").str();
        std::string libraryPath = (staging + "/kernel.so").str();
        if (Error error = writePackageFile(objectPath,
                                           {object->data(), object->size()})) {
          return error;
        }
        // Link in-process with lld: no external tool at compile time.
        std::string linkOutput;
        llvm::raw_string_ostream linkLog(linkOutput);
        const char *args[] = {"ld.lld",
                              "-shared",
                              "--no-undefined-version",
                              "-soname",
                              "kernel.so",
                              "-o",
                              libraryPath.c_str(),
                              objectPath.c_str()};
        lld::Result result =
            lld::lldMain(args, linkLog, linkLog, {{lld::Gnu, &lld::elf::link}});
        if (result.retCode != 0) {
          return makeError(packageDir +
                           ": linking kernel.so failed: " + linkOutput);
        }
        llvm::sys::fs::remove(objectPath);
        auto library = llvm::MemoryBuffer::getFile(libraryPath);
        if (!library) {
          return makeError(libraryPath + ": cannot read back: " +
                           library.getError().message());
        }
        return writePackageFile(
            (staging + "/manifest.json").str(),
            manifestTextWithDigest(manifestJson(spec, blockM, blockN,
                                                cpu.triple, cpu.name,
                                                cpu.features),
                                   (*library)->getBuffer()));
      });
}

} // namespace attngen
