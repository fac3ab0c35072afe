/**
 * A Plan is what the executor runs: the order of steps, each block's chunk
 * count, and the arena offset of every buffer. The planner produces it from a
 * Graph alone (before any weight is loaded).
 *
 *   arena (one region of linear memory, `arenaBytes` long)
 *   0 ─────────────────────────────────────────────── arenaBytes
 *   │ buffer a │      │ buffer b        │ chunk scratch │
 *   Buffers whose step ranges overlap never overlap in bytes (see verify).
 */

/** Run one IR op by itself. */
export interface OpStep {
  kind: 'op';
  op: number;
}

/**
 * An inverted residual block run as one unit (paper Section 5.1): the inner
 * channels are split into `chunks` pieces of at most `chunkChannels`; for each
 * piece, expand → depthwise → project-accumulate. The expanded and depthwise
 * tensors are never materialized; only two chunk buffers are.
 * `expand` is a 1x1 conv (or, for the first layer, the 3x3/2 stem conv);
 * `add` is -1 when the block has no residual connection.
 */
export interface BlockStep {
  kind: 'block';
  expand: number;
  depthwise: number;
  project: number;
  add: number;
  chunks: number;
  chunkChannels: number;
  /** Index into Plan.buffers of the expanded-chunk scratch (chunkChannels × H_in × W_in). */
  expandBuffer: number;
  /** Index into Plan.buffers of the depthwise-chunk scratch (chunkChannels × H_out × W_out). */
  depthwiseBuffer: number;
}

export type PlanStep = OpStep | BlockStep;

/** One piece of arena memory with its lifetime in steps (inclusive). */
export interface PlannedBuffer {
  name: string;
  /** Tensor stored here, or -1 for a block's chunk scratch. */
  tensor: number;
  bytes: number;
  firstStep: number;
  lastStep: number;
  offset: number;
  /** When set, this buffer shares the memory of that tensor's buffer (reshape, in-place add). */
  aliasOf?: number;
}

export interface Plan {
  graphName: string;
  steps: PlanStep[];
  buffers: PlannedBuffer[];
  /** Arena offset of every activation tensor that is materialized (by tensor id). */
  tensorOffsets: Map<number, number>;
  /** Size of the arena the placement needs. */
  arenaBytes: number;
  /** Largest sum of live buffer bytes over all steps: the lower bound for any placement of this schedule. */
  peakBytes: number;
  orderAlgorithm: string;
  placementAlgorithm: string;
}
