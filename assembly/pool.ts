// Average pooling.
import { clamp4, loadPartial, storePartial } from './common';

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
 * Windowed average pool: the mean over the window's pixels that are inside the input
 * (padding is not counted, TF/TFLite semantics), then the clamp.
 */
export function avgPool(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  padTop: i32,
  padLeft: i32,
  lo: f32,
  hi: f32,
): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const colBytes = (<usize>C) << 2;
  let yp = y;
  for (let oy = 0; oy < OH; oy++) {
    const iy0 = oy * sh - padTop;
    const ya = max(0, iy0),
      yb = min(H, iy0 + kh);
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * sw - padLeft;
      const xa = max(0, ix0),
        xb = min(W, ix0 + kw);
      const count = max(0, yb - ya) * max(0, xb - xa);
      const div = f32x4.splat(<f32>count);
      for (let c = 0; c < C; c += 4) {
        const n = min(4, C - c);
        let a = f32x4.splat(0);
        for (let iy = ya; iy < yb; iy++) {
          let xp = x + <usize>(iy * W + xa) * colBytes + ((<usize>c) << 2);
          for (let ix = xa; ix < xb; ix++) {
            a = f32x4.add(a, loadPartial(xp, n));
            xp += colBytes;
          }
        }
        if (count) a = f32x4.div(a, div);
        storePartial(yp + ((<usize>c) << 2), clamp4(a, vlo, vhi), n);
      }
      yp += colBytes;
    }
  }
}
