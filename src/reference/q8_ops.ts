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
export function refQConv2d(x: QImage, w: ArrayLike<number>, oc: number, kh: number, kw: number, bias: Int32Array | null, p: QConvParams): QImage {
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
export function refQDepthwiseConv2d(x: QImage, w: ArrayLike<number>, kh: number, kw: number, bias: Int32Array | null, p: QConvParams): QImage {
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
export function refQFullyConnected(x: QArray, w: ArrayLike<number>, n: number, bias: Int32Array | null, p: Omit<QConvParams, 'stride' | 'dilation' | 'pad'>): QArray {
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
  if (shift < 12 || shift > 30) throw new Error(`ADD: input/output scale ratios ${ra} and ${rb} are outside the range the fixed-point add supports (shift ${shift} not in [12, 30])`);
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
export function refQAvgPool(x: QImage, kh: number, kw: number, stride: [number, number], pad: Padding, lo: number, hi: number, outDtype: QDType): QImage {
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
export function refQMean(x: QImage, zx: number, s: number, zOut: number, lo: number, hi: number, outDtype: QDType): QArray {
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
export function refQSoftmax(x: QArray, n: number, sIn: number, beta: number, sOut: number, zOut: number, outDtype: QDType): QArray {
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
 * QUANTIZE between quantized types (u8 → i8, u8 → u8 requantization):
 * y = clamp(rint_half_even(f32(x − zx) · f32(s_in / s_out)) + z_out). With equal
 * scales this is the exact zero-point shift (u8 → i8 with zero points 128 apart: x − 128).
 */
export function refQRequantize(x: QArray, zx: number, sIn: number, sOut: number, zOut: number, outDtype: QDType): QArray {
  const [qmin, qmax] = dtypeRange(outDtype);
  const m = f32(f32(sIn) / f32(sOut));
  const y = makeArray(outDtype, x.length);
  for (let i = 0; i < x.length; i++) {
    const v = rintHalfEven(f32(f32(x[i]! - zx) * m)) + zOut;
    y[i] = v < qmin ? qmin : v > qmax ? qmax : v;
  }
  return y;
}
