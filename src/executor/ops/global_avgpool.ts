/**
 * The mean over H and W (AVERAGE_POOL_2D covering the plane, or MEAN): integer
 * TFLite rounds (sum + n/2)/n when input and output share their grid, else
 * requantizes the mean (XNNPACK's global average pooling).
 */
import type { GlobalAvgPoolOp } from '../../../planner/ir.js';
import { dtypeRange, meanScale } from '../../reference/q8_ops.js';
import { ioArgs, ioQuant, ioQuantizedReason, nhwc, type OpLowering } from './context.js';

export const globalAvgpool: OpLowering<GlobalAvgPoolOp> = {
  float({ graph: g }, op) {
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    return (c) => {
      return c.b.f32_global_avgpool({ ...ioArgs(c, op), HW: x.h * x.w, C: x.c });
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
        return c.b.q8_global_avgpool({ ...ioArgs(c, op), HW: hw, C: x.c, lo, hi, sg });
      };
    const s = meanScale(xq.s, yq.s, hw);
    return (c) => {
      return c.b.q8_mean({ ...ioArgs(c, op), HW: hw, C: x.c, zx: xq.z, s, zy: yq.z, lo, hi, sg });
    };
  },
};
