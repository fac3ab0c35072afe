// q8 dense convolution (any kernel, stride, dilation), for the 3x3/2 stem and any conv
// that is not 1x1: acc[o] = b'[o] + Σ_taps Σ_c x·w'[o][tap][c], requantized per channel.
//
// Packed weights (src/kernels/q8_pack.ts, packQ8Conv): the GEMM panel layout (q8_gemm.ts)
// with K = kh·kw·CP·2 where CP = ceil(C/2) pairs per tap: each tap's channels are padded
// to an even count with a zero weight, so a pair never straddles two taps. The last pair
// of a tap with odd C loads one byte (`single`) against (w, 0).
//
// Padding: b' folds −zx·Σw', so a tap outside the image must contribute zx·w' (TF SAME
// pads with the input zero point): border pixels use the splatted zero point there.
//
// Output: a window [oy0, oy1) × [ox0, ox1) of the OC channels, stored contiguously
// (pixel stride OC bytes): the whole tensor for an op, or the expanded-chunk window of a
// fused block whose expansion is the stem conv.
import { pair, single, requant8, rqMz, rqLo, rqHi, narrowBytes, storeBytes } from './q8_common';

/** 4 horizontally adjacent output pixels × 8 channels, every tap inside the image. */
// @ts-ignore: decorator
@inline function block4<T>(p0: usize, pixS: usize, H: i32, W: i32, C: i32, kh: i32, kw: i32, rowS: usize, tapS: usize,
                           wp: usize, b: usize, s: usize, rq: usize, yp: usize, OC: i32, nr: i32,
                           vz: v128, vlo: v128, vhi: v128): void {
  let c00 = v128.load(b), c01 = v128.load(b, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  const C2 = C & ~1;
  const odd = C & 1;
  for (let ky = 0; ky < kh; ky++) {
    let tp = p0 + <usize>ky * rowS;
    for (let kx = 0; kx < kw; kx++) {
      let a0 = tp, a1 = tp + pixS, a2 = tp + 2 * pixS, a3 = tp + 3 * pixS;
      for (let c = 0; c < C2; c += 2) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        let v = pair<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = pair<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        a0 += 2; a1 += 2; a2 += 2; a3 += 2; wp += 32;
      }
      if (odd) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        let v = single<T>(a0);
        c00 = i32x4.add(c00, i32x4.dot_i16x8_s(v, w0)); c01 = i32x4.add(c01, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a1);
        c10 = i32x4.add(c10, i32x4.dot_i16x8_s(v, w0)); c11 = i32x4.add(c11, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a2);
        c20 = i32x4.add(c20, i32x4.dot_i16x8_s(v, w0)); c21 = i32x4.add(c21, i32x4.dot_i16x8_s(v, w1));
        v = single<T>(a3);
        c30 = i32x4.add(c30, i32x4.dot_i16x8_s(v, w0)); c31 = i32x4.add(c31, i32x4.dot_i16x8_s(v, w1));
        wp += 32;
      }
      tp += tapS;
    }
  }
  const s0 = v128.load(s), s1 = v128.load(s, 16);
  const os = <usize>OC;
  storeBytes(yp, narrowBytes<T>(requant8(c00, c01, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + os, narrowBytes<T>(requant8(c10, c11, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + 2 * os, narrowBytes<T>(requant8(c20, c21, s0, s1, vz, vlo, vhi)), nr);
  storeBytes(yp + 3 * os, narrowBytes<T>(requant8(c30, c31, s0, s1, vz, vlo, vhi)), nr);
}

/** One output pixel × 8 channels with bounds checks: taps outside the image read the zero point. */
// @ts-ignore: decorator
@inline function pixelChecked<T>(x: usize, H: i32, W: i32, C: i32, iy0: i32, ix0: i32, kh: i32, kw: i32, dh: i32, dw: i32,
                                 wp: usize, b: usize, s: usize, yp: usize, nr: i32, vpad: v128,
                                 vz: v128, vlo: v128, vhi: v128): void {
  let c0 = v128.load(b), c1 = v128.load(b, 16);
  const CP = (C + 1) >> 1;
  const C2 = C & ~1;
  const odd = C & 1;
  for (let ky = 0; ky < kh; ky++) {
    const iy = iy0 + ky * dh;
    for (let kx = 0; kx < kw; kx++) {
      const ix = ix0 + kx * dw;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
        for (let j = 0; j < CP; j++) {
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(vpad, v128.load(wp)));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(vpad, v128.load(wp, 16)));
          wp += 32;
        }
        continue;
      }
      let a = x + (<usize>iy * <usize>W + <usize>ix) * <usize>C;
      for (let c = 0; c < C2; c += 2) {
        const v = pair<T>(a);
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v, v128.load(wp)));
        c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v, v128.load(wp, 16)));
        a += 2; wp += 32;
      }
      if (odd) {
        const v = single<T>(a);
        c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v, v128.load(wp)));
        c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v, v128.load(wp, 16)));
        wp += 32;
      }
    }
  }
  storeBytes(yp, narrowBytes<T>(requant8(c0, c1, v128.load(s), v128.load(s, 16), vz, vlo, vhi)), nr);
}

