/**
 * Scalar reference of the integer (uint8 / int8) ops, written straight from
 * the arithmetic that reproduces TFLite with its XNNPACK delegate bit for bit
 * (fixtures/reference/README.md, "Arithmetic that reproduces the TFLite
 * outputs bit-exactly"):
 *
 *   acc = bias + Σ (x − zx)·(w − zw)                    int32
 *   s   = f32(f32(s_in · s_w) / s_out)                  float32 arithmetic
 *   y   = clamp(rint_half_even(f32(acc) · s) + z_out, lo, hi)
 *
 * Layouts are those of src/reference/ops.ts (NHWC without batch, OHWI conv
 * weights, [1,kh,kw,C] depthwise weights, [N,K] fully-connected weights).
 * Slow and literal on purpose: the WASM q8 kernels and the executor's integer
 * path are tested against it.
 */
import type { Activation, Padding } from '../../planner/ir.js';

export type QDType = 'u8' | 'i8';
export type QArray = Uint8Array | Int8Array;

const f32 = Math.fround;

/** Representable range of a quantized dtype. */
export function dtypeRange(dtype: QDType): [number, number] {
  return dtype === 'u8' ? [0, 255] : [-128, 127];
}

/** Round half to even (IEEE roundTiesToEven, WASM f32x4.nearest). */
export function rintHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round rounds .5 up; move the odd results of exact ties back down.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Requantization multiplier s = f32(f32(s_in · s_w) / s_out), in float32 arithmetic. */
export function requantScale(sIn: number, sW: number, sOut: number): number {
  return f32(f32(f32(sIn) * f32(sW)) / f32(sOut));
}

/**
 * Output clamp range of a fused activation on the quantized grid: ReLU gives
 * lo = z_out; ReLU6 also hi = z_out + round(6 / s_out); both capped at the dtype's range.
 */
export function activationRange(act: Activation, sOut: number, zOut: number, dtype: QDType): [number, number] {
  const [qmin, qmax] = dtypeRange(dtype);
  if (act === 'none') return [qmin, qmax];
  const lo = Math.max(qmin, zOut);
  if (act === 'relu') return [lo, qmax];
  return [lo, Math.min(qmax, zOut + Math.round(f32(6 / f32(sOut))))];
}

/** y = clamp(rint_half_even(f32(acc) · s) + z_out, lo, hi), the product in float32. */
export function requantize(acc: number, s: number, zOut: number, lo: number, hi: number): number {
  const v = rintHalfEven(f32(f32(acc) * s)) + zOut;
  return v < lo ? lo : v > hi ? hi : v;
}

function makeArray(dtype: QDType, n: number): QArray {
  return dtype === 'u8' ? new Uint8Array(n) : new Int8Array(n);
}

export interface QImage {
  h: number;
  w: number;
  c: number;
  data: QArray;
}

/** Per-output-channel weight zero points and multipliers (length 1 = per tensor). */
export interface QConvParams {
  stride: [number, number];
  dilation: [number, number];
  pad: Padding;
  /** Input zero point (padding contributes x − zx = 0: TF SAME pads with the zero point). */
  zx: number;
  zw: ArrayLike<number>;
  /** Requantization multiplier per output channel (requantScale). */
  scale: ArrayLike<number>;
  zOut: number;
  lo: number;
  hi: number;
  outDtype: QDType;
}

const perChannel = (a: ArrayLike<number>, c: number): number => a[a.length === 1 ? 0 : c]!;

function outSize(n: number, k: number, s: number, d: number, a: number, b: number): number {
  return Math.floor((n + a + b - ((k - 1) * d + 1)) / s) + 1;
}

/** Quantized conv2d, weights OHWI [oc][kh][kw][ic]. */
export function refQConv2d(
  x: QImage,
  w: ArrayLike<number>,
  oc: number,
  kh: number,
  kw: number,
  bias: Int32Array | null,
  p: QConvParams,
): QImage {
  const oh = outSize(x.h, kh, p.stride[0], p.dilation[0], p.pad.top, p.pad.bottom);
  const ow = outSize(x.w, kw, p.stride[1], p.dilation[1], p.pad.left, p.pad.right);
  const y = makeArray(p.outDtype, oh * ow * oc);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < oc; o++) {
        const zw = perChannel(p.zw, o);
        let acc = bias ? bias[o]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride[0] - p.pad.top + ky * p.dilation[0];
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride[1] - p.pad.left + kx * p.dilation[1];
            if (ix < 0 || ix >= x.w) continue;
            const xb = (iy * x.w + ix) * x.c;
            const wb = ((o * kh + ky) * kw + kx) * x.c;
            for (let i = 0; i < x.c; i++) acc += (x.data[xb + i]! - p.zx) * (w[wb + i]! - zw);
          }
        }
        y[(oy * ow + ox) * oc + o] = requantize(acc, perChannel(p.scale, o), p.zOut, p.lo, p.hi);
      }
    }
  }
  return { h: oh, w: ow, c: oc, data: y };
}

