//===- KvTile.cpp - one KV tile of the kernel -----------------------------===//
//
// One iteration of a loop over KV tiles: K and V staged by cp.async,
// S = Q K^T on tensor cores, the online softmax in registers, O += P V.
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

#include <limits>

namespace mlir::attn::attn_to_gpu {

/// Rows [kvTile * block_n, +block_n) of `source` (K or V) into kvTile's
/// buffer of `ring` by cp.async; `wholeTile`: how a tile whose rows all
/// exist is copied. `inUnmaskedLoop`: the tile is one of a loop over
/// unmasked tiles, which end at or before seqlen_k. In a masked loop, a
/// tile whose rows all exist (on a causal diagonal, every tile but
/// seqlen_k's last) is told apart at run time and copied as `wholeTile`
/// says; only the others take the checked copy.
void AttentionKernelBuilder::emitLoadKvRows(ImplicitLocOpBuilder &b, Value ring,
                                            Value source, Value kvTile,
                                            int64_t dim, int64_t paddedDim,
                                            WholeTileCopy wholeTile,
                                            bool inUnmaskedLoop) {
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, tiling.blockN));
  auto load = [&](ImplicitLocOpBuilder &b, WholeTileCopy copy) {
    emitLoadTile(
        b, kvBufferOf(b, ring, kvTile), source,
        [&](ImplicitLocOpBuilder &b, Value row) {
          return kvRowIndices(b, row);
        },
        firstKey, seqlenK, tiling.blockN, dim, paddedDim, /*async=*/true, copy);
  };
  // Without a mask, the masked loop holds only seqlen_k's partial tile (and
  // the whole copies there spilled 4-40 bytes: two-slab d96 and d128).
  if (inUnmaskedLoop || wholeTile == WholeTileCopy::Checked || !masksKeys(op)) {
    load(b, inUnmaskedLoop ? wholeTile : WholeTileCopy::Checked);
    return;
  }
  // Checked, a two-slab kernel's copy is a loop of ~30 SASS instructions
  // per chunk (index arithmetic in 64 bits); whole, ~5.
  Value rowsExist = arith::CmpIOp::create(
      b, arith::CmpIPredicate::sle,
      arith::AddIOp::create(b, firstKey, index(b, tiling.blockN)), seqlenK);
  auto copies = scf::IfOp::create(b, rowsExist, /*withElseRegion=*/true);
  ImplicitLocOpBuilder whole(b.getLoc(), copies.thenBlock()->getTerminator());
  load(whole, wholeTile);
  ImplicitLocOpBuilder checked(b.getLoc(), copies.elseBlock()->getTerminator());
  load(checked, WholeTileCopy::Checked);
}

/// K of KV tile `kvTile`; `inUnmaskedLoop`: the tile is one of a loop over
/// unmasked tiles, which end at or before seqlen_k.
void AttentionKernelBuilder::emitLoadKeys(ImplicitLocOpBuilder &b, Value kvTile,
                                          bool inUnmaskedLoop) {
  emitLoadKvRows(b, keyTile, keyRows ? keyRows : key, kvTile, headDim,
                 paddedHeadDim, wholeKeyTileCopy(), inUnmaskedLoop);
}

/// V of KV tile `kvTile`. A masked loop's whole V tiles of head_dim_v 128
/// stay checked: unchecked, ptxas spilled 8 bytes in causal two-slab
/// kernels on sm_90 (d128 at 128 x 64 with f16, head_dim_v 128 with
/// head_dim 64 at 128 x 48).
void AttentionKernelBuilder::emitLoadValues(ImplicitLocOpBuilder &b,
                                            Value kvTile, bool inUnmaskedLoop) {
  emitLoadKvRows(b, valueTile, valueRows ? valueRows : value, kvTile, headDimV,
                 paddedHeadDimV,
                 inUnmaskedLoop || headDimV < 128 ? wholeValueTileCopy()
                                                  : WholeTileCopy::Checked,
                 inUnmaskedLoop);
}

