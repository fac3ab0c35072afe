/** DEPTHWISE_CONV_2D, 3x3 with depth multiplier 1 (strides 1 and 2 have their own float kernels); float and integer. */
import type { DepthwiseConv2DOp, Graph } from '../../../planner/ir.js';
import * as pack from '../../kernels/pack.js';
import * as q8 from '../../kernels/q8_pack.js';
import { activationRange } from '../../reference/q8_ops.js';
import { weightQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import * as cx from './context.js';

function shapeReason(_g: Graph, op: DepthwiseConv2DOp): string | null {
  if (op.depthMultiplier !== 1) return `depth multiplier ${op.depthMultiplier} is not supported (only 1)`;
  if (op.kernel[0] !== 3 || op.kernel[1] !== 3)
    return `depthwise kernel ${op.kernel.join('x')} is not supported (only 3x3)`;
  return null;
}

export const dwconv2d: cx.OpLowering<DepthwiseConv2DOp> = {
  floatUnsupported: shapeReason,

  float({ model, graph: g, weights: W }, op) {
    const why = shapeReason(g, op);
    if (why) throw new UnsupportedOpError(op, why);
    const C = cx.nhwc(g.tensors[op.outputs[0]!]!).c;
    const pw = W.add(4 * pack.packDepthwise3x3Length(C), () =>
      pack.packDepthwise3x3(cx.f32Const(model, op.weights, op), C),
    );
    const bias = W.add(4 * C, () => (op.bias >= 0 ? cx.f32Const(model, op.bias, op) : new Float32Array(C)));
    const [lo, hi] = cx.clampOf(op.act);
    const win = cx.windowArgs(op);
    const plain = win.dh === 1 && win.dw === 1 && win.sh === win.sw && (win.sh === 1 || win.sh === 2);
    const planes = cx.planeArgs(g, op);
    return (c) => {
      const args = { ...cx.ioArgs(c, op), ...planes, w: c.weight(pw), b: c.weight(bias), lo, hi };
      if (!plain) return c.b.f32_dwconv3x3_generic({ ...args, ...win });
      const kernel = win.sh === 1 ? c.b.f32_dwconv3x3_s1 : c.b.f32_dwconv3x3_s2;
      return kernel({ ...args, padTop: win.padTop, padLeft: win.padLeft });
    };
  },

  integerUnsupported: (g, op) =>
    cx.weightsReason(g.tensors[op.weights]!) ??
    (shapeReason(g, op) ? 'only 3x3 depthwise with depth multiplier 1' : cx.ioQuantizedReason(g, op)),

  integer({ model, graph: g, weights: W }, op) {
    if (shapeReason(g, op))
      throw new UnsupportedOpError(op, 'the integer path runs 3x3 depthwise with depth multiplier 1 only');
    const { x: xq, y: yq, sg } = cx.ioQuant(g, op);
    const C = cx.nhwc(g.tensors[op.inputs[0]!]!).c;
    const { scale, zw } = weightQuant(g, op, C);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const w = () => cx.intConst(model, op.weights, op);
    const ws = q8.q8DepthwisePairBytes(C);
    const pw = W.add(5 * ws, (into) => q8.packQ8Depthwise(w(), C, zw, 0, C, into));
    const pb = W.add(4 * q8.q8DepthwiseStride(C), () =>
      q8.foldQ8DepthwiseBias(cx.biasConst(model, op.bias, op), w(), C, zw, xq.z),
    );
    const ps = W.put(q8.padQ8DepthwiseScales(scale, C));
    const prq = W.put(q8.q8OutputParams(yq.z, lo, hi, undefined, cx.kernelZeroPoint(g.tensors[op.weights]!)));
    const planes = cx.planeArgs(g, op);
    return (c) =>
      c.b.q8_dwconv3x3({
        ...cx.ioArgs(c, op),
        ...planes,
        ...cx.windowArgs(op),
        w: c.weight(pw),
        ws,
        b: c.weight(pb),
        s: c.weight(ps),
        rq: c.weight(prq),
        zx: xq.z,
        sg,
      });
  },
};