/** Quantized depthwise conv (depth multiplier 1), weights [1][kh][kw][C]. */
export function refQDepthwiseConv2d(
  x: QImage,
  w: ArrayLike<number>,
  kh: number,
  kw: number,
  bias: Int32Array | null,
  p: QConvParams,
): QImage {
  const c = x.c;
  const oh = outSize(x.h, kh, p.stride[0], p.dilation[0], p.pad.top, p.pad.bottom);
  const ow = outSize(x.w, kw, p.stride[1], p.dilation[1], p.pad.left, p.pad.right);
  const y = makeArray(p.outDtype, oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = 0; ch < c; ch++) {
        const zw = perChannel(p.zw, ch);
        let acc = bias ? bias[ch]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride[0] - p.pad.top + ky * p.dilation[0];
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride[1] - p.pad.left + kx * p.dilation[1];
            if (ix < 0 || ix >= x.w) continue;
            acc += (x.data[(iy * x.w + ix) * c + ch]! - p.zx) * (w[(ky * kw + kx) * c + ch]! - zw);
          }
        }
        y[(oy * ow + ox) * c + ch] = requantize(acc, perChannel(p.scale, ch), p.zOut, p.lo, p.hi);
      }
    }
  }
  return { h: oh, w: ow, c, data: y };
}

/** Fully connected, weights [n][k]: the same arithmetic as a 1x1 conv on one pixel. */
export function refQFullyConnected(
  x: QArray,
  w: ArrayLike<number>,
  n: number,
  bias: Int32Array | null,
  p: Omit<QConvParams, 'stride' | 'dilation' | 'pad'>,
): QArray {
  const k = x.length;
  const y = makeArray(p.outDtype, n);
  for (let o = 0; o < n; o++) {
    const zw = perChannel(p.zw, o);
    let acc = bias ? bias[o]! : 0;
    for (let i = 0; i < k; i++) acc += (x[i]! - p.zx) * (w[o * k + i]! - zw);
    y[o] = requantize(acc, perChannel(p.scale, o), p.zOut, p.lo, p.hi);
  }
  return y;
}

export interface QAddParams {
  za: number;
  sa: number;
  zb: number;
  sb: number;
  sOut: number;
  zOut: number;
  lo: number;
  hi: number;
  outDtype: QDType;
}

/** Float32 bit pattern and back. */
const f32Bits = (v: number): number => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v);
  return b.getUint32(0);
};
const bitsF32 = (u: number): number => {
  const b = new DataView(new ArrayBuffer(4));
  b.setUint32(0, u >>> 0);
  return b.getFloat32(0);
};

/**
 * Fixed-point parameters of ADD (XNNPACK's quantized add, which TFLite's
 * delegate runs): the input/output scale ratios ra = f32(sa/so), rb = f32(sb/so)
 * become integer multipliers ma = rint(ra · 2^shift), mb = rint(rb · 2^shift)
 * with shift = 20 − exponent(max(ra, rb)) (so the larger multiplier has 21
 * bits), and
 *   y = clamp(((ma·(a − za) + mb·(b − zb) + 2^(shift−1)) >> shift) + zo, lo, hi)
 * (arithmetic shift: rounds half up). The README's float formula
 * rint(f32(a−za)·ra + f32(b−zb)·rb) agrees on cat.png but not on every input
 * (grace_hopper.png differs by one in one value of the first ADD); this one
 * matches TFLite's fingerprints on both images.
 */
export function addParams(sa: number, sb: number, sOut: number): { ma: number; mb: number; shift: number } {
  const ra = f32(f32(sa) / f32(sOut));
  const rb = f32(f32(sb) / f32(sOut));
  const maxBits = f32Bits(Math.max(Math.abs(ra), Math.abs(rb)));
  const shift = 20 - (((maxBits >>> 23) & 0xff) - 127);
  if (shift < 12 || shift > 30)
    throw new Error(
      `ADD: input/output scale ratios ${ra} and ${rb} are outside the range the fixed-point add supports (shift ${shift} not in [12, 30])`,
    );
  const mul = (r: number) => Math.sign(r) * rintHalfEven(bitsF32(f32Bits(Math.abs(r)) + shift * 2 ** 23));
  return { ma: mul(ra), mb: mul(rb), shift };
}

