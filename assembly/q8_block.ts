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
// Descriptor (int32, built by lower_q8.ts; "w·" fields are byte offsets from wbase):
export const D_SIGNED = 0,
  D_EXP_KIND = 1,
  D_HX = 2,
  D_WX = 3,
  D_CIN = 4,
  D_HE = 5,
  D_WE = 6,
  D_CEXP = 7,
  D_HD = 8,
  D_WD = 9,
  D_COUT = 10,
  D_EKH = 11,
  D_EKW = 12,
  D_ESH = 13,
  D_ESW = 14,
  D_EDH = 15,
  D_EDW = 16,
  D_EPT = 17,
  D_EPL = 18,
  D_DSH = 19,
  D_DSW = 20,
  D_DDH = 21,
  D_DDW = 22,
  D_DPT = 23,
  D_DPL = 24,
  D_ZX = 25,
  D_ZE = 26,
  D_WEXP = 27,
  D_BEXP = 28,
  D_SEXP = 29,
  D_RQEXP = 30,
  D_WDW = 31,
  D_WSDW = 32,
  D_BDW = 33,
  D_SDW = 34,
  D_RQDW = 35,
  D_WPROJ = 36,
  D_PSPROJ = 37,
  D_BPROJ = 38,
  D_SPROJ = 39,
  D_RQPROJ = 40,
  D_UNIT = 41,
  D_UEXP = 42,
  D_UPROJ = 43,
  D_NTILES = 44,
  D_PERSIST = 45,
  D_TILES = 48,
  TILE_WORDS = 12;
// D_PERSIST = 1: row-streamed 'ring' block: E keeps the expanded rows of every inner channel
// across calls (the window of the previous band, moved down to the start of E), and each
// call expands only the rows no earlier call made; tiles then hold every inner channel.
//
// Row-streamed calls (blockRows): output rows [r0, r1) of one band; tile rows are relative to
// r0. x and y may be rings (line buffers): row i of x at slot i mod xRows (0: not a ring), rows
// of y likewise; the residual reads x's ring. The stem's input ring keeps copies of its first
// rows after its last slot, so the three rows an expanded row's taps read are contiguous.
// Tile fields: r0 r1 q0 q1 (output rows, cols), n0 n1 (output channels; n0 % 8 = 0), G (inner
// channels per group, a multiple of the unit), accLoc (0 none, 1 E, 2 D, 3 y), accOff (bytes).
// Unit u = 8: expand weights are 8-channel panels (unit j = panel j, D_UEXP bytes each), the
// projection one matrix over all inner channels whose k-range of unit j starts D_UPROJ·j bytes
// into every panel (panels D_PSPROJ apart): a group of m units is one call. u = 1 (buffers
// too small for 8 channels): each unit has its own expand panel and projection matrix
// (K = 1), and a group runs one call per unit.
import { gemmRq, gemmAcc, requantAcc } from './q8_gemm';
import { conv2d } from './q8_conv';
import { dwconv3x3 } from './q8_dwconv';
import { loadq, wloadq } from './q8_common';

// @ts-ignore: decorator
@inline function f(desc: usize, i: i32): i32 {
  return load<i32>(desc + ((<usize>i) << 2));
}

