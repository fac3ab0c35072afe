/**
 * Scalar reference implementations of every float op, on natural layouts
 * (NHWC activations without the batch dimension, OHWI conv weights,
 * [1,kh,kw,C·m] depthwise weights, [N,K] fully-connected weights).
 * Accumulation is float64: these are the yardstick the WASM kernels are
 * tested against, not fast code.
 */
import type { Activation, Padding } from '../../planner/ir.js';

export function activate(v: number, act: Activation): number {
  if (act === 'relu6') return v < 0 ? 0 : v > 6 ? 6 : v;
  if (act === 'relu') return v < 0 ? 0 : v;
  return v;
}

export interface ConvParams {
  stride: [number, number];
  dilation: [number, number];
  pad: Padding;
  act: Activation;
}

export interface Image {
  h: number;
  w: number;
  c: number;
  data: Float32Array;
}

function outSize(n: number, k: number, s: number, d: number, a: number, b: number): number {
  return Math.floor((n + a + b - ((k - 1) * d + 1)) / s) + 1;
}

/** conv2d: weights OHWI [oc, kh, kw, ic]. */
export function refConv2d(
  x: Image,
  w: Float32Array,
  oc: number,
  kh: number,
  kw: number,
  bias: Float32Array | null,
  p: ConvParams,
): Image {
  const oh = outSize(x.h, kh, p.stride[0], p.dilation[0], p.pad.top, p.pad.bottom);
  const ow = outSize(x.w, kw, p.stride[1], p.dilation[1], p.pad.left, p.pad.right);
  const y = new Float32Array(oh * ow * oc);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < oc; o++) {
        let acc = bias ? bias[o]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride[0] - p.pad.top + ky * p.dilation[0];
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride[1] - p.pad.left + kx * p.dilation[1];
            if (ix < 0 || ix >= x.w) continue;
            const xb = (iy * x.w + ix) * x.c;
            const wb = ((o * kh + ky) * kw + kx) * x.c;
            for (let i = 0; i < x.c; i++) acc += x.data[xb + i]! * w[wb + i]!;
          }
        }
        y[(oy * ow + ox) * oc + o] = activate(acc, p.act);
      }
    }
  }
  return { h: oh, w: ow, c: oc, data: y };
}

/** Depthwise conv: weights [1, kh, kw, c·m]; output channel i·m + j reads input channel i. */
export function refDepthwiseConv2d(
  x: Image,
  w: Float32Array,
  kh: number,
  kw: number,
  multiplier: number,
  bias: Float32Array | null,
  p: ConvParams,
): Image {
  const oc = x.c * multiplier;
  const oh = outSize(x.h, kh, p.stride[0], p.dilation[0], p.pad.top, p.pad.bottom);
  const ow = outSize(x.w, kw, p.stride[1], p.dilation[1], p.pad.left, p.pad.right);
  const y = new Float32Array(oh * ow * oc);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < oc; o++) {
        const ic = Math.floor(o / multiplier);
        let acc = bias ? bias[o]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride[0] - p.pad.top + ky * p.dilation[0];
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride[1] - p.pad.left + kx * p.dilation[1];
            if (ix < 0 || ix >= x.w) continue;
            acc += x.data[(iy * x.w + ix) * x.c + ic]! * w[(ky * kw + kx) * oc + o]!;
          }
        }
        y[(oy * ow + ox) * oc + o] = activate(acc, p.act);
      }
    }
  }
  return { h: oh, w: ow, c: oc, data: y };
}

export function refAdd(a: Float32Array, b: Float32Array, act: Activation): Float32Array {
  const y = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = activate(a[i]! + b[i]!, act);
  return y;
}

export function refGlobalAvgPool(x: Image): Float32Array {
  const y = new Float32Array(x.c);
  const n = x.h * x.w;
  for (let c = 0; c < x.c; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x.data[i * x.c + c]!;
    y[c] = s / n;
  }
  return y;
}

