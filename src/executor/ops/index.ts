/** Every op's lowering, by IR op kind: one file each, float and integer side by side. */
import type { Op } from '../../../planner/ir.js';
import { add } from './add.js';
import { argmax } from './argmax.js';
import { avgpool } from './avgpool.js';
import { concat } from './concat.js';
import type { OpLowering } from './context.js';
import { conv2d } from './conv2d.js';
import { dwconv2d } from './dwconv2d.js';
import { fullyConnected } from './fully_connected.js';
import { globalAvgpool } from './global_avgpool.js';
import { dequantize, quantize } from './quantize.js';
import { reshape } from './reshape.js';
import { resizeArgmax } from './resize_argmax.js';
import { resizeBilinear } from './resize_bilinear.js';
import { softmax } from './softmax.js';

export const OPS: { [K in Op['kind']]: OpLowering<Extract<Op, { kind: K }>> } = {
  conv2d,
  dwconv2d,
  fully_connected: fullyConnected,
  add,
  global_avgpool: globalAvgpool,
  avgpool,
  softmax,
  reshape,
  concat,
  resize_bilinear: resizeBilinear,
  argmax,
  resize_argmax: resizeArgmax,
  quantize,
  dequantize,
};

/** The lowering of `op`'s kind. */
export function opLowering(op: Op): OpLowering {
  return OPS[op.kind] as OpLowering;
}
