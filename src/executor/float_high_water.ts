/**
 * The integer path should touch a quarter of the memory the float path touches
 * (issue 5: 1-byte activations instead of 4). The float fused kernel touches only its
 * ring of expanded rows and its band of depthwise rows in a block's chunk buffers
 * (planner/block_schedule.ts); the integer kernel recomputes halos instead of keeping a
 * ring and needs room for int32 partial sums, so left alone it spreads over its whole
 * buffers. This computes, for an integer plan, the highest arena byte the float
 * schedule would touch at the same offsets, in the plan's own (1-byte) units: every
 * materialized buffer whole, each chunk buffer up to the float schedule's ring or band.
 * lower_q8.ts then asks each block's tiles to stay below that line first, so only the
 * blocks that reach the top of the arena give up speed for memory.
 */
import { fusedBlockSchedule } from '../../planner/block_schedule.js';
import type { Conv2DOp, DepthwiseConv2DOp, Graph } from '../../planner/ir.js';
import type { BlockStep, Plan } from '../../planner/plan.js';

/** Elements (= int8 bytes) of E and D the float kernel's schedule touches for this block step. */
export function floatScheduleElements(g: Graph, step: BlockStep): { expand: number; depthwise: number } {
  const dw = g.ops[step.depthwise] as DepthwiseConv2DOp;
  const e = g.tensors[(g.ops[step.expand] as Conv2DOp).outputs[0]!]!.shape;
  const d = g.tensors[dw.outputs[0]!]!.shape;
  const s = fusedBlockSchedule(
    { expandedChannels: e[3]!, expandedSize: [e[1]!, e[2]!], depthwiseSize: [d[1]!, d[2]!], strideH: dw.stride[0], dilationH: dw.dilation[0], elementBytes: 4 },
    step.chunkChannels,
  );
  return { expand: s.expandBytesUsed / 4, depthwise: s.depthwiseBytesUsed / 4 };
}

/** Highest arena byte (exclusive) the float schedule would touch, in the plan's units. */
export function floatHighWater(g: Graph, plan: Plan): number {
  const scratchUse = new Map<number, number>();
  for (const step of plan.steps) {
    if (step.kind !== 'block') continue;
    const u = floatScheduleElements(g, step);
    scratchUse.set(step.expandBuffer, u.expand);
    scratchUse.set(step.depthwiseBuffer, u.depthwise);
  }
  let top = 0;
  plan.buffers.forEach((b, i) => {
    top = Math.max(top, b.offset + Math.min(b.bytes, scratchUse.get(i) ?? b.bytes));
  });
  return top;
}
