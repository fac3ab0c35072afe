/** ADD of two tensors of one shape, with a fused activation; integer: XNNPACK's fixed-point add (addParams). */
import { tensorElements, type AddOp } from '../../../planner/ir.js';
import { activationRange, addParams } from '../../reference/q8_ops.js';
import { clampOf, inputAt, ioQuant, ioQuantizedReason, outputAt, type OpLowering } from './context.js';

export const add: OpLowering<AddOp> = {
  float({ graph: g }, op) {
    const n = tensorElements(g.tensors[op.outputs[0]!]!);
    const [lo, hi] = clampOf(op.act);
    return (c) => {
      const [a, b, o, k] = [inputAt(op, 0)(c), inputAt(op, 1)(c), outputAt(op)(c), c.k];
      return () => k.f32_add(a, b, o, n, lo, hi);
    };
  },

  integerUnsupported: ioQuantizedReason,

  integer({ graph: g }, op) {
    const { x: aq, y: yq, sg } = ioQuant(g, op, 0);
    const bq = ioQuant(g, op, 1).x;
    const { ma, mb, shift } = addParams(aq.s, bq.s, yq.s);
    const [lo, hi] = activationRange(op.act, yq.s, yq.z, yq.dtype);
    const n = tensorElements(g.tensors[op.outputs[0]!]!);
    return (c) => {
      const [a, b, o, k] = [inputAt(op, 0)(c), inputAt(op, 1)(c), outputAt(op)(c), c.k];
      return () => k.q8_add(a, b, o, n, aq.z, bq.z, ma, mb, shift, yq.z, lo, hi, sg);
    };
  },
};