void AttentionKernelBuilder::emitIf(
    ImplicitLocOpBuilder &b, Value condition,
    function_ref<void(ImplicitLocOpBuilder &)> body) {
  auto ifOp = scf::IfOp::create(b, condition, /*withElseRegion=*/false);
  ImplicitLocOpBuilder thenBuilder(b.getLoc(),
                                   ifOp.thenBlock()->getTerminator());
  body(thenBuilder);
}

/// Ring: K(t) and V(t) as one group, for tiles of the loop (else empty).
void AttentionKernelBuilder::emitRingTileCopies(ImplicitLocOpBuilder &b,
                                                Value kvTile, Value loopEnd,
                                                bool inUnmaskedLoop) {
  emitIf(b,
         arith::CmpIOp::create(b, arith::CmpIPredicate::slt, kvTile, loopEnd),
         [&](ImplicitLocOpBuilder &nb) {
           emitLoadKeys(nb, kvTile, inUnmaskedLoop);
           emitLoadValues(nb, kvTile, inUnmaskedLoop);
         });
  NVVM::CpAsyncCommitGroupOp::create(b);
}

void AttentionKernelBuilder::emitLoopHeadCopies(ImplicitLocOpBuilder &b,
                                                Value firstTile, Value loopEnd,
                                                bool inUnmaskedLoop) {
  int64_t ringAhead = kvBufferCountOf(tiling) - 1;
  for (int64_t i = 0; i < ringAhead; ++i) {
    emitRingTileCopies(
        b,
        i == 0 ? firstTile
               : arith::AddIOp::create(b, firstTile, index(b, i)).getResult(),
        loopEnd, inUnmaskedLoop);
  }
  if (!ringAhead && tiling.numStages >= 2) {
    emitLoadKeys(b, firstTile, inUnmaskedLoop);
  }
}

