// q8 bilinear resize and arg-max (the DeepLab head):
// - resizeQ: RESIZE_BILINEAR as TFLite's XNNPACK delegate runs it on uint8/int8 (its indirection
//   setup's float32 coordinates, 11-bit weights, the int32 ibilinear arithmetic; see
//   src/reference/q8_ops.ts q11Taps / q11Lerp), or the same interpolation fused with the
//   arg-max over channels: each output pixel's class from its 4 source neighbours, every
//   resized value rounded to the byte grid first (as the resize writes it), the first maximum
//   winning; no scratch memory;
// - argmaxQ: ARG_MAX over the last axis (TFLite's builtin: first maximum).
import { ResizeArgs } from './gen/args';
import { loadq, narrowBytes, storeBytes } from './q8_common';
import { axisScale, bytes8, setSrcEnd, tap, tapI0, tapI1 } from './q8_taps';
import { q8_ibilinear_argmax_8c__wasmsimd } from './gen/q8_ibilinear_argmax_8c__wasmsimd';
import { q8_ibilinear_argmax_16c__wasmsimd } from './gen/q8_ibilinear_argmax_16c__wasmsimd';
import { q8_ibilinear_argmax_24c__wasmsimd } from './gen/q8_ibilinear_argmax_24c__wasmsimd';
import { q8_ibilinear_argmax_32c__wasmsimd } from './gen/q8_ibilinear_argmax_32c__wasmsimd';

/**
 * 11-bit bilinear interpolation of 4 lanes (i32x4 of source values tl, tr, bl, br):
 * t = (tl << 11) + (tr − tl)·ah, b = likewise, y = ((t << 11) + (b − t)·av + 2^21) >> 22.
 */
// @ts-ignore: decorator
@inline function lerp4(tl: v128, tr: v128, bl: v128, br: v128, ah: v128, av: v128, rnd: v128): v128 {
  const t = i32x4.add(i32x4.shl(tl, 11), i32x4.mul(i32x4.sub(tr, tl), ah));
  const b = i32x4.add(i32x4.shl(bl, 11), i32x4.mul(i32x4.sub(br, bl), ah));
  return i32x4.shr_s(i32x4.add(i32x4.add(i32x4.shl(t, 11), i32x4.mul(i32x4.sub(b, t), av)), rnd), 22);
}

/** Resized values of 8 (m) channels at the four source pixels a, b (top row), c, d (bottom row): lo and hi lanes. */
let lerpHi: v128 = i32x4.splat(0);
// @ts-ignore: decorator
@inline function lerp8<T>(a: usize, b: usize, c: usize, d: usize, m: i32, ah: v128, av: v128, rnd: v128): v128 {
  const tl = bytes8<T>(a, m),
    tr = bytes8<T>(b, m),
    bl = bytes8<T>(c, m),
    br = bytes8<T>(d, m);
  lerpHi = lerp4(
    i32x4.extend_high_i16x8_s(tl),
    i32x4.extend_high_i16x8_s(tr),
    i32x4.extend_high_i16x8_s(bl),
    i32x4.extend_high_i16x8_s(br),
    ah,
    av,
    rnd,
  );
  return lerp4(
    i32x4.extend_low_i16x8_s(tl),
    i32x4.extend_low_i16x8_s(tr),
    i32x4.extend_low_i16x8_s(bl),
    i32x4.extend_low_i16x8_s(br),
    ah,
    av,
    rnd,
  );
}

/**
 * ids = 0: RESIZE_BILINEAR into y [OH][OW][C]; ids = 1 or 4: the fused resize + arg-max, each
 * output pixel's class into y [OH][OW] as a u8 or an i32. Ranking key per lane:
 * (value << kb) | (kmask − class), so one signed max orders by value, then by the lower class
 * (ties → first maximum); kb = 8 bits of class for C ≤ 256, more otherwise (C < 2^23 keeps
 * keys inside int32). Lanes past C count as INT32_MIN.
 */
