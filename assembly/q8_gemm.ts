// q8 pointwise GEMM: acc[m][n] = b'[n] + Σ_k x[m][k] · w'[n][k]   (int32)
//
// w' = w − zw and b' = bias − zx·Σ_k w' fold both zero points, so the inner loop multiplies
// raw activation bytes: Σ (x − zx)(w − zw) = Σ x·w' − zx·Σ w'.
//
// Packed weights (src/kernels/q8_pack.ts, packQ8Gemm): panels of 8 output channels; a panel
// holds ceil(K/2) k-pairs of 16 bytes, one byte per weight, padding past K and past N. Each
// 8 bytes (4 channels × 2 inputs) widen to int16 with one i16x8.load8x8, and one
// i32x4.dot_i16x8_s of that against 4 activation pairs gives 4 channels × 2 products, as
// in XNNPACK's qs8/qu8 WASM SIMD "c2" GEMMs. Blocks of 8 inputs are "c2s4" (XNNPACK's
// name): a row's 8 bytes widen once to its 4 pairs, and 4 steps rotate them by one pair
// (i32x4.shuffle) against 4 weight steps in which channel j holds pair (j + r) mod 4; the
// pairs left after the blocks are broadcast to every lane against [w[n0][k], w[n0][k+1],
// w[n1][k], …, w[n7][k+1]]. b' and the per-channel multipliers s are padded to a multiple
// of 8 channels.
//
// int8 weights are packed as w' (their zero point is 0 in TFLite files). uint8 weights are
// packed as in the file, with one zero point zw (rq word 11), and the kernels take it out
// of the sum instead of out of every weight: Σ_k x·(w − zw) = Σ_k x·w − zw·Σ_k x, so each
// row's accumulators start from b' − zw·Σ_k x[m][k] (rowCorr, once per row block) and the
// inner loop is the int8 one (a subtraction per weight vector there cost 9-16% on
// MobileNetV2's 1x1 GEMM shapes, which are bound by SIMD arithmetic throughput). The sums
// are exact in int32: x·w ≤ 255², pairs of them and the row sums stay far from 2^31 for any
// K of these models, and wrapping int32 arithmetic gives the exact total whenever that
// fits int32.
//
// Rows: blocks of 4 rows × 8 channels in registers (q8_gemm_*_4x8c2s4__wasmsimd, expanded
// from the template in src/kernels/schema/templates.ts); a last block of 3 rows aliases its
// missing row onto the last real one (same values stored twice, loads before stores);
// tails of 1-2 rows take the one-row kernels (…_1x8c2s4__wasmsimd). Nothing outside
// [0, M) rows is touched.
import { Q8RequantArgs } from './gen/args';
import { epilogue, rqMz, rqLo, rqHi } from './q8_common';
import { loadPartial8lo, loadPartial8hi } from './common';
import {
  Q8_RQ_HI_Y,
  Q8_RQ_LO_Y,
  Q8_RQ_M_P,
  Q8_RQ_M_RES,
  Q8_RQ_RESIDUAL,
  Q8_RQ_SHIFT,
  Q8_RQ_Z,
  Q8_RQ_Z_RES,
  Q8_RQ_Z_Y,
} from './gen/abi';
import { q8_gemm_rq_4x8c2s4__wasmsimd } from './gen/q8_gemm_rq_4x8c2s4__wasmsimd';
import { q8_gemm_rq_1x8c2s4__wasmsimd } from './gen/q8_gemm_rq_1x8c2s4__wasmsimd';
import { q8_gemm_acc_4x8c2s4__wasmsimd } from './gen/q8_gemm_acc_4x8c2s4__wasmsimd';
import { q8_gemm_acc_1x8c2s4__wasmsimd } from './gen/q8_gemm_acc_1x8c2s4__wasmsimd';

/** Panels per group of output channels: the group's weights (≤ 24 KiB) stay in cache over all rows. */
// @ts-ignore: decorator
@inline const GROUP_BYTES: usize = 24576;

/** Rows of the 4-row kernels: all of M, unless its last block would have 1 or 2 rows (the one-row kernel's). */
// @ts-ignore: decorator
@inline function rowBlocks(M: i32): i32 {
  return (M & 3) == 3 ? M : M & ~3;
}

/**
 * y[m][n] = requantize(acc[m][n]) (rq block, see q8_common.ts), optionally ADD(·, res[m][n]).
 * x: M rows of K bytes, xs bytes apart; y, res: M rows of N bytes, ys / rs bytes apart.
 * Output channels go in groups whose panels stay in cache while every row block uses them.
 */
