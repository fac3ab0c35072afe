/**
 * What `model.profile()` and `lowwater profile` report: where the time of a run
 * goes, per plan step (one op, or one fused inverted residual block), with the
 * work each step does; and, when the TFLite-WASM peer ran the same file, TFLite's
 * own per-operator profile matched to those steps. `lowwater profile --json`
 * prints a Profile as it is.
 */

export interface ProfileOptions {
  /** Timed runs (default: as many as take about 2 s, at least 10 and at most 100). */
  runs?: number;
  /** Untimed runs first, so the engine has compiled and the caches are warm (default 5). */
  warmup?: number;
}

/** TFLite-WASM's time for a row or a group of rows. */
export interface RowTflite {
  /** Mean ms of the TFLite entries matched to this row alone; null when they are shared with other rows (see `group`). */
  ms: number | null;
  /** ms over the sum of TFLite's entries (`TfliteProfile.entriesMs`). */
  share: number | null;
  /** Index into TfliteProfile.groups of the match this row belongs to. */
  group: number;
}

export interface ProfileRow {
  /** Plan step index. */
  step: number;
  /** 'block': a fused inverted residual block (expansion, depthwise, projection, residual add in one call). */
  kind: 'op' | 'block' | 'stream';
  /** What the step runs, in a few words ('conv 1x1 320→1280', 'block 1x1→dw3x3/2→1x1 16→96→24'). */
  what: string;
  /** Name of the (first) op, shortened. */
  name: string;
  /** Output shape without the batch ('56x56x24'). */
  out: string;
  /** TFLite operator indices of the file this row computes (empty for models that have none, e.g. TensorFlow.js). */
  operators: number[];
  /** TFLite builtin name of each of `operators`. */
  operatorTypes: string[];
  /** Operators with no op of their own in the executed graph, whose work (if any) this row does. */
  folded: number[];
  /** Median time of the step over the timed runs. */
  ms: number;
  /** Mean time of the step (TFLite's profiler reports means; matches compare means with means). */
  meanMs: number;
  /** Fastest time of the step. */
  minMs: number;
  /** ms over the rows' sum (`Profile.stepsMs`): the step's part of a run as the steps account for it. */
  share: number;
  /** Multiply-adds of the graph's convolutions and fully-connected layers in this step. */
  macs: number;
  /** Multiply-adds the kernels compute (more than `macs` where a fused integer block recomputes halo rows). */
  executedMacs: number;
  /** macs / ms in 10^9 per second (the graph's work, not the recomputed halos); null when the step has no multiply-adds. */
  gmacPerS: number | null;
  /** activationBytesRead + weightBytes. */
  bytesRead: number;
  /** Activations read from the arena, each input tensor counted once. */
  activationBytesRead: number;
  /** Weights and biases as the graph stores them (packed copies may add padding). */
  weightBytes: number;
  /** Tensors the step leaves in the arena for later steps (a block's inner tensors never get there). */
  bytesWritten: number;
  /** Section 5.1 channel chunks of a fused block; null for single ops. */
  chunks: number | null;
  /** Present when the TFLite peer ran the same file. */
  tflite?: RowTflite;
}

