// q8 depthwise 3x3 convolution (depth multiplier 1), any stride and dilation, SIMD over
// channels: acc[c] = b'[c] + Σ_taps x[tap][c]·w'[tap][c], requantized per channel.
//
// Taps go in pairs (0,1) (2,3) (4,5) (6,7) (8,–): the bytes of the two taps are interleaved
// (one i8x16.shuffle), widened to int16 pairs, and one i32x4.dot_i16x8_s per 4 channels
// adds both products: 16 channels per step, 5 dots per 4 channels per pixel.
//
// Packed weights (src/kernels/q8_pack.ts, packQ8Depthwise): one byte per weight,
// [5 pairs][Cw channels][2 taps] (pair 4's second tap is zero), `ws` = 2·Cw bytes between
// pairs, so any channel range is a plain offset; 8 bytes (4 channels × 2 taps) widen to
// int16 w' = w − zw (wload) against the interleaved activation pairs, as XNNPACK's qs8/qu8
// WASM SIMD depthwise kernels widen their 8-byte weight loads. With C ≥ 16 the 20 widened
// vectors of a 16-channel group are made once per output row and serve all its pixels
// (widening and subtracting the uint8 zero point at every pixel cost ~8% of a uint8
// MobileNetV2 run). b' folds
// −zx·Σ_taps w', and taps outside the image read the zero point (TF SAME pads with it).
//
// Input window: the kernel reads x as a window of the logical input: pixel (iy, ix) of
// the [H][W] image lives at x + ((iy − xr0)·xCols + (ix − xc0))·C. The whole tensor is the
// window (0, 0, W); a fused block passes the rows and columns of the expanded chunk it
// computed. Every tap inside the image must lie inside the window (the caller's contract).
// Output: the window [oy0,oy1)×[ox0,ox1) of C channels, contiguous.
// Channel tails: C ≥ 16 recomputes the last 16 channels (same values), 8 ≤ C < 16 uses two
// overlapping 8-channel steps, C < 8 loads exactly C bytes (as do border pixels' taps).
// The 16- and 8-channel pixel kernels (q8_dwconv_rq_*c9p*__wasmsimd) are expanded from the
// depthwise template in src/kernels/schema/templates.ts.
import { Q8DwArgs } from './gen/args';
import { q8_dwconv_rq_16c9p__wasmsimd } from './gen/q8_dwconv_rq_16c9p__wasmsimd';
import { q8_dwconv_rq_8c9p__wasmsimd } from './gen/q8_dwconv_rq_8c9p__wasmsimd';
import {
  ext8lo,
  ext8hi,
  hi16,
  lo16,
  tapBytes,
  tapColumns,
  requant8,
  rqMz,
  rqLo,
  rqHi,
  rqZw,
  wload,
  narrowBytes,
  storeBytes,
} from './q8_common';

/**
 * General pixel: tap t valid when bit t of `valid` is set; n (1..16) channels: at most 8
 * read when n ≤ 8, and exactly n when n < 8.
 */
// @ts-ignore: decorator
@inline function pxChecked<T>(
  p: usize,
  cs: usize,
  rs: usize,
  valid: i32,
  w: usize,
  ws: usize,
  b: usize,
  s: usize,
  yp: usize,
  n: i32,
  vpad: v128,
  vmz: v128,
  flo: v128,
  fhi: v128,
  vzw: v128,
): void {
  let a0 = v128.load(b),
    a1 = v128.load(b, 16),
    a2 = v128.load(b, 32),
    a3 = v128.load(b, 48);
  let wp = w;
  for (let t = 0; t < 9; t += 2) {
    const xa = tapBytes(p, cs, rs, valid, t, n, vpad);
    const xb = t < 8 ? tapBytes(p, cs, rs, valid, t + 1, n, vpad) : xa;
    const l = lo16(xa, xb);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(ext8lo<T>(l), wload<T>(wp, vzw)));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(ext8hi<T>(l), wload<T>(wp + 8, vzw)));
    if (n > 8) {
      const h = hi16(xa, xb);
      a2 = i32x4.add(a2, i32x4.dot_i16x8_s(ext8lo<T>(h), wload<T>(wp + 16, vzw)));
      a3 = i32x4.add(a3, i32x4.dot_i16x8_s(ext8hi<T>(h), wload<T>(wp + 24, vzw)));
    }
    wp += ws;
  }
  const v0 = requant8(a0, a1, v128.load(s), v128.load(s, 16), vmz, flo, fhi);
  if (n <= 8) {
    storeBytes(yp, narrowBytes<T>(v0), n);
    return;
  }
  const v1 = requant8(a2, a3, v128.load(s, 32), v128.load(s, 48), vmz, flo, fhi);
  const v = isSigned<T>() ? i8x16.narrow_i16x8_s(v0, v1) : i8x16.narrow_i16x8_u(v0, v1);
  if (n >= 16) v128.store(yp, v);
  else {
    v128.store64_lane(yp, v, 0);
    storeBytes(yp + 8, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7), n - 8);
  }
}

