// Fused inverted residual block in integers (paper Section 5.1), within the memory the
// planner gave it: the block input x, its output y, the expanded-chunk buffer E and the
// depthwise-chunk buffer D. Nothing else is written.
//
// The int32 accumulator of the projection is not a planned buffer: the block's output is
// produced in tiles (a band of output rows, or a run of pixels, times a range of output
// channels); each tile's accumulator lives in what its E/D windows leave free, or in the
// part of y no tile has written yet. For each group of G inner channels the tile runs
//   expand (1x1 GEMM, or the 3x3/2 stem conv) → E window (rows/cols the tile needs)
//   depthwise 3x3 → D tile
//   projection, int32 partial sums accumulated over the groups (first group starts from
//   the bias)
// and after the last group requantizes once (plus the fixed-point residual ADD) into y.
// A tile whose G covers every inner channel needs no accumulator: the projection
// requantizes straight into y. Integer sums are exact, so every tiling and grouping gives
// the same bytes; planner/block_schedule/integer.ts chooses them (bigger tiles, fewer groups) to
// fit the buffers.
//
// Descriptor: Q8_BLOCK_DESC in src/kernels/schema/structs.ts (fields, then the tiles, each a
// Q8_TILE), read through the byte offsets generated into gen/abi.ts; "w·" fields are byte
// offsets from wbase. Tiles: output rows [r0, r1) × columns [q0, q1) × channels [n0, n1)
// (n0 % 8 = 0 unless the accumulator is scalar), G inner channels per group (a multiple of
// the unit), the accumulator's home (0 none, 1 E, 2 D, 3 y) and byte offset there.
// Row-streamed calls (rowEnd > 0): output rows [rowBase, rowEnd) of one band, the tiles' rows
// counted from rowBase. x and y may be rings (line buffers: row i at slot i mod xRows, 0 =
// the whole tensor); the residual reads x's ring; the stem's input ring keeps copies of its
// first rows after its last slot, so the rows an expanded row's taps read are contiguous.
// With `persist` in the descriptor E keeps the expanded rows of every inner channel (full
// width) from tile to tile and across calls: the rows a tile's window shares with the
// previous window move to the start of E and only the rows below them are expanded; its
// tiles hold every channel. Whole-tensor calls use it for the rolling-window schedule
// (bands of rows, planner/block_schedule/integer.ts ringPlan), row-streamed 'ring' blocks
// for their bands.
// Unit u = 8: expand weights are 8-channel panels (unit j = panel j, uExp bytes each), the
// projection one matrix over all inner channels whose k-range of unit j starts uProj·j bytes
// into every panel (panels psProj apart): a group of m units is one call. u = 1 (buffers
// too small for 8 channels): each unit has its own expand panel and projection matrix
// (K = 1), and a group runs one call per unit.
import { gemmRq, gemmAcc, requantAcc } from './q8_gemm';
import { conv2d } from './q8_conv';
import { dwconv3x3 } from './q8_dwconv';
import { loadq, wloadq } from './q8_common';
import { fillQ8ConvArgs, fillQ8DwArgs, fillQ8RequantArgs } from './gen/args';
import {
  Q8_DESC_B_DW,
  Q8_DESC_B_EXP,
  Q8_DESC_B_PROJ,
  Q8_DESC_CEXP,
  Q8_DESC_CIN,
  Q8_DESC_COUT,
  Q8_DESC_DDH,
  Q8_DESC_DDW,
  Q8_DESC_DPL,
  Q8_DESC_DPT,
  Q8_DESC_DSH,
  Q8_DESC_DSW,
  Q8_DESC_EDH,
  Q8_DESC_EDW,
  Q8_DESC_EKH,
  Q8_DESC_EKW,
  Q8_DESC_EPL,
  Q8_DESC_EPT,
  Q8_DESC_ESH,
  Q8_DESC_ESW,
  Q8_DESC_EXP_KIND,
  Q8_DESC_HE,
  Q8_DESC_HX,
  Q8_DESC_N_TILES,
  Q8_DESC_PERSIST,
  Q8_DESC_PS_PROJ,
  Q8_DESC_RQ_DW,
  Q8_DESC_RQ_EXP,
  Q8_DESC_RQ_PROJ,
  Q8_DESC_SIGNED,
  Q8_DESC_S_DW,
  Q8_DESC_S_EXP,
  Q8_DESC_S_PROJ,
  Q8_DESC_TILES,
  Q8_DESC_UNIT,
  Q8_DESC_U_EXP,
  Q8_DESC_U_PROJ,
  Q8_DESC_WD,
  Q8_DESC_WE,
  Q8_DESC_WS_DW,
  Q8_DESC_WX,
  Q8_DESC_W_DW,
  Q8_DESC_W_EXP,
  Q8_DESC_W_PROJ,
  Q8_DESC_ZE,
  Q8_DESC_ZX,
  Q8_RQ_RESIDUAL,
  Q8_RQ_ZW,
  Q8_TILE_ACC,
  Q8_TILE_ACC_OFFSET,
  Q8_TILE_BYTES,
  Q8_TILE_G,
  Q8_TILE_N0,
  Q8_TILE_N1,
  Q8_TILE_Q0,
  Q8_TILE_Q1,
  Q8_TILE_R0,
  Q8_TILE_R1,
} from './gen/abi';

