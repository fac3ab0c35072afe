/** RESIZE_BILINEAR (align corners, half-pixel centres); integer: XNNPACK's 11-bit interpolation on one grid. */
import type { ResizeBilinearOp } from '../../../planner/ir.js';
import { inputPlane, ioArgs, ioQuant, resizeArgs, sameGridReason, type OpLowering } from './context.js';

export const resizeBilinear: OpLowering<ResizeBilinearOp> = {
  float({ graph: g }, op) {
    const args = { ...inputPlane(g, op), ...resizeArgs(op) };
    return (c) => c.b.f32_resize_bilinear({ ...ioArgs(c, op), ...args });
  },

  integerUnsupported: (g, op) => sameGridReason(g, op, 'resize'),

  integer({ graph: g }, op) {
    const { sg } = ioQuant(g, op);
    const args = { ...inputPlane(g, op), ...resizeArgs(op), sg };
    return (c) => c.b.q8_resize_bilinear({ ...ioArgs(c, op), ...args });
  },
};
