/** ADD of two tensors of one shape, with a fused activation; integer: XNNPACK's fixed-point add (addParams). */
import { tensorElements, type AddOp } from '../../../planner/ir.js';
import { activationRange, addParams } from '../../reference/q8_ops.js';
import { clampOf, ioQuant, ioQuantizedReason, type BindContext, type OpLowering } from './context.js';

/** The two addends and the sum, as the add kernels name them. */
const operands = (c: BindContext, op: AddOp) => ({
  a: c.tensor(op.inputs[0]!),
  b: c.tensor(op.inputs[1]!),
  y: c.tensor(op.outputs[0]!),
});

export const add: OpLowering<AddOp> = {
  float({ graph: g }, op) {
    const n = tensorElements(g.tensors[op.outputs[0]!]!);
    const [lo, hi] = clampOf(op.act);
    return (c) => c.b.f32_add({ ...operands(c, op), n, lo, hi });
  },

  integerUnsupported: ioQuantizedReason,

  integer({ graph: g }, op) {
    const { x: aq, y: yq, sg } = ioQuant(g, op, 0);
    const bq = ioQuant(g, op, 1).x;
    const { ma, mb, shift } = addParams(aq.s, bq.s, yq.s);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const n = tensorElements(g.tensors[op.outputs[0]!]!);
    return (c) => c.b.q8_add({ ...operands(c, op), n, za: aq.z, zb: bq.z, ma, mb, shift, zy: yq.z, lo, hi, sg });
  },
};
