// Depthwise 3x3 convolution (channel multiplier 1), SIMD over channels.
//
// Packed weight layout (src/kernels/pack.ts, packDepthwise3x3): channels in groups of 4;
// group g holds the 9 taps (ky·3 + kx) of its 4 channels, 4 floats each (144 bytes),
// zero-padded past the last channel. Bias is a plain array of C floats (or 0 for none).
//
// Pixels whose 9 taps are all inside the input take the fast path (three row pointers,
// channels 8 at a time); border pixels sum only the taps that are inside the image,
// which is exactly zero padding without ever reading outside x. Border pixels use their
// own output as the accumulator, so the kernel reads y as well as writing it (the
// manifest says so). Strides and dilations are arguments; s1/s2 are the same code.
import { clamp4, loadPartial, storePartial } from './common';

// @ts-ignore: decorator
@inline const GROUP_BYTES: usize = 144;

/**
 * One output pixel whose 9 taps are all inside the input. r0, r1, r2 point at channel 0 of
 * the left tap in each of the 3 input rows; cs is the byte distance between taps in a row.
 * Row pointers (not nine tap pointers) keep V8 from spilling general registers; the partial
 * stores after each row force the products of that row to be computed before the next
 * row's loads (TurboFan schedules pure arithmetic late, which otherwise keeps all 36 loaded
 * vectors live at once and spills them).
 */
// @ts-ignore: decorator
@inline export function dwPixel9(
  r0: usize,
  r1: usize,
  r2: usize,
  cs: usize,
  w: usize,
  b: usize,
  y: usize,
  C: i32,
  vlo: v128,
  vhi: v128,
): void {
  let c = 0;
  let wp = w;
  let yp = y;
  let bp = b;
  const cs2 = cs << 1;
  for (; c + 8 <= C; c += 8) {
    let a0: v128, a1: v128;
    if (b) {
      a0 = v128.load(bp);
      a1 = v128.load(bp, 16);
      bp += 32;
    } else {
      a0 = f32x4.splat(0);
      a1 = a0;
    }
    let q = r0;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 0)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 144)));
    q = r0 + cs;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 16)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 160)));
    q = r0 + cs2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 32)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 176)));
    v128.store(yp, a0);
    v128.store(yp, a1, 16);
    q = r1;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 48)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 192)));
    q = r1 + cs;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 64)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 208)));
    q = r1 + cs2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 80)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 224)));
    v128.store(yp, a0);
    v128.store(yp, a1, 16);
    q = r2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 96)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 240)));
    q = r2 + cs;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 112)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 256)));
    q = r2 + cs2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q), v128.load(wp, 128)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q, 16), v128.load(wp, 272)));
    v128.store(yp, clamp4(a0, vlo, vhi));
    v128.store(yp, clamp4(a1, vlo, vhi), 16);
    r0 += 32;
    r1 += 32;
    r2 += 32;
    wp += 2 * GROUP_BYTES;
    yp += 32;
  }
  for (; c < C; c += 4) {
    const n = min(4, C - c);
    let a = b ? loadPartial(bp, n) : f32x4.splat(0);
    a = f32x4.add(a, f32x4.mul(loadPartial(r0, n), v128.load(wp, 0)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r0 + cs, n), v128.load(wp, 16)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r0 + cs2, n), v128.load(wp, 32)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r1, n), v128.load(wp, 48)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r1 + cs, n), v128.load(wp, 64)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r1 + cs2, n), v128.load(wp, 80)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r2, n), v128.load(wp, 96)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r2 + cs, n), v128.load(wp, 112)));
    a = f32x4.add(a, f32x4.mul(loadPartial(r2 + cs2, n), v128.load(wp, 128)));
    storePartial(yp, clamp4(a, vlo, vhi), n);
    r0 += 16;
    r1 += 16;
    r2 += 16;
    wp += GROUP_BYTES;
    yp += 16;
    bp += 16;
  }
}

/**
 * One output pixel near the border: only taps (ky, kx) with ky in [ky0, ky1) and kx in
 * [kx0, kx1) are inside the input. xb points at channel 0 of input pixel (iy0, ix0), the
 * (possibly outside) top-left tap; it is only dereferenced at valid taps. The output
 * pixel itself is the accumulator: bias first, then one pass over the channels per
 * valid tap, then the clamp.
 */
function dwPixelBorder(
  xb: isize,
  rowBytes: isize,
  colBytes: isize,
  ky0: i32,
  ky1: i32,
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
  for (let ky = ky0; ky < ky1; ky++) {
    for (let kx = kx0; kx < kx1; kx++) {
      let xp = <usize>(xb + <isize>ky * rowBytes + <isize>kx * colBytes);
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
 * y[oy][ox][c] = clamp(b[c] + Σ x[oy·sh − padTop + ky·dh][ox·sw − padLeft + kx·dw][c] · w[ky][kx][c]).
 * Taps outside the input count as zero. padTop/padLeft may be negative (a band of rows
 * that starts below the first row the window needs).
 */
// @ts-ignore: decorator
@inline export function dwconv3x3(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  lo: f32,
  hi: f32,
): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const colBytes = (<isize>C) << 2;
  const rowBytes = <isize>W * colBytes;
  const tapRow = <isize>dh * rowBytes;
  const tapCol = <isize>dw * colBytes;
  let yp = y;
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * sh - padTop;
    // Valid ky: 0 <= iy0 + ky·dh < H.
    let ky0 = 0,
      ky1 = 3;
    while (ky0 < 3 && iy0 + ky0 * dh < 0) ky0++;
    while (ky1 > ky0 && iy0 + (ky1 - 1) * dh >= H) ky1--;
    const rowBase = <isize>x + <isize>iy0 * rowBytes;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * sw - padLeft;
      const xb = rowBase + <isize>ix0 * colBytes;
      if (ky0 == 0 && ky1 == 3 && ix0 >= 0 && ix0 + 2 * dw < W) {
        dwPixel9(<usize>xb, <usize>(xb + tapRow), <usize>(xb + 2 * tapRow), <usize>tapCol, w, b, yp, C, vlo, vhi);
      } else {
        let kx0 = 0,
          kx1 = 3;
        while (kx0 < 3 && ix0 + kx0 * dw < 0) kx0++;
        while (kx1 > kx0 && ix0 + (kx1 - 1) * dw >= W) kx1--;
        dwPixelBorder(xb, tapRow, tapCol, ky0, ky1, kx0, kx1, w, b, yp, C, vlo, vhi);
      }
      yp += <usize>colBytes;
    }
  }
}