/** ADD with requantization (see addParams). */
export function refQAdd(a: QArray, b: QArray, p: QAddParams): QArray {
  const { ma, mb, shift } = addParams(p.sa, p.sb, p.sOut);
  const round = 2 ** (shift - 1);
  const y = makeArray(p.outDtype, a.length);
  for (let i = 0; i < a.length; i++) {
    const acc = ma * (a[i]! - p.za) + mb * (b[i]! - p.zb) + round;
    const v = Math.floor(acc / 2 ** shift) + p.zOut;
    y[i] = v < p.lo ? p.lo : v > p.hi ? p.hi : v;
  }
  return y;
}

/**
 * Integer average of n values: (sum + n/2) / n rounding half away from zero,
 * C integer division (TFLite's quantized AVERAGE_POOL_2D; 7x7 gives (sum + 24) / 49).
 */
export function roundedAverage(sum: number, n: number): number {
  const half = Math.floor(n / 2);
  return sum >= 0 ? Math.trunc((sum + half) / n) : Math.trunc((sum - half) / n);
}

/**
 * Global average over H×W when input and output share scale and zero point
 * (TFLite AVERAGE_POOL_2D): y = clamp(roundedAverage(Σx), lo, hi).
 */
export function refQGlobalAvgPool(x: QImage, lo: number, hi: number, outDtype: QDType): QArray {
  const n = x.h * x.w;
  const y = makeArray(outDtype, x.c);
  for (let c = 0; c < x.c; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[i * x.c + c]!;
    const v = roundedAverage(s, n);
    y[c] = v < lo ? lo : v > hi ? hi : v;
  }
  return y;
}

/**
 * Windowed AVERAGE_POOL_2D on one grid (TFLite's builtin): the rounded integer mean of
 * the window's taps inside the image (padding is not counted), clamped to [lo, hi].
 */
export function refQAvgPool(
  x: QImage,
  kh: number,
  kw: number,
  stride: [number, number],
  pad: Padding,
  lo: number,
  hi: number,
  outDtype: QDType,
): QImage {
  const oh = outSize(x.h, kh, stride[0], 1, pad.top, pad.bottom);
  const ow = outSize(x.w, kw, stride[1], 1, pad.left, pad.right);
  const y = makeArray(outDtype, oh * ow * x.c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let c = 0; c < x.c; c++) {
        let s = 0;
        let n = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride[0] - pad.top + ky;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * stride[1] - pad.left + kx;
            if (ix < 0 || ix >= x.w) continue;
            s += x.data[(iy * x.w + ix) * x.c + c]!;
            n++;
          }
        }
        const v = n ? roundedAverage(s, n) : 0;
        y[(oy * ow + ox) * x.c + c] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
  return { h: oh, w: ow, c: x.c, data: y };
}

/**
 * MEAN over H×W with its own output quantization: acc = Σ(x − zx) in int32,
 * y = clamp(rint_half_even(f32(acc) · s) + z_out) with s = f32(s_in / f32(s_out · n)).
 */
export function refQMean(
  x: QImage,
  zx: number,
  s: number,
  zOut: number,
  lo: number,
  hi: number,
  outDtype: QDType,
): QArray {
  const n = x.h * x.w;
  const y = makeArray(outDtype, x.c);
  for (let c = 0; c < x.c; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += x.data[i * x.c + c]! - zx;
    y[c] = requantize(acc, s, zOut, lo, hi);
  }
  return y;
}

/** Multiplier of refQMean: s_in / (s_out · n) in float32. */
export function meanScale(sIn: number, sOut: number, n: number): number {
  return f32(f32(sIn) / f32(f32(sOut) * n));
}

/**
 * SOFTMAX on quantized input (TFLite's builtin, float32 throughout):
 * e_i = exp(f32(−s_in·β) · (max − x_i)); y_i = clamp(rint(e_i · f32(1 / (Σe · s_out))) + z_out).
 * Σe runs in index order. exp is float32 exp (the WASM kernel uses AssemblyScript's
 * Mathf.exp; here the correctly rounded value of Math.exp, which can differ by an ulp).
 */
