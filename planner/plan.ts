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

/** A byte range inside a buffer. */
export interface Area {
  offset: number;
  bytes: number;
}

/**
 * Where a row head keeps one of its tensors (planner/stream/config.ts headLayout): at
 * `offset` in its stage's state buffer ('sums', 'const', 'bcast') or in the stage's
 * expanded work area ('row').
 */
export interface HeadAreaPlan {
  /** Tensor id, or -1 for the pool's sums. */
  tensor: number;
  kind: 'row' | 'const' | 'bcast' | 'sums';
  offset: number;
  bytes: number;
}

/**
 * One stage of a streamed unit (planner/stream/stages.ts): a block, a pointwise op, the
 * classifier's 1x1 conv + global average pool, or a row head, run in calls of `bandRows`
 * output rows.
 */
export interface StreamStagePlan {
  kind: 'block' | 'pointwise' | 'conv_pool' | 'row_head';
  name: string;
  /** IR ops it runs, in graph order. */
  ops: number[];
  /** Tensor whose rows it reads, tensor whose rows it writes (conv_pool: the pool's output). */
  input: number;
  output: number;
  /** Block ops (-1 when not a block, or no add). */
  expand: number;
  depthwise: number;
  project: number;
  add: number;
  bandRows: number;
  /** 'ring': the block keeps its expanded rows across calls; 'recompute': every call expands the rows it reads. */
  expanded: 'ring' | 'recompute';
  /** Inner channels per group (the Section 5.1 chunk) and the chunks that makes. */
  groupChannels: number;
  chunks: number;
  /** Output columns per tile (integer blocks; pixels per tile of the head). */
  tileCols: number;
  /**
   * Buffer (index into Plan.buffers) holding the input rows: a ring (its `ring` says how
   * many rows), or the input tensor's own buffer when the tensor is whole in the arena.
   */
  inputBuffer: number;
  /** The expanded ring of a 'ring' block, or the head's pool sums; -1 otherwise. */
  stateBuffer: number;
  /** Working areas inside the stream's work buffer: the expanded window (with the partial sums after it) and the depthwise tile. */
  expandWork: Area;
  depthwiseWork: Area;
  /** Offset of the int32 partial sums inside the expanded work area, or -1 (no sums). */
  accOffset: number;
  /** A row head's pool op (-1: none) and where its tensors live. */
  head?: { pool: number; state: HeadAreaPlan[]; work: HeadAreaPlan[] };
}

/**
 * A streamed-execution unit: consecutive ops run row by row through line buffers
 * (rings) from its input to its output, in the pull schedule of
 * planner/stream/schedule.ts. Only rings, the rings of expanded rows, the head's sums
 * and one shared working area exist while it runs; its internal tensors are never
 * whole. With `externalInput` the input is the caller's image, outside the arena: the
 * executor writes its rows into the first ring as the schedule asks for them.
 */
export interface StreamStep {
  kind: 'stream';
  stages: StreamStagePlan[];
  externalInput: boolean;
  /**
   * Passes over the schedule: 2 when the last stage is a row head that pools its input
   * (the first pass only sums its rows; the second makes the head's rows), else 1.
   */
  passes: 1 | 2;
  /** Index into Plan.buffers of the working area the stages share (one runs at a time). */
  workBuffer: number;
}

export type PlanStep = OpStep | BlockStep | StreamStep;

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
  /**
   * A line buffer of a streamed step: the last `rows` rows of `tensor` written, row r in
   * slot r mod rows, `rowBytes` each; then `mirrorRows` slots repeating slots 0.. (so a
   * read of consecutive rows starting in the last slots stays contiguous).
   * bytes = (rows + mirrorRows) · rowBytes.
   */
  ring?: { rows: number; rowBytes: number; mirrorRows: number };
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