/**
 * y window [oy0,oy1)×[ox0,ox1)×OC of conv(x [H][W][C]), pixels `ops` bytes apart (OC for a
 * contiguous window); w, b, s point at the first of the OC channels (a panel boundary);
 * rq gives z, lo, hi; zx pads.
 */
export function conv2d<T>(x: usize, H: i32, W: i32, C: i32, y: usize, oy0: i32, oy1: i32, ox0: i32, ox1: i32, OC: i32, ops: i32,
                          kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32,
                          w: usize, b: usize, s: usize, rq: usize, zx: i32): void {
  const vz = rqMz(rq), vlo = rqLo(rq), vhi = rqHi(rq);
  const vpad = i16x8.splat(<i16>zx);
  const CP = (C + 1) >> 1;
  const panelBytes = <usize>(kh * kw * CP) << 5;
  const Cu = <usize>C;
  const rowS = <usize>dh * <usize>W * Cu;
  const tapS = <usize>dw * Cu;
  const pixS = <usize>sw * Cu;
  const OW = ox1 - ox0;
  // Output columns whose taps are all inside [0, W): ixLo ≤ ox < ixHi.
  const ixLo = (pl + sw - 1) / sw;
  const ixHi = (W - 1 - (kw - 1) * dw + pl) >= 0 ? (W - 1 - (kw - 1) * dw + pl) / sw + 1 : 0;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sh - pt;
    const rowInside = iy0 >= 0 && iy0 + (kh - 1) * dh <= H - 1;
    const yrow = y + <usize>((oy - oy0) * OW) * <usize>ops;
    const fastLo = rowInside ? max(ox0, ixLo) : ox1;
    const fastHi = rowInside ? min(ox1, ixHi) : ox1;
    let ox = ox0;
    for (let n0 = 0; n0 < OC; n0 += 8) {
      const nr = min(8, OC - n0);
      const wp = w + <usize>(n0 >> 3) * panelBytes;
      const bp = b + (<usize>n0 << 2);
      const sp = s + (<usize>n0 << 2);
      for (ox = ox0; ox < ox1; ) {
        const yp = yrow + <usize>((ox - ox0) * ops + n0);
        if (ox >= fastLo && ox + 4 <= fastHi) {
          const p0 = x + (<usize>iy0 * <usize>W + <usize>(ox * sw - pl)) * Cu;
          block4<T>(p0, pixS, H, W, C, kh, kw, rowS, tapS, wp, bp, sp, rq, yp, ops, nr, vz, vlo, vhi);
          ox += 4;
        } else {
          pixelChecked<T>(x, H, W, C, iy0, ox * sw - pl, kh, kw, dh, dw, wp, bp, sp, yp, nr, vpad, vz, vlo, vhi);
          ox++;
        }
      }
    }
  }
}
