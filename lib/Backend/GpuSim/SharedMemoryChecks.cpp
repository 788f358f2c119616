//===- SharedMemoryChecks.cpp - races between warps in the emulator -------===//
//
// Barriers divide a CTA's execution into epochs; within one, a shared
// element written by one warp and read or written by another is a race (no
// barrier orders them). Reads of elements never written fail too.
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

namespace attngen::gpu_sim {

LogicalResult CtaSimulator::recordRead(Operation *op, SimBuffer *buffer,
                                       int64_t linear, int64_t count,
                                       int64_t thread) {
  if (failed(checkVisible(op, buffer, linear, count, thread))) {
    return failure();
  }
  auto it = sharedAccess.find(buffer);
  if (it == sharedAccess.end()) {
    return success();
  }
  int64_t warp = thread / kWarpSize;
  for (int64_t i = 0; i < count; ++i) {
    Access &a = it->second[linear + i];
    if (!a.written) {
      return fail(op, "reads shared memory never written (element " +
                          Twine(linear + i) + "), thread " + Twine(thread));
    }
    if (a.writeEpoch == epoch && a.writeWarp != warp) {
      return fail(op, "shared-memory race: element " + Twine(linear + i) +
                          " written by warp " + Twine(a.writeWarp) +
                          " and read by warp " + Twine(warp) +
                          " with no barrier between");
    }
    if (a.readEpoch != epoch) {
      a.readEpoch = epoch;
      a.readWarps = 0;
    }
    a.readWarps |= uint64_t(1) << warp;
  }
  return success();
}

LogicalResult CtaSimulator::recordWrite(Operation *op, SimBuffer *buffer,
                                        int64_t linear, int64_t count,
                                        int64_t thread) {
  auto it = sharedAccess.find(buffer);
  if (it == sharedAccess.end()) {
    return success();
  }
  int64_t warp = thread / kWarpSize;
  for (int64_t i = 0; i < count; ++i) {
    Access &a = it->second[linear + i];
    bool otherWriter = a.writeEpoch == epoch && a.writeWarp != warp;
    bool otherReader =
        a.readEpoch == epoch && (a.readWarps & ~(uint64_t(1) << warp)) != 0;
    if (otherWriter || otherReader) {
      return fail(op,
                  "shared-memory race: element " + Twine(linear + i) +
                      (otherWriter ? " written by warps "
                                   : " read by another warp and written "
                                     "by warp ") +
                      (otherWriter ? Twine(a.writeWarp) + " and " + Twine(warp)
                                   : Twine(warp)) +
                      " with no barrier between");
    }
    a.writeEpoch = epoch;
    a.writeWarp = warp;
    a.written = true;
  }
  return success();
}

} // namespace attngen::gpu_sim