/** Address of row i of x: a ring of xRows rows (row i in slot i mod xRows), or the whole tensor when xRows = 0. */
// @ts-ignore: decorator
@inline function rowAt(x: usize, i: i32, xRows: i32, rowBytes: usize): usize {
  return x + <usize>(xRows ? i % xRows : i) * rowBytes;
}

/** The stem conv (the expansion when it is not 1x1) of E rows [r0, r1) × cols [c0, c1), n of gc channels, into yo. */
// @ts-ignore: decorator
@inline function stemConv<T>(
  desc: usize,
  x: usize,
  wx: i32,
  cin: i32,
  yo: usize,
  r0: i32,
  r1: i32,
  c0: i32,
  c1: i32,
  n: i32,
  gc: i32,
  w: usize,
  b: usize,
  s: usize,
  rq: usize,
): void {
  conv2d<T>(
    fillQ8ConvArgs(
      x,
      load<i32>(desc, Q8_DESC_HX),
      wx,
      cin,
      yo,
      r0,
      r1,
      c0,
      c1,
      n,
      gc,
      load<i32>(desc, Q8_DESC_EKH),
      load<i32>(desc, Q8_DESC_EKW),
      load<i32>(desc, Q8_DESC_ESH),
      load<i32>(desc, Q8_DESC_ESW),
      load<i32>(desc, Q8_DESC_EDH),
      load<i32>(desc, Q8_DESC_EDW),
      load<i32>(desc, Q8_DESC_EPT),
      load<i32>(desc, Q8_DESC_EPL),
      w,
      b,
      s,
      rq,
      load<i32>(desc, Q8_DESC_ZX),
    ),
  );
}

/** Expand inner channels [g0, g0+gc) over E rows [er0,er1) × cols [ec0,ec1) into e (contiguous). */
function expandWindow<T>(
  desc: usize,
  wb: usize,
  x: usize,
  e: usize,
  er0: i32,
  er1: i32,
  ec0: i32,
  ec1: i32,
  g0: i32,
  gc: i32,
  xRows: i32,
): void {
  const u = load<i32>(desc, Q8_DESC_UNIT);
  const cin = load<i32>(desc, Q8_DESC_CIN);
  const wx = load<i32>(desc, Q8_DESC_WX);
  const rq = wb + <usize>load<i32>(desc, Q8_DESC_RQ_EXP);
  const cols = ec1 - ec0;
  for (let j0 = 0; j0 < gc; j0 += u == 8 ? gc : 1) {
    const n = u == 8 ? gc : 1;
    const unit = (g0 + j0) / u;
    const w = wb + <usize>load<i32>(desc, Q8_DESC_W_EXP) + <usize>unit * <usize>load<i32>(desc, Q8_DESC_U_EXP);
    const b = wb + <usize>load<i32>(desc, Q8_DESC_B_EXP) + ((<usize>unit) << 5);
    const s = wb + <usize>load<i32>(desc, Q8_DESC_S_EXP) + ((<usize>unit) << 5);
    const yo = e + <usize>j0;
    const xRowBytes = <usize>wx * <usize>cin;
    if (load<i32>(desc, Q8_DESC_EXP_KIND) == 0) {
      if (ec0 == 0 && ec1 == wx && xRows == 0) {
        gemmRq<T>(
          x + <usize>(er0 * wx) * <usize>cin,
          (er1 - er0) * wx,
          cin,
          <usize>cin,
          w,
          n,
          b,
          s,
          yo,
          <usize>gc,
          rq,
          0,
          0,
        );
      } else {
        for (let r = er0; r < er1; r++) {
          gemmRq<T>(
            rowAt(x, r, xRows, xRowBytes) + <usize>ec0 * <usize>cin,
            cols,
            cin,
            <usize>cin,
            w,
            n,
            b,
            s,
            yo + <usize>((r - er0) * cols * gc),
            <usize>gc,
            rq,
            0,
            0,
          );
        }
      }
    } else if (xRows) {
      // One expanded row at a time: its taps' rows are contiguous in the ring (mirror rows
      // after the last slot), so the conv reads them through a base pointer that puts the
      // first of them at its slot (wrapping arithmetic).
      for (let r = er0; r < er1; r++) {
        const i0 = max(0, r * load<i32>(desc, Q8_DESC_ESH) - load<i32>(desc, Q8_DESC_EPT));
        const xv = rowAt(x, i0, xRows, xRowBytes) - <usize>i0 * xRowBytes;
        stemConv<T>(desc, xv, wx, cin, yo + <usize>((r - er0) * cols * gc), r, r + 1, ec0, ec1, n, gc, w, b, s, rq);
      }
    } else {
      stemConv<T>(desc, x, wx, cin, yo, er0, er1, ec0, ec1, n, gc, w, b, s, rq);
    }
  }
}

