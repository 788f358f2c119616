//===- Bench.h - `attngen bench` --------------------------------*- C++ -*-===//

#ifndef ATTNGEN_DRIVER_BENCH_H
#define ATTNGEN_DRIVER_BENCH_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>

namespace attngen {

struct BenchOptions {
  std::string specPath;
  std::string backend = "cpu";
  int64_t batch = 1, seqlenQ = 0, seqlenK = 0;
  int64_t repetitions = 10, warmup = 2;
  unsigned threads = 0;
  bool json = false;
};

/// Times the kernel on random inputs: median over repetitions after warm-up,
/// GFLOP/s from 2 * b * hq * visible_pairs * (d + dv).
llvm::Error benchSpec(const BenchOptions &options, llvm::raw_ostream &out);

} // namespace attngen

#endif // ATTNGEN_DRIVER_BENCH_H