export function resizeQ<T>(a: ResizeArgs): void {
  const half: bool = !a.alignCorners && a.halfPixelCenters != 0;
  const scY = axisScale(a.H, a.OH, a.alignCorners),
    scX = axisScale(a.W, a.OW, a.alignCorners);
  const offY: f32 = <f32>0.5 * scY - <f32>0.5,
    offX: f32 = <f32>0.5 * scX - <f32>0.5;
  const kb = a.C <= 256 ? 8 : 32 - clz(a.C - 1);
  const kmask = (1 << kb) - 1;
  const Cu = <usize>a.C;
  const rowBytes = <usize>a.W * Cu;
  setSrcEnd(a.x + <usize>a.H * rowBytes);
  if (a.ids == 0 && a.H == 1 && a.W == 1) {
    // One source pixel: every tap is that pixel, and ((v << 22) + 2^21) >> 22 = v, so each
    // output pixel is a copy of it (the ASPP image-pooling branch's broadcast).
    for (let p: usize = 0; p < <usize>a.OH * <usize>a.OW; p++) memory.copy(a.y + p * Cu, a.x, Cu);
    return;
  }
  if (a.ids != 0 && a.C <= 32) {
    // Column by column: the horizontal interpolation of a column's two source rows is shared
    // by every output row between them, so it is computed once per source row pair and only
    // the vertical step runs per output pixel (same integer expressions, same keys).
    const ys = a.ids == 4 ? (<usize>a.OW) << 2 : <usize>a.OW;
    for (let ox = 0; ox < a.OW; ox++) {
      const ah = i32x4.splat(tap(ox, a.W, scX, offX, half));
      const c0 = <usize>tapI0 * Cu,
        c1 = <usize>tapI1 * Cu;
      const yc = a.y + (a.ids == 4 ? (<usize>ox) << 2 : <usize>ox);
      if (a.C <= 8)
        q8_ibilinear_argmax_8c__wasmsimd<T>(a.x, rowBytes, c0, c1, a.C, ah, a.H, a.OH, scY, offY, half, yc, ys, a.ids);
      else if (a.C <= 16)
        q8_ibilinear_argmax_16c__wasmsimd<T>(a.x, rowBytes, c0, c1, a.C, ah, a.H, a.OH, scY, offY, half, yc, ys, a.ids);
      else if (a.C <= 24)
        q8_ibilinear_argmax_24c__wasmsimd<T>(a.x, rowBytes, c0, c1, a.C, ah, a.H, a.OH, scY, offY, half, yc, ys, a.ids);
      else
        q8_ibilinear_argmax_32c__wasmsimd<T>(a.x, rowBytes, c0, c1, a.C, ah, a.H, a.OH, scY, offY, half, yc, ys, a.ids);
    }
    return;
  }
  const rnd = i32x4.splat(1 << 21);
  const iotaLo = i32x4(0, 1, 2, 3),
    iotaHi = i32x4(4, 5, 6, 7);
  const none = i32x4.splat(i32.MIN_VALUE);
  let p: usize = 0;
  for (let oy = 0; oy < a.OH; oy++) {
    const av = i32x4.splat(tap(oy, a.H, scY, offY, half));
    const r0 = a.x + <usize>tapI0 * rowBytes,
      r1 = a.x + <usize>tapI1 * rowBytes;
    for (let ox = 0; ox < a.OW; ox++) {
      const ah = i32x4.splat(tap(ox, a.W, scX, offX, half));
      const c0 = <usize>tapI0 * Cu,
        c1 = <usize>tapI1 * Cu;
      let best = none;
      for (let c = 0; c < a.C; c += 8) {
        const m = min(8, a.C - c);
        const o = <usize>c;
        const lo = lerp8<T>(r0 + c0 + o, r0 + c1 + o, r1 + c0 + o, r1 + c1 + o, m, ah, av, rnd);
        if (a.ids == 0) {
          storeBytes(a.y + p * Cu + o, narrowBytes<T>(i16x8.narrow_i32x4_s(lo, lerpHi)), m);
          continue;
        }
        const base = i32x4.splat(kmask - c);
        let kLo = i32x4.add(i32x4.shl(lo, kb), i32x4.sub(base, iotaLo));
        let kHi = i32x4.add(i32x4.shl(lerpHi, kb), i32x4.sub(base, iotaHi));
        if (m < 8) {
          const vm = i32x4.splat(m);
          kLo = v128.bitselect(kLo, none, i32x4.lt_s(iotaLo, vm));
          kHi = v128.bitselect(kHi, none, i32x4.lt_s(iotaHi, vm));
        }
        best = i32x4.max_s(best, i32x4.max_s(kLo, kHi));
      }
      if (a.ids) {
        best = i32x4.max_s(best, v128.shuffle<i32>(best, best, 2, 3, 0, 1));
        best = i32x4.max_s(best, v128.shuffle<i32>(best, best, 1, 0, 3, 2));
        const cls = kmask - (i32x4.extract_lane(best, 0) & kmask);
        if (a.ids == 4) store<i32>(a.y + (p << 2), cls);
        else store<u8>(a.y + p, <u8>cls);
      }
      p++;
    }
  }
}

/** First maximum of each of P rows of C values; class ids stored in outBytes = 1 (u8), 4 (i32) or 8 (i64) bytes. */
export function argmaxQ<T>(x: usize, P: i32, C: i32, y: usize, outBytes: i32): void {
  let xp = x;
  for (let p = 0; p < P; p++) {
    let best = 0;
    let bv = loadq<T>(xp);
    for (let c = 1; c < C; c++) {
      const v = loadq<T>(xp + <usize>c);
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    const o = <usize>p;
    if (outBytes == 1) store<u8>(y + o, <u8>best);
    else if (outBytes == 4) store<i32>(y + (o << 2), best);
    else store<i64>(y + (o << 3), <i64>best);
    xp += <usize>C;
  }
}