/**
 * Byte of weight (channel j of its panel, input k) in a packed GEMM panel of K inputs
 * (src/kernels/q8_pack.ts runOffset): blocks of 8 inputs with rotated pairs, then pairs.
 */
// @ts-ignore: decorator
@inline function runOffset(j: i32, k: i32, K: i32): usize {
  const K8 = K & ~7;
  if (k < K8) {
    const r = (((k & 7) >> 1) - (j & 3)) & 3;
    return <usize>((k >> 3) * 64 + r * 16 + (j >> 2) * 8 + (j & 3) * 2 + (k & 1));
  }
  return <usize>(K8 * 8 + ((k - K8) >> 1) * 16 + j * 2 + (k & 1));
}

/**
 * Projection of output channels [n0, n0+N) when n0 is not on an 8-channel panel (the last
 * resort of the tiling: an accumulator of fewer than 8 channels): scalar int32 dot products
 * reading the packed weight bytes one by one (the projection has K = Cexp inputs; zw: the
 * uint8 weights' zero point). acc: M rows of N int32.
 */
function projScalar<T>(
  d: usize,
  M: i32,
  K: i32,
  gc: i32,
  g0: i32,
  u: i32,
  wProj: usize,
  ps: usize,
  uProj: usize,
  n0: i32,
  N: i32,
  bProj: usize,
  acc: usize,
  first: i32,
  zw: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < N; i++) {
      const n = n0 + i;
      const wn = wProj + <usize>(n >> 3) * ps;
      const ap = acc + ((<usize>(m * N + i)) << 2);
      let a = first ? load<i32>(bProj + ((<usize>n) << 2)) : load<i32>(ap);
      for (let j = 0; j < gc; j++) {
        const kk = g0 + j;
        const wk = u == 8 ? wn + runOffset(n & 7, kk, K) : wn + <usize>kk * uProj + ((<usize>(n & 7)) << 1);
        a += loadq<T>(d + <usize>(m * gc + j)) * wloadq<T>(wk, zw);
      }
      store<i32>(ap, a);
    }
  }
}

/**
 * The block over output rows [rowBase, rowEnd): the descriptor's tiles cover the whole
 * output (rowEnd = 0), or one band of rows counted from rowBase (row-streamed calls).
 * xRows / yRows: ring rows of x and y (0: whole tensors).
 */
