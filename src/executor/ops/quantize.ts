/**
 * QUANTIZE between grids (integer path: XNNPACK's fixed-point convert within one
 * type, a float requantization between uint8 and int8) and DEQUANTIZE, which the
 * float path removes (dequantizeModel) and the integer path does not run.
 */
import { tensorElements, type DequantizeOp, type QuantizeOp } from '../../../planner/ir.js';
import { convertMultiplier } from '../../reference/q8_ops.js';
import { activationQuant } from '../../reference/q8_interpreter.js';
import { UnsupportedOpError } from '../weights_image.js';
import { ioArgs, ioQuantizedReason, sgOf, type OpLowering } from './context.js';

const removed = 'quantize/dequantize ops must be removed by dequantizeModel before float execution';

export const quantize: OpLowering<QuantizeOp> = {
  floatUnsupported: () => removed,
  float: (_cx, op) => {
    throw new UnsupportedOpError(op, removed);
  },

  integerUnsupported(g, op) {
    const why = ioQuantizedReason(g, op);
    if (why) return why;
    const [a, b] = [g.tensors[op.inputs[0]!]!, g.tensors[op.outputs[0]!]!];
    // Within one type TFLite runs XNNPACK's convert, which takes ratios in [2^-8, 2^7] only.
    if (a.dtype === b.dtype && convertMultiplier(a.quant!.scale[0]!, b.quant!.scale[0]!) === null)
      return `requantization by ${a.quant!.scale[0]} / ${b.quant!.scale[0]}, outside the [2^-8, 2^7] ratios of XNNPACK's convert`;
    return null;
  },

  integer({ graph: g }, op) {
    const [xt, yt] = [g.tensors[op.inputs[0]!]!, g.tensors[op.outputs[0]!]!];
    const [xq, yq] = [activationQuant(xt, op), activationQuant(yt, op)];
    const n = tensorElements(yt);
    if (xq.dtype === yq.dtype) {
      const m = convertMultiplier(xq.s, yq.s)!;
      return (c) => {
        return c.b.q8_convert({ ...ioArgs(c, op), n, zx: xq.z, m, zy: yq.z, sg: sgOf(yq.dtype) });
      };
    }
    const m = Math.fround(Math.fround(xq.s) / Math.fround(yq.s));
    return (c) => {
      return c.b.q8_requantize({
        ...ioArgs(c, op),
        n,
        zx: xq.z,
        m,
        zy: yq.z,
        sgIn: sgOf(xq.dtype),
        sgOut: sgOf(yq.dtype),
      });
    };
  },
};

export const dequantize: OpLowering<DequantizeOp> = {
  floatUnsupported: () => removed,
  float: (_cx, op) => {
    throw new UnsupportedOpError(op, removed);
  },
  integerUnsupported: () => 'not implemented on the integer path yet',
};
