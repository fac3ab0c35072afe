/**
 * q8 weight packers: quantized weights in their natural layouts (OHWI conv, [1,3,3,C]
 * depthwise, [N,K] fully connected) to the byte layouts the q8 WASM kernels stream: one
 * byte per weight, as in the file, plus padding (XNNPACK's qs8/qu8 packing keeps weights
 * one byte too and widens in registers). The zero points fold into the int32 bias
 * (assembly/q8_gemm.ts explains the arithmetic):
 *   w' = w − zw,  b' = bias − zx · Σ w'.
 * int8 weights are stored as w − zw, which for TFLite's int8 files (filter zero point 0)
 * are the file's bytes. uint8 weights are stored as they are; their one zero point (the
 * `rq` block's word 11, q8OutputParams) is subtracted by the conv and depthwise kernels
 * after widening and taken out as zw·Σx by the GEMM, so conv and depthwise padding holds
 * zw (w' = 0) and GEMM padding 0 (x·w = 0).
 * Also the per-channel float32 multipliers and the 48-byte output parameter block.
 * Every packer takes a channel slice so that a fused block can pack just its part.
 */

import { encodeQ8Rq, Q8_RQ_BYTES } from './gen/abi.js';
import {
  packQ8ConvLength,
  packQ8GemmLength,
  q8ConvSegments,
  q8DepthwisePairBytes,
  q8DepthwiseStride,
  Q8_NR,
} from './schema/layouts.js';

// The layouts' sizes are declared with the kernel schema, which the range manifest reads too.
export {
  packQ8ConvLength,
  packQ8GemmLength,
  q8ConvSegments,
  q8DepthwisePairBytes,
  q8DepthwiseStride,
  Q8_NR,
  Q8_RQ_BYTES,
};

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Quantized weights as the file holds them: uint8 (TF1 files) or int8 (TF2 files). */
export type QWeights = Uint8Array | Int8Array;
/** Packed weights: one byte per weight, of the same signedness as the file's. */
export type QPacked = Uint8Array | Int8Array;

function checkRange(what: string, start: number, count: number, total: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > total) {
    throw new Error(`${what}: slice [${start}, ${start + count}) is not inside [0, ${total})`);
  }
}

const zpOf = (zw: ArrayLike<number>, n: number): number => zw[zw.length === 1 ? 0 : n]!;

/**
 * The weight zero point the kernels subtract in registers (the `rq` block's word 11): the
 * one zero point of uint8 weights, 0 for int8 weights (stored with theirs subtracted).
 * uint8 weights need one zero point for all channels, as TFLite's uint8 kernels and
 * XNNPACK's qu8 operators take.
 */
export function q8KernelZeroPoint(w: QWeights, zw: ArrayLike<number>): number {
  if (w instanceof Int8Array) return 0;
  const z = zw[0]!;
  for (let i = 1; i < zw.length; i++)
    if (zw[i] !== z)
      throw new Error(`uint8 weights with per-channel zero points (${z}, ${zw[i]}, …) are not supported`);
  return z;
}

/**
 * Packed bytes of the weights of slice channels n (nStart + n in w): uint8 stored as they
 * are, int8 as w − zw[n], which must fit a byte. Padding: `padZw` fills with the byte whose
 * w − zw is 0 (zw for uint8; for kernels that subtract zw from each weight: conv,
 * depthwise), else with 0 (the GEMM, which takes zw·Σx out of the sum instead and needs
 * padding that adds nothing to Σ x·w).
 */
function byteWriter(
  w: QWeights,
  zw: ArrayLike<number>,
  nStart: number,
  what: string,
  padZw: boolean,
  into: Uint8Array | undefined,
) {
  const signed = w instanceof Int8Array;
  const kz = q8KernelZeroPoint(w, zw);
  return {
    /** The packed array: a view of `into` when given (it must be `length` bytes), else a new one. */
    alloc(length: number): QPacked {
      if (into && into.length !== length)
        throw new Error(`${what}: the destination holds ${into.length} bytes, the packed weights ${length}`);
      const bytes = into ?? new Uint8Array(length);
      if (!signed) return bytes.fill(padZw ? kz : 0);
      const out = new Int8Array(bytes.buffer, bytes.byteOffset, length);
      if (into) out.fill(0);
      return out;
    },
    value(n: number, v: number): number {
      if (!signed) return v;
      const d = v - zpOf(zw, nStart + n);
      if (d < -128 || d > 127)
        throw new Error(`${what}: int8 weight ${v} of channel ${nStart + n} minus its zero point does not fit a byte`);
      return d;
    },
  };
}

/**
 * Byte offset of weight (j, k) inside one panel's run of L reduction inputs (the whole row
 * of a GEMM, one segment of a conv), 8 channels j, 16 bytes per k-pair:
 *  - the first L8 = L & ~7 inputs go in blocks of 8 (4 pairs, 64 bytes): 4 steps of 16
 *    bytes, channels 0..3 then 4..7, 2 bytes each; at step r channel j holds pair
 *    (j + r) mod 4 of the block. The kernels widen a row's 8 bytes once and rotate its four
 *    pairs by r (i32x4.shuffle) for step r, as XNNPACK's "c2s4" GEMMs do, instead of
 *    broadcasting each pair (4 shuffles per row for 4 pairs become 3);
 *  - then the remaining pairs, 16 bytes each: [j][h] (the pair broadcast to every channel);
 *    an odd last input pairs with a zero weight.
 */
