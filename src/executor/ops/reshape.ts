/** RESHAPE / SQUEEZE: the same bytes under a new shape; a copy unless the plan aliased the two tensors. */
import { tensorElements, type Graph, type ReshapeOp } from '../../../planner/ir.js';
import { inputAt, ioQuantizedReason, outputAt, type Binder, type OpLowering } from './context.js';

function copy(g: Graph, op: ReshapeOp, elementBytes: number): Binder {
  const bytes = tensorElements(g.tensors[op.outputs[0]!]!) * elementBytes;
  return (c) => {
    const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
    if (a === o) return () => {};
    return () => k.copy_strided(a, o, 1, bytes, bytes, bytes);
  };
}

export const reshape: OpLowering<ReshapeOp> = {
  float: ({ graph: g }, op) => copy(g, op, 4),
  integerUnsupported: ioQuantizedReason,
  integer: ({ graph: g }, op) => copy(g, op, 1),
};