/** Average pool; padded pixels are not counted (TF/TFLite semantics). */
export function refAvgPool(x: Image, kh: number, kw: number, p: Omit<ConvParams, 'dilation'>): Image {
  const oh = outSize(x.h, kh, p.stride[0], 1, p.pad.top, p.pad.bottom);
  const ow = outSize(x.w, kw, p.stride[1], 1, p.pad.left, p.pad.right);
  const y = new Float32Array(oh * ow * x.c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let c = 0; c < x.c; c++) {
        let s = 0;
        let n = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * p.stride[0] - p.pad.top + ky;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * p.stride[1] - p.pad.left + kx;
            if (ix < 0 || ix >= x.w) continue;
            s += x.data[(iy * x.w + ix) * x.c + c]!;
            n++;
          }
        }
        y[(oy * ow + ox) * x.c + c] = activate(n ? s / n : 0, p.act);
      }
    }
  }
  return { h: oh, w: ow, c: x.c, data: y };
}

/** Fully connected: weights [n, k]. */
export function refFullyConnected(
  x: Float32Array,
  w: Float32Array,
  n: number,
  bias: Float32Array | null,
  act: Activation,
): Float32Array {
  const k = x.length;
  const y = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let i = 0; i < k; i++) acc += x[i]! * w[o * k + i]!;
    y[o] = activate(acc, act);
  }
  return y;
}

/** Softmax over the last axis of length `n` (beta scales the logits, as TFLite's SOFTMAX). */
export function refSoftmax(x: Float32Array, n: number, beta: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += n) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[r + i]!);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(beta * (x[r + i]! - m));
    for (let i = 0; i < n; i++) y[r + i] = Math.exp(beta * (x[r + i]! - m)) / s;
  }
  return y;
}

/** Concatenate tensors of equal shape outside `axis` (shapes given without dropping batch). */
export function refConcat(parts: { shape: number[]; data: Float32Array }[], axis: number): Float32Array {
  const shape = parts[0]!.shape;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const total = parts.reduce((s, p) => s + p.data.length, 0);
  const y = new Float32Array(total);
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const p of parts) {
      const inner = p.shape.slice(axis).reduce((a, b) => a * b, 1);
      y.set(p.data.subarray(i * inner, (i + 1) * inner), o);
      o += inner;
    }
  }
  return y;
}

/**
 * TF resize_bilinear. align_corners maps corner pixel centres onto each other
 * (scale (in-1)/(out-1)); half_pixel_centers samples at (o+0.5)·scale−0.5;
 * otherwise o·scale with scale in/out (TF1 legacy).
 */
export function refResizeBilinear(
  x: Image,
  oh: number,
  ow: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Image {
  const scale = (inN: number, outN: number) => (alignCorners && outN > 1 ? (inN - 1) / (outN - 1) : inN / outN);
  const sy = scale(x.h, oh);
  const sx = scale(x.w, ow);
  const y = new Float32Array(oh * ow * x.c);
  for (let oy = 0; oy < oh; oy++) {
    const fy = halfPixelCenters ? (oy + 0.5) * sy - 0.5 : oy * sy;
    const y0 = Math.max(0, Math.floor(fy));
    const y1 = Math.min(x.h - 1, Math.floor(fy) + 1);
    const dy = fy - Math.floor(fy);
    const y0c = Math.min(x.h - 1, y0);
    for (let ox = 0; ox < ow; ox++) {
      const fx = halfPixelCenters ? (ox + 0.5) * sx - 0.5 : ox * sx;
      const x0 = Math.min(x.w - 1, Math.max(0, Math.floor(fx)));
      const x1 = Math.min(x.w - 1, Math.max(0, Math.floor(fx) + 1));
      const dx = fx - Math.floor(fx);
      for (let c = 0; c < x.c; c++) {
        const p00 = x.data[(y0c * x.w + x0) * x.c + c]!;
        const p01 = x.data[(y0c * x.w + x1) * x.c + c]!;
        const p10 = x.data[(y1 * x.w + x0) * x.c + c]!;
        const p11 = x.data[(y1 * x.w + x1) * x.c + c]!;
        const top = p00 + (p01 - p00) * dx;
        const bot = p10 + (p11 - p10) * dx;
        y[(oy * ow + ox) * x.c + c] = top + (bot - top) * dy;
      }
    }
  }
  return { h: oh, w: ow, c: x.c, data: y };
}

/** Index of the first maximum along the last axis of length n. */
export function refArgMax(x: Float32Array, n: number): Int32Array {
  const y = new Int32Array(x.length / n);
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (x[r * n + i]! > x[r * n + best]!) best = i;
    y[r] = best;
  }
  return y;
}