function runOffset(j: number, k: number, L: number): number {
  const L8 = L & ~7;
  if (k < L8) {
    const q = (k & 7) >> 1,
      jj = j & 3,
      r = (q - jj) & 3;
    return (k >> 3) * 64 + r * 16 + (j >> 2) * 8 + jj * 2 + (k & 1);
  }
  return L8 * 8 + ((k - L8) >> 1) * 16 + j * 2 + (k & 1);
}

/**
 * Rows nStart..nStart+nCount, columns kStart..kStart+kCount of w ([N][K], K contiguous) as
 * panels of 8 channels, each ceil(kCount/2) k-pairs of 16 bytes in the order of runOffset:
 * weight w[n][k] (int8: − zw[n]) of n = nStart+8p+j, k = kStart+k' at byte
 * p·ceil(kCount/2)·16 + runOffset(j, k', kCount); padding past nCount or kCount. The k-range
 * [k0, k0+c) of a panel with k0 % 8 = 0 and c % 8 = 0 (or k0 + c = kCount) is the packed
 * matrix of those columns alone, starting at byte 8·k0 of the panel. Written into `into` when
 * given (the blob's place in memory, WeightsImage.add), else into a new array.
 */
export function packQ8Gemm(
  w: QWeights,
  N: number,
  K: number,
  zw: ArrayLike<number>,
  nStart = 0,
  nCount = N,
  kStart = 0,
  kCount = K,
  into?: Uint8Array,
): QPacked {
  if (w.length !== N * K) throw new Error(`packQ8Gemm: weights have ${w.length} values, expected N·K = ${N}·${K}`);
  checkRange('packQ8Gemm (output channels)', nStart, nCount, N);
  checkRange('packQ8Gemm (input channels)', kStart, kCount, K);
  const panelBytes = Math.ceil(kCount / 2) * 16;
  const wr = byteWriter(w, zw, nStart, 'packQ8Gemm', false, into);
  const out = wr.alloc(packQ8GemmLength(nCount, kCount));
  for (let n = 0; n < nCount; n++) {
    const base = Math.floor(n / Q8_NR) * panelBytes,
      j = n % Q8_NR;
    for (let k = 0; k < kCount; k++)
      out[base + runOffset(j, k, kCount)] = wr.value(n, w[(nStart + n) * K + kStart + k]!);
  }
  return out;
}

/**
 * Conv weights OHWI [OC][kh][kw][C], output channels ocStart..ocStart+ocCount: panels of 8
 * channels, each segment (q8ConvSegments) a run of its own in the GEMM order (runOffset),
 * padded with a zero weight to an even length so that no k-pair straddles two segments.
 */
export function packQ8Conv(
  w: QWeights,
  OC: number,
  kh: number,
  kw: number,
  C: number,
  zw: ArrayLike<number>,
  ocStart = 0,
  ocCount = OC,
  dilationW = 1,
  into?: Uint8Array,
): QPacked {
  if (w.length !== OC * kh * kw * C)
    throw new Error(`packQ8Conv: weights have ${w.length} values, expected OC·kh·kw·C = ${OC}·${kh}·${kw}·${C}`);
  checkRange('packQ8Conv (output channels)', ocStart, ocCount, OC);
  const seg = q8ConvSegments(kh, kw, C, dilationW);
  const segBytes = Math.ceil(seg.length / 2) * 16;
  const wr = byteWriter(w, zw, ocStart, 'packQ8Conv', true, into);
  const out = wr.alloc(packQ8ConvLength(ocCount, kh, kw, C, dilationW));
  for (let o = 0; o < ocCount; o++) {
    const base = Math.floor(o / Q8_NR) * seg.count * segBytes,
      j = o % Q8_NR;
    // Segments are consecutive runs of the OHWI row (kh·kw·C values in order), each laid
    // out as a run of its own (runOffset).
    for (let sg = 0; sg < seg.count; sg++)
      for (let e = 0; e < seg.length; e++)
        out[base + sg * segBytes + runOffset(j, e, seg.length)] = wr.value(
          o,
          w[(ocStart + o) * kh * kw * C + sg * seg.length + e]!,
        );
  }
  return out;
}

/**
 * Folded bias of output channels nStart..nStart+nCount: b'[n] = bias[n] − zx · Σ_k (w[n][k] − zw[n])
 * over all K inputs of the row (K = kh·kw·C for a conv), padded with zeros to a multiple of 8.
 */