/** Address of row i of x: a ring of xRows rows (row i in slot i mod xRows), or the whole tensor when xRows = 0. */
// @ts-ignore: decorator
@inline function rowAt(x: usize, i: i32, xRows: i32, rowBytes: usize): usize {
  return x + <usize>(xRows ? i % xRows : i) * rowBytes;
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
  const u = f(desc, D_UNIT);
  const cin = f(desc, D_CIN);
  const wx = f(desc, D_WX);
  const rq = wb + <usize>f(desc, D_RQEXP);
  const cols = ec1 - ec0;
  for (let j0 = 0; j0 < gc; j0 += u == 8 ? gc : 1) {
    const n = u == 8 ? gc : 1;
    const unit = (g0 + j0) / u;
    const w = wb + <usize>f(desc, D_WEXP) + <usize>unit * <usize>f(desc, D_UEXP);
    const b = wb + <usize>f(desc, D_BEXP) + ((<usize>unit) << 5);
    const s = wb + <usize>f(desc, D_SEXP) + ((<usize>unit) << 5);
    const yo = e + <usize>j0;
    const xRowBytes = <usize>wx * <usize>cin;
    if (f(desc, D_EXP_KIND) == 0) {
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
      const hx = f(desc, D_HX);
      for (let r = er0; r < er1; r++) {
        const i0 = max(0, r * f(desc, D_ESH) - f(desc, D_EPT));
        const xv = rowAt(x, i0, xRows, xRowBytes) - <usize>i0 * xRowBytes;
        conv2d<T>(
          xv,
          hx,
          wx,
          cin,
          yo + <usize>((r - er0) * (ec1 - ec0) * gc),
          r,
          r + 1,
          ec0,
          ec1,
          n,
          gc,
          f(desc, D_EKH),
          f(desc, D_EKW),
          f(desc, D_ESH),
          f(desc, D_ESW),
          f(desc, D_EDH),
          f(desc, D_EDW),
          f(desc, D_EPT),
          f(desc, D_EPL),
          w,
          b,
          s,
          rq,
          f(desc, D_ZX),
        );
      }
    } else {
      conv2d<T>(
        x,
        f(desc, D_HX),
        wx,
        cin,
        yo,
        er0,
        er1,
        ec0,
        ec1,
        n,
        gc,
        f(desc, D_EKH),
        f(desc, D_EKW),
        f(desc, D_ESH),
        f(desc, D_ESW),
        f(desc, D_EDH),
        f(desc, D_EDW),
        f(desc, D_EPT),
        f(desc, D_EPL),
        w,
        b,
        s,
        rq,
        f(desc, D_ZX),
      );
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
  const he = f(desc, D_HE),
    we = f(desc, D_WE),
    cexp = f(desc, D_CEXP);
  const wd = f(desc, D_WD),
    cout = f(desc, D_COUT);
  const sh = f(desc, D_DSH),
    sw = f(desc, D_DSW),
    dh = f(desc, D_DDH),
    dw = f(desc, D_DDW);
  const pt = f(desc, D_DPT),
    pl = f(desc, D_DPL);
  const u = f(desc, D_UNIT);
  const wDw = wb + <usize>f(desc, D_WDW),
    wsDw = <usize>f(desc, D_WSDW);
  const bDw = wb + <usize>f(desc, D_BDW),
    sDw = wb + <usize>f(desc, D_SDW),
    rqDw = wb + <usize>f(desc, D_RQDW);
  const wProj = wb + <usize>f(desc, D_WPROJ),
    psProj = <usize>f(desc, D_PSPROJ),
    uProj = <usize>f(desc, D_UPROJ);
  const bProj = wb + <usize>f(desc, D_BPROJ),
    sProj = wb + <usize>f(desc, D_SPROJ),
    rqProj = wb + <usize>f(desc, D_RQPROJ);
  const zE = f(desc, D_ZE);
  const hasRes = load<i32>(rqProj, 12) != 0;
  const zwProj = load<i32>(rqProj, 44);
  const nt = f(desc, D_NTILES);
  const yRow = <usize>wd * <usize>cout;
  const banded = rowEnd > 0;
  const ringed = xRows != 0 || yRows != 0;
  const persist = f(desc, D_PERSIST);
  // The expanded window of this call (rows winLo..winHi, all inner channels, full width) when
  // E persists: the rows the previous band already made move to the start of E.
  let winLo = 0;
  if (persist) {
    winLo = max(0, rowBase * sh - pt);
    const winHi = min(he - 1, (rowEnd - 1) * sh - pt + 2 * dh);
    const eRowBytes = <usize>we * <usize>cexp;
    let from = winLo;
    if (rowBase > 0) {
      // The previous call made the band of the same height just above this one.
      const R = load<i32>(desc + ((<usize>(D_TILES + 1)) << 2)) - load<i32>(desc + ((<usize>D_TILES) << 2));
      const prevLo = max(0, (rowBase - R) * sh - pt);
      const prevHi = min(he - 1, (rowBase - 1) * sh - pt + 2 * dh);
      if (prevHi >= winLo) {
        memory.copy(e, e + <usize>(winLo - prevLo) * eRowBytes, <usize>(prevHi - winLo + 1) * eRowBytes);
        from = prevHi + 1;
      }
    }
    if (from <= winHi)
      expandWindow<T>(desc, wb, x, e + <usize>(from - winLo) * eRowBytes, from, winHi + 1, 0, we, 0, cexp, xRows);
  }
  for (let t = 0; t < nt; t++) {
    const tp = desc + ((<usize>(D_TILES + t * TILE_WORDS)) << 2);
    let r0 = load<i32>(tp),
      r1 = load<i32>(tp, 4);
    if (banded) {
      r0 += rowBase;
      r1 = min(r1 + rowBase, rowEnd);
      if (r0 >= r1) continue;
    }
    const q0 = load<i32>(tp, 8),
      q1 = load<i32>(tp, 12);
    const n0 = load<i32>(tp, 16),
      n1 = load<i32>(tp, 20),
      G = load<i32>(tp, 24),
      loc = load<i32>(tp, 28);
    const accOff = <usize>load<i32>(tp, 32);
    const R = r1 - r0,
      Wt = q1 - q0,
      M = R * Wt,
      N = n1 - n0;
    // Rows and columns of E the depthwise taps of this tile reach, clipped to the image.
    const er0 = max(0, r0 * sh - pt),
      er1 = min(he, (r1 - 1) * sh - pt + 2 * dh + 1);
    const ec0 = max(0, q0 * sw - pl),
      ec1 = min(we, (q1 - 1) * sw - pl + 2 * dw + 1);
    const acc = loc == 1 ? e + accOff : loc == 2 ? d + accOff : y + accOff;
    const as = (<usize>N) << 2;
    const yt = rowAt(y, r0, yRows, yRow) + <usize>(q0 * cout + n0);
    const rt = hasRes ? rowAt(x, r0, xRows, yRow) + <usize>(q0 * cout + n0) : 0;
    // Row r of the tile is at rowAt(y, r0 + r, ...) + tileCol (rings wrap between rows).
    const tileCol = <usize>(q0 * cout + n0);
    for (let g0 = 0; g0 < cexp; g0 += G) {
      const gc = min(G, cexp - g0);
      if (!persist) expandWindow<T>(desc, wb, x, e, er0, er1, ec0, ec1, g0, gc, xRows);
      dwconv3x3<T>(
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
      );
      if (loc == 0) {
        // One group holds every inner channel: requantize straight into y.
        const w = wProj + <usize>(n0 >> 3) * psProj;
        if (Wt == wd && !ringed)
          gemmRq<T>(
            d,
            M,
            gc,
            <usize>gc,
            w,
            N,
            bProj + ((<usize>n0) << 2),
            sProj + ((<usize>n0) << 2),
            yt,
            <usize>cout,
            rqProj,
            rt,
            <usize>cout,
          );
        else {
          for (let r = 0; r < R; r++) {
            gemmRq<T>(
              d + <usize>(r * Wt * gc),
              Wt,
              gc,
              <usize>gc,
              w,
              N,
              bProj + ((<usize>n0) << 2),
              sProj + ((<usize>n0) << 2),
              rowAt(y, r0 + r, yRows, yRow) + tileCol,
              <usize>cout,
              rqProj,
              hasRes ? rowAt(x, r0 + r, xRows, yRow) + tileCol : 0,
              <usize>cout,
            );
          }
        }
        continue;
      }
      const first = g0 == 0 ? 1 : 0;
      if (n0 & 7) {
        projScalar<T>(d, M, cexp, gc, g0, u, wProj, psProj, uProj, n0, N, bProj, acc, first, zwProj);
      } else if (u == 8) {
        gemmAcc<T>(
          d,
          M,
          gc,
          <usize>gc,
          wProj + <usize>(g0 >> 3) * uProj + <usize>(n0 >> 3) * psProj,
          psProj,
          N,
          bProj + ((<usize>n0) << 2),
          acc,
          as,
          first,
          zwProj,
        );
      } else {
        for (let j = 0; j < gc; j++) {
          gemmAcc<T>(
            d + <usize>j,
            M,
            1,
            <usize>gc,
            wProj + <usize>(g0 + j) * uProj + <usize>(n0 >> 3) * psProj,
            psProj,
            N,
            bProj + ((<usize>n0) << 2),
            acc,
            as,
            first & (j == 0 ? 1 : 0),
            zwProj,
          );
        }
      }
    }
    if (loc == 0) continue;
    if (Wt == wd && !ringed)
      requantAcc<T>(acc, M, N, as, sProj + ((<usize>n0) << 2), yt, <usize>cout, rqProj, rt, <usize>cout);
    else {
      for (let r = 0; r < R; r++) {
        requantAcc<T>(
          acc + <usize>(r * Wt) * as,
          Wt,
          N,
          as,
          sProj + ((<usize>n0) << 2),
          rowAt(y, r0 + r, yRows, yRow) + tileCol,
          <usize>cout,
          rqProj,
          hasRes ? rowAt(x, r0 + r, xRows, yRow) + tileCol : 0,
          <usize>cout,
        );
      }
    }
  }
}
