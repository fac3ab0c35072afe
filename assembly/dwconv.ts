// Depthwise 3x3 convolution (channel multiplier 1), SIMD over channels.
//
// Packed weight layout (src/kernels/pack.ts, packDepthwise3x3): channels in groups of 4;
// group g holds the 9 taps (ky·3 + kx) of its 4 channels, 4 floats each (144 bytes),
// zero-padded past the last channel. Bias is a plain array of C floats (or 0 for none).
//
// Pixels whose 9 taps are all inside the input take the fast path (f32_dwconv_9p8c__wasmsimd,
// expanded from the template in src/kernels/schema/templates.ts: three row pointers,
// channels 8 at a time); border pixels sum only the taps that are inside the image,
// which is exactly zero padding without ever reading outside x. Border pixels use their
// own output as the accumulator, so the kernel reads y as well as writing it (the
// manifest says so). Strides and dilations are arguments; s1/s2 are the same code.
import { Dw3x3Args } from './gen/args';
import { clamp4, loadPartial, storePartial } from './common';
import { f32_dwconv_9p8c__wasmsimd } from './gen/f32_dwconv_9p8c__wasmsimd';

// @ts-ignore: decorator
@inline const GROUP_BYTES: usize = 144;

/**
 * One depthwise output pixel whose taps may leave the input: rows come as pointers (0 =
 * the row is outside the input, all its taps are zero padding), columns kx in [kx0, kx1)
 * are inside. xcol is the byte offset of column ix0 (the left tap; may be negative). The
 * output pixel is the accumulator: bias first, then one pass over the channels per valid
 * tap, then the clamp.
 */
export function dwPixelBorderRows(
  p0: usize,
  p1: usize,
  p2: usize,
  xcol: isize,
  tapCol: isize,
  kx0: i32,
  kx1: i32,
  w: usize,
  b: usize,
  y: usize,
  C: i32,
  vlo: v128,
  vhi: v128,
): void {
  const C4 = C & ~3;
  const tail = C - C4;
  const tailOff = (<usize>C4) << 2;
  let c = 0;
  if (b) {
    for (; c < C4; c += 4) v128.store(y + ((<usize>c) << 2), v128.load(b + ((<usize>c) << 2)));
    if (tail) storePartial(y + tailOff, loadPartial(b + tailOff, tail), tail);
  } else {
    const z = f32x4.splat(0);
    for (; c < C4; c += 4) v128.store(y + ((<usize>c) << 2), z);
    if (tail) storePartial(y + tailOff, z, tail);
  }
  for (let ky = 0; ky < 3; ky++) {
    const row = ky == 0 ? p0 : ky == 1 ? p1 : p2;
    if (!row) continue;
    for (let kx = kx0; kx < kx1; kx++) {
      let xp = <usize>(<isize>row + xcol + <isize>kx * tapCol);
      let wp = w + ((<usize>(ky * 3 + kx)) << 4);
      let yp = y;
      for (c = 0; c < C4; c += 4) {
        v128.store(yp, f32x4.add(v128.load(yp), f32x4.mul(v128.load(xp), v128.load(wp))));
        xp += 16;
        wp += GROUP_BYTES;
        yp += 16;
      }
      if (tail)
        storePartial(yp, f32x4.add(loadPartial(yp, tail), f32x4.mul(loadPartial(xp, tail), v128.load(wp))), tail);
    }
  }
  for (c = 0; c < C4; c += 4) {
    const p = y + ((<usize>c) << 2);
    v128.store(p, clamp4(v128.load(p), vlo, vhi));
  }
  if (tail) storePartial(y + tailOff, clamp4(loadPartial(y + tailOff, tail), vlo, vhi), tail);
}

/**
 * One depthwise output row from three input row pointers (taps ky = 0, 1, 2; 0 = outside
 * the input). Wi input columns of C channels; OW output pixels at stride sw, dilation dw,
 * left padding padLeft. Interior pixels take the 9-tap fast path (f32_dwconv_9p8c__wasmsimd), the others
 * dwPixelBorderRows.
 */
export function dwRow(
  p0: usize,
  p1: usize,
  p2: usize,
  Wi: i32,
  C: i32,
  yrow: usize,
  OW: i32,
  sw: i32,
  dw: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  vlo: v128,
  vhi: v128,
): void {
  const colBytes = (<isize>C) << 2;
  const tapCol = <isize>dw * colBytes;
  // Interior columns: 0 <= ox·sw − padLeft and ox·sw − padLeft + 2·dw <= Wi − 1.
  let oxA = padLeft <= 0 ? 0 : (padLeft + sw - 1) / sw;
  const num = Wi - 1 - 2 * dw + padLeft;
  let oxB = num < 0 ? 0 : num / sw + 1;
  oxB = min(oxB, OW);
  if (!(p0 && p1 && p2) || oxA > oxB) {
    oxA = 0;
    oxB = 0;
  }
  let yp = yrow;
  for (let ox = 0; ox < OW; ox++) {
    const ix0 = ox * sw - padLeft;
    const xcol = <isize>ix0 * colBytes;
    if (ox >= oxA && ox < oxB) {
      // All rows present and all columns inside: three row pointers at the left tap.
      f32_dwconv_9p8c__wasmsimd(
        <usize>(<isize>p0 + xcol),
        <usize>(<isize>p1 + xcol),
        <usize>(<isize>p2 + xcol),
        <usize>tapCol,
        w,
        b,
        yp,
        C,
        vlo,
        vhi,
      );
    } else {
      let kx0 = 0,
        kx1 = 3;
      while (kx0 < 3 && ix0 + kx0 * dw < 0) kx0++;
      while (kx1 > kx0 && ix0 + (kx1 - 1) * dw >= Wi) kx1--;
      dwPixelBorderRows(p0, p1, p2, xcol, tapCol, kx0, kx1, w, b, yp, C, vlo, vhi);
    }
    yp += <usize>colBytes;
  }
}

/**
 * y[oy][ox][c] = clamp(b[c] + Σ x[oy·sh − padTop + ky·dh][ox·sw − padLeft + kx·dw][c] · w[ky][kx][c]).
 * Taps outside the input count as zero. padTop/padLeft may be negative (a band of rows
 * that starts below the first row the window needs).
 */
export function dwconv3x3(a: Dw3x3Args): void {
  const vlo = f32x4.splat(a.lo);
  const vhi = f32x4.splat(a.hi);
  const colBytes = (<isize>a.C) << 2;
  const rowBytes = <isize>a.W * colBytes;
  let yp = a.y;
  for (let oy = 0; oy < a.OH; oy++) {
    // Row pointers of the taps ky = 0, 1, 2; 0 for a row outside the input.
    const iy0 = oy * a.sh - a.padTop,
      iy1 = iy0 + a.dh,
      iy2 = iy0 + 2 * a.dh;
    const p0 = iy0 >= 0 && iy0 < a.H ? a.x + <usize>iy0 * <usize>rowBytes : 0,
      p1 = iy1 >= 0 && iy1 < a.H ? a.x + <usize>iy1 * <usize>rowBytes : 0,
      p2 = iy2 >= 0 && iy2 < a.H ? a.x + <usize>iy2 * <usize>rowBytes : 0;
    dwRow(p0, p1, p2, a.W, a.C, yp, a.OW, a.sw, a.dw, a.padLeft, a.w, a.b, vlo, vhi);
    yp += <usize>a.OW * <usize>colBytes;
  }
}