export function foldQ8Bias(
  bias: Int32Array | null,
  w: ArrayLike<number>,
  N: number,
  K: number,
  zw: ArrayLike<number>,
  zx: number,
  nStart = 0,
  nCount = N,
): Int32Array {
  if (w.length !== N * K) throw new Error(`foldQ8Bias: weights have ${w.length} values, expected N·K = ${N}·${K}`);
  checkRange('foldQ8Bias (output channels)', nStart, nCount, N);
  if (bias && bias.length !== N) throw new Error(`foldQ8Bias: bias has ${bias.length} values for ${N} channels`);
  const out = new Int32Array(roundUp(nCount, Q8_NR));
  for (let i = 0; i < nCount; i++) {
    const n = nStart + i;
    const z = zpOf(zw, n);
    let s = 0;
    for (let k = 0; k < K; k++) s += w[n * K + k]! - z;
    const v = (bias ? bias[n]! : 0) - zx * s;
    if (v < -(2 ** 31) || v >= 2 ** 31)
      throw new Error(`foldQ8Bias: folded bias of channel ${n} (${v}) does not fit int32`);
    out[i] = v;
  }
  return out;
}

/** Per-channel multipliers nStart..nStart+nCount as float32, padded with zeros to a multiple of 8. */
export function padQ8Scales(scale: ArrayLike<number>, N: number, nStart = 0, nCount = N): Float32Array {
  checkRange('padQ8Scales', nStart, nCount, N);
  const out = new Float32Array(roundUp(nCount, Q8_NR));
  for (let i = 0; i < nCount; i++) out[i] = scale[scale.length === 1 ? 0 : nStart + i]!;
  return out;
}

/**
 * Depthwise 3x3 weights [1][3][3][C], channels cStart..cStart+cCount, as byte tap pairs:
 * out[p][c][h] = w[(2p+h)·C + cStart + c] (int8: − zw[cStart + c]) for taps 2p+h ≤ 8 (the
 * pair of tap 8 has a zero second weight); Cw = q8DepthwiseStride(cCount) channels per
 * pair row, padding past cCount.
 */
export function packQ8Depthwise(
  w: QWeights,
  C: number,
  zw: ArrayLike<number>,
  cStart = 0,
  cCount = C,
  into?: Uint8Array,
): QPacked {
  if (w.length !== 9 * C) throw new Error(`packQ8Depthwise: weights have ${w.length} values, expected 3·3·C = 9·${C}`);
  checkRange('packQ8Depthwise (channels)', cStart, cCount, C);
  const Cw = q8DepthwiseStride(cCount);
  const wr = byteWriter(w, zw, cStart, 'packQ8Depthwise', true, into);
  const out = wr.alloc(5 * Cw * 2);
  for (let t = 0; t < 9; t++) {
    const p = t >> 1,
      h = t & 1;
    for (let c = 0; c < cCount; c++) out[(p * Cw + c) * 2 + h] = wr.value(c, w[t * C + cStart + c]!);
  }
  return out;
}

/** Folded depthwise bias b'[c] = bias[c] − zx · Σ_tap (w − zw), padded like the tap rows. */
export function foldQ8DepthwiseBias(
  bias: Int32Array | null,
  w: ArrayLike<number>,
  C: number,
  zw: ArrayLike<number>,
  zx: number,
  cStart = 0,
  cCount = C,
): Int32Array {
  checkRange('foldQ8DepthwiseBias (channels)', cStart, cCount, C);
  const out = new Int32Array(q8DepthwiseStride(cCount));
  for (let i = 0; i < cCount; i++) {
    const c = cStart + i;
    let s = 0;
    for (let t = 0; t < 9; t++) s += w[t * C + c]! - zpOf(zw, c);
    out[i] = (bias ? bias[c]! : 0) - zx * s;
  }
  return out;
}

/** Depthwise multipliers padded like the tap rows. */
export function padQ8DepthwiseScales(scale: ArrayLike<number>, C: number, cStart = 0, cCount = C): Float32Array {
  checkRange('padQ8DepthwiseScales', cStart, cCount, C);
  const out = new Float32Array(q8DepthwiseStride(cCount));
  for (let i = 0; i < cCount; i++) out[i] = scale[scale.length === 1 ? 0 : cStart + i]!;
  return out;
}

/** Residual ADD of a fused block's projection P with the block input (addParams of src/reference/q8_ops.ts). */
export interface Q8Residual {
  zRes: number;
  mP: number;
  mRes: number;
  shift: number;
  zY: number;
  loY: number;
  hiY: number;
}

/**
 * The `rq` block (Q8_RQ, src/kernels/schema/structs.ts): output zero point and clamp range,
 * optionally the residual ADD, and the zero point the kernel subtracts from the packed
 * weights (q8KernelZeroPoint: the one of uint8 weights, 0 for int8).
 */
export function q8OutputParams(
  z: number,
  lo: number,
  hi: number,
  residual?: Q8Residual,
  weightZeroPoint = 0,
): Int32Array {
  const r = residual;
  return encodeQ8Rq({
    z,
    lo,
    hi,
    residual: r ? 1 : 0,
    zRes: r?.zRes ?? 0,
    mP: r?.mP ?? 0,
    mRes: r?.mRes ?? 0,
    shift: r?.shift ?? 0,
    zY: r?.zY ?? 0,
    loY: r?.loY ?? 0,
    hiY: r?.hiY ?? 0,
    zw: weightZeroPoint,
  });
}
