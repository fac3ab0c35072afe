/** AVERAGE_POOL_2D with a window: padded pixels are not counted (TF); integer: TFLite's rounded integer mean. */
import type { AvgPoolOp } from '../../../planner/ir.js';
import { activationRange } from '../../reference/q8_ops.js';
import { clampOf, ioArgs, ioQuant, planeArgs, sameGridReason, windowArgs, type OpLowering } from './context.js';

export const avgpool: OpLowering<AvgPoolOp> = {
  float({ graph: g }, op) {
    const [lo, hi] = clampOf(op.act);
    const [kh, kw] = op.kernel;
    const { dh: _dh, dw: _dw, ...win } = windowArgs(op);
    const planes = planeArgs(g, op);
    return (c) => c.b.f32_avgpool_generic({ ...ioArgs(c, op), ...planes, kh, kw, ...win, lo, hi });
  },

  integerUnsupported: (g, op) => sameGridReason(g, op, 'average pool'),

  integer({ graph: g }, op) {
    const { y: yq, sg } = ioQuant(g, op);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const [kh, kw] = op.kernel;
    const { dh: _dh, dw: _dw, ...win } = windowArgs(op);
    const planes = planeArgs(g, op);
    return (c) => c.b.q8_avgpool({ ...ioArgs(c, op), ...planes, kh, kw, ...win, lo, hi, sg });
  },
};