export function block<T>(
  desc: usize,
  wb: usize,
  x: usize,
  y: usize,
  e: usize,
  d: usize,
  rowBase: i32 = 0,
  rowEnd: i32 = 0,
  xRows: i32 = 0,
  yRows: i32 = 0,
): void {
  const he = load<i32>(desc, Q8_DESC_HE),
    we = load<i32>(desc, Q8_DESC_WE),
    cexp = load<i32>(desc, Q8_DESC_CEXP);
  const wd = load<i32>(desc, Q8_DESC_WD),
    cout = load<i32>(desc, Q8_DESC_COUT);
  const sh = load<i32>(desc, Q8_DESC_DSH),
    sw = load<i32>(desc, Q8_DESC_DSW),
    dh = load<i32>(desc, Q8_DESC_DDH),
    dw = load<i32>(desc, Q8_DESC_DDW);
  const pt = load<i32>(desc, Q8_DESC_DPT),
    pl = load<i32>(desc, Q8_DESC_DPL);
  const u = load<i32>(desc, Q8_DESC_UNIT);
  const wDw = wb + <usize>load<i32>(desc, Q8_DESC_W_DW),
    wsDw = <usize>load<i32>(desc, Q8_DESC_WS_DW);
  const bDw = wb + <usize>load<i32>(desc, Q8_DESC_B_DW),
    sDw = wb + <usize>load<i32>(desc, Q8_DESC_S_DW),
    rqDw = wb + <usize>load<i32>(desc, Q8_DESC_RQ_DW);
  const wProj = wb + <usize>load<i32>(desc, Q8_DESC_W_PROJ),
    psProj = <usize>load<i32>(desc, Q8_DESC_PS_PROJ),
    uProj = <usize>load<i32>(desc, Q8_DESC_U_PROJ);
  const bProj = wb + <usize>load<i32>(desc, Q8_DESC_B_PROJ),
    sProj = wb + <usize>load<i32>(desc, Q8_DESC_S_PROJ),
    rqProj = wb + <usize>load<i32>(desc, Q8_DESC_RQ_PROJ);
  const zE = load<i32>(desc, Q8_DESC_ZE);
  const hasRes = load<i32>(rqProj, Q8_RQ_RESIDUAL) != 0;
  const zwProj = load<i32>(rqProj, Q8_RQ_ZW);
  const nt = load<i32>(desc, Q8_DESC_N_TILES);
  const yRow = <usize>wd * <usize>cout;
  const banded = rowEnd > 0;
  const ringed = xRows != 0 || yRows != 0;
  const persist = load<i32>(desc, Q8_DESC_PERSIST);
  const eRowBytes = <usize>we * <usize>cexp;
  // Rows [heldLo, heldHi] of E (every inner channel, full width) that E holds from its start
  // when it persists; none when heldHi < heldLo. A row-streamed call finds the window of the
  // previous band, of the same height, just above its own.
  let heldLo = 0,
    heldHi = -1;
  if (persist && rowBase > 0) {
    const t0 = desc + Q8_DESC_TILES;
    const R = load<i32>(t0, Q8_TILE_R1) - load<i32>(t0, Q8_TILE_R0);
    heldLo = max(0, (rowBase - R) * sh - pt);
    heldHi = min(he - 1, (rowBase - 1) * sh - pt + 2 * dh);
  }
  let winLo = 0;
  for (let t = 0; t < nt; t++) {
    const tp = desc + Q8_DESC_TILES + <usize>t * Q8_TILE_BYTES;
    let r0 = load<i32>(tp, Q8_TILE_R0),
      r1 = load<i32>(tp, Q8_TILE_R1);
    if (banded) {
      r0 += rowBase;
      r1 = min(r1 + rowBase, rowEnd);
      if (r0 >= r1) continue;
    }
    const q0 = load<i32>(tp, Q8_TILE_Q0),
      q1 = load<i32>(tp, Q8_TILE_Q1);
    const n0 = load<i32>(tp, Q8_TILE_N0),
      n1 = load<i32>(tp, Q8_TILE_N1),
      G = load<i32>(tp, Q8_TILE_G),
      loc = load<i32>(tp, Q8_TILE_ACC);
    const accOff = <usize>load<i32>(tp, Q8_TILE_ACC_OFFSET);
    const R = r1 - r0,
      Wt = q1 - q0,
      M = R * Wt,
      N = n1 - n0;
    // Rows and columns of E the depthwise taps of this tile reach, clipped to the image.
    const er0 = max(0, r0 * sh - pt),
      er1 = min(he, (r1 - 1) * sh - pt + 2 * dh + 1);
    const ec0 = max(0, q0 * sw - pl),
      ec1 = min(we, (q1 - 1) * sw - pl + 2 * dw + 1);
    if (persist) {
      // The tile's window of E: rows it shares with the held ones move to the start of E (when
      // the window starts lower), the rows below them are expanded.
      winLo = er0;
      const winHi = er1 - 1;
      let from = winLo;
      if (heldHi >= winLo) {
        if (winLo > heldLo)
          memory.copy(e, e + <usize>(winLo - heldLo) * eRowBytes, <usize>(heldHi - winLo + 1) * eRowBytes);
        from = heldHi + 1;
      }
      if (from <= winHi)
        expandWindow<T>(desc, wb, x, e + <usize>(from - winLo) * eRowBytes, from, winHi + 1, 0, we, 0, cexp, xRows);
      heldLo = winLo;
      heldHi = max(heldHi, winHi);
    }
    const acc = loc == 1 ? e + accOff : loc == 2 ? d + accOff : y + accOff;
    const as = (<usize>N) << 2;
    // Row r of the tile's output (and residual) is at rowAt(y, r0 + r, ...) + tileCol: rings wrap between rows.
    const tileCol = <usize>(q0 * cout + n0);
    const bN = bProj + ((<usize>n0) << 2),
      sN = sProj + ((<usize>n0) << 2),
      ys = <usize>cout;
    // Rows per call: all the tile's when it spans y's full width (its rows are then contiguous), else one.
    const rowsPer = Wt == wd && !ringed ? R : 1;
    for (let g0 = 0; g0 < cexp; g0 += G) {
      const gc = min(G, cexp - g0);
      if (!persist) expandWindow<T>(desc, wb, x, e, er0, er1, ec0, ec1, g0, gc, xRows);
      dwconv3x3<T>(
        fillQ8DwArgs(
          e,
          persist ? winLo : er0,
          persist ? 0 : ec0,
          persist ? we : ec1 - ec0,
          he,
          we,
          gc,
          d,
          r0,
          r1,
          q0,
          q1,
          sh,
          sw,
          dh,
          dw,
          pt,
          pl,
          wDw + ((<usize>g0) << 1),
          wsDw,
          bDw + ((<usize>g0) << 2),
          sDw + ((<usize>g0) << 2),
          rqDw,
          zE,
        ),
      );
      if (loc == 0) {
        // One group holds every inner channel: requantize straight into y.
        const w = wProj + <usize>(n0 >> 3) * psProj;
        for (let r = 0; r < R; r += rowsPer) {
          const yr = rowAt(y, r0 + r, yRows, yRow) + tileCol,
            rr = hasRes ? rowAt(x, r0 + r, xRows, yRow) + tileCol : 0;
          gemmRq<T>(d + <usize>(r * Wt * gc), rowsPer * Wt, gc, <usize>gc, w, N, bN, sN, yr, ys, rqProj, rr, ys);
        }
        continue;
      }
      const first = g0 == 0 ? 1 : 0;
      if (n0 & 7) {
        projScalar<T>(d, M, cexp, gc, g0, u, wProj, psProj, uProj, n0, N, bProj, acc, first, zwProj);
        continue;
      }
      // Unit 8: the group's k-range of the projection in one call; unit 1: one call (K = 1) per inner channel.
      const calls = u == 8 ? 1 : gc;
      for (let j = 0; j < calls; j++) {
        const w = wProj + <usize>((g0 + j) / u) * uProj + <usize>(n0 >> 3) * psProj;
        gemmAcc<T>(d + <usize>j, M, gc / calls, <usize>gc, w, psProj, N, bN, acc, as, j == 0 ? first : 0, zwProj);
      }
    }
    if (loc == 0) continue;
    for (let r = 0; r < R; r += rowsPer) {
      const yr = rowAt(y, r0 + r, yRows, yRow) + tileCol,
        rr = hasRes ? rowAt(x, r0 + r, xRows, yRow) + tileCol : 0;
      requantAcc<T>(fillQ8RequantArgs(acc + <usize>(r * Wt) * as, rowsPer * Wt, N, as, sN, yr, ys, rqProj, rr, ys));
    }
  }
}

/** The q8_block export's body: the block in the byte type its descriptor names. */
export function blockKernel(
  desc: usize,
  wb: usize,
  x: usize,
  y: usize,
  e: usize,
  d: usize,
  r0: i32,
  r1: i32,
  xRows: i32,
  yRows: i32,
): void {
  if (load<i32>(desc, Q8_DESC_SIGNED)) block<i8>(desc, wb, x, y, e, d, r0, r1, xRows, yRows);
  else block<u8>(desc, wb, x, y, e, d, r0, r1, xRows, yRows);
}
