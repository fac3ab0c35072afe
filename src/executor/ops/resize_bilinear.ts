/** RESIZE_BILINEAR (align corners, half-pixel centres); integer: XNNPACK's 11-bit interpolation on one grid. */
import type { ResizeBilinearOp } from '../../../planner/ir.js';
import { inputAt, ioQuant, ioQuantizedReason, nhwc, outputAt, type OpLowering } from './context.js';

export const resizeBilinear: OpLowering<ResizeBilinearOp> = {
  float({ graph: g }, op) {
    const x = nhwc(g.tensors[op.inputs[0]!]!);
    const [ac, hp] = [op.alignCorners ? 1 : 0, op.halfPixelCenters ? 1 : 0];
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => k.f32_resize_bilinear(a, x.h, x.w, x.c, o, op.size[0], op.size[1], ac, hp);
    };
  },

  integerUnsupported(g, op) {
    const why = ioQuantizedReason(g, op);
    if (why) return why;
    const [a, b] = [g.tensors[op.inputs[0]!]!.quant!, g.tensors[op.outputs[0]!]!.quant!];
    return a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0]
      ? null
      : 'resize with different input and output quantization';
  },

  integer({ graph: g }, op) {
    const { sg } = ioQuant(g, op);
    const [x, y] = [nhwc(g.tensors[op.inputs[0]!]!), nhwc(g.tensors[op.outputs[0]!]!)];
    const [ac, hp] = [op.alignCorners ? 1 : 0, op.halfPixelCenters ? 1 : 0];
    return (c) => {
      const [a, o, k] = [inputAt(op)(c), outputAt(op)(c), c.k];
      return () => k.q8_resize_bilinear(a, x.h, x.w, x.c, o, y.h, y.w, ac, hp, sg);
    };
  },
};
