// q8 element-wise and reduction kernels: ADD with requantization, average pool / MEAN,
// SOFTMAX on quantized input, QUANTIZE (requantization between u8 and i8 grids).
import { load8x8, loadBytes, ext8lo, narrowBytes, storeBytes, loadq } from './q8_common';
import { lane } from './common';

/**
 * ADD (XNNPACK's fixed-point add, as TFLite's delegate runs it):
 * y = clamp(((ma·(a − za) + mb·(b − zb) + 2^(shift−1)) >> shift) + zy, lo, hi).
 * y may alias a or b (8 bytes are read before they are written).
 */
export function add<T>(
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
): void {
  const vza = i32x4.splat(za),
    vzb = i32x4.splat(zb);
  const vma = i32x4.splat(ma),
    vmb = i32x4.splat(mb);
  const vr = i32x4.splat(1 << (shift - 1));
  const vzy = i32x4.splat(zy),
    vlo = i32x4.splat(lo - zy),
    vhi = i32x4.splat(hi - zy);
  for (let i = 0; i < n; i += 8) {
    const m = min(8, n - i);
    const o = <usize>i;
    const va = m == 8 ? load8x8<T>(a + o) : ext8lo<T>(loadBytes(a + o, m));
    const vb = m == 8 ? load8x8<T>(b + o) : ext8lo<T>(loadBytes(b + o, m));
    let s0 = i32x4.add(
      i32x4.add(
        i32x4.mul(i32x4.sub(i32x4.extend_low_i16x8_s(va), vza), vma),
        i32x4.mul(i32x4.sub(i32x4.extend_low_i16x8_s(vb), vzb), vmb),
      ),
      vr,
    );
    let s1 = i32x4.add(
      i32x4.add(
        i32x4.mul(i32x4.sub(i32x4.extend_high_i16x8_s(va), vza), vma),
        i32x4.mul(i32x4.sub(i32x4.extend_high_i16x8_s(vb), vzb), vmb),
      ),
      vr,
    );
    s0 = i32x4.add(i32x4.min_s(i32x4.max_s(i32x4.shr_s(s0, shift), vlo), vhi), vzy);
    s1 = i32x4.add(i32x4.min_s(i32x4.max_s(i32x4.shr_s(s1, shift), vlo), vhi), vzy);
    storeBytes(y + o, narrowBytes<T>(i16x8.narrow_i32x4_s(s0, s1)), m);
  }
}

/**
 * Column sums of n (1..8) channels starting at c over HW pixels of C channels, in int32:
 * channels c..c+3 are returned, c+4..c+7 left in `sumHi` (no allocation).
 */
// @ts-ignore: decorator
@inline function sum8<T>(x: usize, HW: i32, C: i32, c: i32, n: i32): v128 {
  let s0 = i32x4.splat(0),
    s1 = s0;
  let p = x + <usize>c;
  const st = <usize>C;
  for (let i = 0; i < HW; i++) {
    const v = n == 8 ? load8x8<T>(p) : ext8lo<T>(loadBytes(p, n));
    s0 = i32x4.add(s0, i32x4.extend_low_i16x8_s(v));
    s1 = i32x4.add(s1, i32x4.extend_high_i16x8_s(v));
    p += st;
  }
  sumHi = s1;
  return s0;
}

let sumHi: v128 = i32x4.splat(0);

/** Lane j (0..7) of the pair (lo: lanes 0..3, hi: 4..7); lane indices must be constants. */
// @ts-ignore: decorator
@inline function lane8(lo: v128, hi: v128, j: i32): i32 {
  return lane<i32>(j < 4 ? lo : hi, j & 3);
}

/**
 * Global average pool with equal input and output quantization (TFLite AVERAGE_POOL_2D):
 * y = clamp(round_half_away(Σx / HW), lo, hi), i.e. (Σx + HW/2) / HW for Σx ≥ 0 and
 * (Σx − HW/2) / HW otherwise, in integer arithmetic (C division truncates).
 */
export function globalAvgPool<T>(x: usize, HW: i32, C: i32, y: usize, lo: i32, hi: i32): void {
  const half = HW >> 1;
  for (let c = 0; c < C; c += 8) {
    const n = min(8, C - c);
    const s0 = sum8<T>(x, HW, C, c, n);
    const s1 = sumHi;
    for (let j = 0; j < n; j++) {
      const t = lane8(s0, s1, j);
      let v = t >= 0 ? (t + half) / HW : (t - half) / HW;
      v = v < lo ? lo : v > hi ? hi : v;
      store<u8>(y + <usize>(c + j), <u8>v);
    }
  }
}

/**
 * MEAN over HW pixels with its own output quantization (TFLite MEAN as the TF2 int8
 * model runs it): acc = Σ(x − zx) in int32, y = clamp(rint(f32(acc)·s) + zy, lo, hi),
 * s = f32(s_in / f32(s_out·HW)).
 */
