// Source taps of the q8 bilinear resize (q8_resize.ts and the column kernels of the fused
// resize + arg-max, gen/q8_ibilinear_argmax_*): XNNPACK's f32 coordinate setup and 11-bit
// weights (src/reference/q8_ops.ts q11Taps), and the source loads of a channel tail.
import { ext8lo, load8x8, loadBytes } from './q8_common';

/** Source rows (or columns) of the last tap() call. */
export let tapI0: i32 = 0;
export let tapI1: i32 = 0;

/**
 * Taps of output coordinate o (q11Taps): scale and offset in f32 as XNNPACK's setup computes
 * them; returns the 11-bit weight of i1 and leaves i0, i1 in tapI0 / tapI1.
 */
// @ts-ignore: decorator
@inline export function tap(o: i32, n: i32, scale: f32, offset: f32, halfPixel: bool): i32 {
  let s: f32 = <f32>o * scale;
  if (halfPixel) s = min<f32>(max<f32>(s + offset, 0), <f32>(n - 1));
  const lo = <i32>s;
  tapI0 = lo;
  tapI1 = min(lo + 1, n - 1);
  return <i32>nearest<f32>((s - <f32>lo) * <f32>2048);
}

// @ts-ignore: decorator
@inline export function axisScale(n: i32, outN: i32, alignCorners: i32): f32 {
  const adj = alignCorners && outN != 1 ? 1 : 0;
  return <f32>(n - adj) / <f32>(outN - adj);
}

/** End of the source tensor: a channel tail may read a whole 8 bytes when they lie before it. */
let srcEnd: usize = 0;
export function setSrcEnd(p: usize): void {
  srcEnd = p;
}

/** 8 bytes at p as i16x8; with m < 8 channels left, the lanes past m are garbage or zero (masked by the caller). */
// @ts-ignore: decorator
@inline export function bytes8<T>(p: usize, m: i32): v128 {
  return m == 8 || p + 8 <= srcEnd ? load8x8<T>(p) : ext8lo<T>(loadBytes(p, m));
}
