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
// Rows: blocks of 4 rows × 8 channels in registers; a last block of 3 rows aliases its
// missing row onto the last real one (same values stored twice, loads before stores);
// tails of 1-2 rows take the one-row kernel. Nothing outside [0, M) rows is touched.
import {
  pair,
  single,
  requant8,
  rqMz,
  rqLo,
  rqHi,
  narrowBytes,
  storeBytes,
  residual8,
  loadBytes,
  ext8lo,
  load8x8,
} from './q8_common';
import { loadPartial8lo, loadPartial8hi, storePartial8 } from './common';

// @ts-ignore: decorator
@inline const GROUP_BYTES: usize = 24576;

/** Residual ADD constants of an `rq` block, splatted once per kernel call. */
// @ts-ignore: decorator
@inline function resVec(rq: usize, off: usize): v128 {
  return i32x4.splat(load<i32>(rq + off));
}

/**
 * One row's 8 channels: requantize, optional residual add, store nr bytes.
 * c0, c1: int32 accumulators; s0, s1: multipliers; rp: residual pointer (channel n0).
 */
// @ts-ignore: decorator
@inline function epilogue<T>(
  c0: v128,
  c1: v128,
  s0: v128,
  s1: v128,
  vmz: v128,
  flo: v128,
  fhi: v128,
  res: bool,
  rp: usize,
  yp: usize,
  nr: i32,
  vzP: v128,
  vzR: v128,
  vmP: v128,
  vmR: v128,
  vrnd: v128,
  shift: i32,
  vzY: v128,
  vloY: v128,
  vhiY: v128,
): void {
  let v = requant8(c0, c1, s0, s1, vmz, flo, fhi);
  if (res) v = residual8(v, ext8lo<T>(loadBytes(rp, nr)), vzP, vzR, vmP, vmR, vrnd, shift, vzY, vloY, vhiY);
  storeBytes(yp, narrowBytes<T>(v), nr);
}

