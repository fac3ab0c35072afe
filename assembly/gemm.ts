// Pointwise (1x1) convolution as a register-blocked GEMM: y[M][N] = x[M][K] · W[K][N].
//
// Packed weight layout (see src/kernels/pack.ts, packGemm1x1): panels of 8 output
// channels; panel p holds K consecutive groups of 8 floats, W[n0+j][k] for j < 8,
// zero-padded past the last channel. The micro-kernel keeps a 4-pixel × 8-channel block
// of accumulators in v128 registers and streams one panel (32 bytes per k).
import { clamp4, loadPartial8lo, loadPartial8hi, storePartial8 } from './common';

// @ts-ignore: decorator
@inline const MR: i32 = 4;
// @ts-ignore: decorator
@inline const GROUP_BYTES: usize = 24576;

/**
 * y = clamp((accumulate ? y : (b ? bias : 0)) + x·W + (res ? res : 0), lo, hi).
 * x: M rows of K floats; y, res: M rows of N floats; b: N floats or 0; w: packed panels.
 * In the last row block, rows past M reuse the last row's pointers (the same values are
 * computed and stored again), so no row outside [0, M) is ever read or written.
 */
export function gemm1x1(
  x: usize,
  M: i32,
  K: i32,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  lo: f32,
  hi: f32,
  res: usize,
  accumulate: i32,
): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const xs = (<usize>K) << 2;
  const ys = (<usize>N) << 2;
  const panelBytes = (<usize>K) << 5;
  // Cache blocking: a group of panels that fits in about half of L1 is reused by every
  // row block before moving on; the rows of x being multiplied stay in L1 meanwhile.
  const group = max(1, <i32>(GROUP_BYTES / panelBytes)) << 3;
  // A tail of 1 or 2 rows goes to the one-row kernel (cheaper than a whole aliased block);
  // a tail of 3 rows stays in the 4-row block with its last row aliased.
  const Mb = (M & 3) == 3 ? M : M & ~3;
  for (let g0 = 0; g0 < N; g0 += group) {
    const g1 = min(N, g0 + group);
    for (let m0 = 0; m0 < Mb; m0 += MR) {
      const last = min(MR, M - m0) - 1;
      const o1 = <usize>min(1, last);
      const o2 = <usize>min(2, last);
      const o3 = <usize>min(3, last);
      const xr0 = x + <usize>m0 * xs;
      const xr1 = xr0 + o1 * xs;
      const xr2 = xr0 + o2 * xs;
      const xr3 = xr0 + o3 * xs;
      const yoff0 = <usize>m0 * ys;
      const yoff1 = yoff0 + o1 * ys;
      const yoff2 = yoff0 + o2 * ys;
      const yoff3 = yoff0 + o3 * ys;
      let wp0 = w + <usize>(g0 >> 3) * panelBytes;
      for (let n0 = g0; n0 < g1; n0 += 8) {
        const nr = min(8, N - n0);
        const cb = (<usize>n0) << 2;
        let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
        if (accumulate) {
          if (nr == 8) {
            c00 = v128.load(y + yoff0 + cb);
            c01 = v128.load(y + yoff0 + cb, 16);
            c10 = v128.load(y + yoff1 + cb);
            c11 = v128.load(y + yoff1 + cb, 16);
            c20 = v128.load(y + yoff2 + cb);
            c21 = v128.load(y + yoff2 + cb, 16);
            c30 = v128.load(y + yoff3 + cb);
            c31 = v128.load(y + yoff3 + cb, 16);
          } else {
            c00 = loadPartial8lo(y + yoff0 + cb, nr);
            c01 = loadPartial8hi(y + yoff0 + cb, nr);
            c10 = loadPartial8lo(y + yoff1 + cb, nr);
            c11 = loadPartial8hi(y + yoff1 + cb, nr);
            c20 = loadPartial8lo(y + yoff2 + cb, nr);
            c21 = loadPartial8hi(y + yoff2 + cb, nr);
            c30 = loadPartial8lo(y + yoff3 + cb, nr);
            c31 = loadPartial8hi(y + yoff3 + cb, nr);
          }
        } else if (b) {
          c00 = loadPartial8lo(b + cb, nr);
          c01 = loadPartial8hi(b + cb, nr);
          c10 = c00;
          c11 = c01;
          c20 = c00;
          c21 = c01;
          c30 = c00;
          c31 = c01;
        } else {
          c00 = f32x4.splat(0);
          c01 = c00;
          c10 = c00;
          c11 = c00;
          c20 = c00;
          c21 = c00;
          c30 = c00;
          c31 = c00;
        }
        let a0 = xr0;
        let a1 = xr1;
        let a2 = xr2;
        let a3 = xr3;
        let wp = wp0;
        // One k per iteration on purpose: unrolled bodies let TurboFan hoist every load of
        // the body ahead of the arithmetic, and the extra live vectors spill (measured: a
        // 2x unroll and 5- or 6-row blocks were all 10-20% slower than this 4x8 loop).
        for (let k = 0; k < K; k++) {
          let w0: v128, w1: v128, v: v128;
          w0 = v128.load(wp, 0);
          w1 = v128.load(wp, 16);
          v = v128.load32_splat(a0, 0);
          c00 = f32x4.add(c00, f32x4.mul(v, w0));
          c01 = f32x4.add(c01, f32x4.mul(v, w1));
          v = v128.load32_splat(a1, 0);
          c10 = f32x4.add(c10, f32x4.mul(v, w0));
          c11 = f32x4.add(c11, f32x4.mul(v, w1));
          v = v128.load32_splat(a2, 0);
          c20 = f32x4.add(c20, f32x4.mul(v, w0));
          c21 = f32x4.add(c21, f32x4.mul(v, w1));
          v = v128.load32_splat(a3, 0);
          c30 = f32x4.add(c30, f32x4.mul(v, w0));
          c31 = f32x4.add(c31, f32x4.mul(v, w1));
          a0 += 4;
          a1 += 4;
          a2 += 4;
          a3 += 4;
          wp += 32;
        }
        if (res) {
          if (nr == 8) {
            c00 = f32x4.add(c00, v128.load(res + yoff0 + cb));
            c01 = f32x4.add(c01, v128.load(res + yoff0 + cb, 16));
            c10 = f32x4.add(c10, v128.load(res + yoff1 + cb));
            c11 = f32x4.add(c11, v128.load(res + yoff1 + cb, 16));
            c20 = f32x4.add(c20, v128.load(res + yoff2 + cb));
            c21 = f32x4.add(c21, v128.load(res + yoff2 + cb, 16));
            c30 = f32x4.add(c30, v128.load(res + yoff3 + cb));
            c31 = f32x4.add(c31, v128.load(res + yoff3 + cb, 16));
          } else {
            c00 = f32x4.add(c00, loadPartial8lo(res + yoff0 + cb, nr));
            c01 = f32x4.add(c01, loadPartial8hi(res + yoff0 + cb, nr));
            c10 = f32x4.add(c10, loadPartial8lo(res + yoff1 + cb, nr));
            c11 = f32x4.add(c11, loadPartial8hi(res + yoff1 + cb, nr));
            c20 = f32x4.add(c20, loadPartial8lo(res + yoff2 + cb, nr));
            c21 = f32x4.add(c21, loadPartial8hi(res + yoff2 + cb, nr));
            c30 = f32x4.add(c30, loadPartial8lo(res + yoff3 + cb, nr));
            c31 = f32x4.add(c31, loadPartial8hi(res + yoff3 + cb, nr));
          }
        }
        c00 = clamp4(c00, vlo, vhi);
        c01 = clamp4(c01, vlo, vhi);
        c10 = clamp4(c10, vlo, vhi);
        c11 = clamp4(c11, vlo, vhi);
        c20 = clamp4(c20, vlo, vhi);
        c21 = clamp4(c21, vlo, vhi);
        c30 = clamp4(c30, vlo, vhi);
        c31 = clamp4(c31, vlo, vhi);
        // Highest row first: when rows alias (last block) every alias holds the same values.
        if (nr == 8) {
          v128.store(y + yoff3 + cb, c30);
          v128.store(y + yoff3 + cb, c31, 16);
          v128.store(y + yoff2 + cb, c20);
          v128.store(y + yoff2 + cb, c21, 16);
          v128.store(y + yoff1 + cb, c10);
          v128.store(y + yoff1 + cb, c11, 16);
          v128.store(y + yoff0 + cb, c00);
          v128.store(y + yoff0 + cb, c01, 16);
        } else {
          storePartial8(y + yoff3 + cb, c30, c31, nr);
          storePartial8(y + yoff2 + cb, c20, c21, nr);
          storePartial8(y + yoff1 + cb, c10, c11, nr);
          storePartial8(y + yoff0 + cb, c00, c01, nr);
        }
        wp0 += panelBytes;
      }
    }
  }
  for (let m = Mb; m < M; m++) {
    const yo = <usize>m * ys;
    gemmRow(x + <usize>m * xs, K, w, b, y + yo, N, vlo, vhi, res ? res + yo : 0, accumulate);
  }
}

