// Average pooling.
import { PoolArgs } from './gen/args';
import { clamp4, lane, loadPartial, storePartial } from './common';
import { ext8lo, load8x8, loadBytes } from './q8_common';

/** y[c] = mean over the HW pixels of x[p][c]. */
export function globalAvgPool(x: usize, HW: i32, C: i32, y: usize): void {
  const colBytes = (<usize>C) << 2;
  const inv = f32x4.splat(<f32>HW);
  for (let c = 0; c < C; c += 4) {
    const n = min(4, C - c);
    let xp = x + ((<usize>c) << 2);
    let a = f32x4.splat(0);
    if (n == 4) {
      for (let p = 0; p < HW; p++) {
        a = f32x4.add(a, v128.load(xp));
        xp += colBytes;
      }
    } else {
      for (let p = 0; p < HW; p++) {
        a = f32x4.add(a, loadPartial(xp, n));
        xp += colBytes;
      }
    }
    storePartial(y + ((<usize>c) << 2), f32x4.div(a, inv), n);
  }
}

/**
 * Windowed average pool over the window's pixels that are inside the input (padding is not
 * counted, TF/TFLite semantics), clamped to [lo, hi]. T = f32: the mean. T = u8 / i8
 * (TFLite AVERAGE_POOL_2D with equal input and output quantization): the rounded integer
 * mean, as the q8 global average pool rounds it.
 */
export function avgPool<T>(a: PoolArgs): void {
  const colBytes = <usize>a.C * sizeof<T>();
  let yp = a.y;
  for (let oy = 0; oy < a.OH; oy++) {
    const iy0 = oy * a.sh - a.padTop;
    const ya = max(0, iy0),
      yb = min(a.H, iy0 + a.kh);
    for (let ox = 0; ox < a.OW; ox++) {
      const ix0 = ox * a.sw - a.padLeft;
      const xa = max(0, ix0),
        xb = min(a.W, ix0 + a.kw);
      const count = max(0, yb - ya) * max(0, xb - xa);
      const p0 = a.x + <usize>(ya * a.W + xa) * colBytes;
      const rowStep = <usize>a.W * colBytes;
      if (isFloat<T>()) meanF32(p0, rowStep, colBytes, yb - ya, xb - xa, a.C, count, yp, a.lo, a.hi);
      else meanQ<T>(p0, rowStep, yb - ya, xb - xa, a.C, count, yp, <i32>a.lo, <i32>a.hi);
      yp += colBytes;
    }
  }
}

/** One pooled f32 pixel: the mean of rows × cols input pixels from p0 (rowStep, colBytes apart), clamped. */
// @ts-ignore: decorator
@inline function meanF32(
  p0: usize,
  rowStep: usize,
  colBytes: usize,
  rows: i32,
  cols: i32,
  C: i32,
  count: i32,
  yp: usize,
  lo: f32,
  hi: f32,
): void {
  const div = f32x4.splat(<f32>count);
  for (let c = 0; c < C; c += 4) {
    const n = min(4, C - c);
    let a = f32x4.splat(0);
    for (let r = 0; r < rows; r++) {
      let xp = p0 + <usize>r * rowStep + ((<usize>c) << 2);
      for (let k = 0; k < cols; k++) {
        a = f32x4.add(a, loadPartial(xp, n));
        xp += colBytes;
      }
    }
    if (count) a = f32x4.div(a, div);
    storePartial(yp + ((<usize>c) << 2), clamp4(a, f32x4.splat(lo), f32x4.splat(hi)), n);
  }
}

/** One pooled byte pixel (u8 or i8, C bytes a pixel): the rounded integer mean, clamped. */
// @ts-ignore: decorator
@inline function meanQ<T>(
  p0: usize,
  rowStep: usize,
  rows: i32,
  cols: i32,
  C: i32,
  count: i32,
  yp: usize,
  lo: i32,
  hi: i32,
): void {
  const Cu = <usize>C;
  const half = count >> 1;
  for (let c = 0; c < C; c += 8) {
    const m = min(8, C - c);
    let s0 = i32x4.splat(0),
      s1 = s0;
    for (let r = 0; r < rows; r++) {
      let p = p0 + <usize>r * rowStep + <usize>c;
      for (let k = 0; k < cols; k++) {
        const v = m == 8 ? load8x8<T>(p) : ext8lo<T>(loadBytes(p, m));
        s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(v));
        s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(v));
        p += Cu;
      }
    }
    for (let j = 0; j < m; j++) {
      const t = lane<i32>(j < 4 ? s0 : s1, j & 3);
      let v = count == 0 ? 0 : t >= 0 ? (t + half) / count : (t - half) / count;
      v = v < lo ? lo : v > hi ? hi : v;
      store<u8>(yp + <usize>(c + j), <u8>v);
    }
  }
}

/**
 * acc[c] = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c], float32, pixels in order (the
 * order globalAvgPool adds them): a row-streamed head's pool sums, a tile at a time.
 */
export function channelSums(x: usize, P: i32, C: i32, acc: usize, first: i32): void {
  const colBytes = (<usize>C) << 2;
  for (let c = 0; c < C; c += 4) {
    const n = min(4, C - c);
    const a = acc + ((<usize>c) << 2);
    let v = first ? f32x4.splat(0) : loadPartial(a, n);
    let p = x + ((<usize>c) << 2);
    for (let i = 0; i < P; i++, p += colBytes) v = f32x4.add(v, n == 4 ? v128.load(p) : loadPartial(p, n));
    storePartial(a, v, n);
  }
}
