// Fused inverted-residual block (MobileNetV2 paper, Section 5.1), one call per block:
//
//   x ─ expand (1x1, or the 3x3/2 stem conv; +bias, ReLU6) ─ E ─ depthwise 3x3 (+bias, ReLU6) ─ D
//     ─ project 1x1 (+bias) ─ [+ residual] ─ clamp ─ y
//
// E and D are never materialized. The expanded channels run in groups of g channels; within
// a group the expanded rows are produced into a ring of `ringRows` rows (the scratch `e`)
// just ahead of the depthwise, which writes a band of `bandRows` output rows (the scratch
// `d`); each band is projected straight into its rows of y. So with one group (g = C_exp)
// every expanded row is computed once, y is written once, and all GEMMs see all channels;
// with G groups y is accumulated G times (first group: bias; last: residual and clamp).
// The caller (src/executor/ops/block.ts, via planner/block_schedule/float.ts) picks g, ringRows and
// bandRows so that e and d stay inside the plan's two chunk buffers.
//
// Row-streamed calls (r1 > 0) make output rows [r0, r1) only; x and y may be rings
// (line buffers: row i in slot i mod rows; the residual reads x's ring; the stem's input ring
// keeps copies of its first rows after its last slot, so an expanded row's taps are
// contiguous). With `persist` (one group of all channels) the ring of expanded rows outlives
// the call: the next call, for the rows just below, expands only the rows not yet made.
//
// Memory touched: reads x, w, res, y (accumulating groups) and e, d; writes y, and e, d only
// in [0, min(ringRows, He)·We·g) and [0, bandRows·OW·g) floats. Nothing else.
//
// Packed weights (src/kernels/pack.ts packFusedBlock), all pieces 16-byte multiples:
//   projection bias: Cout floats, padded to a multiple of 4
//   per group j of gn = min(g, C_exp − j·g) channels:
//     expansion weights   packGemm1x1 panels, N = gn, K = Cin (1x1) or 9·Cin (stem, OHWI)
//     expansion bias      gn floats, padded to 4
//     depthwise weights   packDepthwise3x3 groups of 4 channels (36 floats each)
//     depthwise bias      gn floats, padded to 4
//     projection weights  packGemm1x1 panels, N = Cout, K = gn
import { gemm1x1 } from './gemm';
import { conv2d } from './conv';
import { fillConvArgs } from './gen/args';
import { dwRow } from './dwconv';

// @ts-ignore: decorator
@inline function round4(n: i32): i32 {
  return (n + 3) & ~3;
}
// @ts-ignore: decorator
@inline function round8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Expanded rows [r, r + n) of the stem (3x3 stride-2 conv, ReLU6) for gn channels. */
function stemRows(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  dst: usize,
  r: i32,
  n: i32,
  We: i32,
  gn: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
): void {
  conv2d(fillConvArgs(x, H, W, C, dst, n, We, gn, 3, 3, 2, 2, 1, 1, padTop - 2 * r, padLeft, w, b, 0, 6));
}

/** Address of row i of a ring of `rows` rows (slot i mod rows), or of a whole tensor when rows = 0. */
// @ts-ignore: decorator
@inline function rowAt(x: usize, i: i32, rows: i32, rowBytes: usize): usize {
  return x + <usize>(rows ? i % rows : i) * rowBytes;
}

/** Row r of the ring, or 0 when r is outside [0, He). */
// @ts-ignore: decorator
@inline function ringRow(e: usize, r: i32, He: i32, ringRows: i32, rowBytes: usize): usize {
  return r < 0 || r >= He ? 0 : e + <usize>(r % ringRows) * rowBytes;
}

/**
 * The fused block (see the file comment). stem = 0: 1x1 expansion (He = H, We = W);
 * stem = 1: 3x3 stride-2 expansion conv with padding ePadTop/ePadLeft. Depthwise stride
 * (sh, sw), dilation (dh, dw), padding dPadTop/dPadLeft. y: OH × OW × Cout; res: same
 * shape or 0; lo/hi: final clamp. Expansion and depthwise clamp to [0, 6] (ReLU6).
 */
