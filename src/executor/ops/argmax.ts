/** ARG_MAX over the channel axis: the first maximum wins (TFLite); class ids as int32, int64 or bytes. */
import { describeShape, DTYPE_BYTES, tensorElements, type ArgMaxOp, type Graph } from '../../../planner/ir.js';
import { activationQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import { ioArgs, perTensorQuantized, sgOf, type OpLowering } from './context.js';

function axisReason(g: Graph, op: ArgMaxOp): string | null {
  const s = g.tensors[op.inputs[0]!]!.shape;
  return op.axis === s.length - 1 ? null : `arg-max over axis ${op.axis} of ${describeShape(s)}; only the last axis`;
}

export const argmax: OpLowering<ArgMaxOp> = {
  floatUnsupported(g, op) {
    const y = g.tensors[op.outputs[0]!]!;
    return (
      axisReason(g, op) ??
      (y.dtype === 'i32'
        ? null
        : `output '${y.name}' is ${y.dtype}; the float kernel writes int32 class ids (dequantizeModel makes arg-max outputs int32)`)
    );
  },

  float({ graph: g }, op) {
    const why = argmax.floatUnsupported!(g, op);
    if (why) throw new UnsupportedOpError(op, why);
    const x = g.tensors[op.inputs[0]!]!;
    const ch = x.shape[x.shape.length - 1]!;
    const pixels = tensorElements(x) / ch;
    return (c) => {
      return c.b.f32_argmax_channels({ ...ioArgs(c, op), P: pixels, C: ch });
    };
  },

  integerUnsupported(g, op) {
    const [x, y] = [g.tensors[op.inputs[0]!]!, g.tensors[op.outputs[0]!]!];
    if (!perTensorQuantized(g, x.id)) return 'needs a per-tensor quantized uint8/int8 input';
    const why = axisReason(g, op);
    if (why) return why;
    const c = x.shape[x.shape.length - 1]!;
    return y.dtype === 'i32' || y.dtype === 'i64' || (y.dtype === 'u8' && c <= 256)
      ? null
      : `class ids of ${c} classes as ${y.dtype}`;
  },

  integer({ graph: g }, op) {
    const [x, y] = [g.tensors[op.inputs[0]!]!, g.tensors[op.outputs[0]!]!];
    const sg = sgOf(activationQuant(x, op).dtype);
    const C = x.shape[x.shape.length - 1]!;
    const P = tensorElements(x) / C;
    const outBytes = DTYPE_BYTES[y.dtype];
    return (c) => {
      return c.b.q8_argmax({ ...ioArgs(c, op), P, C, outBytes, sg });
    };
  },
};
