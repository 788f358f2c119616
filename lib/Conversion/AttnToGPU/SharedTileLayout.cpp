//===- SharedTileLayout.cpp - swizzled shared-memory tiles ----------------===//
//
// The kernel is built on logical [rows x cols] views of shared memory (Q, K,
// V and O tiles of 16-bit elements, cols a multiple of 16); this file maps
// every access to one onto its physical, swizzled layout:
//
//   rows stay whole and in order (row r at r * cols elements, no padding);
//   within a row, the 16-byte chunks of each window of W columns (64 when
//   cols is a multiple of 64, else 32 or 16, the widest that divides cols)
//   are permuted: chunk k of a window sits at k ^ x(r), with
//   x(r) = (r / (8 / (W / 8))) % (W / 8), a pattern that repeats every 8
//   rows.
//
// Why it is free of bank conflicts. A row of n = cols / 8 chunks starts at
// 16-byte bank group (n * r) % 8 of the 128-byte bank window, so logical
// chunk c of row r sits in group (n * r + (c ^ x(r))) % 8. An ldmatrix
// matrix reads one chunk c of 8 consecutive rows r0 .. r0 + 7 (r0 a
// multiple of 8); their groups must differ:
//   - n % 8 == 0 (W = 64): n * r vanishes and x(r) = r % 8 gives all 8
//     (FlashAttention-2's Swizzle<3, 3, 3>);
//   - n % 8 == 4 (W = 32, head dim 96): n * r is 4 * (r % 2), an XOR of
//     chunk bit 2, and x(r) = (r / 2) % 4 XORs bits 0-1: the 8 rows'
//     masks 4 * (r % 2) + (r / 2) % 4 are all different;
//   - n % 4 == 2 (W = 16, head dims 80 and 112): n * r takes the 4 even
//     groups over rows 0-3 and again over rows 4-7, and x(r) = (r / 4) % 2
//     flips the low bit of the second four.
// The tile copies go row by row: a quarter warp's 8 consecutive chunks of
// the row-major order (two rows where one ends) write 8 consecutive
// physical chunks, one 128-byte line: the permutation moves chunks only
// within aligned groups of W / 8, and rows and quarters both start on such
// a group's boundary. Global rows are then read as they are stored
// (contiguous row segments per warp instruction, not 32- or 64-byte pieces
// of 8-16 rows as the column-block layout this replaced read them).
//
// Every row starts 16-byte aligned, and a 128-byte line of global memory
// lands in whole 32-byte sectors of shared memory (cp.async copies its
// sectors as they are: padded rows, misaligned by 16 bytes, made an H100
// move 1.5x the ideal L2 sectors and 2.6x the shared wavefronts on K and V
// copies).
//
//===----------------------------------------------------------------------===//

#include "AttentionKernelBuilder.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::attn::attn_to_gpu {

/// Elements per 16-byte chunk of a 16-bit tile.
static constexpr int64_t kChunkElements = 8;
/// Rows after which the swizzle's XOR repeats: x(r) depends on r % 8.
static constexpr int64_t kSwizzlePeriodRows = 8;

int64_t swizzleWindowWidth(int64_t cols) {
  for (int64_t width : {64, 32, 16}) {
    if (cols % width == 0) {
      return width;
    }
  }
  llvm_unreachable("shared tiles have a multiple of 16 columns");
}