/**
 * y[m][n] = requantize(acc[m][n]) (rq block, see q8_common.ts), optionally ADD(·, res[m][n]).
 * x: M rows of K bytes, xs bytes apart; y, res: M rows of N bytes, ys / rs bytes apart.
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
  const hasRes = res != 0 && load<i32>(rq, 12) != 0;
  const vmz = rqMz(rq),
    flo = rqLo(rq),
    fhi = rqHi(rq);
  const vzP = resVec(rq, 0),
    vzR = resVec(rq, 16),
    vmP = resVec(rq, 20),
    vmR = resVec(rq, 24),
    shift = load<i32>(rq, 28);
  const vrnd = i32x4.splat(1 << (shift - 1)),
    vzY = resVec(rq, 32);
  const vloY = i32x4.sub(resVec(rq, 36), vzY),
    vhiY = i32x4.sub(resVec(rq, 40), vzY);
  const zw = load<i32>(rq, 44);
  const KP = (K + 1) >> 1;
  const K2 = K & ~1;
  const K8 = K & ~7;
  const odd = K & 1;
  const panelBytes = (<usize>KP) << 4;
  const group = max(1, <i32>(GROUP_BYTES / panelBytes)) << 3;
  const Mb = (M & 3) == 3 ? M : M & ~3;
  for (let g0 = 0; g0 < N; g0 += group) {
    const g1 = min(N, g0 + group);
    for (let m0 = 0; m0 < Mb; m0 += 4) {
      const last = min(4, M - m0) - 1;
      const o1 = <usize>min(1, last),
        o2 = <usize>min(2, last),
        o3 = <usize>min(3, last);
      const xr0 = x + <usize>m0 * xs;
      const xr1 = xr0 + o1 * xs,
        xr2 = xr0 + o2 * xs,
        xr3 = xr0 + o3 * xs;
      const r0 = rowCorr<T>(xr0, K, zw),
        r1 = rowCorr<T>(xr1, K, zw),
        r2 = rowCorr<T>(xr2, K, zw),
        r3 = rowCorr<T>(xr3, K, zw);
      let wp0 = w + <usize>(g0 >> 3) * panelBytes;
      for (let n0 = g0; n0 < g1; n0 += 8) {
        const nr = min(8, N - n0);
        const cb = (<usize>n0) << 2;
        const b0 = v128.load(b + cb),
          b1 = v128.load(b + cb, 16);
        let c00 = b0,
          c01 = b1,
          c10 = b0,
          c11 = b1,
          c20 = b0,
          c21 = b1,
          c30 = b0,
          c31 = b1;
        if (!isSigned<T>()) {
          c00 = i32x4.sub(b0, r0);
          c01 = i32x4.sub(b1, r0);
          c10 = i32x4.sub(b0, r1);
          c11 = i32x4.sub(b1, r1);
          c20 = i32x4.sub(b0, r2);
          c21 = i32x4.sub(b1, r2);
          c30 = i32x4.sub(b0, r3);
          c31 = i32x4.sub(b1, r3);
        }
        let a0 = xr0,
          a1 = xr1,
          a2 = xr2,
          a3 = xr3;
        let wp = wp0;
        let k = 0;
        // 8 inputs per step: each row's 8 bytes widen once (one load8x8) and its 4 pairs
        // rotate (i32x4 shuffles) against the 4 rotated weight steps (q8_pack.ts runOffset).
        for (; k < K8; k += 8) {
          const x0 = load8x8<T>(a0),
            x1 = load8x8<T>(a1),
            x2 = load8x8<T>(a2),
            x3 = load8x8<T>(a3);
          {
            const w0 = load8x8<T>(wp),
              w1 = load8x8<T>(wp + 8);
            let v = x0;
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
            v = x1;
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
            v = x2;
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
            v = x3;
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
          }
          {
            const w0 = load8x8<T>(wp + 16),
              w1 = load8x8<T>(wp + 24);
            let v = i32x4.shuffle(x0, x0, 1, 2, 3, 0);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x1, x1, 1, 2, 3, 0);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x2, x2, 1, 2, 3, 0);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x3, x3, 1, 2, 3, 0);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
          }
          {
            const w0 = load8x8<T>(wp + 32),
              w1 = load8x8<T>(wp + 40);
            let v = i32x4.shuffle(x0, x0, 2, 3, 0, 1);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x1, x1, 2, 3, 0, 1);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x2, x2, 2, 3, 0, 1);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x3, x3, 2, 3, 0, 1);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
          }
          {
            const w0 = load8x8<T>(wp + 48),
              w1 = load8x8<T>(wp + 56);
            let v = i32x4.shuffle(x0, x0, 3, 0, 1, 2);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x1, x1, 3, 0, 1, 2);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x2, x2, 3, 0, 1, 2);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
            v = i32x4.shuffle(x3, x3, 3, 0, 1, 2);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
          }
          a0 += 8;
          a1 += 8;
          a2 += 8;
          a3 += 8;
          wp += 64;
        }
        for (; k < K2; k += 2) {
          const w0 = load8x8<T>(wp),
            w1 = load8x8<T>(wp + 8);
          let v = pair<T>(a0);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = pair<T>(a1);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = pair<T>(a2);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = pair<T>(a3);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
          a0 += 2;
          a1 += 2;
          a2 += 2;
          a3 += 2;
          wp += 16;
        }
        if (odd) {
          const w0 = load8x8<T>(wp),
            w1 = load8x8<T>(wp + 8);
          let v = single<T>(a0);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = single<T>(a1);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = single<T>(a2);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = single<T>(a3);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        const s0 = v128.load(s + cb),
          s1 = v128.load(s + cb, 16);
        const yo = y + <usize>n0,
          ro = res + <usize>n0;
        const mr = <usize>m0;
        // Highest row first: when rows alias (last block) every alias stores the same values.
        epilogue<T>(
          c30,
          c31,
          s0,
          s1,
          vmz,
          flo,
          fhi,
          hasRes,
          ro + (mr + o3) * rs,
          yo + (mr + o3) * ys,
          nr,
          vzP,
          vzR,
          vmP,
          vmR,
          vrnd,
          shift,
          vzY,
          vloY,
          vhiY,
        );
        epilogue<T>(
          c20,
          c21,
          s0,
          s1,
          vmz,
          flo,
          fhi,
          hasRes,
          ro + (mr + o2) * rs,
          yo + (mr + o2) * ys,
          nr,
          vzP,
          vzR,
          vmP,
          vmR,
          vrnd,
          shift,
          vzY,
          vloY,
          vhiY,
        );
        epilogue<T>(
          c10,
          c11,
          s0,
          s1,
          vmz,
          flo,
          fhi,
          hasRes,
          ro + (mr + o1) * rs,
          yo + (mr + o1) * ys,
          nr,
          vzP,
          vzR,
          vmP,
          vmR,
          vrnd,
          shift,
          vzY,
          vloY,
          vhiY,
        );
        epilogue<T>(
          c00,
          c01,
          s0,
          s1,
          vmz,
          flo,
          fhi,
          hasRes,
          ro + mr * rs,
          yo + mr * ys,
          nr,
          vzP,
          vzR,
          vmP,
          vmR,
          vrnd,
          shift,
          vzY,
          vloY,
          vhiY,
        );
        wp0 += panelBytes;
      }
    }
  }
  for (let m = Mb; m < M; m++) {
    const mu = <usize>m;
    const r = rowCorr<T>(x + mu * xs, K, zw);
    let wp = w;
    for (let n0 = 0; n0 < N; n0 += 8) {
      const nr = min(8, N - n0);
      const cb = (<usize>n0) << 2;
      let c0: v128, c1: v128;
      dotRow<T>(x + mu * xs, K, wp, i32x4.sub(v128.load(b + cb), r), i32x4.sub(v128.load(b + cb, 16), r));
      c0 = rowAcc0;
      c1 = rowAcc1;
      wp += panelBytes;
      epilogue<T>(
        c0,
        c1,
        v128.load(s + cb),
        v128.load(s + cb, 16),
        vmz,
        flo,
        fhi,
        hasRes,
        res + mu * rs + <usize>n0,
        y + mu * ys + <usize>n0,
        nr,
        vzP,
        vzR,
        vmP,
        vmR,
        vrnd,
        shift,
        vzY,
        vloY,
        vhiY,
      );
    }
  }
}

// One-row dot product results (globals instead of a returned pair: no allocation).
let rowAcc0: v128 = i32x4.splat(0);
let rowAcc1: v128 = i32x4.splat(0);

/**
 * zw·Σ_k x[k] over one row of K bytes, splatted: what uint8 weights with zero point zw take
 * from the row's accumulators (Σ x·(w − zw) = Σ x·w − zw·Σ x); zero for int8 weights,
 * which are packed with their zero point subtracted. Reads exactly the K bytes.
 */
