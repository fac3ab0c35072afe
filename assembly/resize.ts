// f32 bilinear resize (TF resize_bilinear, see refResizeBilinear: alignCorners maps corner
// centres onto each other, halfPixelCenters samples at (o + 0.5)·scale − 0.5, else o·scale;
// coordinates in f64 as the reference, the interpolation in f32 SIMD over channels), and the
// same resize fused with the arg-max over channels: the class id of every output pixel without
// the resized scores. Both interpolate each output pixel's C scores from its 4 source
// neighbours with the same f32 operations, and the arg-max keeps the first maximum in class
// order as argmaxChannels does (`v > best`), so the class map is bit-identical to running the
// resize and then argmaxChannels, with no scratch memory.
import { ResizeArgs } from './gen/args';
import { lane, storePartial } from './common';
import { highTap, interpolate, lowTap, resizeScale, sourceCoord } from './bilinear';

const IOTA: v128 = i32x4(0, 1, 2, 3);
const FOUR: v128 = i32x4(4, 4, 4, 4);
const NEG_INF: v128 = f32x4(-Infinity, -Infinity, -Infinity, -Infinity);

/** The first maximum in class order with argmaxChannels' strict > (NaN never wins, unless it is class 0's score). */
function firstMaxInOrder(a: usize, b: usize, c0: usize, d: usize, C: i32, dx: v128, dy: v128): i32 {
  let best = 0;
  let bv: f32 = 0;
  for (let c = 0; c < C; c += 4) {
    const n = min(4, C - c);
    const cb = (<usize>c) << 2;
    const v = interpolate(a + cb, b + cb, c0 + cb, d + cb, n, dx, dy);
    let e = lane<f32>(v, 0);
    if (c == 0) bv = e;
    else if (e > bv) {
      bv = e;
      best = c;
    }
    if (n > 1) {
      e = lane<f32>(v, 1);
      if (e > bv) {
        bv = e;
        best = c + 1;
      }
    }
    if (n > 2) {
      e = lane<f32>(v, 2);
      if (e > bv) {
        bv = e;
        best = c + 2;
      }
    }
    if (n > 3) {
      e = lane<f32>(v, 3);
      if (e > bv) {
        bv = e;
        best = c + 3;
      }
    }
  }
  return best;
}

/**
 * ids = 0: the resized scores into y [OH][OW][C]; ids = 1 or 4: each output pixel's class
 * (the first maximum of its resized scores) into y [OH][OW] as a u8 or an i32.
 */
export function resizeBilinear(a: ResizeArgs): void {
  const sy = resizeScale(a.H, a.OH, a.alignCorners);
  const sx = resizeScale(a.W, a.OW, a.alignCorners);
  const colBytes = (<usize>a.C) << 2;
  const rowBytes = <usize>a.W * colBytes;
  let p: usize = 0;
  for (let oy = 0; oy < a.OH; oy++) {
    const fy = sourceCoord(oy, sy, a.halfPixelCenters);
    const fly = Math.floor(fy);
    const dy = f32x4.splat(<f32>(fy - fly));
    const r0 = a.x + <usize>lowTap(fly, a.H) * rowBytes,
      r1 = a.x + <usize>highTap(fly, a.H) * rowBytes;
    for (let ox = 0; ox < a.OW; ox++) {
      const fx = sourceCoord(ox, sx, a.halfPixelCenters);
      const flx = Math.floor(fx);
      const x0 = lowTap(flx, a.W),
        x1 = highTap(flx, a.W);
      const dx = f32x4.splat(<f32>(fx - flx));
      const tl = r0 + <usize>x0 * colBytes,
        tr = r0 + <usize>x1 * colBytes;
      const bl = r1 + <usize>x0 * colBytes,
        br = r1 + <usize>x1 * colBytes;
      if (a.ids == 0) {
        const yp = a.y + p * colBytes;
        for (let c = 0; c < a.C; c += 4) {
          const n = min(4, a.C - c);
          const cb = (<usize>c) << 2;
          storePartial(yp + cb, interpolate(tl + cb, tr + cb, bl + cb, br + cb, n, dx, dy), n);
        }
        p++;
        continue;
      }
      // Lane j keeps the first maximum of the classes ≡ j (mod 4), strict >; the lanes are
      // reduced at the end (largest value, then the lowest class). Without NaN that is the first
      // maximum in class order; a pixel with a NaN score is redone in class order, so the
      // result is argmaxChannels' for every input.
      let bestV = f32x4.splat(-Infinity);
      let bestI = IOTA;
      let idx = IOTA;
      let nan = i32x4.splat(0);
      for (let c = 0; c < a.C; c += 4) {
        const n = min(4, a.C - c);
        const cb = (<usize>c) << 2;
        let v = interpolate(tl + cb, tr + cb, bl + cb, br + cb, n, dx, dy);
        if (n < 4) v = v128.bitselect(v, NEG_INF, i32x4.lt_s(IOTA, i32x4.splat(n)));
        nan = v128.or(nan, f32x4.ne(v, v));
        const gt = f32x4.gt(v, bestV);
        bestV = v128.bitselect(v, bestV, gt);
        bestI = v128.bitselect(idx, bestI, gt);
        idx = i32x4.add(idx, FOUR);
      }
      let best = 0;
      if (v128.any_true(nan)) best = firstMaxInOrder(tl, tr, bl, br, a.C, dx, dy);
      else {
        let bv = f32x4.extract_lane(bestV, 0);
        best = i32x4.extract_lane(bestI, 0);
        const v1 = f32x4.extract_lane(bestV, 1),
          i1 = i32x4.extract_lane(bestI, 1);
        if (v1 > bv || (v1 == bv && i1 < best)) {
          bv = v1;
          best = i1;
        }
        const v2 = f32x4.extract_lane(bestV, 2),
          i2 = i32x4.extract_lane(bestI, 2);
        if (v2 > bv || (v2 == bv && i2 < best)) {
          bv = v2;
          best = i2;
        }
        const v3 = f32x4.extract_lane(bestV, 3),
          i3 = i32x4.extract_lane(bestI, 3);
        if (v3 > bv || (v3 == bv && i3 < best)) {
          best = i3;
        }
      }
      if (a.ids == 4) store<i32>(a.y + (p << 2), best);
      else store<u8>(a.y + p, <u8>best);
      p++;
    }
  }
}
