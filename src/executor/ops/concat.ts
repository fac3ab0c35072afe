/**
 * CONCATENATION along any axis: each input's rows copied into the output's
 * (strided); the integer path takes inputs already on the output's grid.
 */
import type { ConcatOp, Graph } from '../../../planner/ir.js';
import { ioQuantizedReason, type Binder, type OpLowering } from './context.js';

function copyRows(g: Graph, op: ConcatOp, elementBytes: number): Binder {
  const y = g.tensors[op.outputs[0]!]!;
  const rank = y.shape.length;
  const axis = op.axis < 0 ? op.axis + rank : op.axis;
  const inner = (shape: number[]) => shape.slice(axis).reduce((p, d) => p * d, 1) * elementBytes;
  const outer = y.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const outRow = inner(y.shape);
  const parts = op.inputs.map((id) => inner(g.tensors[id]!.shape));
  return (c) => {
    const o = c.tensor(op.outputs[0]!);
    let col = 0;
    const copies = op.inputs.map((id, i) => {
      const copy = c.b.copy_strided({
        src: c.tensor(id),
        dst: o + col,
        rows: outer,
        rowBytes: parts[i]!,
        srcStride: parts[i]!,
        dstStride: outRow,
      });
      col += parts[i]!;
      return copy;
    });
    return () => {
      for (const copy of copies) copy();
    };
  };
}

export const concat: OpLowering<ConcatOp> = {
  float: ({ graph: g }, op) => copyRows(g, op, 4),

  integerUnsupported(g, op) {
    const why = ioQuantizedReason(g, op);
    if (why) return why;
    const y = g.tensors[op.outputs[0]!]!;
    const same = op.inputs.every((i) => {
      const t = g.tensors[i]!;
      return (
        t.dtype === y.dtype &&
        t.quant!.scale[0] === y.quant!.scale[0] &&
        t.quant!.zeroPoint[0] === y.quant!.zeroPoint[0]
      );
    });
    return same && op.act === 'none'
      ? null
      : 'only concatenation of inputs already on the output grid (no requantization, no activation)';
  },

  integer: ({ graph: g }, op) => copyRows(g, op, 1),
};