// @ts-ignore: decorator
@inline function rowCorr<T>(xp: usize, K: i32, zw: i32): v128 {
  if (isSigned<T>()) return i32x4.splat(0);
  let v = i32x4.splat(0);
  let k = 0;
  for (; k + 16 <= K; k += 16)
    v = i32x4.add(v, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(xp + <usize>k))));
  let t = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  for (; k < K; k++) t += <i32>load<u8>(xp + <usize>k);
  return i32x4.splat(zw * t);
}

/**
 * One row × one panel of 8 channels: rowAcc = (i0, i1) + Σ_k x[k]·w[·][k]. The four
 * rotations of a block go to two accumulator pairs (summed at the end) so that the single
 * row is not bound by the add latency.
 */
// @ts-ignore: decorator
@inline function dotRow<T>(xp: usize, K: i32, wp: usize, i0: v128, i1: v128): void {
  let a0 = i0,
    a1 = i1;
  let e0 = i32x4.splat(0),
    e1 = e0;
  let k = 0;
  for (; k + 8 <= K; k += 8) {
    const x = load8x8<T>(xp);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, load8x8<T>(wp)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x, load8x8<T>(wp + 8)));
    let v = i32x4.shuffle(x, x, 1, 2, 3, 0);
    e0 = i32x4.add(e0, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 16)));
    e1 = i32x4.add(e1, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 24)));
    v = i32x4.shuffle(x, x, 2, 3, 0, 1);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 32)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 40)));
    v = i32x4.shuffle(x, x, 3, 0, 1, 2);
    e0 = i32x4.add(e0, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 48)));
    e1 = i32x4.add(e1, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 56)));
    xp += 8;
    wp += 64;
  }
  for (; k + 2 <= K; k += 2) {
    const v = pair<T>(xp);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v, load8x8<T>(wp)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 8)));
    xp += 2;
    wp += 16;
  }
  if (k < K) {
    const v = single<T>(xp);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v, load8x8<T>(wp)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v, load8x8<T>(wp + 8)));
  }
  rowAcc0 = i32x4.add(a0, e0);
  rowAcc1 = i32x4.add(a1, e1);
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
  const K2 = K & ~1;
  const K8 = K & ~7;
  const odd = K & 1;
  const Mb = (M & 3) == 3 ? M : M & ~3;
  for (let m0 = 0; m0 < Mb; m0 += 4) {
    const last = min(4, M - m0) - 1;
    const o1 = <usize>min(1, last),
      o2 = <usize>min(2, last),
      o3 = <usize>min(3, last);
    const xr0 = x + <usize>m0 * xs;
    const xr1 = xr0 + o1 * xs,
      xr2 = xr0 + o2 * xs,
      xr3 = xr0 + o3 * xs;
    const ar0 = acc + <usize>m0 * as;
    const ar1 = ar0 + o1 * as,
      ar2 = ar0 + o2 * as,
      ar3 = ar0 + o3 * as;
    const r0 = rowCorr<T>(xr0, K, zw),
      r1 = rowCorr<T>(xr1, K, zw),
      r2 = rowCorr<T>(xr2, K, zw),
      r3 = rowCorr<T>(xr3, K, zw);
    let wpanel = w;
    for (let n0 = 0; n0 < N; n0 += 8) {
      const nr = min(8, N - n0);
      const cb = (<usize>n0) << 2;
      let c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128;
      if (init) {
        c00 = v128.load(b + cb);
        c01 = v128.load(b + cb, 16);
        c10 = c00;
        c11 = c01;
        c20 = c00;
        c21 = c01;
        c30 = c00;
        c31 = c01;
      } else if (nr == 8) {
        c00 = v128.load(ar0 + cb);
        c01 = v128.load(ar0 + cb, 16);
        c10 = v128.load(ar1 + cb);
        c11 = v128.load(ar1 + cb, 16);
        c20 = v128.load(ar2 + cb);
        c21 = v128.load(ar2 + cb, 16);
        c30 = v128.load(ar3 + cb);
        c31 = v128.load(ar3 + cb, 16);
      } else {
        c00 = loadPartial8lo(ar0 + cb, nr);
        c01 = loadPartial8hi(ar0 + cb, nr);
        c10 = loadPartial8lo(ar1 + cb, nr);
        c11 = loadPartial8hi(ar1 + cb, nr);
        c20 = loadPartial8lo(ar2 + cb, nr);
        c21 = loadPartial8hi(ar2 + cb, nr);
        c30 = loadPartial8lo(ar3 + cb, nr);
        c31 = loadPartial8hi(ar3 + cb, nr);
      }
      if (!isSigned<T>()) {
        c00 = i32x4.sub(c00, r0);
        c01 = i32x4.sub(c01, r0);
        c10 = i32x4.sub(c10, r1);
        c11 = i32x4.sub(c11, r1);
        c20 = i32x4.sub(c20, r2);
        c21 = i32x4.sub(c21, r2);
        c30 = i32x4.sub(c30, r3);
        c31 = i32x4.sub(c31, r3);
      }
      let a0 = xr0,
        a1 = xr1,
        a2 = xr2,
        a3 = xr3;
      let wp = wpanel;
      let k = 0;
      for (; k < K8; k += 8) {
        const x0 = load8x8<T>(a0),
          x1 = load8x8<T>(a1),
          x2 = load8x8<T>(a2),
          x3 = load8x8<T>(a3);
        {
          const w0 = load8x8<T>(wp),
            w1 = load8x8<T>(wp + 8);
          let v = x0;
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = x1;
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = x2;
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = x3;
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = load8x8<T>(wp + 16),
            w1 = load8x8<T>(wp + 24);
          let v = i32x4.shuffle(x0, x0, 1, 2, 3, 0);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 1, 2, 3, 0);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 1, 2, 3, 0);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 1, 2, 3, 0);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = load8x8<T>(wp + 32),
            w1 = load8x8<T>(wp + 40);
          let v = i32x4.shuffle(x0, x0, 2, 3, 0, 1);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 2, 3, 0, 1);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 2, 3, 0, 1);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 2, 3, 0, 1);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        {
          const w0 = load8x8<T>(wp + 48),
            w1 = load8x8<T>(wp + 56);
          let v = i32x4.shuffle(x0, x0, 3, 0, 1, 2);
          c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
          c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x1, x1, 3, 0, 1, 2);
          c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
          c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x2, x2, 3, 0, 1, 2);
          c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
          c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
          v = i32x4.shuffle(x3, x3, 3, 0, 1, 2);
          c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
          c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        }
        a0 += 8;
        a1 += 8;
        a2 += 8;
        a3 += 8;
        wp += 64;
      }
      for (; k < K2; k += 2) {
        const w0 = load8x8<T>(wp),
          w1 = load8x8<T>(wp + 8);
        let v = pair<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        a0 += 2;
        a1 += 2;
        a2 += 2;
        a3 += 2;
        wp += 16;
      }
      if (odd) {
        const w0 = load8x8<T>(wp),
          w1 = load8x8<T>(wp + 8);
        let v = single<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0));
        c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0));
        c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0));
        c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0));
        c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
      }
      if (nr == 8) {
        v128.store(ar3 + cb, c30);
        v128.store(ar3 + cb, c31, 16);
        v128.store(ar2 + cb, c20);
        v128.store(ar2 + cb, c21, 16);
        v128.store(ar1 + cb, c10);
        v128.store(ar1 + cb, c11, 16);
        v128.store(ar0 + cb, c00);
        v128.store(ar0 + cb, c01, 16);
      } else {
        storePartial8(ar3 + cb, c30, c31, nr);
        storePartial8(ar2 + cb, c20, c21, nr);
        storePartial8(ar1 + cb, c10, c11, nr);
        storePartial8(ar0 + cb, c00, c01, nr);
      }
      wpanel += ps;
    }
  }
  for (let m = Mb; m < M; m++) {
    const mu = <usize>m;
    const ar = acc + mu * as;
    const r = rowCorr<T>(x + mu * xs, K, zw);
    let wpanel = w;
    for (let n0 = 0; n0 < N; n0 += 8) {
      const nr = min(8, N - n0);
      const cb = (<usize>n0) << 2;
      let i0: v128, i1: v128;
      if (init) {
        i0 = v128.load(b + cb);
        i1 = v128.load(b + cb, 16);
      } else if (nr == 8) {
        i0 = v128.load(ar + cb);
        i1 = v128.load(ar + cb, 16);
      } else {
        i0 = loadPartial8lo(ar + cb, nr);
        i1 = loadPartial8hi(ar + cb, nr);
      }
      dotRow<T>(x + mu * xs, K, wpanel, i32x4.sub(i0, r), i32x4.sub(i1, r));
      wpanel += ps;
      storePartial8(ar + cb, rowAcc0, rowAcc1, nr);
    }
  }
}

