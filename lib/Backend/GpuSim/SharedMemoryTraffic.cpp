//===- SharedMemoryTraffic.cpp - how shared accesses would be served ------===//
//
// A model of how an NVIDIA GPU (sm_80, sm_90) serves a warp's shared-memory
// instruction, to find layouts that cost wavefronts on the CPU:
//   - shared memory has 32 banks of 4-byte words; a warp's accesses of b
//     bytes per lane are served in phases of 32 / max(1, b / 4) lanes
//     (8 lanes for 16 bytes); a phase takes as many wavefronts as the most
//     distinct words any bank must deliver (lanes on one word share it);
//   - ldmatrix reads one 8x8 matrix per phase: 8 rows of 16 bytes;
//   - cp.async of 16 bytes per lane writes shared memory in requests of 8
//     lanes (128 bytes); a request whose chunks fill one aligned 128-byte
//     line is written as one, one that straddles two (rows padded by 16
//     bytes) as two. On an H100 the padded layout's 2 lines per request
//     showed as 2.6x the ideal shared wavefronts of its LDGSTS (ncu, d256);
//     the model counts lines, the measured cost's direction;
//   - a warp instruction of cp.async reads global memory in 32-byte
//     sectors, one request per 128-byte line it touches: 4 sectors per
//     line when its lanes read whole lines (rows of 16-column blocks read
//     one sector of each of 16 lines per instruction, 1.00). Tensors are
//     taken to start on a 128-byte line (the runtime checks 16 bytes;
//     PyTorch allocates on 256).
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

#include "llvm/ADT/DenseSet.h"

namespace attngen::gpu_sim {

namespace {

constexpr int64_t kBanks = 32, kWordBytes = 4, kLineBytes = 128;

/// Wavefronts of one phase: the most distinct words one bank serves.
/// `accesses`: (byte address, bytes) per active lane.
int64_t phaseWavefronts(ArrayRef<std::pair<int64_t, int64_t>> accesses) {
  std::array<llvm::SmallDenseSet<int64_t, 4>, kBanks> words;
  for (auto [address, bytes] : accesses) {
    for (int64_t word = address / kWordBytes;
         word <= (address + bytes - 1) / kWordBytes; ++word) {
      words[word % kBanks].insert(word);
    }
  }
  int64_t most = 0;
  for (const auto &bank : words) {
    most = std::max<int64_t>(most, bank.size());
  }
  return most;
}

} // namespace

void CtaSimulator::countSharedAccesses(
    SimBuffer *buffer, ArrayRef<int64_t> linears, int64_t count,
    SharedMemoryTraffic::Wavefronts &counter) {
  if (!isShared(buffer)) {
    return;
  }
  int64_t bytes = count * buffer->elementType.getIntOrFloatBitWidth() / 8;
  int64_t lanesPerPhase = kWarpSize / std::max<int64_t>(1, bytes / kWordBytes);
  for (int64_t first = 0; first < numThreads; first += lanesPerPhase) {
    SmallVector<std::pair<int64_t, int64_t>, kWarpSize> accesses;
    for (int64_t t = first; t < first + lanesPerPhase; ++t) {
      if (linears[t] >= 0) {
        accesses.push_back({sharedByteAddress(buffer, linears[t]), bytes});
      }
    }
    if (accesses.empty()) {
      continue;
    }
    ++counter.phases;
    counter.wavefronts += phaseWavefronts(accesses);
  }
}

void CtaSimulator::countLdMatrixPhase(ArrayRef<int64_t> addresses) {
  SmallVector<std::pair<int64_t, int64_t>, 8> rows;
  for (int64_t address : addresses) {
    rows.push_back({address, 16});
  }
  ++traffic->ldmatrix.phases;
  traffic->ldmatrix.wavefronts += phaseWavefronts(rows);
}

void CtaSimulator::countAsyncCopies(ArrayRef<int64_t> addresses) {
  constexpr int64_t kLanesPerRequest = kLineBytes / 16;
  for (size_t first = 0; first < addresses.size(); first += kLanesPerRequest) {
    llvm::SmallDenseSet<int64_t, 4> lines;
    for (size_t lane = first;
         lane < std::min(addresses.size(), first + kLanesPerRequest); ++lane) {
      if (addresses[lane] >= 0) {
        lines.insert(addresses[lane] / kLineBytes);
        lines.insert((addresses[lane] + 15) / kLineBytes);
      }
    }
    if (lines.empty()) {
      continue;
    }
    ++traffic->asyncCopyRequests;
    traffic->asyncCopyLines += static_cast<int64_t>(lines.size());
  }
}

void CtaSimulator::countGlobalReads(ArrayRef<GlobalRead> reads) {
  constexpr int64_t kSectorBytes = 32;
  llvm::SmallDenseSet<std::pair<const SimBuffer *, int64_t>, 32> lines, sectors;
  for (const GlobalRead &read : reads) {
    for (int64_t sector = read.address / kSectorBytes;
         sector <= (read.address + read.bytes - 1) / kSectorBytes; ++sector) {
      sectors.insert({read.buffer, sector});
      lines.insert({read.buffer, sector * kSectorBytes / kLineBytes});
    }
  }
  traffic->asyncCopyGlobalLines += static_cast<int64_t>(lines.size());
  traffic->asyncCopyGlobalSectors += static_cast<int64_t>(sectors.size());
}

} // namespace attngen::gpu_sim
