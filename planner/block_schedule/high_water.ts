/**
 * The line the integer schedule tries to stay under. The integer path should touch a
 * quarter of the memory the float path touches (1-byte activations instead of 4). The
 * float schedule touches only its ring of expanded rows and its band of depthwise rows in
 * a block's chunk buffers (float.ts); the integer schedule recomputes halos instead of
 * keeping a ring and needs room for int32 partial sums, so left alone it spreads over its
 * whole buffers. floatHighWater computes, for an integer plan, the highest arena byte the
 * float schedule would touch at the same offsets, in the plan's own (1-byte) units: every
 * materialized buffer whole, each chunk buffer up to the float schedule's ring or band.
 * stepBuffers (index.ts) then gives each block the part of its buffers below that line as
 * its preferred limits, so only the blocks that reach the top of the arena give up speed for
 * memory.
 */
import type { Graph } from '../ir.js';
import type { Plan } from '../plan.js';
import { FLOAT_ELEMENT_BYTES, floatSchedule } from './float.js';
import { blockGeometry, chunkBuffers } from './geometry.js';

/** Highest arena byte (exclusive) the float schedule would touch in an integer plan, in the plan's units. */
export function floatHighWater(g: Graph, plan: Plan): number {
  const scratchUse = new Map<number, number>();
  for (const step of plan.steps) {
    if (step.kind !== 'block') continue;
    const geom = blockGeometry(g, step);
    // The float schedule's bytes / 4 = its elements = int8 bytes.
    const f = floatSchedule(geom, chunkBuffers(geom, step.chunkChannels, FLOAT_ELEMENT_BYTES));
    scratchUse.set(step.expandBuffer, f.expandBytesUsed / FLOAT_ELEMENT_BYTES);
    scratchUse.set(step.depthwiseBuffer, f.depthwiseBytesUsed / FLOAT_ELEMENT_BYTES);
  }
  let top = 0;
  plan.buffers.forEach((b, i) => {
    top = Math.max(top, b.offset + Math.min(b.bytes, scratchUse.get(i) ?? b.bytes));
  });
  return top;
}
