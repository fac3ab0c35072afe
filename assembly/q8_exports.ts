// Exported q8 kernels (re-exported by index.ts). Every pointer is a byte offset into the
// imported memory. `sg` picks the byte interpretation of activations: 0 = uint8 (TF1
// quantized models), 1 = int8 (TF2 models), for the weights too (TFLite's quantized
// convolutions take weights of the activations' type). Weights (one byte each), folded
// biases (int32), per-channel multipliers (f32) and the 48-byte `rq` output block (with the
// uint8 weights' zero point) come from src/kernels/q8_pack.ts.
// The debug build checks shapes (assert → env.abort, one shared message: the error names the
// file and line, i.e. the kernel; static data must stay under KERNEL_RESERVED_BYTES); the
// release build does not.
import { gemmRq, gemmAcc, requantAcc } from './q8_gemm';
import { conv2d } from './q8_conv';
import { dwconv3x3 } from './q8_dwconv';
import { add, globalAvgPool, avgPool, mean, softmax, requantize, convert } from './q8_misc';
import { resizeQ, resizeArgmaxQ, argmaxQ } from './q8_resize';
import { block } from './q8_block';

/** y[m][n] = requantize(b'[n] + Σ_k x[m][k]·w'[n][k]) (+ residual ADD when rq says so); strides in bytes. */
export function q8_gemm(
  x: usize,
  M: i32,
  K: i32,
  xs: i32,
  w: usize,
  N: i32,
  b: usize,
  s: usize,
  y: usize,
  ys: i32,
  rq: usize,
  res: usize,
  rs: i32,
  sg: i32,
): void {
  assert(M >= 0 && K > 0 && N > 0 && xs >= K && ys >= N, 'q8 arguments');
  if (sg) gemmRq<i8>(x, M, K, <usize>xs, w, N, b, s, y, <usize>ys, rq, res, <usize>rs);
  else gemmRq<u8>(x, M, K, <usize>xs, w, N, b, s, y, <usize>ys, rq, res, <usize>rs);
}

/** acc[m][n] (+)= Σ_k x[m][k]·w'[n][k] in int32 (init = 1: from b'); panels `ps` bytes apart; zw: uint8 weights' zero point. */
export function q8_gemm_acc(
  x: usize,
  M: i32,
  K: i32,
  xs: i32,
  w: usize,
  ps: i32,
  N: i32,
  b: usize,
  acc: usize,
  as: i32,
  init: i32,
  zw: i32,
  sg: i32,
): void {
  assert(M >= 0 && K > 0 && N > 0 && xs >= K && as >= N * 4 && ps >= ((K + 1) >> 1) * 16, 'q8 arguments');
  if (sg) gemmAcc<i8>(x, M, K, <usize>xs, w, <usize>ps, N, b, acc, <usize>as, init, zw);
  else gemmAcc<u8>(x, M, K, <usize>xs, w, <usize>ps, N, b, acc, <usize>as, init, zw);
}

/** y[m][n] = requantize(acc[m][n]) (+ residual ADD when rq says so). */
export function q8_requant_acc(
  acc: usize,
  M: i32,
  N: i32,
  as: i32,
  s: usize,
  y: usize,
  ys: i32,
  rq: usize,
  res: usize,
  rs: i32,
  sg: i32,
): void {
  assert(M >= 0 && N > 0 && as >= N * 4 && ys >= N, 'q8 arguments');
  if (sg) requantAcc<i8>(acc, M, N, <usize>as, s, y, <usize>ys, rq, res, <usize>rs);
  else requantAcc<u8>(acc, M, N, <usize>as, s, y, <usize>ys, rq, res, <usize>rs);
}

/** Dense conv of x [H][W][C] into y [OH][OW][OC]; w from packQ8Conv; zx pads. */
export function q8_conv2d(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  OC: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  s: usize,
  rq: usize,
  zx: i32,
  sg: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0, 'q8 arguments');
  assert(kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0, 'q8 arguments');
  if (sg) conv2d<i8>(x, H, W, C, y, 0, OH, 0, OW, OC, OC, kh, kw, sh, sw, dh, dw, padTop, padLeft, w, b, s, rq, zx);
  else conv2d<u8>(x, H, W, C, y, 0, OH, 0, OW, OC, OC, kh, kw, sh, sw, dh, dw, padTop, padLeft, w, b, s, rq, zx);
}