export interface Profile {
  /** Version of this shape. */
  version: 1;
  /** What was loaded. */
  model: string;
  /** 'integer': uint8/int8 kernels; 'float32': float kernels. */
  path: 'integer' | 'float32';
  pathDescription: string;
  input: {
    /** The image given, or the synthetic input used when none was. */
    description: string;
    /** True when no image was given: every byte 128 (mid-grey). Kernel times do not depend on the pixel values. */
    synthetic: boolean;
    width: number;
    height: number;
    /** sha256 of the model-input RGB bytes (after the resize). */
    sha256: string;
  };
  runs: number;
  warmup: number;
  /** How steps were timed. */
  timer: string;
  /** Median of the timed runs' latency (input written, every step, outputs copied), as `classify` measures it: wall time. */
  totalMs: number;
  /**
   * Median CPU time of this process, all its threads, over a timed run (process.cpuUsage; null where
   * there is none, as in browsers). Far below totalMs, the process waited for a CPU: the machine was busy.
   */
  cpuMs: number | null;
  /** Median latency of ordinary (untimed) runs interleaved with the timed ones: the cost of timing each step shows as totalMs − unprofiledMs. */
  unprofiledMs: number;
  /** Sum of the rows' median ms: a run as the steps account for it, waits for a CPU mostly left out. */
  stepsMs: number;
  /**
   * Median over the timed runs of (sum of that run's step times) / (that run's latency): how much of
   * each run the steps account for. Near 1 when every step is timed and little happens between them.
   */
  coverage: number;
  macs: number;
  executedMacs: number;
  /** macs / stepsMs in 10^9 per second. */
  gmacPerS: number;
  rows: ProfileRow[];
  /** What the reader should know about these figures. */
  notes: string[];
  /** TFLite-WASM's own profile of the same file, when asked for and available. */
  tflite?: TfliteProfile;
}

/** A node of TFLite's graph as its profiler reports it (after XNNPACK took its partitions). */
export interface TfliteNode {
  /** Node index: an operator index of the file, or (delegate kernels) a new index after them. */
  index: number;
  /** Builtin name, or 'TfLiteXNNPackDelegate' for a partition XNNPACK runs. */
  type: string;
  /** Names of the node's output tensors. */
  outputs: string[];
  /** Mean ms per run. */
  ms: number;
  delegate: boolean;
  /** Operators of the file this node runs (one, or every operator of a delegate partition). */
  operators: number[];
}

/** A timed unit of TFLite's run, matched to operators of the file and so to lowwater rows. */
export interface TfliteEntry {
  /**
   * 'node': an operator TFLite runs itself; 'xnnpack': one operator of XNNPACK inside a partition
   * (its profiler's "Delegate internal" rows); 'partition': a whole delegate partition, when its
   * operators could not be told apart; 'overhead': a partition's time outside its XNNPACK operators.
   */
  kind: 'node' | 'xnnpack' | 'partition' | 'overhead';
  /** As TFLite names it ('CONV_2D', 'Convolution (NHWC, QU8) GEMM #3', ...). */
  label: string;
  /** Mean ms per run. */
  ms: number;
  /** Operators of the file it covers. */
  operators: number[];
  /** Index into TfliteProfile.nodes of the node it belongs to. */
  node: number;
  /** lowwater rows (plan steps) of those operators. */
  steps: number[];
}

/** Rows and TFLite entries that cover the same operators: the finest comparison the two profiles allow. */
export interface TfliteGroup {
  steps: number[];
  entries: number[];
  operators: number[];
  /** Sum of the rows' mean ms. */
  lowwaterMs: number;
  /** Sum of the entries' mean ms. */
  tfliteMs: number;
}

export interface TfliteProfile {
  /** The engine, build and settings. */
  runtime: string;
  runs: number;
  warmup: number;
  /** 'operator' when every XNNPACK partition was split into its operators; 'partition' when none was; else 'mixed'. */
  granularity: 'operator' | 'partition' | 'mixed';
  /** Median wall time of one profiled run (input copied in, invoke, output copied out). */
  totalMs: number;
  /** Mean of the same runs (TFLite's profiler reports means). */
  meanMs: number;
  /** Sum of the entries' means: TFLite's shares are of this. */
  entriesMs: number;
  /** Median run of a second interpreter of the same file without the profiler. */
  unprofiledMs: number;
  nodes: TfliteNode[];
  entries: TfliteEntry[];
  /** Every operator of the file: its TFLite entry and its lowwater row (null when lowwater has none). */
  operators: { index: number; type: string; entry: number; step: number | null }[];
  groups: TfliteGroup[];
  notes: string[];
}