export function mean<T>(x: usize, HW: i32, C: i32, y: usize, zx: i32, s: f32, zy: i32, lo: i32, hi: i32): void {
  const bias = -zx * HW;
  for (let c = 0; c < C; c += 8) {
    const n = min(8, C - c);
    const s0 = sum8<T>(x, HW, C, c, n);
    const s1 = sumHi;
    for (let j = 0; j < n; j++) {
      const t = lane8(s0, s1, j) + bias;
      let v = <i32>nearest<f32>(<f32>t * s) + zy;
      v = v < lo ? lo : v > hi ? hi : v;
      store<u8>(y + <usize>(c + j), <u8>v);
    }
  }
}

/**
 * SOFTMAX of one row of n quantized values (TFLite's builtin, float32 throughout):
 * e_i = expf(k · (max − x_i)) with k = f32(−s_in·β); inv = f32(1 / f32(Σe · s_out));
 * y_i = clamp(rint(e_i · inv) + zy). Σe accumulates in index order; e_i is recomputed
 * in the second pass (the same value), so nothing but y is written.
 */
export function softmax<T>(x: usize, n: i32, y: usize, k: f32, sOut: f32, zy: i32): void {
  let m = loadq<T>(x);
  for (let i = 1; i < n; i++) {
    const v = loadq<T>(x + <usize>i);
    if (v > m) m = v;
  }
  let sum: f32 = 0;
  for (let i = 0; i < n; i++) sum += Mathf.exp(k * <f32>(m - loadq<T>(x + <usize>i)));
  const inv: f32 = <f32>1 / (sum * sOut);
  const lo = isSigned<T>() ? -128 : 0;
  const hi = isSigned<T>() ? 127 : 255;
  for (let i = 0; i < n; i++) {
    let v = <i32>nearest<f32>(Mathf.exp(k * <f32>(m - loadq<T>(x + <usize>i))) * inv) + zy;
    v = v < lo ? lo : v > hi ? hi : v;
    store<u8>(y + <usize>i, <u8>v);
  }
}

/**
 * QUANTIZE between quantized grids: y = clamp(rint(f32(x − zx) · m) + zy) with m = f32(s_in/s_out);
 * TIn / TOut give the byte interpretation of x and y (u8 → i8 for the TF2 model's input).
 */
export function requantize<TIn, TOut>(x: usize, n: i32, y: usize, zx: i32, m: f32, zy: i32): void {
  const lo = isSigned<TOut>() ? -128 : 0;
  const hi = isSigned<TOut>() ? 127 : 255;
  for (let i = 0; i < n; i++) {
    let v = <i32>nearest<f32>(<f32>(loadq<TIn>(x + <usize>i) - zx) * m) + zy;
    v = v < lo ? lo : v > hi ? hi : v;
    store<u8>(y + <usize>i, <u8>v);
  }
}

/**
 * QUANTIZE within one type (u8 → u8, i8 → i8) as XNNPACK's convert runs it (TFLite's delegate):
 * y = sat(((x − zx)·m + 128) >> 8 + zy) with the 8-bit fixed-point ratio m = lrintf(256·s_in/s_out).
 * y may alias x.
 */
export function convert<T>(x: usize, n: i32, y: usize, zx: i32, m: i32, zy: i32): void {
  const vzx = i32x4.splat(zx),
    vm = i32x4.splat(m),
    vr = i32x4.splat(128),
    vzy = i32x4.splat(zy);
  for (let i = 0; i < n; i += 8) {
    const k = min(8, n - i);
    const o = <usize>i;
    const v = k == 8 ? load8x8<T>(x + o) : ext8lo<T>(loadBytes(x + o, k));
    const a0 = i32x4.add(
      i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.sub(i32x4.extend_low_i16x8_s(v), vzx), vm), vr), 8),
      vzy,
    );
    const a1 = i32x4.add(
      i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.sub(i32x4.extend_high_i16x8_s(v), vzx), vm), vr), 8),
      vzy,
    );
    storeBytes(y + o, narrowBytes<T>(i16x8.narrow_i32x4_s(a0, a1)), k);
  }
}

/**
 * acc[c] (int32) = (first ? 0 : acc[c]) + Σ over P pixels of x[p][c]: the sums of a global
 * pool made a few pixels at a time (a row-streamed head adds each tile of its 1x1 conv's
 * output as it is made, so the whole feature map never exists).
 */
export function channelSums<T>(x: usize, P: i32, C: i32, acc: usize, first: i32): void {
  for (let c = 0; c < C; c++) {
    const a = acc + ((<usize>c) << 2);
    let s = first ? 0 : load<i32>(a);
    let p = x + <usize>c;
    for (let i = 0; i < P; i++, p += <usize>C) s += loadq<T>(p);
    store<i32>(a, s);
  }
}
