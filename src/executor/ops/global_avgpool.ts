/**
 * The mean over H and W (AVERAGE_POOL_2D covering the plane, or MEAN): integer
 * TFLite rounds (sum + n/2)/n when input and output share their grid, else
 * requantizes the mean (XNNPACK's global average pooling).
 */
import type { GlobalAvgPoolOp } from '../../../planner/ir.js';
import { dtypeRange, meanScale } from '../../reference/q8_ops.js';
import { inputAt, ioQuant, ioQuantizedReason, nhwc, outputAt, type OpLowering } from './context.js';

export const globalAvgpool: OpLowering<GlobalAvgPoolOp> = {
  float({ graph: g }, op) {
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => k.f32_global_avgpool(a, x.h * x.w, x.c, o);
    };
  },

  integerUnsupported: ioQuantizedReason,

  integer({ graph: g }, op) {
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const hw = x.h * x.w;
    const [lo, hi] = dtypeRange(yq.dtype);
    if (xq.s === yq.s && xq.z === yq.z)
      return (c) => {
        const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
        return () => k.q8_global_avgpool(a, hw, x.c, o, lo, hi, sg);
      };
    const s = meanScale(xq.s, yq.s, hw);
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => k.q8_mean(a, hw, x.c, o, xq.z, s, yq.z, lo, hi, sg);
    };
  },
};
