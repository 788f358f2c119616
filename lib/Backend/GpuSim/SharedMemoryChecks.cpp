//===- SharedMemoryChecks.cpp - shared-memory hazards in the emulator -----===//
//
// Shared memory is checked by address, in 2-byte granules, whatever view
// reaches it. Barriers divide a CTA's execution into epochs; within one, a
// granule written by one warp and read or written by another is a race (no
// barrier orders them). Reads of granules never written, still the
// destination of a cp.async in flight, or last written through another view
// (whose data the emulator keeps apart) fail, as do writes over a cp.async
// in flight.
//
//===----------------------------------------------------------------------===//

#include "CtaSimulator.h"

namespace attngen::gpu_sim {

LogicalResult CtaSimulator::recordRead(Operation *op, SimBuffer *buffer,
                                       int64_t linear, int64_t count,
                                       int64_t thread) {
  if (!isShared(buffer)) {
    return success();
  }
  int64_t warp = thread / kWarpSize;
  auto [first, end] = granulesOf(buffer, linear, count);
  for (int64_t g = first; g < end; ++g) {
    SharedGranule &s = sharedGranules[g];
    int64_t byte = g * kGranuleBytes;
    if (s.inFlight) {
      return fail(op, "reads shared memory that a cp.async still in flight "
                      "writes (missing cp.async.wait_group?), byte " +
                          Twine(byte) + ", thread " + Twine(thread));
    }
    if (!s.writer) {
      return fail(op, "reads shared memory never written (byte " + Twine(byte) +
                          "), thread " + Twine(thread));
    }
    if (s.writer != buffer) {
      return fail(op, "reads shared byte " + Twine(byte) +
                          " through the view at byte " +
                          Twine(sharedByteOffset.lookup(buffer)) +
                          ", last written through the view at byte " +
                          Twine(sharedByteOffset.lookup(s.writer)) +
                          " (overlapping views), thread " + Twine(thread));
    }
    if (s.writeEpoch == epoch && s.writeWarp != warp) {
      return fail(op, "shared-memory race: byte " + Twine(byte) +
                          " written by warp " + Twine(s.writeWarp) +
                          " and read by warp " + Twine(warp) +
                          " with no barrier between");
    }
    if (s.readEpoch != epoch) {
      s.readEpoch = epoch;
      s.readWarps = 0;
    }
    s.readWarps |= uint32_t(1) << warp;
  }
  return success();
}

LogicalResult CtaSimulator::recordWrite(Operation *op, SimBuffer *buffer,
                                        int64_t linear, int64_t count,
                                        int64_t thread, bool isAsyncCopy) {
  if (!isShared(buffer)) {
    return success();
  }
  int64_t warp = thread / kWarpSize;
  auto [first, end] = granulesOf(buffer, linear, count);
  for (int64_t g = first; g < end; ++g) {
    SharedGranule &s = sharedGranules[g];
    int64_t byte = g * kGranuleBytes;
    if (s.inFlight) {
      return fail(op, Twine(isAsyncCopy ? "cp.async" : "store") +
                          " overwrites shared memory that a cp.async still "
                          "in flight writes (missing cp.async.wait_group?), "
                          "byte " +
                          Twine(byte) + ", thread " + Twine(thread));
    }
    bool otherWriter = s.writeEpoch == epoch && s.writeWarp != warp;
    bool otherReader =
        s.readEpoch == epoch && (s.readWarps & ~(uint32_t(1) << warp)) != 0;
    if (otherWriter || otherReader) {
      return fail(op,
                  "shared-memory race: byte " + Twine(byte) +
                      (otherWriter ? " written by warps "
                                   : " read by another warp and written "
                                     "by warp ") +
                      (otherWriter ? Twine(s.writeWarp) + " and " + Twine(warp)
                                   : Twine(warp)) +
                      " with no barrier between");
    }
    s.writeEpoch = epoch;
    s.writeWarp = warp;
    s.writer = buffer;
    if (isAsyncCopy) {
      ++s.inFlight;
    }
  }
  return success();
}

} // namespace attngen::gpu_sim