/// One KV tile of a loop over [loopBegin, loopEnd): stage K and V, S = Q K^T
/// on tensor cores, the online softmax in registers, O += P V on tensor
/// cores. `issuesHeadCopies`: whether the loop's first tile issues its head
/// copies (emitLoopHeadCopies), or build() did before the loop.
///
/// cp.async groups, committed in this order by every thread (some empty),
/// and the CTA's barriers:
///   num_stages 1: barrier (every warp is done with K(j - 1) and V(j - 1)),
///     K(j), V(j); S waits for K(j) (barrier), PV for V(j) (barrier).
///   num_stages 2 (FlashAttention-2's two barriers per tile):
///     K(j), only in a loop's first tile (else it came with the previous
///     one; build() may have issued the first loop's, after Q's); wait for
///     it, barrier B1: K(j) is visible, and every warp is done with PV(j - 1),
///     so V(j) may replace V(j - 1); V(j), in flight during S = Q K^T and the
///     softmax; wait for it, barrier B2: V(j) is visible, and every warp has
///     read K(j), so K(j + 1) may replace it; K(j + 1), in flight during PV.
///     One-slab kernels (loadNextKeysBeforeSoftmax) take B2 and K(j + 1) right
///     after S, as FlashAttention-2 does, so that the copy overlaps the
///     softmax too (d256 +3-11% on an H100); in two-slab kernels fewer
///     values are live across the branch around K(j + 1)'s copy after the
///     softmax, and ptxas spilled with it before.
///   num_stages 2 without twoBarriersPerTile (sm_80's and varlen two-slab
///     kernels, where two barriers spilled): barrier (every warp is done
///     with V(j - 1)), K(j) (a loop's first tile only), V(j); wait for all
///     but V(j), barrier; S and the softmax; barrier (every warp has read
///     K(j)), K(j + 1); wait for all but K(j + 1), barrier; PV.
///   num_stages s >= 3, a ring of s - 1 K and V buffers (tile t in buffer
///     t % (s - 1)), d = s - 2 tiles ahead: in a loop's first tile, K and V
///     of tiles j ... j + d - 1, a group each, then wait for all but the
///     last d - 1 (tile j has landed) and barrier; K(j + d) and V(j + d),
///     one group, into the buffer of tile j - 1, which every warp is done
///     with (the barrier before); S, the softmax and PV; wait for all but
///     the last d - 1 groups (tile j + 1 has landed), barrier (visible to
///     all, and every warp is done with tile j). One barrier per tile, and
///     every tile's copy has a whole tile's compute to land in.
SmallVector<Value> AttentionKernelBuilder::emitKvTile(
    ImplicitLocOpBuilder &b, Value kvTile, Value loopBegin, Value loopEnd,
    bool issuesHeadCopies, bool masked, ValueRange flatState) {
  SmallVector<SlabState> slabs = unflatten(flatState);
  int64_t blockN = tiling.blockN;
  bool prefetch = tiling.numStages >= 2;
  Value firstKey = arith::MulIOp::create(b, kvTile, index(b, blockN));
  // cp.async groups as NVVM's commit_group and wait_group: nvgpu's token
  // forms carry no information (the wait counts groups, not tokens), and a
  // create_group without tokens prints in a form its parser misreads.
  // Commits the thread's cp.async copies issued so far as one group.
  auto commitGroup = [&](ImplicitLocOpBuilder &at) {
    NVVM::CpAsyncCommitGroupOp::create(at);
  };
  // Waits until at most `pending` of the latest groups are in flight.
  auto waitGroups = [&](ImplicitLocOpBuilder &at, int64_t pending) {
    NVVM::CpAsyncWaitGroupOp::create(at, pending);
  };
  auto loadValues = [&](ImplicitLocOpBuilder &b) {
    emitLoadValues(b, kvTile, !masked);
  };
  auto isLoopHead = [&](ImplicitLocOpBuilder &at) -> Value {
    return arith::CmpIOp::create(at, arith::CmpIPredicate::eq, kvTile,
                                 loopBegin);
  };
  // K(j): loaded now, or (prefetch) only as a loop's head copy.
  auto loadKeys = [&]() {
    if (!prefetch) {
      return emitLoadKeys(b, kvTile, !masked);
    }
    if (issuesHeadCopies) {
      emitIf(b, isLoopHead(b), [&](ImplicitLocOpBuilder &nb) {
        emitLoopHeadCopies(nb, kvTile, loopEnd, !masked);
      });
    }
  };
  int64_t ringAhead = kvBufferCountOf(tiling) - 1;
  bool ring = ringAhead > 0;
  bool twoBarriers = prefetch && !ring && twoBarriersPerTile();
  if (ring) {
    emitIf(b, isLoopHead(b), [&](ImplicitLocOpBuilder &nb) {
      if (issuesHeadCopies) {
        emitLoopHeadCopies(nb, kvTile, loopEnd, !masked);
      }
      waitGroups(nb, ringAhead - 1);
      gpu::BarrierOp::create(nb);
    });
    emitRingTileCopies(b, arith::AddIOp::create(b, kvTile, index(b, ringAhead)),
                       loopEnd, !masked);
  } else if (twoBarriers) {
    loadKeys();
    commitGroup(b);
    waitGroups(b, 0);
    // B1: K(j) is visible; every warp is done with V(j - 1).
    gpu::BarrierOp::create(b);
    loadValues(b);
    commitGroup(b);
  } else {
    // Every warp is done with the previous tile's V (and, without
    // prefetch, K) before they are replaced.
    gpu::BarrierOp::create(b);
    loadKeys();
    commitGroup(b);
    loadValues(b);
    commitGroup(b);
    // All groups but V(j)'s have landed: K(j) is in shared memory.
    waitGroups(b, 1);
    gpu::BarrierOp::create(b);
  }

  Value tileKeys = kvBufferOf(b, keyTile, kvTile);
  Value tileValues = kvBufferOf(b, valueTile, kvTile);
  auto fragmentType = [&](int64_t rows) {
    return VectorType::get({rows, 2}, elementType);
  };
  auto accumulatorType = VectorType::get({2, 2}, b.getF32Type());
  Value zeroAccumulator = arith::ConstantOp::create(
      b, DenseElementsAttr::get(accumulatorType, 0.0f));
  int64_t numKeyTiles = blockN / kMmaN;
  Value laneMod8 = arith::RemUIOp::create(b, lane, index(b, 8));
  Value laneHalf = arith::MulIOp::create(
      b,
      arith::RemUIOp::create(b, arith::DivUIOp::create(b, lane, index(b, 8)),
                             index(b, 2)),
      index(b, 8));
  Value laneMod16 = arith::RemUIOp::create(b, lane, index(b, 16));
  // ldmatrix.x4: lanes 8i..8i+7 address matrix i.
  Value laneSixteenth = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, lane, index(b, 16)), index(b, 8));
  // Fragment `half` (0 or 1) of an x4 load's two B fragments.
  auto halfOf = [&](Value pair, int64_t half) -> Value {
    return vector::ExtractStridedSliceOp::create(
        b, pair, ArrayRef<int64_t>{2 * half, 0}, ArrayRef<int64_t>{2, 2},
        ArrayRef<int64_t>{1, 1});
  };
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  int64_t keySteps = paddedHeadDim / kMmaK;
  double scale = op.getScale().convertToDouble();
  bool linearScores =
      op.getSoftcap().convertToDouble() == 0.0 && !op.getAlibi() && scale > 0.0;
  Value scoreScale = f32(b, scale * kLog2E);

  // S = Q K^T for all of the warp's slabs at once: one 16x8 f32 accumulator
  // per slab and 8 keys. Every K fragment read from shared memory feeds the
  // MMAs of every slab (two slabs: per MMA, half the ldmatrix traffic of
  // slab by slab). k16 step by k16 step, so that only one Q fragment per
  // slab is live; one ldmatrix.x4 gives the B fragments of two key tiles
  // (matrices: keys 8nt + 8(i / 2), columns 16kb + 8(i % 2)).
  SmallVector<SmallVector<Value>> scores(
      slabsPerWarp, SmallVector<Value>(numKeyTiles, zeroAccumulator));
  Value keyPairRow = arith::AddIOp::create(
      b, laneMod8,
      arith::MulIOp::create(b, arith::DivUIOp::create(b, lane, index(b, 16)),
                            index(b, 8)));
  for (int64_t kb = 0; kb < keySteps; ++kb) {
    SmallVector<Value> slabQuery;
    for (int64_t s = 0; s < slabsPerWarp; ++s) {
      slabQuery.push_back(emitQueryFragment(b, s, kb));
    }
    Value keyColumn = arith::AddIOp::create(b, index(b, kb * kMmaK), laneHalf);
    for (int64_t nt = 0; nt < numKeyTiles; nt += 2) {
      Value pair = nvgpu::LdMatrixOp::create(
          b, fragmentType(4), tileKeys,
          ValueRange{arith::AddIOp::create(b, index(b, nt * kMmaN), keyPairRow),
                     keyColumn},
          /*transpose=*/false, /*numTiles=*/4);
      for (int64_t s = 0; s < slabsPerWarp; ++s) {
        for (int64_t half = 0; half < 2; ++half) {
          scores[s][nt + half] = emitMma(b, slabQuery[s], halfOf(pair, half),
                                         scores[s][nt + half]);
        }
      }
    }
  }

  auto loadNextKeys = [&]() {
    Value nextTile = arith::AddIOp::create(b, kvTile, index(b, 1));
    emitIf(
        b,
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, nextTile, loopEnd),
        [&](ImplicitLocOpBuilder &nb) { emitLoadKeys(nb, nextTile, !masked); });
    commitGroup(b);
  };
  // B2 before the softmax (FlashAttention-2's order): K(j + 1) is in flight
  // during the softmax and PV.
  bool nextKeysBeforeSoftmax = twoBarriers && loadNextKeysBeforeSoftmax();
  if (nextKeysBeforeSoftmax) {
    waitGroups(b, 0);
    gpu::BarrierOp::create(b);
    loadNextKeys();
  }

  // The online softmax, slab by slab. P leaves as the A operands of the
  // second MMA, rounded to the input type: per slab and 16 keys,
  // {S(2kb)[0], S(2kb)[1], S(2kb+1)[0], S(2kb+1)[1]}.
  SmallVector<SmallVector<Value>> probabilityFragments(slabsPerWarp);
  Value keyBase = arith::AddIOp::create(
      b, firstKey, arith::MulIOp::create(b, threadInGroup, index(b, 2)));
  // c < seqlen_k - keyBase: the key exists, a compare of its own where
  // folding seqlen_k into the mask's bounds (below) spilled: padded
  // two-slab kernels (4-28 bytes) and head dims that are not multiples of
  // 8, whose tiles are copied element by element (causal top-left d59 at
  // 64 x 64 with three stages, 20 bytes on sm_90).
  bool separateKeyCountCompare =
      paddedTwoSlabs() || headDim % 8 != 0 || headDimV % 8 != 0;
  Value keyLimit =
      separateKeyCountCompare
          ? arith::IndexCastOp::create(
                b, b.getI32Type(), arith::SubIOp::create(b, seqlenK, keyBase))
                .getResult()
          : Value();
  for (int64_t s = 0; s < slabsPerWarp; ++s) {
    // Element (i, j) of key tile nt: row = slab row + g + 8i, key =
    // keyBase + c with keyBase = firstKey + 2t and c = 8nt + j. Masks and
    // ALiBi distances compare per-row values (relative to keyBase, in i32)
    // against the constant c: no per-element index arithmetic, and nothing
    // per element stays live across the slabs.
    Value slabRow = emitSlabRow(b, s);
    SmallVector<Value> values(numKeyTiles * 4);
    Value tileMax[2] = {negInf, negInf};
    for (int64_t nt = 0; nt < numKeyTiles; ++nt) {
      for (int64_t i = 0; i < 2; ++i) {
        Value row = arith::AddIOp::create(
            b, slabRow, arith::AddIOp::create(b, group, index(b, 8 * i)));
        Value query = queryOfRow(b, row);
        Value slopeOfRow = rowSlope(b, row);
        Value slope2OfRow =
            slopeOfRow ? arith::MulFOp::create(b, slopeOfRow, f32(b, kLog2E))
                             .getResult()
                       : Value();
        // (query + off) - keyBase: the key distance of c = 0, in f32, so
        // that each score's |distance - c| is one add and an FMA's operand
        // modifier (exact up to distances of 2^24).
        Value rowDistance =
            op.getAlibi()
                ? arith::SIToFPOp::create(
                      b, b.getF32Type(),
                      arith::IndexCastOp::create(
                          b, b.getI32Type(),
                          arith::SubIOp::create(
                              b, arith::AddIOp::create(b, query, offset),
                              keyBase)))
                      .getResult()
                : Value();
        for (int64_t j = 0; j < 2; ++j) {
          int64_t keyOffset = nt * kMmaN + j;
          Value dot = vector::ExtractOp::create(b, scores[s][nt],
                                                ArrayRef<int64_t>{i, j});
          // Plain scores (s = dot * scale * log2 e) stay raw dot products
          // here: the row max is taken on them and scaled once per row, and
          // each P is one FMA and an exp2 (FlashAttention's form).
          Value distance =
              rowDistance
                  ? arith::SubFOp::create(b, rowDistance, f32(b, keyOffset))
                        .getResult()
                  : Value();
          Value score =
              linearScores ? dot : emitScore(b, dot, slope2OfRow, distance);
          if (masked) {
            // The key exists (keyBase + c < seqlen_k) and the mask shows
            // it: folded into the mask's per-row bounds, one compare and
            // one select per score (apart, ptxas selected twice; in the
            // masked loop of d96's 128 x 48 it also left a chain of 13
            // dependent MMAs back to back).
            Value key = i32(b, keyOffset);
            Value visible;
            if (separateKeyCountCompare) {
              Value exists = arith::CmpIOp::create(b, arith::CmpIPredicate::slt,
                                                   key, keyLimit);
              visible = arith::AndIOp::create(
                  b, exists, mask.emitVisible(b, query, key, offset, keyBase));
            } else {
              visible =
                  mask.emitVisible(b, query, key, offset, keyBase, seqlenK);
            }
            score = arith::SelectOp::create(b, visible, score, negInf);
          }
          values[nt * 4 + i * 2 + j] = score;
          tileMax[i] = arith::MaximumFOp::create(b, tileMax[i], score);
        }
      }
    }
    // The reference m of a row (P = exp2(s - m), O and l relative to it)
    // moves to max(m, rowmax(S)). Where rescalesLazily(), it moves only
    // when some row of the warp grew by more than kStaleMaxLimit
    // (FlashAttention-4's conditional rescaling): otherwise P <=
    // 2^kStaleMaxLimit, O / l and m + log2 l are unchanged, and the warp
    // skips O *= exp2(m - m') (1 for every row). A row that grew from -inf
    // always moves. Reference 0 for rows with nothing visible.
    bool staleReference = rescalesLazily();
    Value newMax[2], anyGrows;
    for (int64_t i = 0; i < 2; ++i) {
      Value rowTileMax = emitQuadReduce(b, tileMax[i], /*isMax=*/true);
      if (linearScores) {
        rowTileMax = arith::MulFOp::create(b, rowTileMax, scoreScale);
      }
      newMax[i] = arith::MaximumFOp::create(b, slabs[s].rowMax[i], rowTileMax);
      if (!staleReference) {
        continue;
      }
      // -inf -> finite: +inf > limit; -inf -> -inf: NaN, false.
      Value grows = arith::CmpFOp::create(
          b, arith::CmpFPredicate::OGT,
          arith::SubFOp::create(b, newMax[i], slabs[s].rowMax[i]),
          f32(b, kStaleMaxLimit));
      anyGrows = anyGrows ? arith::OrIOp::create(b, anyGrows, grows) : grows;
    }
    Value warpRescales =
        staleReference
            ? NVVM::VoteSyncOp::create(b, b.getI1Type(), i32(b, -1), anyGrows,
                                       NVVM::VoteSyncKind::any)
                  .getResult()
            : Value();
    Value reference[2], rescale[2], negReference[2];
    for (int64_t i = 0; i < 2; ++i) {
      Value kept = staleReference
                       ? arith::SelectOp::create(b, warpRescales, newMax[i],
                                                 slabs[s].rowMax[i])
                             .getResult()
                       : newMax[i];
      Value noneVisible =
          arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, kept, negInf);
      reference[i] = arith::SelectOp::create(b, noneVisible, f32(b, 0.0), kept);
      rescale[i] = math::Exp2Op::create(
          b, arith::SubFOp::create(b, slabs[s].rowMax[i], reference[i]));
      negReference[i] = arith::NegFOp::create(b, reference[i]);
      slabs[s].rowMax[i] = kept;
    }
    // P = exp2(S - m'); each thread sums its part of the row (quads combine
    // once, at the end).
    Value partialSum[2] = {nullptr, nullptr};
    SmallVector<Value> probabilities(values.size());
    for (int64_t e = 0; e < static_cast<int64_t>(values.size()); ++e) {
      int64_t i = (e / 2) % 2;
      Value shifted =
          linearScores
              ? Value(math::FmaOp::create(b, values[e], scoreScale,
                                          negReference[i]))
              : Value(arith::SubFOp::create(b, values[e], reference[i]));
      Value p = math::Exp2Op::create(b, shifted);
      partialSum[i] =
          partialSum[i] ? arith::AddFOp::create(b, partialSum[i], p) : p;
      probabilities[e] = p;
    }
    for (int64_t i = 0; i < 2; ++i) {
      slabs[s].rowSum[i] =
          math::FmaOp::create(b, rescale[i], slabs[s].rowSum[i], partialSum[i]);
    }
    // Rounded to the input type as vectors: pairs become one
    // cvt.rn.{bf16,f16}x2.f32 each.
    for (int64_t kb = 0; kb < blockN / kMmaK; ++kb) {
      probabilityFragments[s].push_back(arith::TruncFOp::create(
          b, fragmentType(4),
          vector::FromElementsOp::create(
              b, VectorType::get({4, 2}, b.getF32Type()),
              ArrayRef<Value>(probabilities).slice(2 * kb * 4, 8))));
    }
    // O *= rescale, row by row (when the warp's references moved).
    auto rescaleOutput = [&](ImplicitLocOpBuilder &b) {
      Value rescaleFragment = vector::FromElementsOp::create(
          b, accumulatorType,
          ValueRange{rescale[0], rescale[0], rescale[1], rescale[1]});
      SmallVector<Value> output;
      for (Value acc : slabs[s].output) {
        output.push_back(arith::MulFOp::create(b, acc, rescaleFragment));
      }
      return output;
    };
    if (!staleReference) {
      slabs[s].output = rescaleOutput(b);
      continue;
    }
    auto rescaled = scf::IfOp::create(
        b, warpRescales,
        [&](OpBuilder &thenBuilder, Location loc) {
          ImplicitLocOpBuilder tb(loc, thenBuilder);
          scf::YieldOp::create(tb, rescaleOutput(tb));
        },
        [&](OpBuilder &elseBuilder, Location loc) {
          scf::YieldOp::create(elseBuilder, loc, slabs[s].output);
        });
    slabs[s].output.assign(rescaled.getResults().begin(),
                           rescaled.getResults().end());
  }

  if (twoBarriers && !nextKeysBeforeSoftmax) {
    // B2: V(j) has landed and is visible to all; every warp has read K(j),
    // which K(j + 1) replaces during PV.
    waitGroups(b, 0);
    gpu::BarrierOp::create(b);
    loadNextKeys();
  } else if (!twoBarriers && !ring) {
    if (prefetch) {
      // Every warp has read K(j): load K(j + 1) during PV.
      gpu::BarrierOp::create(b);
      loadNextKeys();
    }
    // V(j)'s group has landed and is visible to all; K(j + 1)'s may still
    // be in flight.
    waitGroups(b, prefetch ? 1 : 0);
    gpu::BarrierOp::create(b);
  }

  // O += P V for all slabs at once: B fragments from V by
  // ldmatrix.x4.trans, two n8 columns of V per load (matrices at rows
  // 16kb + 8(i % 2), columns 8dt + 8(i / 2)), each feeding every slab.
  for (int64_t kb = 0; kb < blockN / kMmaK; ++kb) {
    Value valueRow = arith::AddIOp::create(b, index(b, kb * kMmaK), laneMod16);
    for (int64_t dt = 0; dt < paddedHeadDimV / kMmaN; dt += 2) {
      Value pair = nvgpu::LdMatrixOp::create(
          b, fragmentType(4), tileValues,
          ValueRange{valueRow, arith::AddIOp::create(b, index(b, dt * kMmaN),
                                                     laneSixteenth)},
          /*transpose=*/true, /*numTiles=*/4);
      for (int64_t s = 0; s < slabsPerWarp; ++s) {
        for (int64_t half = 0; half < 2; ++half) {
          slabs[s].output[dt + half] =
              emitMma(b, probabilityFragments[s][kb], halfOf(pair, half),
                      slabs[s].output[dt + half]);
        }
      }
    }
  }
  if (ring) {
    // Tile j + 1 has landed and is visible to all; every warp is done with
    // tile j, whose buffers the next tile's copies take.
    waitGroups(b, ringAhead - 1);
    gpu::BarrierOp::create(b);
  }
  return flatten(slabs);
}

} // namespace mlir::attn::attn_to_gpu
