/**
 * The integer path should touch a quarter of the memory the float path touches
 * (issue 5: 1-byte activations instead of 4). The float fused kernel touches only its
 * ring of expanded rows and its band of depthwise rows in a block's chunk buffers
 * (planner/block_schedule.ts); the integer kernel recomputes halos instead of keeping a
 * ring and needs room for int32 partial sums, so left alone it spreads over its whole
 * buffers. This computes, for an integer plan, the highest arena byte the float
 * schedule would touch at the same offsets, in the plan's own (1-byte) units: every
 * materialized buffer whole, each chunk buffer up to the float schedule's ring or band.
 * ops/block.ts then asks each block's tiles to stay below that line first, so only the
 * blocks that reach the top of the arena give up speed for memory.
 */
import { blockStepSchedule } from '../../planner/block_schedule.js';
import type { Graph } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';

/** Highest arena byte (exclusive) the float schedule would touch, in the plan's units. */
export function floatHighWater(g: Graph, plan: Plan): number {
  const scratchUse = new Map<number, number>();
  for (const step of plan.steps) {
    if (step.kind !== 'block') continue;
    // The float schedule's bytes / 4 = its elements = int8 bytes.
    const f = blockStepSchedule(g, step);
    scratchUse.set(step.expandBuffer, f.expandBytesUsed / 4);
    scratchUse.set(step.depthwiseBuffer, f.depthwiseBytesUsed / 4);
  }
  let top = 0;
  plan.buffers.forEach((b, i) => {
    top = Math.max(top, b.offset + Math.min(b.bytes, scratchUse.get(i) ?? b.bytes));
  });
  return top;
}
