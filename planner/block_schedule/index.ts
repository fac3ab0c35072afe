/**
 * Block schedules: how a fused kernel runs one Section 5.1 inverted residual block inside
 * the two chunk buffers the plan gave it. One module for both numeric paths, used by both
 * lowerings (src/executor/ops/block.ts) and by the cost model (planner/block_cost.ts), so
 * the planner estimates the schedule that really runs.
 *
 * What a schedule is. The paper's Section 5.1 runs a block x → E → D → y as t chunks of
 * c = ⌈C_exp / t⌉ inner channels, so only one c-channel piece of the expanded tensor E
 * (c·H_e·W_e elements) and of the depthwise output D (c·H_d·W_d) exists at a time; the
 * plan reserves exactly those two buffers (geometry.ts ChunkBuffers). A schedule is the
 * order in which a kernel computes pieces of E, D and y so that every piece it keeps fits
 * in those buffers, not necessarily as c-channel images. Both paths split the inner
 * channels into groups and the output into runs of rows; they differ in what they keep:
 *
 *   float (float.ts, assembly/fused.ts): groups of g channels; per group, bands of b output
 *     rows, and a ring of R = min(H_e, (b − 1)·s + 2·d + 1) expanded rows in which each
 *     expanded row is computed once and kept while bands read it. Touches R·W_e·g elements
 *     of E and b·W_d·g of D. y accumulates over the groups (float sums, in place).
 *
 *   integer (integer.ts, assembly/q8_block.ts): tiles of output rows × columns × output
 *     channels, in raster order; per tile, groups of G channels, each expanding the tile's
 *     whole window of E (its halo rows and columns recomputed by every tile that reads
 *     them) into E, its depthwise into D, and adding its projection to an int32 accumulator
 *     that lives in free bytes of E, D or the unwritten tail of y; after the last group the
 *     accumulator is requantized into y once. Touches window·G bytes of E and
 *     tile pixels·G bytes of D, plus the accumulator where it lives.
 *
 * In both, every output pixel gets every inner channel exactly once, every depthwise tap
 * reads an expanded value computed earlier and still kept (a row in the ring, a pixel of the
 * tile's window), and everything kept fits the buffers (test/planner/block_schedule.test.ts
 * checks this by brute force over small geometries). The window arithmetic they share is in
 * geometry.ts: output rows [o0, o1) read rows window(o0, o1) of E, and E row r is made from
 * x row r (1x1 expansion) or x rows 2r − p … 2r − p + 2 (the 3x3/2 stem conv, top padding p).
 *
 * Order of the output. The float schedule passes over every output row once per group, and
 * y's rows become final band by band, top to bottom, in the last group's pass (the only pass
 * when there is one group). The integer schedule finishes each tile before the next, in
 * raster order, so y's rows become final top to bottom in one pass, and a tile reads x only
 * in the rows its window's expansion needs.
 *
 * Buffers. ChunkBuffers are the plan's two chunk buffers (hard limits) and, on the integer
 * path, preferred limits below the float schedule's high-water (high_water.ts): the integer
 * tiles stay under them when some tiling fits, so the integer path touches about a quarter of
 * the arena bytes the float path touches. The cost model schedules without them (placement,
 * which sets them, comes after the chunk counts are chosen); only blocks whose buffers reach
 * the top of the arena can differ.
 */
import { FLOAT_ELEMENT_BYTES, floatSchedule, type FloatSchedule } from './float.js';
import type { BlockStep, Plan } from '../plan.js';
import { chunkBuffers, type BlockGeometry, type ChunkBuffers } from './geometry.js';
import { INTEGER_ELEMENT_BYTES, integerSchedule, tileBytes, type IntegerSchedule } from './integer.js';

export * from './geometry.js';
export * from './float.js';
export * from './integer.js';
export { floatHighWater } from './high_water.js';

/** The numeric path a block runs on: float32 activations, or the imported uint8/int8 ones. */
export type NumericPath = 'float' | 'integer';

export type BlockSchedule = FloatSchedule | IntegerSchedule;

/** One strategy: how one path's kernel schedules a block. */
export interface BlockScheduler<S extends BlockSchedule = BlockSchedule> {
  readonly path: S['path'];
  /** Bytes of one element of E and D on this path (the plan's buffers hold c·H·W of them). */
  readonly elementBytes: number;
  /** The kernel's schedule of a block in these buffers; throws when it cannot fit. */
  schedule(geom: BlockGeometry, buffers: ChunkBuffers): S;
  /** Bytes of E and of D the schedule touches (from the start of each buffer). */
  touched(geom: BlockGeometry, s: S): { expandBytes: number; depthwiseBytes: number };
}

export const FLOAT_SCHEDULER: BlockScheduler<FloatSchedule> = {
  path: 'float',
  elementBytes: FLOAT_ELEMENT_BYTES,
  schedule: (geom, buffers) => floatSchedule(geom, buffers),
  touched: (_geom, s) => ({ expandBytes: s.expandBytesUsed, depthwiseBytes: s.depthwiseBytesUsed }),
};

export const INTEGER_SCHEDULER: BlockScheduler<IntegerSchedule> = {
  path: 'integer',
  elementBytes: INTEGER_ELEMENT_BYTES,
  schedule: integerSchedule,
  touched: (geom, s) => {
    let e = 0,
      d = 0;
    for (const t of s.tiles) {
      const b = tileBytes(geom, t, s.rolling);
      e = Math.max(e, b.expandBytes);
      d = Math.max(d, b.depthwiseBytes);
    }
    return { expandBytes: e, depthwiseBytes: d };
  },
};

export function blockScheduler(path: 'float'): BlockScheduler<FloatSchedule>;
export function blockScheduler(path: 'integer'): BlockScheduler<IntegerSchedule>;
export function blockScheduler(path: NumericPath): BlockScheduler;
export function blockScheduler(path: NumericPath): BlockScheduler {
  return path === 'float' ? FLOAT_SCHEDULER : (INTEGER_SCHEDULER as BlockScheduler);
}

/** The path whose activations have elements of this many bytes: 1 (uint8/int8) integer, else float. */
export function pathForElementBytes(elementBytes: number): NumericPath {
  return elementBytes === INTEGER_ELEMENT_BYTES ? 'integer' : 'float';
}

/**
 * The schedule of a block on `path` with chunks of c channels, in exactly the buffers a plan
 * gives that chunk size (no preferred limits: the cost model's view, before placement).
 */
export function scheduleForChunks(geom: BlockGeometry, path: NumericPath, chunkChannels: number): BlockSchedule {
  const s = blockScheduler(path);
  return s.schedule(geom, chunkBuffers(geom, chunkChannels, s.elementBytes));
}

/**
 * A plan step's chunk buffers as the plan sized them. With `highWater` (an arena offset,
 * floatHighWater on the integer path) the part of each buffer below that line becomes its
 * preferred limits.
 */
export function stepBuffers(plan: Plan, step: BlockStep, highWater?: number): ChunkBuffers {
  const e = plan.buffers[step.expandBuffer];
  const d = plan.buffers[step.depthwiseBuffer];
  if (!e || !d)
    throw new Error(`block step: chunk buffers #${step.expandBuffer} and #${step.depthwiseBuffer} are not in the plan`);
  return {
    expandBytes: e.bytes,
    depthwiseBytes: d.bytes,
    ...(highWater !== undefined
      ? {
          preferred: {
            expandBytes: Math.max(0, highWater - e.offset),
            depthwiseBytes: Math.max(0, highWater - d.offset),
          },
        }
      : {}),
  };
}