export function refQSoftmax(
  x: QArray,
  n: number,
  sIn: number,
  beta: number,
  sOut: number,
  zOut: number,
  outDtype: QDType,
): QArray {
  const [qmin, qmax] = dtypeRange(outDtype);
  const y = makeArray(outDtype, x.length);
  const k = f32(-f32(sIn) * f32(beta));
  const e = (d: number) => f32(Math.exp(f32(k * d)));
  for (let r = 0; r < x.length; r += n) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[r + i]!);
    let sum = 0;
    for (let i = 0; i < n; i++) sum = f32(sum + e(m - x[r + i]!));
    const inv = f32(1 / f32(sum * f32(sOut)));
    for (let i = 0; i < n; i++) {
      const v = rintHalfEven(f32(e(m - x[r + i]!) * inv)) + zOut;
      y[r + i] = v < qmin ? qmin : v > qmax ? qmax : v;
    }
  }
  return y;
}

/**
 * QUANTIZE between quantized types of different signedness (u8 → i8, i8 → u8; TFLite's
 * builtin): y = clamp(rint_half_even(f32(x − zx) · f32(s_in / s_out)) + z_out). With
 * equal scales this is the exact zero-point shift (u8 → i8 with zero points 128 apart: x − 128).
 * Same-type requantization (u8 → u8, i8 → i8) runs in XNNPACK instead: refQConvert.
 */
export function refQRequantize(
  x: QArray,
  zx: number,
  sIn: number,
  sOut: number,
  zOut: number,
  outDtype: QDType,
): QArray {
  const [qmin, qmax] = dtypeRange(outDtype);
  const m = f32(f32(sIn) / f32(sOut));
  const y = makeArray(outDtype, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = rintHalfEven(f32(f32(x[i]! - zx) * m)) + zOut;
    y[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return y;
}

/** Input/output scale ratios XNNPACK's same-type convert accepts (TFLite's delegate leaves other QUANTIZE ops to the builtin). */
export const CONVERT_RATIO_RANGE: readonly [number, number] = [2 ** -8, 2 ** 7];

/**
 * Multiplier of XNNPACK's same-type convert (qu8/qs8 vcvt): m = lrintf(256 · f32(s_in / s_out)),
 * an 8-bit fixed-point ratio; null when the ratio is outside CONVERT_RATIO_RANGE.
 */
export function convertMultiplier(sIn: number, sOut: number): number | null {
  const r = f32(f32(sIn) / f32(sOut));
  if (!(r >= CONVERT_RATIO_RANGE[0] && r <= CONVERT_RATIO_RANGE[1])) return null;
  return rintHalfEven(f32(256 * r));
}

/**
 * QUANTIZE u8 → u8 or i8 → i8 as TFLite's XNNPACK delegate runs it (a convert with an
 * 8-bit fixed-point multiplier, checked on DeepLab's image-pooling branch: 0 mismatches,
 * where the float formula of refQRequantize misses 9,801 of 278,784 values):
 *   y = clamp(((x − zx)·m + 128) >> 8 + z_out),  m = convertMultiplier(s_in, s_out),
 * the shift arithmetic (rounding half up).
 */
export function refQConvert(x: QArray, zx: number, sIn: number, sOut: number, zOut: number, dtype: QDType): QArray {
  const m = convertMultiplier(sIn, sOut);
  if (m === null)
    throw new Error(
      `QUANTIZE ${dtype} → ${dtype}: scale ratio ${sIn}/${sOut} is outside [2^-8, 2^7], where TFLite does not run XNNPACK's convert`,
    );
  const [qmin, qmax] = dtypeRange(dtype);
  const y = makeArray(dtype, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = Math.floor(((x[i]! - zx) * m + 128) / 256) + zOut;
    y[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return y;
}

/** Source taps of one axis of a quantized bilinear resize: rows/columns i0, i1 and the 11-bit weight of i1. */
export interface Q11Taps {
  i0: Int32Array;
  i1: Int32Array;
  /** round(frac · 2048), 0..2048. */
  alpha: Int32Array;
}

/**
 * Taps of XNNPACK's quantized RESIZE_BILINEAR along one axis of n → outN, coordinates in
 * float32 as its indirection setup computes them:
 *   scale = f32(n − a) / f32(outN − a), a = 1 with alignCorners (and outN > 1), else 0;
 *   alignCorners or legacy (no half-pixel): s = f32(o · scale);
 *   half-pixel: s = clamp(f32(o · scale) + f32(0.5·scale − 0.5), 0, n − 1);
 *   i0 = trunc(s), i1 = min(i0 + 1, n − 1), alpha = lrintf((s − i0) · 2048).
 * (With half-pixel centres this clamps the coordinate, TF clamps the taps: the same values.)
 */
export function q11Taps(n: number, outN: number, alignCorners: boolean, halfPixelCenters: boolean): Q11Taps {
  const adj = alignCorners && outN !== 1 ? 1 : 0;
  const scale = f32(f32(n - adj) / f32(outN - adj));
  const offset = f32(f32(0.5 * scale) - 0.5);
  const i0 = new Int32Array(outN),
    i1 = new Int32Array(outN),
    alpha = new Int32Array(outN);
  for (let o = 0; o < outN; o++) {
    let s = f32(o * scale);
    if (!alignCorners && halfPixelCenters) s = Math.min(Math.max(f32(s + offset), 0), n - 1);
    const lo = Math.trunc(s);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, n - 1);
    alpha[o] = rintHalfEven(f32(f32(s - lo) * 2048));
  }
  return { i0, i1, alpha };
}

/**
 * Bilinear interpolation of four quantized values with 11-bit weights (XNNPACK's u8/s8
 * ibilinear micro-kernel, which TFLite's delegate runs for uint8 RESIZE_BILINEAR: checked on
 * DeepLab's three resizes, 0 mismatches): horizontal first, then vertical, in int32,
 *   t = (tl << 11) + (tr − tl)·ah,  b = (bl << 11) + (br − bl)·ah,
 *   y = ((t << 11) + (b − t)·av + 2^21) >> 22   (arithmetic shift: rounds half up).
 * Input and output share the quantization (TFLite requires it), so no requantization.
 */
export function q11Lerp(tl: number, tr: number, bl: number, br: number, ah: number, av: number): number {
  const t = tl * 2048 + (tr - tl) * ah;
  const b = bl * 2048 + (br - bl) * ah;
  return Math.floor((t * 2048 + (b - t) * av + 2 ** 21) / 2 ** 22);
}

/** RESIZE_BILINEAR on quantized NHWC (see q11Taps, q11Lerp). */
export function refQResizeBilinear(
  x: QImage,
  outH: number,
  outW: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
  dtype: QDType,
): QImage {
  const ty = q11Taps(x.h, outH, alignCorners, halfPixelCenters);
  const tx = q11Taps(x.w, outW, alignCorners, halfPixelCenters);
  const c = x.c;
  const y = makeArray(dtype, outH * outW * c);
  const at = (r: number, col: number, k: number) => x.data[(r * x.w + col) * c + k]!;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let k = 0; k < c; k++) {
        const r0 = ty.i0[oy]!,
          r1 = ty.i1[oy]!,
          c0 = tx.i0[ox]!,
          c1 = tx.i1[ox]!;
        y[(oy * outW + ox) * c + k] = q11Lerp(
          at(r0, c0, k),
          at(r0, c1, k),
          at(r1, c0, k),
          at(r1, c1, k),
          tx.alpha[ox]!,
          ty.alpha[oy]!,
        );
      }
    }
  }
  return { h: outH, w: outW, c, data: y };
}