namespace {

/// v = constant + rest (rest null when v is a constant), peeled from the
/// arith.addi tree above v.
std::pair<int64_t, Value> splitConstant(ImplicitLocOpBuilder &b, Value v) {
  if (std::optional<int64_t> constant = getConstantIntValue(v)) {
    return {*constant, Value()};
  }
  auto add = v.getDefiningOp<arith::AddIOp>();
  if (!add) {
    return {0, v};
  }
  auto [lhsConstant, lhs] = splitConstant(b, add.getLhs());
  auto [rhsConstant, rhs] = splitConstant(b, add.getRhs());
  if (lhsConstant == 0 && rhsConstant == 0) {
    return {0, v};
  }
  Value rest = !lhs ? rhs : !rhs ? lhs : arith::AddIOp::create(b, lhs, rhs);
  return {lhsConstant + rhsConstant, rest};
}

/// An upper bound of an index derived from the thread id by constant
/// divisions, remainders, products and sums (none when unknown).
std::optional<int64_t> upperBound(Value v) {
  if (std::optional<int64_t> constant = getConstantIntValue(v)) {
    return *constant >= 0 ? std::optional<int64_t>(*constant) : std::nullopt;
  }
  Operation *def = v.getDefiningOp();
  if (auto rem = dyn_cast_or_null<arith::RemUIOp>(def)) {
    std::optional<int64_t> divisor = getConstantIntValue(rem.getRhs());
    return divisor && *divisor > 0 ? std::optional<int64_t>(*divisor - 1)
                                   : std::nullopt;
  }
  if (auto div = dyn_cast_or_null<arith::DivUIOp>(def)) {
    std::optional<int64_t> divisor = getConstantIntValue(div.getRhs());
    std::optional<int64_t> dividend = upperBound(div.getLhs());
    if (divisor && *divisor > 0 && dividend) {
      return *dividend / *divisor;
    }
    return std::nullopt;
  }
  if (auto mul = dyn_cast_or_null<arith::MulIOp>(def)) {
    std::optional<int64_t> lhs = upperBound(mul.getLhs());
    std::optional<int64_t> rhs = upperBound(mul.getRhs());
    if (lhs && rhs) {
      return *lhs * *rhs;
    }
    return std::nullopt;
  }
  if (auto add = dyn_cast_or_null<arith::AddIOp>(def)) {
    std::optional<int64_t> lhs = upperBound(add.getLhs());
    std::optional<int64_t> rhs = upperBound(add.getRhs());
    if (lhs && rhs) {
      return *lhs + *rhs;
    }
  }
  return std::nullopt;
}

/// A power of two that `v` is known to be a multiple of (1 when unknown).
int64_t knownDivisor(Value v) {
  constexpr int64_t kLarge = int64_t{1} << 30;
  if (std::optional<int64_t> constant = getConstantIntValue(v)) {
    return *constant == 0 ? kLarge : (*constant & -*constant);
  }
  Operation *def = v.getDefiningOp();
  if (auto add = dyn_cast_or_null<arith::AddIOp>(def)) {
    return std::min(knownDivisor(add.getLhs()), knownDivisor(add.getRhs()));
  }
  if (auto mul = dyn_cast_or_null<arith::MulIOp>(def)) {
    return std::min(kLarge,
                    knownDivisor(mul.getLhs()) * knownDivisor(mul.getRhs()));
  }
  return 1;
}

/// `v` less the addends of its arith.addi tree that are known multiples of
/// `period` (a power of two): the same value modulo `period`.
Value withoutMultiplesOf(ImplicitLocOpBuilder &b, Value v, int64_t period) {
  if (knownDivisor(v) % period == 0) {
    return arith::ConstantIndexOp::create(b, 0);
  }
  auto add = v.getDefiningOp<arith::AddIOp>();
  if (!add) {
    return v;
  }
  bool lhsVanishes = knownDivisor(add.getLhs()) % period == 0;
  bool rhsVanishes = knownDivisor(add.getRhs()) % period == 0;
  if (lhsVanishes || rhsVanishes) {
    return withoutMultiplesOf(b, lhsVanishes ? add.getRhs() : add.getLhs(),
                              period);
  }
  Value lhs = withoutMultiplesOf(b, add.getLhs(), period);
  Value rhs = withoutMultiplesOf(b, add.getRhs(), period);
  if (lhs == add.getLhs() && rhs == add.getRhs()) {
    return v;
  }
  return arith::AddIOp::create(b, lhs, rhs);
}

/// The physical layout of a tile of `cols` columns (rows stay as they are)
/// and the index arithmetic into it.
struct SwizzledLayout {
  /// Columns per swizzle window.
  int64_t windowWidth;

  explicit SwizzledLayout(int64_t cols)
      : windowWidth(swizzleWindowWidth(cols)) {}

