/** RESHAPE / SQUEEZE: the same bytes under a new shape; a copy unless the plan aliased the two tensors. */
import { tensorElements, type Graph, type ReshapeOp } from '../../../planner/ir.js';
import { ioArgs, ioQuantizedReason, type Binder, type OpLowering } from './context.js';

function copy(g: Graph, op: ReshapeOp, elementBytes: number): Binder {
  const bytes = tensorElements(g.tensors[op.outputs[0]!]!) * elementBytes;
  return (c) => {
    const { x, y } = ioArgs(c, op);
    if (x === y) return () => {}; // aliased by the plan: the same bytes under a new shape
    return c.b.copy_strided({ src: x, dst: y, rows: 1, rowBytes: bytes, srcStride: bytes, dstStride: bytes });
  };
}

export const reshape: OpLowering<ReshapeOp> = {
  float: ({ graph: g }, op) => copy(g, op, 4),
  integerUnsupported: ioQuantizedReason,
  integer: ({ graph: g }, op) => copy(g, op, 1),
};