/**
 * One row: y[N] = clamp((accumulate ? y : (b ? bias : 0)) + x[K]·W + (res ? res : 0)).
 * With a single row the 4x8 block's two accumulators per panel would be latency-bound, so
 * consecutive k go to two accumulator pairs that are summed at the end. Also the fully
 * connected layer (M = 1).
 */
export function gemmRow(
  x: usize,
  K: i32,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  vlo: v128,
  vhi: v128,
  res: usize,
  accumulate: i32,
): void {
  let wp = w;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const nr = min(8, N - n0);
    const cb = (<usize>n0) << 2;
    let a0: v128, a1: v128;
    if (accumulate) {
      a0 = loadPartial8lo(y + cb, nr);
      a1 = loadPartial8hi(y + cb, nr);
    } else if (b) {
      a0 = loadPartial8lo(b + cb, nr);
      a1 = loadPartial8hi(b + cb, nr);
    } else {
      a0 = f32x4.splat(0);
      a1 = a0;
    }
    let e0 = f32x4.splat(0),
      e1 = e0;
    let xp = x;
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const v = v128.load32_splat(xp),
        u = v128.load32_splat(xp, 4);
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp, 16)));
      e0 = f32x4.add(e0, f32x4.mul(u, v128.load(wp, 32)));
      e1 = f32x4.add(e1, f32x4.mul(u, v128.load(wp, 48)));
      xp += 8;
      wp += 64;
    }
    if (k < K) {
      const v = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp, 16)));
      wp += 32;
    }
    a0 = f32x4.add(a0, e0);
    a1 = f32x4.add(a1, e1);
    if (res) {
      a0 = f32x4.add(a0, loadPartial8lo(res + cb, nr));
      a1 = f32x4.add(a1, loadPartial8hi(res + cb, nr));
    }
    storePartial8(y + cb, clamp4(a0, vlo, vhi), clamp4(a1, vlo, vhi), nr);
  }
}