export function gemmRq<T>(
  x: usize,
  M: i32,
  K: i32,
  xs: usize,
  w: usize,
  N: i32,
  b: usize,
  s: usize,
  y: usize,
  ys: usize,
  rq: usize,
  res: usize,
  rs: usize,
): void {
  const panelBytes = (<usize>((K + 1) >> 1)) << 4;
  const group = max(1, <i32>(GROUP_BYTES / panelBytes)) << 3;
  const Mb = rowBlocks(M);
  for (let g0 = 0; g0 < N; g0 += group) {
    const gn = min(N, g0 + group) - g0;
    const wg = w + <usize>(g0 >> 3) * panelBytes,
      cg = (<usize>g0) << 2,
      ng = <usize>g0;
    for (let m0 = 0; m0 < Mb; m0 += 4) {
      const mu = <usize>m0;
      q8_gemm_rq_4x8c2s4__wasmsimd<T>(
        x + mu * xs,
        xs,
        min(4, M - m0) - 1,
        K,
        wg,
        panelBytes,
        gn,
        b + cg,
        s + cg,
        y + mu * ys + ng,
        ys,
        res ? res + mu * rs + ng : 0,
        rs,
        rq,
      );
    }
  }
  for (let m = Mb; m < M; m++) {
    const mu = <usize>m;
    q8_gemm_rq_1x8c2s4__wasmsimd<T>(
      x + mu * xs,
      xs,
      0,
      K,
      w,
      panelBytes,
      N,
      b,
      s,
      y + mu * ys,
      ys,
      res ? res + mu * rs : 0,
      rs,
      rq,
    );
  }
}

/**
 * int32 accumulation: acc[m][n] (+)= Σ_k x[m][k]·w'[n][k]; init = 1 starts from b' (8-padded
 * int32 per channel), init = 0 adds to what acc holds. acc rows are `as` bytes apart.
 * Panels are `ps` bytes apart (ceil(K/2)·16 for a matrix of its own; more when w is a
 * slice of the k-pairs of a wider packed matrix, as the chunked block's projection uses:
 * each group of inner channels reads its k-range of the projection's panels). zw: the
 * uint8 weights' zero point (ignored for int8).
 */
export function gemmAcc<T>(
  x: usize,
  M: i32,
  K: i32,
  xs: usize,
  w: usize,
  ps: usize,
  N: i32,
  b: usize,
  acc: usize,
  as: usize,
  init: i32,
  zw: i32,
): void {
  const Mb = rowBlocks(M);
  for (let m0 = 0; m0 < Mb; m0 += 4) {
    const mu = <usize>m0;
    q8_gemm_acc_4x8c2s4__wasmsimd<T>(x + mu * xs, xs, min(4, M - m0) - 1, K, w, ps, N, b, acc + mu * as, as, init, zw);
  }
  for (let m = Mb; m < M; m++) {
    const mu = <usize>m;
    q8_gemm_acc_1x8c2s4__wasmsimd<T>(x + mu * xs, xs, 0, K, w, ps, N, b, acc + mu * as, as, init, zw);
  }
}

/**
 * acc → bytes: y[m][n] = requantize(acc[m][n]) (optionally ADD with res), for a tile of M
 * pixels × N channels whose int32 accumulators are `as` bytes per row. y may lie inside
 * the accumulator bytes as long as y's byte for element e is at or before acc's byte 4e
 * (each step loads 8 accumulators before it stores 8 bytes): the chunked block keeps its
 * accumulators in the free tail of y.
 */
export function requantAcc<T>(a: Q8RequantArgs): void {
  const hasRes = a.res != 0 && load<i32>(a.rq, Q8_RQ_RESIDUAL) != 0;
  const vmz = rqMz(a.rq),
    flo = rqLo(a.rq),
    fhi = rqHi(a.rq);
  const vzP = i32x4.splat(load<i32>(a.rq, Q8_RQ_Z)),
    vzR = i32x4.splat(load<i32>(a.rq, Q8_RQ_Z_RES)),
    vmP = i32x4.splat(load<i32>(a.rq, Q8_RQ_M_P)),
    vmR = i32x4.splat(load<i32>(a.rq, Q8_RQ_M_RES)),
    shift = load<i32>(a.rq, Q8_RQ_SHIFT);
  const vrnd = i32x4.splat(1 << (shift - 1)),
    vzY = i32x4.splat(load<i32>(a.rq, Q8_RQ_Z_Y));
  const vloY = i32x4.sub(i32x4.splat(load<i32>(a.rq, Q8_RQ_LO_Y)), vzY),
    vhiY = i32x4.sub(i32x4.splat(load<i32>(a.rq, Q8_RQ_HI_Y)), vzY);
  for (let m = 0; m < a.M; m++) {
    const mu = <usize>m;
    const ar = a.acc + mu * a.as;
    for (let n0 = 0; n0 < a.N; n0 += 8) {
      const nr = min(8, a.N - n0);
      const cb = (<usize>n0) << 2;
      let c0: v128, c1: v128;
      if (nr == 8) {
        c0 = v128.load(ar + cb);
        c1 = v128.load(ar + cb, 16);
      } else {
        c0 = loadPartial8lo(ar + cb, nr);
        c1 = loadPartial8hi(ar + cb, nr);
      }
      const yp = a.y + mu * a.ys + <usize>n0;
      const rp = a.res + mu * a.rs + <usize>n0;
      const s0 = v128.load(a.s + cb),
        s1 = v128.load(a.s + cb, 16);
      epilogue<T>(c0, c1, s0, s1, vmz, flo, fhi, hasRes, rp, yp, nr, vzP, vzR, vmP, vmR, vrnd, shift, vzY, vloY, vhiY);
    }
  }
}
