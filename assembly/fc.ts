// Fully connected layer y[N] = clamp(b + W·x): one GEMM row on the GEMM panel layout
// (packFullyConnected = packGemm1x1), see gemmRow in gemm.ts.
import { gemmRow } from './gemm';

export function fullyConnected(x: usize, K: i32, w: usize, b: usize, y: usize, N: i32, lo: f32, hi: f32): void {
  gemmRow(x, K, w, b, y, N, f32x4.splat(lo), f32x4.splat(hi), 0, 0);
}