export function dwconv3x3<T>(a: Q8DwArgs): void {
  const vmz = rqMz(a.rq),
    flo = rqLo(a.rq),
    fhi = rqHi(a.rq),
    vzw = rqZw<T>(a.rq);
  const vpad = i8x16.splat(<i8>a.zx);
  const Cu = <usize>a.C;
  const cs = <usize>a.dw * Cu;
  const rs = <usize>a.dh * <usize>a.xCols * Cu;
  const OW = a.ox1 - a.ox0;
  // Columns whose three taps are inside [0, W).
  const ixLo = (a.pl + a.sw - 1) / a.sw;
  const ixHi = a.W - 1 - 2 * a.dw + a.pl >= 0 ? (a.W - 1 - 2 * a.dw + a.pl) / a.sw + 1 : 0;
  for (let oy = a.oy0; oy < a.oy1; oy++) {
    const iy0 = oy * a.sh - a.pt;
    let rowMask = 0;
    for (let ky = 0; ky < 3; ky++) {
      const iy = iy0 + ky * a.dh;
      if (iy >= 0 && iy < a.H) rowMask |= 7 << (ky * 3);
    }
    const fullRows = rowMask == 0x1ff;
    const yrow = a.y + <usize>((oy - a.oy0) * OW) * Cu;
    // Row of tap row 0 in the window (unread when that row is padding; wrapping arithmetic).
    const xrow = a.x + <usize>(iy0 - a.xr0) * <usize>a.xCols * Cu;
    // Pixels whose taps are all inside the image (all rows present, columns in [ixLo, ixHi)).
    const fastLo = fullRows ? ixLo : 0,
      fastHi = fullRows ? ixHi : 0;
    if (a.C >= 16) {
      q8_dwconv_rq_16c9p__wasmsimd<T>(
        a.C,
        xrow,
        a.xc0,
        yrow,
        a.ox0,
        a.ox1,
        a.sw,
        a.pl,
        a.dw,
        a.W,
        rowMask,
        fastLo,
        fastHi,
        cs,
        rs,
        a.w,
        a.ws,
        a.b,
        a.s,
        vpad,
        vmz,
        flo,
        fhi,
        vzw,
      );
      continue;
    }
    // C < 16: one pixel at a time, weights read with the taps.
    for (let ox = a.ox0; ox < a.ox1; ox++) {
      const ix0 = ox * a.sw - a.pl;
      const p = xrow + <usize>(ix0 - a.xc0) * Cu;
      const yp = yrow + <usize>(ox - a.ox0) * Cu;
      if (ox >= fastLo && ox < fastHi && a.C >= 8) {
        q8_dwconv_rq_8c9p__wasmsimd<T>(p, cs, rs, a.w, a.ws, a.b, a.s, yp, vmz, flo, fhi, vzw);
        if (a.C > 8) {
          const cb = <usize>(a.C - 8);
          q8_dwconv_rq_8c9p__wasmsimd<T>(
            p + cb,
            cs,
            rs,
            a.w + (cb << 1),
            a.ws,
            a.b + (cb << 2),
            a.s + (cb << 2),
            yp + cb,
            vmz,
            flo,
            fhi,
            vzw,
          );
        }
        continue;
      }
      pxChecked<T>(
        p,
        cs,
        rs,
        rowMask & tapColumns(ix0, a.dw, a.W),
        a.w,
        a.ws,
        a.b,
        a.s,
        yp,
        a.C,
        vpad,
        vmz,
        flo,
        fhi,
        vzw,
      );
    }
  }
}
