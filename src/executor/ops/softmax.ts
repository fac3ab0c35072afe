/** SOFTMAX over the last axis, row by row; integer: TFLite's float softmax of the dequantized row, requantized. */
import { tensorElements, type SoftmaxOp } from '../../../planner/ir.js';
import { inputAt, ioQuant, ioQuantizedReason, outputAt, type OpLowering } from './context.js';

export const softmax: OpLowering<SoftmaxOp> = {
  float({ graph: g }, op) {
    const y = g.tensors[op.outputs[0]!]!;
    const n = y.shape[y.shape.length - 1]!;
    const rows = tensorElements(y) / n;
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => {
        for (let r = 0; r < rows; r++) k.f32_softmax(a + r * n * 4, n, o + r * n * 4, op.beta);
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
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => {
        for (let r = 0; r < rows; r++) k.q8_softmax(a + r * n, n, o + r * n, kf, yq.s, yq.z, sg);
      };
    };
  },
};
