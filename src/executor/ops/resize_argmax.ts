/**
 * The fused resize + arg-max (planner/fuse_resize_argmax.ts): each output
 * pixel's class from its 4 source neighbours, bit-identical to the two ops,
 * without the resized scores.
 */
import type { Graph, ResizeArgMaxOp } from '../../../planner/ir.js';
import { activationQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import { inputPlane, ioArgs, perTensorQuantized, resizeArgs, sgOf, type OpLowering } from './context.js';

/** 1 when the class ids are int32, 0 for bytes; refuses other dtypes and byte ids that cannot hold C classes. */
export function classIdOutput(op: ResizeArgMaxOp, dtype: string, classes: number): number {
  if (dtype === 'i32') return 1;
  if (dtype === 'u8' && classes <= 256) return 0;
  throw new UnsupportedOpError(
    op,
    `class ids of ${classes} classes cannot be written as ${dtype} (u8 up to 256 classes, else i32)`,
  );
}

function idsReason(g: Graph, op: ResizeArgMaxOp): string | null {
  const c = g.tensors[op.inputs[0]!]!.shape[3]!;
  const y = g.tensors[op.outputs[0]!]!;
  return y.dtype === 'i32' || (y.dtype === 'u8' && c <= 256) ? null : `class ids of ${c} classes as ${y.dtype}`;
}

export const resizeArgmax: OpLowering<ResizeArgMaxOp> = {
  floatUnsupported: idsReason,

  float({ graph: g }, op) {
    const plane = inputPlane(g, op);
    const outI32 = classIdOutput(op, g.tensors[op.outputs[0]!]!.dtype, plane.C);
    const args = { ...plane, ...resizeArgs(op), outI32 };
    return (c) => c.b.f32_resize_argmax({ ...ioArgs(c, op), ...args });
  },

  integerUnsupported: (g, op) =>
    perTensorQuantized(g, op.inputs[0]!) ? idsReason(g, op) : 'needs a per-tensor quantized uint8/int8 input',

  integer({ graph: g }, op) {
    const sg = sgOf(activationQuant(g.tensors[op.inputs[0]!]!, op).dtype);
    const plane = inputPlane(g, op);
    const outI32 = classIdOutput(op, g.tensors[op.outputs[0]!]!.dtype, plane.C);
    const args = { ...plane, ...resizeArgs(op), outI32, sg };
    return (c) => c.b.q8_resize_argmax({ ...ioArgs(c, op), ...args });
  },
};
