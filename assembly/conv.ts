// Dense convolution (any kernel, stride, dilation) as an implicit GEMM over the taps.
//
// Weights are OHWI rows packed exactly like the 1x1 GEMM (packGemm1x1 with K = kh·kw·C):
// panels of 8 output channels, K = (ky, kx, c) in OHWI order, zero past OC. For each tap
// the C input channels of a pixel are contiguous in NHWC, and with dilation 1 the kw taps
// of one kernel row are contiguous too (kw·C floats), so a row of taps is one run of K.
//
// Blocks of 4 output pixels whose taps are all inside the input use a 4x8 register block
// (f32_conv_4x8__wasmsimd: the GEMM template's loop with one row pointer per pixel); other pixels (borders, the last
// pixels of a row) use a 1x8 path that skips taps outside the input (zero padding).
import { ConvArgs } from './gen/args';
import { clamp4, dot8, dot8Hi, loadPartial8lo, loadPartial8hi, storePartial8 } from './common';
import { f32_conv_4x8__wasmsimd } from './gen/f32_conv_4x8__wasmsimd';

/** One output pixel; taps outside the input are skipped. yp points at its OC outputs. */
function convPixel(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  yp: usize,
  OC: i32,
  kh: i32,
  kw: i32,
  dh: i32,
  dw: i32,
  iy0: i32,
  ix0: i32,
  w: usize,
  b: usize,
  vlo: v128,
  vhi: v128,
): void {
  const panelBytes = (<usize>(kh * kw * C)) << 5;
  let wpanel = w;
  for (let n0 = 0; n0 < OC; n0 += 8) {
    const nr = min(8, OC - n0);
    let c0: v128, c1: v128;
    if (b) {
      c0 = loadPartial8lo(b + ((<usize>n0) << 2), nr);
      c1 = loadPartial8hi(b + ((<usize>n0) << 2), nr);
    } else {
      c0 = f32x4.splat(0);
      c1 = c0;
    }
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= H) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= W) continue;
        const xp = x + ((<usize>((iy * W + ix) * C)) << 2);
        const wp = wpanel + ((<usize>((ky * kw + kx) * C)) << 5);
        c0 = dot8(xp, wp, C, c0, c1);
        c1 = dot8Hi;
      }
    }
    storePartial8(yp + ((<usize>n0) << 2), clamp4(c0, vlo, vhi), clamp4(c1, vlo, vhi), nr);
    wpanel += panelBytes;
  }
}

/**
 * y[oy][ox][o] = clamp(b[o] + Σ x[oy·sh − padTop + ky·dh][ox·sw − padLeft + kx·dw][c] · W[o][ky][kx][c]).
 * OC may be a slice of a layer's output channels (w and b then point at the slice).
 * padTop/padLeft may be negative.
 */
export function conv2d(a: ConvArgs): void {
  const vlo = f32x4.splat(a.lo);
  const vhi = f32x4.splat(a.hi);
  const colBytes = (<usize>a.C) << 2;
  const rowBytes = <usize>a.W * colBytes;
  // With dilation 1 a kernel row is one contiguous run of kw·C floats.
  const runs = a.dw == 1 ? 1 : a.kw;
  const run = a.dw == 1 ? a.kw * a.C : a.C;
  const tapStep = <usize>a.dw * colBytes;
  const rowStep = <usize>a.dh * rowBytes;
  const pixStep = <usize>a.sw * colBytes;
  const ypix = (<usize>a.OC) << 2;
  for (let oy = 0; oy < a.OH; oy++) {
    const iy0 = oy * a.sh - a.padTop;
    const rowInside = iy0 >= 0 && iy0 + (a.kh - 1) * a.dh < a.H;
    let yp = a.y + <usize>(oy * a.OW) * ypix;
    let ox = 0;
    if (rowInside) {
      for (; ox + 4 <= a.OW; ox += 4) {
        const ix0 = ox * a.sw - a.padLeft;
        if (ix0 < 0 || ix0 + 3 * a.sw + (a.kw - 1) * a.dw >= a.W) {
          for (let j = 0; j < 4; j++)
            convPixel(
              a.x,
              a.H,
              a.W,
              a.C,
              yp + <usize>j * ypix,
              a.OC,
              a.kh,
              a.kw,
              a.dh,
              a.dw,
              iy0,
              ix0 + j * a.sw,
              a.w,
              a.b,
              vlo,
              vhi,
            );
        } else {
          const a0 = a.x + <usize>iy0 * rowBytes + <usize>ix0 * colBytes;
          f32_conv_4x8__wasmsimd(a0, pixStep, rowStep, tapStep, a.kh, runs, run, yp, a.OC, a.w, a.b, vlo, vhi);
        }
        yp += 4 * ypix;
      }
    }
    for (; ox < a.OW; ox++) {
      convPixel(a.x, a.H, a.W, a.C, yp, a.OC, a.kh, a.kw, a.dh, a.dw, iy0, ox * a.sw - a.padLeft, a.w, a.b, vlo, vhi);
      yp += ypix;
    }
  }
}