/**
 * acc → bytes: y[m][n] = requantize(acc[m][n]) (optionally ADD with res), for a tile of M
 * pixels × N channels whose int32 accumulators are `as` bytes per row. y may lie inside
 * the accumulator bytes as long as y's byte for element e is at or before acc's byte 4e
 * (each step loads 8 accumulators before it stores 8 bytes): the chunked block keeps its
 * accumulators in the free tail of y.
 */
export function requantAcc<T>(
  acc: usize,
  M: i32,
  N: i32,
  as: usize,
  s: usize,
  y: usize,
  ys: usize,
  rq: usize,
  res: usize,
  rs: usize,
): void {
  const hasRes = res != 0 && load<i32>(rq, 12) != 0;
  const vmz = rqMz(rq),
    flo = rqLo(rq),
    fhi = rqHi(rq);
  const vzP = resVec(rq, 0),
    vzR = resVec(rq, 16),
    vmP = resVec(rq, 20),
    vmR = resVec(rq, 24),
    shift = load<i32>(rq, 28);
  const vrnd = i32x4.splat(1 << (shift - 1)),
    vzY = resVec(rq, 32);
  const vloY = i32x4.sub(resVec(rq, 36), vzY),
    vhiY = i32x4.sub(resVec(rq, 40), vzY);
  for (let m = 0; m < M; m++) {
    const mu = <usize>m;
    const ar = acc + mu * as;
    for (let n0 = 0; n0 < N; n0 += 8) {
      const nr = min(8, N - n0);
      const cb = (<usize>n0) << 2;
      let c0: v128, c1: v128;
      if (nr == 8) {
        c0 = v128.load(ar + cb);
        c1 = v128.load(ar + cb, 16);
      } else {
        c0 = loadPartial8lo(ar + cb, nr);
        c1 = loadPartial8hi(ar + cb, nr);
      }
      epilogue<T>(
        c0,
        c1,
        v128.load(s + cb),
        v128.load(s + cb, 16),
        vmz,
        flo,
        fhi,
        hasRes,
        res + mu * rs + <usize>n0,
        y + mu * ys + <usize>n0,
        nr,
        vzP,
        vzR,
        vmP,
        vmR,
        vrnd,
        shift,
        vzY,
        vloY,
        vhiY,
      );
    }
  }
}
