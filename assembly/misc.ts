// Element-wise and data-movement kernels: add, softmax, argmax, strided copy.
import { clamp4, loadPartial, storePartial } from './common';

/** y = clamp(a + b) over n floats; y may alias a or b (each lane is read before it is written). */
export function add(a: usize, b: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let i = 0;
  let off: usize = 0;
  for (; i + 8 <= n; i += 8) {
    const s0 = f32x4.add(v128.load(a + off), v128.load(b + off));
    const s1 = f32x4.add(v128.load(a + off, 16), v128.load(b + off, 16));
    v128.store(y + off, clamp4(s0, vlo, vhi));
    v128.store(y + off, clamp4(s1, vlo, vhi), 16);
    off += 32;
  }
  for (; i < n; i += 4) {
    const r = min(4, n - i);
    storePartial(y + off, clamp4(f32x4.add(loadPartial(a + off, r), loadPartial(b + off, r)), vlo, vhi), r);
    off += 16;
  }
}

/** y = softmax(beta · x) over one row of n floats (y may alias x). Sums in f64. */
export function softmax(x: usize, n: i32, y: usize, beta: f32): void {
  if (n <= 0) return;
  let m = load<f32>(x);
  for (let i = 1; i < n; i++) {
    const v = load<f32>(x + ((<usize>i) << 2));
    if (v > m) m = v;
  }
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const p = (<usize>i) << 2;
    const e = Math.exp(<f64>beta * (<f64>load<f32>(x + p) - <f64>m));
    store<f32>(y + p, <f32>e);
    s += e;
  }
  const inv = 1.0 / s;
  for (let i = 0; i < n; i++) {
    const p = (<usize>i) << 2;
    store<f32>(y + p, <f32>(<f64>load<f32>(y + p) * inv));
  }
}

/** y[p] = index of the first maximum of x[p][0..C), as a u8 (outBytes 1), i64 (8) or i32 (else). */
export function argmaxChannels(x: usize, P: i32, C: i32, y: usize, outBytes: i32): void {
  let xp = x;
  for (let p = 0; p < P; p++) {
    let best = 0;
    let bv = load<f32>(xp);
    for (let c = 1; c < C; c++) {
      const v = load<f32>(xp + ((<usize>c) << 2));
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    if (outBytes == 1) store<u8>(y + <usize>p, <u8>best);
    else if (outBytes == 8) store<i64>(y + ((<usize>p) << 3), <i64>best);
    else store<i32>(y + ((<usize>p) << 2), best);
    xp += (<usize>C) << 2;
  }
}

/** Copy rows × rowBytes from src (row stride srcStride) to dst (row stride dstStride). */
export function copyStrided(src: usize, dst: usize, rows: i32, rowBytes: i32, srcStride: i32, dstStride: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * <usize>dstStride, src + <usize>r * <usize>srcStride, <usize>rowBytes);
  }
}
