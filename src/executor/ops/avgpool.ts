/** AVERAGE_POOL_2D with a window: padded pixels are not counted (TF); integer: TFLite's rounded integer mean. */
import type { AvgPoolOp, Graph } from '../../../planner/ir.js';
import { activationRange } from '../../reference/q8_ops.js';
import { clampOf, inputAt, ioQuant, ioQuantizedReason, nhwc, outputAt, type OpLowering } from './context.js';

function sameGridReason(g: Graph, op: AvgPoolOp): string | null {
  const why = ioQuantizedReason(g, op);
  if (why) return why;
  const [a, b] = [g.tensors[op.inputs[0]!]!.quant!, g.tensors[op.outputs[0]!]!.quant!];
  return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0]
    ? null
    : 'average pool with different input and output quantization';
}

export const avgpool: OpLowering<AvgPoolOp> = {
  float({ graph: g }, op) {
    const [x, y] = [nhwc(g.tensors[op.inputs[0]!]!), nhwc(g.tensors[op.outputs[0]!]!)];
    const [lo, hi] = clampOf(op.act);
    const [kh, kw] = op.kernel;
    const [sh, sw] = op.stride;
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () =>
        k.f32_avgpool_generic(a, x.h, x.w, x.c, o, y.h, y.w, kh, kw, sh, sw, op.pad.top, op.pad.left, lo, hi);
    };
  },

  integerUnsupported: sameGridReason,

  integer({ graph: g }, op) {
    const { y: yq, sg } = ioQuant(g, op);
    const [x, y] = [nhwc(g.tensors[op.inputs[0]!]!), nhwc(g.tensors[op.outputs[0]!]!)];
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const [kh, kw] = op.kernel;
    const [sh, sw] = op.stride;
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => k.q8_avgpool(a, x.h, x.w, x.c, o, y.h, y.w, kh, kw, sh, sw, op.pad.top, op.pad.left, lo, hi, sg);
    };
  },
};
