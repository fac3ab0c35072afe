/**
 * CONV_2D: 1x1 convolutions as GEMMs, the 3x3 stride-2 stem, and any other
 * kernel size through the generic convolution; float and integer.
 */
import type { Conv2DOp } from '../../../planner/ir.js';
import * as pack from '../../kernels/pack.js';
import * as q8 from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import { splitChannels, splitRows } from '../../../planner/threads.js';
import {
  NOTHING,
  splitBinder,
  biasConst,
  clampOf,
  f32Const,
  intConst,
  ioQuant,
  ioQuantizedReason,
  is1x1,
  is3x3s2,
  kernelZeroPoint,
  nhwc,
  weightsReason,
  ioArgs,
  planeArgs,
  windowArgs,
  type BindContext,
  type Call,
  type OpLowering,
} from './context.js';

const roundUp8 = (n: number) => Math.ceil(n / q8.Q8_NR) * q8.Q8_NR;

/**
 * The pieces of an M × N GEMM for `threads` threads: ranges of its rows, or of its output
 * channels (8-channel panels) when it has one row (a fully connected layer); undefined with
 * one thread. `part(c, rows, channels)` binds one piece.
 */
export function gemmPieces(
  M: number,
  N: number,
  threads: number,
  part: (c: BindContext, rows: [number, number], channels: [number, number]) => Call,
): ((c: BindContext, piece: number) => Call) | undefined {
  if (threads < 2) return undefined;
  const rows = M > 1 ? splitRows(M, threads) : null;
  const channels = M > 1 ? null : splitChannels(N, threads, q8.Q8_NR);
  return (c, piece) => {
    const r = rows ? rows[piece]! : ([0, M] as [number, number]);
    const n = channels ? channels[piece]! : ([0, N] as [number, number]);
    return r[1] > r[0] && n[1] > n[0] ? part(c, r, n) : NOTHING;
  };
}

export const conv2d: OpLowering<Conv2DOp> = {
  float({ model, graph: g, weights: W, threads }, op) {
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const [lo, hi] = clampOf(op.act);
    const bias = W.add(4 * y.c, () => (op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(y.c)));
    const [kh, kw] = op.kernel;
    const w = () => f32Const(model, op.weights, op);
    if (is1x1(op)) {
      const pw = W.add(4 * pack.packGemm1x1Length(y.c, x.c), () => pack.packGemm1x1(w(), y.c, x.c));
      // Rows [m0, m1) (pixels of the output) × channels [n0, n1) (panel-aligned) of the GEMM:
      // each output's sum does not depend on the others.
      const M = x.h * x.w;
      const part = (c: BindContext, [m0, m1]: [number, number], [n0, n1]: [number, number]) => {
        const io = ioArgs(c, op);
        return c.b.f32_gemm_1x1({
          x: io.x + 4 * m0 * x.c,
          y: io.y + 4 * (m0 * y.c + n0),
          M: m1 - m0,
          K: x.c,
          w: c.weight(pw) + 4 * pack.packGemm1x1Length(n0, x.c),
          b: c.weight(bias) + 4 * n0,
          N: n1 - n0,
          lo,
          hi,
          res: 0,
          accumulate: 0,
        });
      };
      return splitBinder((c) => part(c, [0, M], [0, y.c]), gemmPieces(M, y.c, threads ?? 1, part));
    }
    const planes = planeArgs(g, op);
    if (is3x3s2(op)) {
      const pw = W.add(4 * pack.packConv3x3Length(y.c, x.c), () => pack.packConv3x3(w(), y.c, x.c));
      return (c) =>
        c.b.f32_conv3x3_s2({
          ...ioArgs(c, op),
          ...planes,
          OC: y.c,
          padTop: op.pad.top,
          padLeft: op.pad.left,
          w: c.weight(pw),
          b: c.weight(bias),
          lo,
          hi,
        });
    }
    const pw = W.add(4 * pack.packConvLength(y.c, kh, kw, x.c), () => pack.packConv(w(), y.c, kh, kw, x.c));
    const conv = { ...planes, OC: y.c, kh, kw, ...windowArgs(op) };
    return (c) =>
      c.b.f32_conv2d_generic({
        ...ioArgs(c, op),
        ...conv,
        w: c.weight(pw),
        b: c.weight(bias),
        lo,
        hi,
      });
  },

  integerUnsupported: (g, op) => weightsReason(g.tensors[op.weights]!) ?? ioQuantizedReason(g, op),

  integer({ model, graph: g, weights: W, threads }, op) {
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const { scale, zw } = weightQuant(g, op, y.c);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const [kh, kw] = op.kernel;
    const K = kh * kw * x.c;
    const w = () => intConst(model, op.weights, op);
    const pb = W.add(4 * roundUp8(y.c), () => q8.foldQ8Bias(biasConst(model, op.bias, op), w(), y.c, K, zw, xq.z));
    const ps = W.put(q8.padQ8Scales(scale, y.c));
    const prq = W.put(q8.q8OutputParams(yq.z, lo, hi, undefined, kernelZeroPoint(g.tensors[op.weights]!)));
    const requant = (c: BindContext) => ({ b: c.weight(pb), s: c.weight(ps), rq: c.weight(prq), sg });
    if (is1x1(op)) {
      const pw = W.add(q8.packQ8GemmLength(y.c, x.c), (into) => q8.packQ8Gemm(w(), y.c, x.c, zw, 0, y.c, 0, x.c, into));
      // Rows [m0, m1) (pixels) × channels [n0, n1) (panel-aligned) of the GEMM, one byte per element.
      const M = x.h * x.w;
      const part = (c: BindContext, [m0, m1]: [number, number], [n0, n1]: [number, number]) => {
        const io = ioArgs(c, op);
        const rq = requant(c);
        return c.b.q8_gemm({
          x: io.x + m0 * x.c,
          y: io.y + m0 * y.c + n0,
          ...rq,
          b: rq.b + 4 * n0,
          s: rq.s + 4 * n0,
          M: m1 - m0,
          K: x.c,
          xs: x.c,
          w: c.weight(pw) + q8.packQ8GemmLength(n0, x.c),
          N: n1 - n0,
          ys: y.c,
          res: 0,
          rs: 0,
        });
      };
      return splitBinder((c) => part(c, [0, M], [0, y.c]), gemmPieces(M, y.c, threads ?? 1, part));
    }
    const dil = op.dilation[1];
    const pw = W.add(q8.packQ8ConvLength(y.c, kh, kw, x.c, dil), (into) =>
      q8.packQ8Conv(w(), y.c, kh, kw, x.c, zw, 0, y.c, dil, into),
    );
    const conv = { ...planeArgs(g, op), OC: y.c, kh, kw, ...windowArgs(op) };
    return (c) =>
      c.b.q8_conv2d({
        ...ioArgs(c, op),
        ...requant(c),
        ...conv,
        w: c.weight(pw),
        zx: xq.z,
      });
  },
};
