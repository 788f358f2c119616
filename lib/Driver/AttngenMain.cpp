//===- AttngenMain.cpp - the attngen command line -------------------------===//

#include "attngen/Driver/AttngenMain.h"
#include "attngen/Driver/Compile.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace attngen {
namespace {

constexpr const char *kVersion = "0.1.0";

cl::SubCommand compileCommand("compile",
                              "Compile a spec file to IR, PTX, a CPU object "
                              "or a kernel package");

cl::opt<std::string> compileSpecPath(cl::Positional, cl::Required,
                                     cl::desc("<spec.json>"),
                                     cl::sub(compileCommand));
cl::opt<std::string> compileOutput("o", cl::Required,
                                   cl::desc("Output file ('-' for stdout)"),
                                   cl::value_desc("file"),
                                   cl::sub(compileCommand));
cl::opt<Target> compileTarget(
    "target", cl::desc("Target to compile for (default: the spec's target)"),
    cl::values(clEnumValN(Target::SM80, "sm_80", "NVIDIA Ampere (PTX)"),
               clEnumValN(Target::SM90, "sm_90", "NVIDIA Hopper (PTX)"),
               clEnumValN(Target::CPU, "cpu", "the host CPU")),
    cl::sub(compileCommand));
cl::opt<EmitKind> compileEmit(
    "emit", cl::desc("Write an intermediate form (text) instead of a package"),
    cl::values(clEnumValN(EmitKind::SpecIR, "spec-ir",
                          "the attn.attention op built from the spec")),
    cl::sub(compileCommand));

void printVersion(llvm::raw_ostream &os) {
  os << "attngen " << kVersion << " (spec version 1, LLVM " LLVM_VERSION_STRING
     << ")\n";
}

int runCompile() {
  CompileOptions options;
  options.specPath = compileSpecPath;
  options.outputPath = compileOutput;
  if (compileTarget.getNumOccurrences())
    options.target = compileTarget;
  if (compileEmit.getNumOccurrences())
    options.emit = compileEmit;
  if (llvm::Error error = compileSpec(options)) {
    llvm::errs() << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int attngenMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter(printVersion);
  cl::ParseCommandLineOptions(
      argc, argv,
      "attngen: a compiler for attention kernels\n\n"
      "  attngen compile SPEC.json [--target sm_80|sm_90|cpu] "
      "--emit spec-ir -o OUT\n\n"
      "Run 'attngen <command> --help' for the options of a command.\n");
  if (compileCommand)
    return runCompile();
  llvm::errs() << "attngen: expected a command (compile); see attngen --help\n";
  return 1;
}

} // namespace attngen