export function fusedBlock(
  x: usize,
  H: i32,
  W: i32,
  Cin: i32,
  stem: i32,
  He: i32,
  We: i32,
  ePadTop: i32,
  ePadLeft: i32,
  Cexp: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  dPadTop: i32,
  dPadLeft: i32,
  y: usize,
  OH: i32,
  OW: i32,
  Cout: i32,
  w: usize,
  res: usize,
  lo: f32,
  hi: f32,
  e: usize,
  d: usize,
  g: i32,
  ringRows: i32,
  bandRows: i32,
  r0: i32 = 0,
  r1: i32 = 0,
  xRows: i32 = 0,
  yRows: i32 = 0,
  persist: i32 = 0,
): void {
  if (r1 == 0) r1 = OH;
  const six = f32x4.splat(6);
  const zero = f32x4.splat(0);
  const Kexp = stem ? 9 * Cin : Cin;
  const yRowBytes = (<usize>(OW * Cout)) << 2;
  const xRowBytes = (<usize>(W * Cin)) << 2;
  const pb = w;
  let wg = w + ((<usize>round4(Cout)) << 2);
  for (let c0 = 0; c0 < Cexp; c0 += g) {
    const gn = min(g, Cexp - c0);
    const first = c0 == 0;
    const last = c0 + gn >= Cexp;
    const we = wg;
    const be = we + ((<usize>(round8(gn) * Kexp)) << 2);
    const wd = be + ((<usize>round4(gn)) << 2);
    const bd = wd + ((<usize>(round4(gn) * 9)) << 2);
    const wp = bd + ((<usize>round4(gn)) << 2);
    wg = wp + ((<usize>(round8(Cout) * gn)) << 2);
    const eRowBytes = (<usize>(We * gn)) << 2;
    const dRowBytes = (<usize>(OW * gn)) << 2;
    const pLo: f32 = last ? lo : -Infinity;
    const pHi: f32 = last ? hi : Infinity;
    // Highest expanded row in the ring: none, or with a persistent ring the last row the
    // call for the rows above made.
    let done = persist && r0 > 0 ? min(He - 1, (r0 - 1) * sh - dPadTop + 2 * dh) : -1;
    for (let o0 = r0; o0 < r1; o0 += bandRows) {
      const nb = min(bandRows, r1 - o0);
      // Expanded rows this band's windows read: [top, need] (clipped to the image).
      const top = max(0, o0 * sh - dPadTop);
      const need = min(He - 1, (o0 + nb - 1) * sh - dPadTop + 2 * dh);
      let r = max(done + 1, top);
      while (r <= need) {
        // Consecutive ring slots are contiguous: one GEMM (or stem conv) per run of slots
        // (and of input rows, when x is a ring too).
        const slot = r % ringRows;
        let n = min(need - r + 1, ringRows - slot);
        const dst = e + <usize>slot * eRowBytes;
        if (stem && xRows) {
          // The first tap row inside the image starts a contiguous run in the ring: read it
          // through a base that puts that row at its slot (wrapping arithmetic).
          n = 1;
          const i0 = max(0, 2 * r - ePadTop);
          const xv = rowAt(x, i0, xRows, xRowBytes) - <usize>i0 * xRowBytes;
          stemRows(xv, H, W, Cin, dst, r, 1, We, gn, ePadTop, ePadLeft, we, be);
        } else if (stem) stemRows(x, H, W, Cin, dst, r, n, We, gn, ePadTop, ePadLeft, we, be);
        else {
          if (xRows) n = min(n, xRows - (r % xRows));
          gemm1x1(rowAt(x, r, xRows, xRowBytes), n * W, Cin, we, be, dst, gn, 0, 6, 0, 0);
        }
        r += n;
      }
      if (need > done) done = need;
      let dp = d;
      for (let i = 0; i < nb; i++) {
        const iy = (o0 + i) * sh - dPadTop;
        dwRow(
          ringRow(e, iy, He, ringRows, eRowBytes),
          ringRow(e, iy + dh, He, ringRows, eRowBytes),
          ringRow(e, iy + 2 * dh, He, ringRows, eRowBytes),
          We,
          gn,
          dp,
          OW,
          sw,
          dw,
          dPadLeft,
          wd,
          bd,
          zero,
          six,
        );
        dp += dRowBytes;
      }
      if (!xRows && !yRows) {
        const yb = y + <usize>o0 * yRowBytes;
        gemm1x1(
          d,
          nb * OW,
          gn,
          wp,
          first ? pb : 0,
          yb,
          Cout,
          pLo,
          pHi,
          last && res ? res + <usize>o0 * yRowBytes : 0,
          first ? 0 : 1,
        );
      } else {
        // Rings: one GEMM per output row (its row of y and of the residual may wrap apart).
        for (let i = 0; i < nb; i++) {
          gemm1x1(
            d + <usize>i * dRowBytes,
            OW,
            gn,
            wp,
            first ? pb : 0,
            rowAt(y, o0 + i, yRows, yRowBytes),
            Cout,
            pLo,
            pHi,
            last && res ? rowAt(res, o0 + i, xRows, yRowBytes) : 0,
            first ? 0 : 1,
          );
        }
      }
    }
  }
}