  /// The XOR applied to a row's columns, in elements: chunk bits
  /// ((r / rowsPerWindow) % chunksPerWindow) * 8.
  Value windowOf(ImplicitLocOpBuilder &b, Value row) const {
    int64_t chunksPerWindow = windowWidth / kChunkElements;
    int64_t rowsPerWindow = kChunkElements / chunksPerWindow;
    auto constant = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, v);
    };
    return arith::MulIOp::create(
        b,
        arith::RemUIOp::create(
            b, arith::DivUIOp::create(b, row, constant(rowsPerWindow)),
            constant(chunksPerWindow)),
        constant(kChunkElements));
  }

  /// The physical column of logical (r, c) (the row is r). The XOR
  /// depends on r modulo 8 rows only; where c = C + x with a constant C and
  /// a thread part x whose bits lie below C's (an ldmatrix's k-step plus
  /// the lane's half), it is split into C ^ (high bits) + x ^ (low bits):
  /// the first takes at most windowWidth / 8 values per thread, so across
  /// an unrolled loop the addresses stay a few registers plus constant
  /// offsets.
  Value physicalColumn(ImplicitLocOpBuilder &b, Value r, Value c) const {
    auto constant = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, v);
    };
    auto [rowConstant, rowRest] = splitConstant(b, r);
    // The XOR repeats every 8 rows.
    Value window =
        windowOf(b, rowRest && rowConstant % kChunkElements == 0 ? rowRest : r);
    auto [columnConstant, columnRest] = splitConstant(b, c);
    std::optional<int64_t> restBound =
        columnRest ? upperBound(columnRest) : std::optional<int64_t>(0);
    int64_t restSpan =
        restBound ? static_cast<int64_t>(llvm::PowerOf2Ceil(*restBound + 1))
                  : 0;
    if (restBound && columnConstant % restSpan == 0) {
      // The window's bits at and above restSpan (XORed into C) and below
      // it (into x); either may be empty.
      int64_t windowMask = windowWidth - 1;
      int64_t highBits = windowMask & ~(restSpan - 1);
      int64_t lowBits = windowMask & (restSpan - 1);
      auto windowPart = [&](int64_t bits) -> Value {
        return bits == windowMask
                   ? window
                   : arith::AndIOp::create(b, window, constant(bits));
      };
      Value column = constant(columnConstant);
      if (highBits) {
        column = arith::AddIOp::create(
            b, constant(columnConstant & ~windowMask),
            arith::XOrIOp::create(b, constant(columnConstant & windowMask),
                                  windowPart(highBits)));
      }
      if (columnRest) {
        column = arith::AddIOp::create(
            b, column,
            lowBits ? arith::XOrIOp::create(b, columnRest, windowPart(lowBits))
                          .getResult()
                    : columnRest);
      }
      return column;
    }
    return arith::XOrIOp::create(b, c, window);
  }
};

} // namespace

