/** DEPTHWISE_CONV_2D, 3x3 with depth multiplier 1 (strides 1 and 2 have their own float kernels); float and integer. */
import type { DepthwiseConv2DOp, Graph } from '../../../planner/ir.js';
import { packDepthwise3x3, packDepthwise3x3Length } from '../../kernels/pack.js';
import {
  foldQ8DepthwiseBias,
  packQ8Depthwise,
  padQ8DepthwiseScales,
  q8DepthwisePairBytes,
  q8DepthwiseStride,
  q8OutputParams,
} from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import {
  biasConst,
  clampOf,
  f32Const,
  intConst,
  ioQuant,
  ioQuantizedReason,
  kernelZeroPoint,
  nhwc,
  weightsReason,
  type OpLowering,
} from './context.js';

function shapeReason(_g: Graph, op: DepthwiseConv2DOp): string | null {
  if (op.depthMultiplier !== 1) return `depth multiplier ${op.depthMultiplier} is not supported (only 1)`;
  if (op.kernel[0] !== 3 || op.kernel[1] !== 3)
    return `depthwise kernel ${op.kernel.join('x')} is not supported (only 3x3)`;
  return null;
}

export const dwconv2d: OpLowering<DepthwiseConv2DOp> = {
  floatUnsupported: shapeReason,

  float({ model, graph: g, weights: W }, op) {
    const why = shapeReason(g, op);
    if (why) throw new UnsupportedOpError(op, why);
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const pw = W.add(4 * packDepthwise3x3Length(y.c), () => packDepthwise3x3(f32Const(model, op.weights, op), y.c));
    const b = W.add(4 * y.c, () => (op.bias >= 0 ? f32Const(model, op.bias, op) : new Float32Array(y.c)));
    const [lo, hi] = clampOf(op.act);
    const dil = op.dilation[0] !== 1 || op.dilation[1] !== 1;
    const s = op.stride[0] === op.stride[1] ? op.stride[0] : 0;
    const [sh, sw] = op.stride;
    const [dh, dw] = op.dilation;
    const [pt, pl] = [op.pad.top, op.pad.left];
    return (c) => {
      const [xs, ys, wa, ba, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.weight(pw), c.weight(b), c.k];
      if (!dil && s === 1) return () => k.f32_dwconv3x3_s1(xs, x.h, x.w, y.c, ys, y.h, y.w, pt, pl, wa, ba, lo, hi);
      if (!dil && s === 2) return () => k.f32_dwconv3x3_s2(xs, x.h, x.w, y.c, ys, y.h, y.w, pt, pl, wa, ba, lo, hi);
      return () => k.f32_dwconv3x3_generic(xs, x.h, x.w, y.c, ys, y.h, y.w, sh, sw, dh, dw, pt, pl, wa, ba, lo, hi);
    };
  },

  integerUnsupported: (g, op) =>
    weightsReason(g.tensors[op.weights]!) ??
    (shapeReason(g, op) ? 'only 3x3 depthwise with depth multiplier 1' : ioQuantizedReason(g, op)),

  integer({ model, graph: g, weights: W }, op) {
    if (shapeReason(g, op))
      throw new UnsupportedOpError(op, 'the integer path runs 3x3 depthwise with depth multiplier 1 only');
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const y = nhwc(g.tensors[op.outputs[0]!]!);
    const { scale, zw } = weightQuant(g, op, y.c);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const w = () => intConst(model, op.weights, op);
    const ws = q8DepthwisePairBytes(x.c);
    const pw = W.add(5 * ws, () => packQ8Depthwise(w(), x.c, zw));
    const pb = W.add(4 * q8DepthwiseStride(x.c), () =>
      foldQ8DepthwiseBias(biasConst(model, op.bias, op), w(), x.c, zw, xq.z),
    );
    const ps = W.put(padQ8DepthwiseScales(scale, x.c));
    const prq = W.put(q8OutputParams(yq.z, lo, hi, undefined, kernelZeroPoint(g.tensors[op.weights]!)));
    const [sh, sw] = op.stride;
    const [dh, dw] = op.dilation;
    const [pt, pl] = [op.pad.top, op.pad.left];
    return (c) => {
      const [xs, ys, k] = [c.tensor(op.inputs[0]!), c.tensor(op.outputs[0]!), c.k];
      const [wa, ba, sa, rq] = [c.weight(pw), c.weight(pb), c.weight(ps), c.weight(prq)];
      return () =>
        k.q8_dwconv3x3(xs, x.h, x.w, x.c, ys, y.h, y.w, sh, sw, dh, dw, pt, pl, wa, ws, ba, sa, rq, xq.z, sg);
    };
  },
};
