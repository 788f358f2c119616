//===- AttngenMain.cpp - the attngen command line -------------------------===//

#include "attngen/Driver/AttngenMain.h"
#include "attngen/Driver/Bench.h"
#include "attngen/Driver/Compile.h"
#include "attngen/Driver/Run.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace attngen {
namespace {

constexpr const char *kVersion = "0.1.0";

//===--- attngen compile
//---------------------------------------------------===//

cl::SubCommand compileCommand(
    "compile", "Compile a spec file to a kernel package (a directory with "
               "manifest.json and kernel.so; --target cpu) or, with --emit, "
               "to an intermediate form");
cl::opt<std::string> compileSpecPath(cl::Positional, cl::Required,
                                     cl::desc("<spec.json>"),
                                     cl::sub(compileCommand));
cl::opt<std::string> compileOutput("o", cl::Required,
                                   cl::desc("Output: the package directory "
                                            "(NAME.attnpkg), or the --emit "
                                            "file ('-' for stdout)"),
                                   cl::value_desc("file"),
                                   cl::sub(compileCommand));
cl::opt<Target> compileTarget(
    "target", cl::desc("Target to compile for (default: the spec's target)"),
    cl::values(clEnumValN(Target::SM80, "sm_80", "NVIDIA Ampere (PTX)"),
               clEnumValN(Target::SM90, "sm_90", "NVIDIA Hopper (PTX)"),
               clEnumValN(Target::CPU, "cpu", "the host CPU")),
    cl::sub(compileCommand));
cl::opt<EmitKind> compileEmit(
    "emit", cl::desc("Write this form (text) instead of a package"),
    cl::values(clEnumValN(EmitKind::SpecIR, "spec-ir",
                          "the attn.attention op built from the spec"),
               clEnumValN(EmitKind::TiledIR, "tiled-ir",
                          "the online-softmax loop nest after attn-tile"),
               clEnumValN(EmitKind::LLVM, "llvm",
                          "LLVM IR of the kernel: the CPU kernel (--target "
                          "cpu) or the NVVM kernel module before LLVM's "
                          "NVPTX backend (--target sm_80|sm_90)"),
               clEnumValN(EmitKind::GpuIR, "gpu-ir",
                          "the tensor-core kernel's gpu.module (--target "
                          "sm_80|sm_90)"),
               clEnumValN(EmitKind::PTX, "ptx",
                          "PTX of the tensor-core kernel (--target "
                          "sm_80|sm_90)")),
    cl::sub(compileCommand));

//===--- attngen run
//-------------------------------------------------------===//

cl::SubCommand
    runCommand("run",
               "Run a spec's kernel on .npy inputs (BSHD, <f4 or <f2 for f16 "
               "specs); writes O (and LSE) as float32 .npy");
cl::opt<std::string> runSpecPath(cl::Positional, cl::Required,
                                 cl::desc("<spec.json>"), cl::sub(runCommand));
cl::opt<std::string> runBackend(
    "backend",
    cl::desc("cpu; cuda: the GPU package for this machine's GPU (sm_90 on "
             "compute capability 9.x and newer, else sm_80) launched through "
             "libattnrt; or gpu-sim: the GPU kernel executed by attngen's "
             "emulator of the CUDA execution model (slow; for checking "
             "kernels without a GPU)"),
    cl::init("cpu"), cl::sub(runCommand));
cl::opt<std::string>
    runQuery("q", cl::Required,
             cl::desc("Q [batch, seqlen_q, num_q_heads, head_dim]"),
             cl::value_desc("Q.npy"), cl::sub(runCommand));
cl::opt<std::string>
    runKey("k", cl::Required,
           cl::desc("K [batch, seqlen_k, num_kv_heads, head_dim]"),
           cl::value_desc("K.npy"), cl::sub(runCommand));
cl::opt<std::string>
    runValue("v", cl::Required,
             cl::desc("V [batch, seqlen_k, num_kv_heads, head_dim_v]"),
             cl::value_desc("V.npy"), cl::sub(runCommand));
cl::opt<std::string>
    runOutput("out", cl::Required,
              cl::desc("O [batch, seqlen_q, num_q_heads, head_dim_v], f32"),
              cl::value_desc("O.npy"), cl::sub(runCommand));
cl::opt<std::string>
    runLse("lse",
           cl::desc("Also write LSE [batch, num_q_heads, seqlen_q], f32 "
                    "(spec needs return_lse)"),
           cl::value_desc("LSE.npy"), cl::sub(runCommand));
cl::opt<std::string>
    runSlopes("alibi-slopes",
              cl::desc("ALiBi slopes [num_q_heads], f32 (default: the "
                       "standard geometric slopes)"),
              cl::value_desc("S.npy"), cl::sub(runCommand));
cl::opt<std::string> runCacheSeqlens(
    "cache-seqlens",
    cl::desc("KV cache specs: keys of each sequence [batch], int32; K and V "
             "are caches [batch, capacity, ...] or, paged, page pools "
             "[num_pages, page_size, ...]"),
    cl::value_desc("LENGTHS.npy"), cl::sub(runCommand));
cl::opt<std::string> runPageTable(
    "page-table",
    cl::desc("Paged KV cache specs: pages of each sequence [batch, "
             "max_pages], int32"),
    cl::value_desc("TABLE.npy"), cl::sub(runCommand));
cl::opt<std::string> runCuSeqlensQ(
    "cu-seqlens-q",
    cl::desc("Varlen specs: query offsets of the packed sequences [batch + "
             "1], int32; Q/K/V are then [total, heads, dim]"),
    cl::value_desc("OFFSETS.npy"), cl::sub(runCommand));
cl::opt<std::string> runCuSeqlensK(
    "cu-seqlens-k",
    cl::desc("Varlen specs: key offsets of the packed sequences [batch + 1], "
             "int32"),
    cl::value_desc("OFFSETS.npy"), cl::sub(runCommand));
cl::opt<std::string> runKeyNew(
    "k-new",
    cl::desc("Appending KV cache specs: new keys [batch, seqlen_q, "
             "num_kv_heads, head_dim], stored (rotated by the spec's rope) "
             "at rows cache_seqlens[b] .. + seqlen_q - 1 before attending"),
    cl::value_desc("KNEW.npy"), cl::sub(runCommand));
cl::opt<std::string> runValueNew(
    "v-new",
    cl::desc("Appending KV cache specs: new values [batch, seqlen_q, "
             "num_kv_heads, head_dim_v]"),
    cl::value_desc("VNEW.npy"), cl::sub(runCommand));
cl::opt<std::string> runKeyCacheOut(
    "k-cache-out",
    cl::desc("Appending KV cache specs: also write K's cache after the call, "
             "f32"),
    cl::value_desc("K.npy"), cl::sub(runCommand));
cl::opt<std::string> runValueCacheOut(
    "v-cache-out",
    cl::desc("Appending KV cache specs: also write V's cache after the call, "
             "f32"),
    cl::value_desc("V.npy"), cl::sub(runCommand));
cl::opt<unsigned> runThreads("threads", cl::desc("Threads (0 = all cores)"),
                             cl::init(0), cl::sub(runCommand));
cl::opt<bool> runSharedMemoryTraffic(
    "shared-memory-traffic",
    cl::desc("gpu-sim: also print how the attention kernel's shared-memory "
             "accesses would be served (wavefronts per phase of ldmatrix, "
             "loads and stores: 1.00 is free of bank conflicts; 128-byte "
             "lines per 128-byte cp.async request: 1.00 is aligned) and "
             "the 32-byte global sectors cp.async reads per 128-byte line "
             "(4.00: whole lines)"),
    cl::init(false), cl::sub(runCommand));

//===--- attngen bench
//-----------------------------------------------------===//

cl::SubCommand benchCommand("bench",
                            "Time a spec's kernel on random inputs (median "
                            "after warm-up, GFLOP/s)");
cl::opt<std::string> benchSpecPath(cl::Positional, cl::Required,
                                   cl::desc("<spec.json>"),
                                   cl::sub(benchCommand));
cl::opt<std::string> benchBackend(
    "backend",
    cl::desc("cpu, or cuda: the GPU package for this machine's GPU launched "
             "through libattnrt (per-launch time over back-to-back launches)"),
    cl::init("cpu"), cl::sub(benchCommand));
cl::opt<int64_t> benchBatch("batch", cl::desc("Batch size"), cl::init(1),
                            cl::sub(benchCommand));
cl::opt<int64_t> benchSeqlenQ("seqlen-q", cl::Required,
                              cl::desc("Query sequence length"),
                              cl::sub(benchCommand));
cl::opt<int64_t> benchSeqlenK("seqlen-k", cl::Required,
                              cl::desc("Key sequence length"),
                              cl::sub(benchCommand));
cl::opt<int64_t> benchReps("reps", cl::desc("Timed repetitions"), cl::init(10),
                           cl::sub(benchCommand));
cl::opt<int64_t> benchWarmup("warmup", cl::desc("Untimed warm-up runs"),
                             cl::init(2), cl::sub(benchCommand));
cl::opt<unsigned> benchThreads("threads", cl::desc("Threads (0 = all cores)"),
                               cl::init(0), cl::sub(benchCommand));
cl::opt<bool> benchJson("json", cl::desc("Print one JSON object"),
                        cl::sub(benchCommand));

void printVersion(llvm::raw_ostream &os) {
  os << "attngen " << kVersion << " (spec version 1, LLVM " LLVM_VERSION_STRING
     << ")\n";
}

int reportResult(llvm::Error error) {
  if (!error) {
    return 0;
  }
  llvm::errs() << llvm::toString(std::move(error)) << "\n";
  return 1;
}

int runCompile() {
  CompileOptions options;
  options.specPath = compileSpecPath;
  options.outputPath = compileOutput;
  if (compileTarget.getNumOccurrences()) {
    options.target = compileTarget;
  }
  if (compileEmit.getNumOccurrences()) {
    options.emit = compileEmit;
  }
  return reportResult(compileSpec(options));
}

int runRun() {
  RunOptions options;
  options.specPath = runSpecPath;
  options.backend = runBackend;
  options.queryPath = runQuery;
  options.keyPath = runKey;
  options.valuePath = runValue;
  options.outputPath = runOutput;
  options.lsePath = runLse;
  options.slopesPath = runSlopes;
  options.cacheSeqlensPath = runCacheSeqlens;
  options.pageTablePath = runPageTable;
  options.cuSeqlensQPath = runCuSeqlensQ;
  options.cuSeqlensKPath = runCuSeqlensK;
  options.keyNewPath = runKeyNew;
  options.valueNewPath = runValueNew;
  options.keyCacheOutPath = runKeyCacheOut;
  options.valueCacheOutPath = runValueCacheOut;
  options.threads = runThreads;
  options.sharedMemoryTraffic = runSharedMemoryTraffic;
  return reportResult(runSpec(options));
}

int runBench() {
  BenchOptions options;
  options.specPath = benchSpecPath;
  options.backend = benchBackend;
  options.batch = benchBatch;
  options.seqlenQ = benchSeqlenQ;
  options.seqlenK = benchSeqlenK;
  options.repetitions = benchReps;
  options.warmup = benchWarmup;
  options.threads = benchThreads;
  options.json = benchJson;
  return reportResult(benchSpec(options, llvm::outs()));
}

} // namespace