/** Depthwise 3x3 of x [H][W][C] into y [OH][OW][C]; w from packQ8Depthwise (tap pairs ws bytes apart); zx pads. */
export function q8_dwconv3x3(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  ws: i32,
  b: usize,
  s: usize,
  rq: usize,
  zx: i32,
  sg: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && ws >= C * 2, 'q8 arguments');
  assert(sh > 0 && sw > 0 && dh > 0 && dw > 0, 'q8 arguments');
  if (sg)
    dwconv3x3<i8>(x, 0, 0, W, H, W, C, y, 0, OH, 0, OW, sh, sw, dh, dw, padTop, padLeft, w, <usize>ws, b, s, rq, zx);
  else dwconv3x3<u8>(x, 0, 0, W, H, W, C, y, 0, OH, 0, OW, sh, sw, dh, dw, padTop, padLeft, w, <usize>ws, b, s, rq, zx);
}

/** ADD with requantization (fixed-point multipliers ma, mb and shift from addParams); y may alias a or b. */
export function q8_add(
  a: usize,
  b: usize,
  y: usize,
  n: i32,
  za: i32,
  zb: i32,
  ma: i32,
  mb: i32,
  shift: i32,
  zy: i32,
  lo: i32,
  hi: i32,
  sg: i32,
): void {
  assert(n >= 0 && shift >= 1 && shift <= 31 && lo <= hi, 'q8 arguments');
  if (sg) add<i8>(a, b, y, n, za, zb, ma, mb, shift, zy, lo, hi);
  else add<u8>(a, b, y, n, za, zb, ma, mb, shift, zy, lo, hi);
}

/** Global average pool, input and output on the same grid: rounded integer mean. */
export function q8_global_avgpool(x: usize, HW: i32, C: i32, y: usize, lo: i32, hi: i32, sg: i32): void {
  assert(HW > 0 && C > 0, 'q8 arguments');
  if (sg) globalAvgPool<i8>(x, HW, C, y, lo, hi);
  else globalAvgPool<u8>(x, HW, C, y, lo, hi);
}

/** Windowed average pool on one grid: rounded integer mean of the taps inside the image, clamped to [lo, hi]. */
export function q8_avgpool(
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
  lo: i32,
  hi: i32,
  sg: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0, 'q8 arguments');
  if (sg) avgPool<i8>(x, H, W, C, y, OH, OW, kh, kw, sh, sw, padTop, padLeft, lo, hi);
  else avgPool<u8>(x, H, W, C, y, OH, OW, kh, kw, sh, sw, padTop, padLeft, lo, hi);
}

/** MEAN over HW with requantization: y = clamp(rint(f32(Σ(x − zx))·s) + zy). */
export function q8_mean(
  x: usize,
  HW: i32,
  C: i32,
  y: usize,
  zx: i32,
  s: f32,
  zy: i32,
  lo: i32,
  hi: i32,
  sg: i32,
): void {
  assert(HW > 0 && C > 0, 'q8 arguments');
  if (sg) mean<i8>(x, HW, C, y, zx, s, zy, lo, hi);
  else mean<u8>(x, HW, C, y, zx, s, zy, lo, hi);
}

/** Softmax of one row of n quantized values; k = f32(−s_in·β). */
export function q8_softmax(x: usize, n: i32, y: usize, k: f32, sOut: f32, zy: i32, sg: i32): void {
  assert(n > 0, 'q8 arguments');
  if (sg) softmax<i8>(x, n, y, k, sOut, zy);
  else softmax<u8>(x, n, y, k, sOut, zy);
}

/** QUANTIZE between grids: y = clamp(rint(f32(x − zx)·m) + zy); sgIn / sgOut: byte types. */
export function q8_requantize(x: usize, n: i32, y: usize, zx: i32, m: f32, zy: i32, sgIn: i32, sgOut: i32): void {
  assert(n >= 0, 'q8 arguments');
  if (sgIn) {
    if (sgOut) requantize<i8, i8>(x, n, y, zx, m, zy);
    else requantize<i8, u8>(x, n, y, zx, m, zy);
  } else {
    if (sgOut) requantize<u8, i8>(x, n, y, zx, m, zy);
    else requantize<u8, u8>(x, n, y, zx, m, zy);
  }
}

/** QUANTIZE within one type (XNNPACK's convert): y = sat(((x − zx)·m + 128) >> 8 + zy); y may alias x. */
export function q8_convert(x: usize, n: i32, y: usize, zx: i32, m: i32, zy: i32, sg: i32): void {
  assert(n >= 0 && m >= 1 && m <= 32768, 'q8 arguments');
  if (sg) convert<i8>(x, n, y, zx, m, zy);
  else convert<u8>(x, n, y, zx, m, zy);
}

