//===- CpuAttention.h - a spec run on this machine's CPU --------*- C++ -*-===//
//
// `attngen run/bench --backend cpu`: the spec is compiled to a CPU package
// (kernel.so) and run through libattnrt's CPU path, exactly as an engine
// embedding the runtime runs it, so every CLI run also exercises the
// runtime's argument checks and launch loop.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_DRIVER_CPUATTENTION_H
#define ATTNGEN_DRIVER_CPUATTENTION_H

#include "attngen/Spec/AttentionSpec.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>

struct attnrt_kernel;
struct attnrt_attention_args;

namespace attngen {

class CpuAttention {
public:
  /// Compiles `spec` for this CPU and loads the package with libattnrt.
  static llvm::Expected<std::unique_ptr<CpuAttention>>
  create(const AttentionSpec &spec, const std::string &specPath);
  ~CpuAttention();

  /// One call on host buffers with up to `threads` threads (0 = all
  /// cores); libattnrt checks the arguments first.
  llvm::Error run(const attnrt_attention_args &args, unsigned threads) const;

private:
  CpuAttention() = default;
  attnrt_kernel *kernel = nullptr;
};

} // namespace attngen

#endif // ATTNGEN_DRIVER_CPUATTENTION_H