/// LLVM's libraries register hundreds of top-level options (codegen and
/// pass flags); attngen's own live on its subcommands. Hides the former from
/// `attngen --help`, keeping --help and --version.
void hideLibraryOptions() {
  for (auto &[name, option] :
       cl::getRegisteredOptions(cl::SubCommand::getTopLevel())) {
    llvm::StringRef flag = name;
    if (!flag.starts_with("help") && flag != "version") {
      option->setHiddenFlag(cl::ReallyHidden);
    }
  }
}

int attngenMain(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::SetVersionPrinter(printVersion);
  hideLibraryOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "attngen: a compiler for attention kernels\n\n"
      "  attngen compile SPEC.json --target cpu|sm_80|sm_90 -o OUT.attnpkg\n"
      "  attngen compile SPEC.json [--target sm_80|sm_90|cpu] "
      "--emit spec-ir|tiled-ir|llvm|gpu-ir|ptx -o OUT\n"
      "  attngen run SPEC.json --backend cpu|cuda|gpu-sim --q Q.npy --k K.npy "
      "--v V.npy "
      "--out O.npy [--lse LSE.npy] [--alibi-slopes S.npy]\n"
      "      [--cache-seqlens LENGTHS.npy [--page-table TABLE.npy]]\n"
      "      [--k-new KNEW.npy --v-new VNEW.npy [--k-cache-out K.npy "
      "--v-cache-out V.npy]]\n"
      "      [--cu-seqlens-q OFFSETS.npy --cu-seqlens-k OFFSETS.npy]\n"
      "      [--shared-memory-traffic (gpu-sim)]\n"
      "  attngen bench SPEC.json --backend cpu|cuda --batch B --seqlen-q N "
      "--seqlen-k N [--json]\n\n"
      "Run 'attngen <command> --help' for the options of a command.\n");
  if (compileCommand) {
    return runCompile();
  }
  if (runCommand) {
    return runRun();
  }
  if (benchCommand) {
    return runBench();
  }
  llvm::errs() << "attngen: expected a command (compile, run, bench); see "
                  "attngen --help\n";
  return 1;
}

} // namespace attngen
