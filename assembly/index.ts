// Entry point of the WASM module: exports every kernel (f32 family).
// All pointers are byte offsets into the imported memory (env.memory); optional operands
// (bias b, residual res) are 0 when absent. lo/hi clamp the result (relu6: 0, 6; none:
// -Infinity, +Infinity). No kernel allocates or touches bytes outside its operands.
// The debug build checks the shape arguments (assert → env.abort); the release build does not.
import { gemm1x1 } from './gemm';
import { dwconv3x3 } from './dwconv';
import { conv2d } from './conv';
import { fullyConnected } from './fc';
import { globalAvgPool, avgPool } from './pool';
import { add, softmax, resizeBilinear, argmaxChannels, copyStrided } from './misc';
import { fusedBlock } from './fused';
import { resizeArgmax } from './resize_argmax';

// q8 (uint8 / int8) family.
export * from './q8_exports';

export function abi_version(): i32 {
  return 1;
}

/** End of the module's own static data (AS __heap_base): the bytes at the bottom of memory it uses. */
export function kernel_heap_base(): usize {
  return __heap_base;
}

/** y[M][N] = clamp((accumulate ? y : (b ? bias : 0)) + x[M][K]·W + (res ? res : 0)); w packed by packGemm1x1. */
export function f32_gemm_1x1(
  x: usize,
  M: i32,
  K: i32,
  w: usize,
  b: usize,
  y: usize,
  N: i32,
  lo: f32,
  hi: f32,
  res: usize,
  accumulate: i32,
): void {
  assert(M >= 0 && K > 0 && N > 0, 'f32_gemm_1x1: bad M, K or N');
  assert(!(lo > hi), 'f32_gemm_1x1: lo > hi');
  gemm1x1(x, M, K, w, b, y, N, lo, hi, res, accumulate);
}

