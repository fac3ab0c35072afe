// q8 depthwise 3x3 convolution (depth multiplier 1), any stride and dilation, SIMD over
// channels: acc[c] = b'[c] + Σ_taps x[tap][c]·w'[tap][c] with 8 channels per step
// (i16 products widened by i32x4.extmul), requantized per channel.
//
// Packed weights (src/kernels/q8_pack.ts, packQ8Depthwise): w' = w − zw as int16, tap-major
// [9][Cw] (Cw a multiple of 8, `ws` = 2·Cw bytes between taps), so any channel range is a
// plain offset. b' folds −zx·Σ_taps w', and taps outside the image use the zero point
// (TF SAME pads with it).
//
// Input window: the kernel reads x as a window of the logical input: pixel (iy, ix) of
// the [H][W] image lives at x + ((iy − xr0)·xCols + (ix − xc0))·C. The whole tensor is the
// window (0, 0, H, W); a fused block passes the rows and columns of the expanded chunk it
// computed. Every tap inside the image must lie inside the window (the caller's contract).
// Output: the window [oy0,oy1)×[ox0,ox1) of C channels, contiguous.
// Channel tails: C ≥ 8 recomputes the last 8 channels (same values); C < 8 loads only C bytes.
import { load8x8, loadBytes, ext8lo, requant8, rqMz, rqLo, rqHi, narrowBytes, storeBytes } from './q8_common';

/** 8 channels at offset c of one pixel; taps[i] = 0 marks a padded tap (reads the zero point). */
// @ts-ignore: decorator
@inline function dw8<T>(p: usize, cs: usize, r1: usize, r2: usize, w: usize, ws: usize, b: usize, s: usize,
                         yp: usize, n: i32, vz: v128, vlo: v128, vhi: v128): void {
  // p, r1, r2: row pointers (channel c) of tap rows 0, 1, 2; cs: bytes between taps in a row.
  let a0 = v128.load(b), a1 = v128.load(b, 16);
  let x: v128, wv: v128;
  x = load8x8<T>(p); wv = v128.load(w);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(p + cs); wv = v128.load(w + ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(p + 2 * cs); wv = v128.load(w + 2 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r1); wv = v128.load(w + 3 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r1 + cs); wv = v128.load(w + 4 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r1 + 2 * cs); wv = v128.load(w + 5 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r2); wv = v128.load(w + 6 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r2 + cs); wv = v128.load(w + 7 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  x = load8x8<T>(r2 + 2 * cs); wv = v128.load(w + 8 * ws);
  a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv)); a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  storeBytes(yp, narrowBytes<T>(requant8(a0, a1, v128.load(s), v128.load(s, 16), vz, vlo, vhi)), n);
}

/** Load n (1..8) channels as i16x8 (exactly n bytes read when n < 8). */
// @ts-ignore: decorator
@inline function loadN<T>(p: usize, n: i32): v128 {
  if (n >= 8) return load8x8<T>(p);
  return ext8lo<T>(loadBytes(p, n));
}

/** General pixel: tap (ky,kx) valid when bit ky*3+kx of `valid` is set; n (1..8) channels. */
// @ts-ignore: decorator
@inline function dwChecked<T>(p: usize, cs: usize, rs: usize, valid: i32, w: usize, ws: usize, b: usize, s: usize,
                               yp: usize, n: i32, vpad: v128, vz: v128, vlo: v128, vhi: v128): void {
  let a0 = v128.load(b), a1 = v128.load(b, 16);
  for (let t = 0; t < 9; t++) {
    const x = (valid >> t) & 1 ? loadN<T>(p + <usize>(t / 3) * rs + <usize>(t % 3) * cs, n) : vpad;
    const wv = v128.load(w + <usize>t * ws);
    a0 = i32x4.add(a0, i32x4.extmul_low_i16x8_s(x, wv));
    a1 = i32x4.add(a1, i32x4.extmul_high_i16x8_s(x, wv));
  }
  storeBytes(yp, narrowBytes<T>(requant8(a0, a1, v128.load(s), v128.load(s, 16), vz, vlo, vhi)), n);
}

export function dwconv3x3<T>(x: usize, xr0: i32, xc0: i32, xCols: i32, H: i32, W: i32, C: i32,
                             y: usize, oy0: i32, oy1: i32, ox0: i32, ox1: i32,
                             sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
                             w: usize, ws: usize, b: usize, s: usize, rq: usize, zx: i32): void {
  const vz = rqMz(rq), vlo = rqLo(rq), vhi = rqHi(rq);
  const vpad = i16x8.splat(<i16>zx);
  const Cu = <usize>C;
  const pixS = Cu;
  const cs = <usize>dw * Cu;
  const rs = <usize>dh * <usize>xCols * Cu;
  const OW = ox1 - ox0;
  // Columns whose three taps are inside [0, W).
  const ixLo = (pl + sw - 1) / sw;
  const ixHi = (W - 1 - 2 * dw + pl) >= 0 ? (W - 1 - 2 * dw + pl) / sw + 1 : 0;
  const cTail = C >= 8 ? C - 8 : 0;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sh - pt;
    let rowMask = 0;
    for (let ky = 0; ky < 3; ky++) {
      const iy = iy0 + ky * dh;
      if (iy >= 0 && iy < H) rowMask |= 7 << (ky * 3);
    }
    const fullRows = rowMask == 0x1ff;
    const yrow = y + <usize>((oy - oy0) * OW) * Cu;
    // Row of tap row 0 in the window (may be outside the window when padded: never read then).
    const xrow = x + <usize>(iy0 - xr0) * <usize>xCols * Cu;
    for (let ox = ox0; ox < ox1; ox++) {
      const ix0 = ox * sw - pl;
      const p = xrow + <usize>(ix0 - xc0) * pixS;
      const yp = yrow + <usize>(ox - ox0) * Cu;
      if (fullRows && ox >= ixLo && ox < ixHi && C >= 8) {
        const r1 = p + rs, r2 = p + 2 * rs;
        let c = 0;
        for (; c + 8 <= C; c += 8) {
          const cb = <usize>c;
          dw8<T>(p + cb, cs, r1 + cb, r2 + cb, w + (cb << 1), ws, b + (cb << 2), s + (cb << 2), yp + cb, 8, vz, vlo, vhi);
        }
        if (c < C) {
          const cb = <usize>cTail;
          dw8<T>(p + cb, cs, r1 + cb, r2 + cb, w + (cb << 1), ws, b + (cb << 2), s + (cb << 2), yp + cb, 8, vz, vlo, vhi);
        }
        continue;
      }
      let colMask = 0;
      for (let kx = 0; kx < 3; kx++) {
        const ix = ix0 + kx * dw;
        if (ix >= 0 && ix < W) colMask |= 0x49 << kx; // bits kx, kx+3, kx+6
      }
      const valid = rowMask & colMask;
      for (let c = 0; c < C; c += 8) {
        const n = min(8, C - c);
        const cb = <usize>c;
        dwChecked<T>(p + cb, cs, rs, valid, w + (cb << 1), ws, b + (cb << 2), s + (cb << 2), yp + cb, n, vpad, vz, vlo, vhi);
      }
    }
  }
}
