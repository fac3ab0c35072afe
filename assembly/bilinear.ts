// TF resize_bilinear's arithmetic, shared by the resize and the fused resize + arg-max
// (resize.ts) so that both compute bit-identical scores:
// coordinates in f64 as the scalar reference (refResizeBilinear), the interpolation in
// f32 SIMD over channels.
import { loadPartial } from './common';

/** Source pixels per output pixel: align_corners maps corner centres onto each other. */
// @ts-ignore: decorator
@inline export function resizeScale(inSize: i32, outSize: i32, alignCorners: i32): f64 {
  return alignCorners && outSize > 1 ? <f64>(inSize - 1) / <f64>(outSize - 1) : <f64>inSize / <f64>outSize;
}

/** Source coordinate of output index o: (o + 0.5)·scale − 0.5 with half-pixel centres, else o·scale. */
// @ts-ignore: decorator
@inline export function sourceCoord(o: i32, scale: f64, halfPixelCenters: i32): f64 {
  return halfPixelCenters ? (<f64>o + 0.5) * scale - 0.5 : <f64>o * scale;
}

/** The lower and upper source taps of a coordinate whose floor is fl, clamped into [0, n). */
// @ts-ignore: decorator
@inline export function lowTap(fl: f64, n: i32): i32 {
  return min(n - 1, max(0, <i32>fl));
}
// @ts-ignore: decorator
@inline export function highTap(fl: f64, n: i32): i32 {
  return min(n - 1, max(0, <i32>fl + 1));
}

/** Channels c..c+n−1 (n ≤ 4) of one output pixel from its neighbours at a, b (top row) and c0, d (bottom row). */
// @ts-ignore: decorator
@inline export function interpolate(a: usize, b: usize, c0: usize, d: usize, n: i32, dx: v128, dy: v128): v128 {
  const p00 = loadPartial(a, n),
    p01 = loadPartial(b, n);
  const p10 = loadPartial(c0, n),
    p11 = loadPartial(d, n);
  const top = f32x4.add(p00, f32x4.mul(f32x4.sub(p01, p00), dx));
  const bot = f32x4.add(p10, f32x4.mul(f32x4.sub(p11, p10), dx));
  return f32x4.add(top, f32x4.mul(f32x4.sub(bot, top), dy));
}