/// Rewrites every access to the logical tile `view` onto its physical
/// layout and erases the view. A vector access is kept whole when its
/// column is known to start a run inside one chunk, else split into
/// elements.
LogicalResult swizzleSharedTile(memref::ViewOp view) {
  MemRefType logicalType = view.getType();
  SwizzledLayout layout(logicalType.getDimSize(1));
  ImplicitLocOpBuilder b(view.getLoc(), view);
  b.setInsertionPointAfter(view);
  // Same shape as the logical view; only the columns move.
  Value physical = memref::ViewOp::create(b, logicalType, view.getSource(),
                                          view.getByteShift(), ValueRange{});
  // Points the user's `memref` operand at the physical view and its
  // `indices` at the (line, column) of the logical ones.
  // `loopInvariantSwizzle`: the swizzle's row is taken modulo its period
  // first (kSwizzlePeriodRows), so that a copy loop's rows r0 + 8 i share
  // one XOR, computed once, instead of one per unrolled iteration.
  auto remap = [&](Operation *user, MutableOperandRange memref,
                   MutableOperandRange indices,
                   bool loopInvariantSwizzle = false) {
    b.setInsertionPoint(user);
    OperandRange logical = indices;
    Value row = logical[0];
    Value swizzleRow = loopInvariantSwizzle
                           ? withoutMultiplesOf(b, row, kSwizzlePeriodRows)
                           : row;
    Value column = layout.physicalColumn(b, swizzleRow, logical[1]);
    memref.assign(physical);
    indices.assign(ValueRange{row, column});
  };

  for (Operation *user : llvm::make_early_inc_range(view->getUsers())) {
    b.setLoc(user->getLoc());
    // An ldmatrix lane's 16-byte row and a cp.async (at most 16 bytes,
    // aligned to its size) each lie in one chunk.
    if (auto ldmatrix = dyn_cast<nvgpu::LdMatrixOp>(user)) {
      remap(user, ldmatrix.getSrcMemrefMutable(), ldmatrix.getIndicesMutable());
      continue;
    }
    if (auto copy = dyn_cast<nvgpu::DeviceAsyncCopyOp>(user)) {
      if (copy.getSrc() == view.getResult()) {
        return copy.emitOpError("reads a swizzled shared tile");
      }
      remap(user, copy.getDstMutable(), copy.getDstIndicesMutable(),
            /*loopInvariantSwizzle=*/true);
      continue;
    }
    if (auto load = dyn_cast<memref::LoadOp>(user)) {
      remap(user, load.getMemrefMutable(), load.getIndicesMutable());
      continue;
    }
    if (auto store = dyn_cast<memref::StoreOp>(user)) {
      if (store.getValueToStore() == view.getResult()) {
        return store.emitOpError("stores a swizzled shared tile's view");
      }
      remap(user, store.getMemrefMutable(), store.getIndicesMutable());
      continue;
    }
    auto vectorAccess = [&](auto access, VectorType type) -> LogicalResult {
      if (type.getRank() != 1) {
        return access.emitOpError("accesses a swizzled shared tile with a ")
               << type.getRank() << "-d vector";
      }
      int64_t count = type.getNumElements();
      Value column = access.getIndices()[1];
      bool inOneChunk =
          kChunkElements % count == 0 && knownDivisor(column) % count == 0;
      if (inOneChunk) {
        remap(access, access.getBaseMutable(), access.getIndicesMutable());
        return success();
      }
      // Element by element: each lands in its own chunk's position.
      b.setInsertionPoint(access);
      Value row = access.getIndices()[0];
      auto elementAt = [&](int64_t i) {
        return SmallVector<Value>{
            row, layout.physicalColumn(
                     b, row,
                     arith::AddIOp::create(
                         b, column, arith::ConstantIndexOp::create(b, i)))};
      };
      if constexpr (std::is_same_v<decltype(access), vector::LoadOp>) {
        SmallVector<Value> elements;
        for (int64_t i = 0; i < count; ++i) {
          elements.push_back(memref::LoadOp::create(b, physical, elementAt(i)));
        }
        access.replaceAllUsesWith(
            vector::FromElementsOp::create(b, type, elements).getResult());
      } else {
        for (int64_t i = 0; i < count; ++i) {
          memref::StoreOp::create(
              b,
              vector::ExtractOp::create(b, access.getValueToStore(),
                                        ArrayRef<int64_t>{i}),
              physical, elementAt(i));
        }
      }
      access.erase();
      return success();
    };
    if (auto load = dyn_cast<vector::LoadOp>(user)) {
      if (failed(vectorAccess(load, load.getVectorType()))) {
        return failure();
      }
      continue;
    }
    if (auto store = dyn_cast<vector::StoreOp>(user)) {
      if (store.getValueToStore() == view.getResult()) {
        return store.emitOpError("stores a swizzled shared tile's view");
      }
      if (failed(vectorAccess(store, store.getVectorType()))) {
        return failure();
      }
      continue;
    }
    return user->emitOpError("accesses a swizzled shared tile in a way the "
                             "layout does not map");
  }
  view.erase();
  return success();
}

} // namespace mlir::attn::attn_to_gpu
