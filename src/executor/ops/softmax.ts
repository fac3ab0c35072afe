/** SOFTMAX over the last axis, row by row; integer: TFLite's float softmax of the dequantized row, requantized. */
import { tensorElements, type SoftmaxOp } from '../../../planner/ir.js';
import { ioArgs, ioQuant, ioQuantizedReason, type OpLowering } from './context.js';

export const softmax: OpLowering<SoftmaxOp> = {
  float({ graph: g }, op) {
    const y = g.tensors[op.outputs[0]!]!;
    const n = y.shape[y.shape.length - 1]!;
    const rows = tensorElements(y) / n;
    return (c) => {
      const { x: a, y: o } = ioArgs(c, op);
      const calls = Array.from({ length: rows }, (_, r) =>
        c.b.f32_softmax({ x: a + r * n * 4, n, y: o + r * n * 4, beta: op.beta }),
      );
      return () => {
        for (const call of calls) call();
      };
    };
  },

  integerUnsupported: ioQuantizedReason,

  integer({ graph: g }, op) {
    const { x: xq, y: yq, sg } = ioQuant(g, op);
    const y = g.tensors[op.outputs[0]!]!;
    const n = y.shape[y.shape.length - 1]!;
    const rows = tensorElements(y) / n;
    const kf = Math.fround(-Math.fround(xq.s) * Math.fround(op.beta));
    return (c) => {
      const { x: a, y: o } = ioArgs(c, op);
      const calls = Array.from({ length: rows }, (_, r) =>
        c.b.q8_softmax({ x: a + r * n, n, y: o + r * n, k: kf, sOut: yq.s, zy: yq.z, sg }),
      );
      return () => {
        for (const call of calls) call();
      };
    };
  },
};