/** RESIZE_BILINEAR of x [H][W][C] into y [OH][OW][C] (same quantization), XNNPACK's 11-bit arithmetic. */
export function q8_resize_bilinear(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  alignCorners: i32,
  halfPixelCenters: i32,
  sg: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0, 'q8 arguments');
  if (sg) resizeQ<i8>(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters);
  else resizeQ<u8>(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters);
}

/**
 * Fused RESIZE_BILINEAR + ARG_MAX over channels: y [OH][OW] class ids (u8, or i32 when outI32),
 * each the first maximum of the pixel's resized bytes; the resized scores are never stored.
 */
export function q8_resize_argmax(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  alignCorners: i32,
  halfPixelCenters: i32,
  outI32: i32,
  sg: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && C < 1 << 23 && OH > 0 && OW > 0 && (outI32 || C <= 256), 'q8 arguments');
  if (sg) resizeArgmaxQ<i8>(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters, outI32);
  else resizeArgmaxQ<u8>(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters, outI32);
}

/** ARG_MAX over the last axis: P rows of C bytes → class ids of outBytes (1, 4 or 8) bytes each. */
export function q8_argmax(x: usize, P: i32, C: i32, y: usize, outBytes: i32, sg: i32): void {
  assert(
    P >= 0 && C > 0 && (outBytes == 1 || outBytes == 4 || outBytes == 8) && (outBytes > 1 || C <= 256),
    'q8 arguments',
  );
  if (sg) argmaxQ<i8>(x, P, C, y, outBytes);
  else argmaxQ<u8>(x, P, C, y, outBytes);
}

/**
 * Fused inverted residual block (q8_block.ts) from its descriptor; x, y, e, d are the block
 * input, output and the two chunk buffers. The byte counts are for the range manifest and
 * the debug assertions.
 */
export function q8_block(
  desc: usize,
  descBytes: i32,
  wb: usize,
  wBytes: i32,
  x: usize,
  xBytes: i32,
  y: usize,
  yBytes: i32,
  e: usize,
  eBytes: i32,
  d: usize,
  dBytes: i32,
): void {
  assert(descBytes >= 192 && wBytes > 0 && xBytes > 0 && yBytes > 0 && eBytes > 0 && dBytes > 0, 'q8 arguments');
  if (load<i32>(desc)) block<i8>(desc, wb, x, y, e, d);
  else block<u8>(desc, wb, x, y, e, d);
}

/**
 * Rows [r0, r1) of a fused block (q8_block.ts), row-streamed: the descriptor's tiles cover
 * one band counted from r0; x and y are rings of xRows and yRows rows (0: whole tensors),
 * xBytes and yBytes their sizes.
 */
export function q8_block_rows(
  desc: usize,
  descBytes: i32,
  wb: usize,
  wBytes: i32,
  x: usize,
  xBytes: i32,
  xRows: i32,
  y: usize,
  yBytes: i32,
  yRows: i32,
  e: usize,
  eBytes: i32,
  d: usize,
  dBytes: i32,
  r0: i32,
  r1: i32,
): void {
  assert(descBytes >= 192 && wBytes > 0 && xBytes > 0 && yBytes > 0 && eBytes >= 0 && dBytes > 0, 'q8 arguments');
  assert(r0 >= 0 && r1 > r0 && xRows >= 0 && yRows >= 0, 'q8 block rows');
  if (load<i32>(desc)) block<i8>(desc, wb, x, y, e, d, r0, r1, xRows, yRows);
  else block<u8>(desc, wb, x, y, e, d, r0, r1, xRows, yRows);
}

/** acc[c] (int32) = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c]: a global pool's sums, a few pixels at a time. */
export function q8_channel_sums(x: usize, P: i32, C: i32, acc: usize, first: i32, sg: i32): void {
  assert(P >= 0 && C > 0, 'q8 arguments');
  for (let c = 0; c < C; c++) {
    let s = first ? 0 : load<i32>(acc + ((<usize>c) << 2));
    let p = x + <usize>c;
    if (sg) for (let i = 0; i < P; i++, p += <usize>C) s += <i32>load<i8>(p);
    else for (let i = 0; i < P; i++, p += <usize>C) s += <i32>load<u8>(p);
    store<i32>(acc + ((<usize>c) << 2), s);
  }
}
