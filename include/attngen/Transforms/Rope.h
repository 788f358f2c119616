//===- Rope.h - rotary position embedding inside the kernels ----*- C++ -*-===//
//
// The rotation of attn.attention's `rope` (see #attn.rope), shared by the CPU
// (attn-tile) and GPU (attn-to-gpu) kernels. Angles are computed in turns
// with an exactly rounded product so that positions up to 2^24 keep ~1e-7
// rad of accuracy (pos * theta in plain f32 loses ~1e-2 rad at 1e5), then
// sin and cos of the reduced angle are short polynomials: plain arith on
// scalars or vectors, no libm or libdevice.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNGEN_TRANSFORMS_ROPE_H
#define ATTNGEN_TRANSFORMS_ROPE_H

#include "attngen/Dialect/Attn/IR/AttnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <utility>

namespace mlir::attn {

/// Pair p's frequency in turns per position, f_p = base^(-2p / rotary_dim) /
/// (2 pi), split into f32 hi + lo (their sum is f_p to ~1e-14 relative).
std::pair<float, float> ropeTurnsPerPosition(RopeAttr rope, int64_t pair);

/// (cos, sin) of 2 pi * position * (turnsHi + turnsLo). `position` is f32
/// holding an integer of magnitude < 2^24; all operands have the same shape
/// (f32 or a vector of f32).
std::pair<Value, Value> emitRopeCosSin(ImplicitLocOpBuilder &b, Value position,
                                       Value turnsHi, Value turnsLo);

/// The RoPE position of query `query` of a sequence with `seqlenK` keys
/// (cached and appended) and `seqlenQ` queries: seqlen_k - seqlen_q + i,
/// the queries being the last seqlen_q tokens.
Value emitQueryPosition(ImplicitLocOpBuilder &b, Value seqlenK, Value seqlenQ,
                        Value query);

/// (x1 cos - x2 sin, x2 cos + x1 sin).
std::pair<Value, Value> emitRotatePair(ImplicitLocOpBuilder &b, Value x1,
                                       Value x2, Value cos, Value sin);

/// Rotates, at `position` (an index), the first rotary_dim columns of a row
/// of `source` (a memref of any float type; `sourceIndices` address the
/// row's column 0) into the same columns of a row of `destination` (which
/// may be the source): vector loads of `pairsPerChunk` pairs at a time (the
/// last chunk may be shorter), the rotation in f32, stores.
void emitRotateRow(ImplicitLocOpBuilder &b, RopeAttr rope, Value position,
                   Value source, ValueRange sourceIndices, Value destination,
                   ValueRange destinationIndices, int64_t pairsPerChunk);

/// The pairs per chunk of emitRotateRowChunk: the largest count up to
/// `maxPairs` that divides rotary_dim / 2.
int64_t ropeChunkPairs(RopeAttr rope, int64_t maxPairs);

/// emitRotateRow's rotation of one chunk, pairs [chunk * pairsPerChunk,
/// (chunk + 1) * pairsPerChunk), for a `chunk` (an index) known only at run
/// time: the code of one chunk, not of every chunk, so that threads can
/// share a tile's (row, chunk) items in a loop. pairsPerChunk must divide
/// rotary_dim / 2 (ropeChunkPairs).
void emitRotateRowChunk(ImplicitLocOpBuilder &b, RopeAttr rope, Value position,
                        Value source, ValueRange sourceIndices,
                        Value destination, ValueRange destinationIndices,
                        int64_t pairsPerChunk, Value chunk);

} // namespace mlir::attn

#endif // ATTNGEN_TRANSFORMS_ROPE_H
