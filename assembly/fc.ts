// Fully connected layer y[N] = clamp(b + W·x) on packed panels (packFullyConnected: the
// GEMM panel layout, 8 outputs per panel, K groups of 8 floats). With a single input row
// the GEMM micro-kernel would be latency-bound on two accumulators, so two k steps go to
// separate accumulator pairs that are summed at the end.
import { clamp4, loadPartial8lo, loadPartial8hi, storePartial8 } from './common';

export function fullyConnected(x: usize, K: i32, w: usize, b: usize, y: usize, N: i32, lo: f32, hi: f32): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let wp = w;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const nr = min(8, N - n0);
    const cb = <usize>n0 << 2;
    let a0: v128, a1: v128;
    if (b) { a0 = loadPartial8lo(b + cb, nr); a1 = loadPartial8hi(b + cb, nr); }
    else { a0 = f32x4.splat(0); a1 = a0; }
    let e0 = f32x4.splat(0), e1 = e0;
    let xp = x;
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const v = v128.load32_splat(xp), u = v128.load32_splat(xp, 4);
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp, 16)));
      e0 = f32x4.add(e0, f32x4.mul(u, v128.load(wp, 32)));
      e1 = f32x4.add(e1, f32x4.mul(u, v128.load(wp, 48)));
      xp += 8; wp += 64;
    }
    if (k < K) {
      const v = v128.load32_splat(xp);
      a0 = f32x4.add(a0, f32x4.mul(v, v128.load(wp)));
      a1 = f32x4.add(a1, f32x4.mul(v, v128.load(wp, 16)));
      wp += 32;
    }
    storePartial8(y + cb, clamp4(f32x4.add(a0, e0), vlo, vhi), clamp4(f32x4.add(a1, e1), vlo, vhi), nr);
  }
}
