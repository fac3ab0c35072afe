// Pointwise (1x1) convolution as a register-blocked GEMM: y[M][N] = x[M][K] · W[K][N].
//
// Packed weight layout (see src/kernels/pack.ts, packGemm1x1): panels of 8 output
// channels; panel p holds K consecutive groups of 8 floats, W[n0+j][k] for j < 8,
// zero-padded past the last channel. The microkernel (f32_gemm_4x8__wasmsimd, expanded from
// the template in src/kernels/schema/templates.ts) keeps a 4-pixel × 8-channel block of
// accumulators in v128 registers and streams one panel (32 bytes per k).
import { clamp4, dot8, dot8Hi, loadPartial8lo, loadPartial8hi, storePartial8 } from './common';
import { f32_gemm_4x8__wasmsimd } from './gen/f32_gemm_4x8__wasmsimd';

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
    const gn = min(N, g0 + group) - g0;
    const cg = (<usize>g0) << 2;
    const wg = w + <usize>(g0 >> 3) * panelBytes;
    for (let m0 = 0; m0 < Mb; m0 += MR) {
      const yo = <usize>m0 * ys + cg;
      f32_gemm_4x8__wasmsimd(
        x + <usize>m0 * xs,
        xs,
        min(MR, M - m0) - 1,
        K,
        wg,
        panelBytes,
        gn,
        b ? b + cg : 0,
        y + yo,
        ys,
        res ? res + yo : 0,
        vlo,
        vhi,
        accumulate,
      );
    }
  }
  for (let m = Mb; m < M; m++) {
    const yo = <usize>m * ys;
    gemmRow(x + <usize>m * xs, K, w, b, y + yo, N, vlo, vhi, res ? res + yo : 0, accumulate);
  }
}

/**
 * One row: y[N] = clamp((accumulate ? y : (b ? bias : 0)) + x[K]·W + (res ? res : 0)).
 * Every output is summed as the 4x8 block sums it (start value, then k = 0, 1, ... in
 * order, then the residual), so a row gives the same bits whichever kernel computes it,
 * and so whatever rows a call has (threads share a layer's rows between calls). A single
 * row's sums are latency-bound: two 8-channel panels are taken at once, four independent
 * accumulators. Also the fully connected layer (M = 1).
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
  const panelBytes = (<usize>K) << 5;
  let wp = w;
  let n0 = 0;
  for (; n0 + 16 <= N; n0 += 16) {
    const cb = (<usize>n0) << 2;
    let a0: v128, a1: v128, a2: v128, a3: v128;
    if (accumulate) {
      a0 = v128.load(y + cb);
      a1 = v128.load(y + cb, 16);
      a2 = v128.load(y + cb, 32);
      a3 = v128.load(y + cb, 48);
    } else if (b) {
      a0 = v128.load(b + cb);
      a1 = v128.load(b + cb, 16);
      a2 = v128.load(b + cb, 32);
      a3 = v128.load(b + cb, 48);
    } else {
      a0 = f32x4.splat(0);
      a1 = a0;
      a2 = a0;
      a3 = a0;
    }
    let xp = x;
    const wq = wp + panelBytes;
    for (let k = 0; k < K; k++) {
      const v = v128.load32_splat(xp);
      const o = (<usize>k) << 5;
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp + o)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp + o, 16)));
      a2 = f32x4.add(a2, f32x4.mul(v, v128.load(wq + o)));
      a3 = f32x4.add(a3, f32x4.mul(v, v128.load(wq + o, 16)));
      xp += 4;
    }
    if (res) {
      a0 = f32x4.add(a0, v128.load(res + cb));
      a1 = f32x4.add(a1, v128.load(res + cb, 16));
      a2 = f32x4.add(a2, v128.load(res + cb, 32));
      a3 = f32x4.add(a3, v128.load(res + cb, 48));
    }
    v128.store(y + cb, clamp4(a0, vlo, vhi));
    v128.store(y + cb, clamp4(a1, vlo, vhi), 16);
    v128.store(y + cb, clamp4(a2, vlo, vhi), 32);
    v128.store(y + cb, clamp4(a3, vlo, vhi), 48);
    wp += panelBytes << 1;
  }
  for (; n0 < N; n0 += 8) {
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
    a0 = dot8(x, wp, K, a0, a1);
    a1 = dot8Hi;
    wp += (<usize>K) << 5;
    if (res) {
      a0 = f32x4.add(a0, loadPartial8lo(res + cb, nr));
      a1 = f32x4.add(a1, loadPartial8hi(res + cb, nr));
    }
    storePartial8(y + cb, clamp4(a0, vlo, vhi), clamp4(a1, vlo, vhi), nr);
  }
}