/**
 * ARG_MAX over the last axis of rows of n quantized values (TFLite's builtin): the index
 * of the first maximum. The quantization is monotonic, so the raw bytes (as their dtype)
 * decide; ties go to the lower index.
 */
export function refQArgMax(x: QArray, n: number): Int32Array {
  const rows = x.length / n;
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bv = x[r * n]!;
    for (let i = 1; i < n; i++) {
      const v = x[r * n + i]!;
      if (v > bv) {
        bv = v;
        best = i;
      }
    }
    y[r] = best;
  }
  return y;
}

/**
 * CONCATENATION of inputs already on the output's grid (same scale and zero point: TFLite
 * copies the bytes) along `axis` of the shapes given.
 */
export function refQConcat(parts: { data: QArray; shape: readonly number[] }[], axis: number, dtype: QDType): QArray {
  const shape = parts[0]!.shape;
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = parts.map((p) => p.shape.slice(axis).reduce((a, d) => a * d, 1));
  const row = inner.reduce((a, b) => a + b, 0);
  const y = makeArray(dtype, outer * row);
  for (let o = 0; o < outer; o++) {
    let col = 0;
    parts.forEach((p, i) => {
      y.set(p.data.subarray(o * inner[i]!, (o + 1) * inner[i]!), o * row + col);
      col += inner[i]!;
    });
  }
  return y;
}