/** 3x3 stride-2 conv (the stem), any C; OC may be a slice (w, b point at the slice). */
export function f32_conv3x3_s2(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  OC: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  lo: f32,
  hi: f32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0, 'f32_conv3x3_s2: bad shape');
  conv2d(x, H, W, C, y, OH, OW, OC, 3, 3, 2, 2, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_conv2d_generic(
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
  lo: f32,
  hi: f32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0 && OC > 0, 'f32_conv2d_generic: bad shape');
  assert(
    kh > 0 && kw > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0,
    'f32_conv2d_generic: bad kernel, stride or dilation',
  );
  conv2d(x, H, W, C, y, OH, OW, OC, kh, kw, sh, sw, dh, dw, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_s1(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  lo: f32,
  hi: f32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0, 'f32_dwconv3x3_s1: bad shape');
  dwconv3x3(x, H, W, C, y, OH, OW, 1, 1, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_s2(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  padTop: i32,
  padLeft: i32,
  w: usize,
  b: usize,
  lo: f32,
  hi: f32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0, 'f32_dwconv3x3_s2: bad shape');
  dwconv3x3(x, H, W, C, y, OH, OW, 2, 2, 1, 1, padTop, padLeft, w, b, lo, hi);
}

export function f32_dwconv3x3_generic(
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
  b: usize,
  lo: f32,
  hi: f32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH >= 0 && OW >= 0, 'f32_dwconv3x3_generic: bad shape');
  assert(sh > 0 && sw > 0 && dh > 0 && dw > 0, 'f32_dwconv3x3_generic: bad stride or dilation');
  dwconv3x3(x, H, W, C, y, OH, OW, sh, sw, dh, dw, padTop, padLeft, w, b, lo, hi);
}

export function f32_global_avgpool(x: usize, HW: i32, C: i32, y: usize): void {
  assert(HW > 0 && C > 0, 'f32_global_avgpool: bad shape');
  globalAvgPool(x, HW, C, y);
}

export function f32_avgpool_generic(
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
  assert(H > 0 && W > 0 && C > 0 && kh > 0 && kw > 0 && sh > 0 && sw > 0, 'f32_avgpool_generic: bad shape');
  avgPool(x, H, W, C, y, OH, OW, kh, kw, sh, sw, padTop, padLeft, lo, hi);
}

export function f32_fully_connected(x: usize, K: i32, w: usize, b: usize, y: usize, N: i32, lo: f32, hi: f32): void {
  assert(K > 0 && N > 0, 'f32_fully_connected: bad K or N');
  fullyConnected(x, K, w, b, y, N, lo, hi);
}

export function f32_add(a: usize, b: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  assert(n >= 0, 'f32_add: bad n');
  add(a, b, y, n, lo, hi);
}

export function f32_softmax(x: usize, n: i32, y: usize, beta: f32): void {
  assert(n > 0, 'f32_softmax: bad n');
  softmax(x, n, y, beta);
}

export function f32_resize_bilinear(
  x: usize,
  H: i32,
  W: i32,
  C: i32,
  y: usize,
  OH: i32,
  OW: i32,
  alignCorners: i32,
  halfPixelCenters: i32,
): void {
  assert(H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0, 'f32_resize_bilinear: bad shape');
  resizeBilinear(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters);
}

export function f32_argmax_channels(x: usize, P: i32, C: i32, y: usize): void {
  assert(P >= 0 && C > 0, 'f32_argmax_channels: bad shape');
  argmaxChannels(x, P, C, y);
}

/**
 * Fused resize + arg-max over channels: y [OH][OW] class ids (u8, or i32 when outI32) of the
 * f32_resize_bilinear scores, bit-identical to f32_resize_bilinear + f32_argmax_channels.
 */
export function f32_resize_argmax(
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
): void {
  assert(H > 0 && W > 0 && C > 0 && OH > 0 && OW > 0 && (outI32 || C <= 256), 'f32_resize_argmax: bad shape');
  resizeArgmax(x, H, W, C, y, OH, OW, alignCorners, halfPixelCenters, outI32);
}

export function copy_strided(src: usize, dst: usize, rows: i32, rowBytes: i32, srcStride: i32, dstStride: i32): void {
  assert(rows >= 0 && rowBytes >= 0, 'copy_strided: bad rows or rowBytes');
  copyStrided(src, dst, rows, rowBytes, srcStride, dstStride);
}

/**
 * Fused inverted-residual block (Section 5.1), one call per block; see assembly/fused.ts.
 * stem = 0: 1x1 expansion (He = H, We = W, ePad 0); stem = 1: 3x3 stride-2 expansion conv.
 * w from packFusedBlock with the same g; e holds min(ringRows, He)·We·g floats, d
 * bandRows·OW·g floats.
 */
export function f32_block_fused(
  x: usize,
  H: i32,
  W: i32,
  Cin: i32,
  stem: i32,
  He: i32,
  We: i32,
  ePadTop: i32,
  ePadLeft: i32,
  Cexp: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  dPadTop: i32,
  dPadLeft: i32,
  y: usize,
  OH: i32,
  OW: i32,
  Cout: i32,
  w: usize,
  res: usize,
  lo: f32,
  hi: f32,
  e: usize,
  d: usize,
  g: i32,
  ringRows: i32,
  bandRows: i32,
): void {
  assert(
    H > 0 &&
      W > 0 &&
      Cin > 0 &&
      He > 0 &&
      We > 0 &&
      Cexp > 0 &&
      OH > 0 &&
      OW > 0 &&
      Cout > 0 &&
      sh > 0 &&
      sw > 0 &&
      dh > 0 &&
      dw > 0 &&
      !(lo > hi) &&
      (stem != 0 || (He == H && We == W && ePadTop == 0 && ePadLeft == 0)),
    'f32_block_fused: bad shape',
  );
  // The ring must hold every expanded row one band of depthwise output rows reads.
  assert(
    g > 0 && g <= Cexp && bandRows > 0 && bandRows <= OH && ringRows >= min(He, (bandRows - 1) * sh + 2 * dh + 1),
    'f32_block_fused: bad schedule',
  );
  fusedBlock(
    x,
    H,
    W,
    Cin,
    stem,
    He,
    We,
    ePadTop,
    ePadLeft,
    Cexp,
    sh,
    sw,
    dh,
    dw,
    dPadTop,
    dPadLeft,
    y,
    OH,
    OW,
    Cout,
    w,
    res,
    lo,
    hi,
    e,
    d,
    g,
    ringRows,
    bandRows,
  );
}

/**
 * Rows [r0, r1) of a fused block (assembly/fused.ts), row-streamed: x and y are rings of
 * xRows and yRows rows (0: whole tensors; res is x's ring), xBytes and yBytes long (mirror
 * rows included); persist = 1 keeps the ring of expanded rows in e across calls (one group
 * of all Cexp channels, the calls in row order).
 */
export function f32_block_rows(
  x: usize,
  H: i32,
  W: i32,
  Cin: i32,
  stem: i32,
  He: i32,
  We: i32,
  ePadTop: i32,
  ePadLeft: i32,
  Cexp: i32,
  sh: i32,
  sw: i32,
  dh: i32,
  dw: i32,
  dPadTop: i32,
  dPadLeft: i32,
  y: usize,
  OH: i32,
  OW: i32,
  Cout: i32,
  w: usize,
  res: usize,
  lo: f32,
  hi: f32,
  e: usize,
  d: usize,
  g: i32,
  ringRows: i32,
  bandRows: i32,
  r0: i32,
  r1: i32,
  xRows: i32,
  xBytes: i32,
  yRows: i32,
  yBytes: i32,
  persist: i32,
): void {
  assert(xBytes > 0 && yBytes > 0, 'f32_block_rows: bad buffers');
  assert(
    H > 0 && W > 0 && Cin > 0 && He > 0 && We > 0 && Cexp > 0 && OH > 0 && OW > 0 && Cout > 0,
    'f32_block_rows: bad shape',
  );
  assert(
    g > 0 && g <= Cexp && bandRows > 0 && ringRows >= min(He, (bandRows - 1) * sh + 2 * dh + 1),
    'f32_block_rows: bad schedule',
  );
  assert(
    r0 >= 0 && r1 > r0 && r1 <= OH && xRows >= 0 && yRows >= 0 && (!persist || g == Cexp),
    'f32_block_rows: bad rows',
  );
  fusedBlock(
    x,
    H,
    W,
    Cin,
    stem,
    He,
    We,
    ePadTop,
    ePadLeft,
    Cexp,
    sh,
    sw,
    dh,
    dw,
    dPadTop,
    dPadLeft,
    y,
    OH,
    OW,
    Cout,
    w,
    res,
    lo,
    hi,
    e,
    d,
    g,
    ringRows,
    bandRows,
    r0,
    r1,
    xRows,
    yRows,
    persist,
  );
}

/** acc[c] = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c] (float32): a global pool's sums, a few pixels at a time. */
export function f32_channel_sums(x: usize, P: i32, C: i32, acc: usize, first: i32): void {
  assert(P >= 0 && C > 0, 'f32 arguments');
  const C4 = C & ~3;
  for (let c = 0; c < C4; c += 4) {
    const a = acc + ((<usize>c) << 2);
    let v = first ? f32x4.splat(0) : v128.load(a);
    let p = x + ((<usize>c) << 2);
    for (let i = 0; i < P; i++, p += (<usize>C) << 2) v = f32x4.add(v, v128.load(p));
    v128.store(a, v);
  }
  for (let c = C4; c < C; c++) {
    const a = acc + ((<usize>c) << 2);
    let v: f32 = first ? 0 : load<f32>(a);
    let p = x + ((<usize>c) << 2);
    for (let i = 0; i < P; i++, p += (<usize>C) << 2) v += load<f32>(p);
    store<f32>(a, v);
  }
}
