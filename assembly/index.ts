// Entry point of the WASM module: exports every kernel (f32 family).
// All pointers are byte offsets into the imported memory (env.memory); optional operands
// (bias b, residual res) are 0 when absent. lo/hi clamp the result (relu6: 0, 6; none:
// -Infinity, +Infinity). No kernel allocates or touches bytes outside its operands.
import { gemm1x1 } from './gemm';
import { dwconv3x3 } from './dwconv';
import { conv2d } from './conv';
import { fullyConnected } from './fc';
import { globalAvgPool, avgPool } from './pool';
import { add, softmax, resizeBilinear, argmaxChannels, copyStrided } from './misc';

export function abi_version(): i32 { return 1; }

/** End of the module's own static data (AS __heap_base): the bytes at the bottom of memory it uses. */
export function kernel_heap_base(): usize { return __heap_base; }

/** y[M][N] = clamp((accumulate ? y : (b ? bias : 0)) + x[M][K]·W + (res ? res : 0)); w packed by packGemm1x1. */
export function f32_gemm_1x1(x: usize, M: i32, K: i32, w: usize, b: usize, y: usize, N: i32,
                             lo: f32, hi: f32, res: usize, accumulate: i32): void {
  gemm1x1(x, M, K, w, b, y, N, lo, hi, res, accumulate);
}

/** 3x3 stride-2 conv (the stem), any C; OC may be a slice (w, b point at the slice). */
export function f32_conv3x3_s2(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32, OC: i32,
                               padTop: i32, padLeft: i32, w: usize, b: usize, lo: f32, hi: f32): void {
  conv2d(x, H, W, C, y, OH, OW, OC, 3, 3, 2, 2, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_conv2d_generic(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32, OC: i32,
                                   kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
                                   w: usize, b: usize, lo: f32, hi: f32): void {
  conv2d(x, H, W, C, y, OH, OW, OC, kh, kw, sh, sw, dh, dw, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_s1(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32,
                                 padTop: i32, padLeft: i32, w: usize, b: usize, lo: f32, hi: f32): void {
  dwconv3x3(x, H, W, C, y, OH, OW, 1, 1, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_s2(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32,
                                 padTop: i32, padLeft: i32, w: usize, b: usize, lo: f32, hi: f32): void {
  dwconv3x3(x, H, W, C, y, OH, OW, 2, 2, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_generic(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32,
                                      sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
                                      w: usize, b: usize, lo: f32, hi: f32): void {
  dwconv3x3(x, H, W, C, y, OH, OW, sh, sw, dh, dw, padTop, padLeft, w, b, lo, hi);
}

export function f32_global_avgpool(x: usize, HW: i32, C: i32, y: usize): void {
  globalAvgPool(x, HW, C, y);
}

export function f32_avgpool_generic(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32,
                                    kh: i32, kw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32,
                                    lo: f32, hi: f32): void {
  avgPool(x, H, W, C, y, OH, OW, kh, kw, sh, sw, padTop, padLeft, lo, hi);
}

export function f32_fully_connected(x: usize, K: i32, w: usize, b: usize, y: usize, N: i32, lo: f32, hi: f32): void {
  fullyConnected(x, K, w, b, y, N, lo, hi);
}

export function f32_add(a: usize, b: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  add(a, b, y, n, lo, hi);
}

export function f32_softmax(x: usize, n: i32, y: usize, beta: f32): void {
  softmax(x, n, y, beta);
}

export function f32_resize_bilinear(x: usize, H: i32, W: i32, C: i32, y: usize, OH: i32, OW: i32,
                                    alignCorners: i32, halfPixelCenters: i32): void {
  resizeBilinear(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters);
}

export function f32_argmax_channels(x: usize, P: i32, C: i32, y: usize): void {
  argmaxChannels(x, P, C, y);
}

export function copy_strided(src: usize, dst: usize, rows: i32, rowBytes: i32, srcStride: i32, dstStride: i32): void {
  copyStrided(src, dst, rows, rowBytes, srcStride, dstStride);
}
