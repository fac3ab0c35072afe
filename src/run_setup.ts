/**
 * From a loaded model to a ready executor: choose the numeric path, plan the
 * graph (before any weight is packed), then create the executor for that plan.
 */
import type { Plan } from '../planner/plan.js';
import type { Quantization } from '../planner/ir.js';
import { planGraphReport, PlanRefusedError, type PlanReport } from '../planner/plan_graph.js';
import type { ThreadsOption } from './executor/threads.js';
import { fuseResizeArgmax } from '../planner/fuse_resize_argmax.js';
import type { LoadedModel } from './model.js';
import { dequantizeModel } from './importers/dequantize.js';
import { Executor } from './executor/executor.js';
import { isIntegerGraph, q8UnsupportedOps } from './executor/lower.js';
import { UsageError } from './errors.js';

export interface RunOptions {
  /** The compiled kernel module (see ExecutorOptions.kernels). */
  kernels: WebAssembly.Module;
  /** 'auto' | 'none' | a chunk count, as text from the CLI or a number. */
  chunks?: string | number;
  budgetBytes?: number;
  /** Row-streamed execution: 'auto' (when a budget needs it), 'on', 'off' (planner PlanOptions.stream). */
  stream?: 'auto' | 'on' | 'off';
  debug?: boolean;
  /** Run a quantized model on the dequantized float32 path instead of the integer path. */
  float?: boolean;
  /** Called when the plan is complete, before any weight is read (the two-phase load's boundary). */
  onPlanned?: (plan: Plan) => void;
  /**
   * Fuse a final RESIZE_BILINEAR → ARG_MAX into one resize_argmax op (planner/fuse_resize_argmax.ts;
   * default true): the resized scores are never materialized. false runs the graph as imported.
   */
  fuseResizeArgmax?: boolean;
  /**
   * One inference split across threads (count > 1; `kernels` is then the threads build).
   * Only whole-tensor plans split: with count > 1, stream 'on' is refused and 'auto'
   * plans whole tensors only (a budget below the smallest whole-tensor plan is refused).
   */
  threads?: ThreadsOption;
}

export interface RunSetup {
  /** The model as executed (float32 path: dequantized; integer path: as imported). */
  model: LoadedModel;
  /**
   * 'integer': the quantized graph as imported, on the q8 kernels (the default for
   * quantized models); 'float32': float kernels (dequantized when the file is quantized).
   */
  path: 'integer' | 'float32';
  /** Why a quantized model runs on the float path although integer was not refused by the caller. */
  note?: string;
  plan: Plan;
  /** The planner's report of that plan (what `lowwater plan --json` prints, through planJson). */
  report: PlanReport;
  executor: Executor;
  /** Chunk count per fused block, by the block's expand op name. */
  chunks: Record<string, number>;
  planningMs: number;
  /**
   * Quantization of the first output in the file, when the float path runs a
   * quantized model: its scores are reported as that uint8/int8 tensor would
   * hold them (see quantizeLike), so ranks and ties are the model's own.
   */
  outputGrid?: { quant: Quantization; dtype: 'u8' | 'i8' };
}

const rintHalfEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * Rounds float outputs to the grid of the model's quantized output tensor
 * (q = clamp(rint(v / scale) + zp), value = scale · (q − zp)). A uint8 softmax
 * can only say 0, 1/256, 2/256...; comparing a float path's 0.0008 against
 * another class's 0.0006 would rank noise the model itself cannot express.
 */
export function quantizeLike(values: Float32Array, q: Quantization, dtype: 'u8' | 'i8'): Float32Array {
  const [lo, hi] = dtype === 'u8' ? [0, 255] : [-128, 127];
  const s = q.scale[0]!;
  const z = q.zeroPoint[0]!;
  return values.map((v) => s * (Math.min(hi, Math.max(lo, rintHalfEven(v / s) + z)) - z));
}

export function parseChunks(v: string | number | undefined): 'auto' | 'none' | number {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'none') return 'none';
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--chunks must be auto, none or a positive integer, got '${v}'`);
  return n;
}

export async function prepareRun(loaded: LoadedModel, opts: RunOptions): Promise<RunSetup> {
  let note: string | undefined;
  let integer = !opts.float && isIntegerGraph(loaded.graph);
  if (integer) {
    const unsupported = q8UnsupportedOps(loaded.graph);
    if (unsupported.length) {
      integer = false;
      note = `the integer path does not run ${unsupported.length} op(s) of this model yet (${unsupported.slice(0, 3).join('; ')}${unsupported.length > 3 ? '; ...' : ''}); running the dequantized float32 path`;
    }
  }
  const dequantize =
    !integer && loaded.graph.tensors.some((t) => !t.constant && t.dtype !== 'f32' && t.dtype !== 'i32');
  let model = dequantize ? dequantizeModel(loaded) : loaded;
  if (opts.fuseResizeArgmax ?? true) {
    const { graph, fused } = fuseResizeArgmax(model.graph);
    if (fused.length) model = { ...model, graph };
  }
  const threads = opts.threads && opts.threads.count > 1 ? opts.threads : undefined;
  if (threads && opts.stream === 'on')
    throw new UsageError(
      `threads ${threads.count} with stream 'on' (--stream): threads split whole-tensor plans only; a row-streamed plan runs on one thread (threads 1)`,
    );
  const t0 = performance.now();
  let report: PlanReport;
  try {
    report = planGraphReport(model.graph, {
      chunks: parseChunks(opts.chunks),
      ...(opts.budgetBytes !== undefined ? { budgetBytes: opts.budgetBytes } : {}),
      ...(threads ? { stream: 'off' as const } : opts.stream !== undefined ? { stream: opts.stream } : {}),
    });
  } catch (e) {
    if (threads && e instanceof PlanRefusedError)
      throw new PlanRefusedError(
        `${e.message} (threads ${threads.count}: only whole-tensor plans split across threads; the row-streamed plans that reach below this run on one thread, threads 1)`,
        e.minimumBytes,
      );
    throw e;
  }
  const planningMs = performance.now() - t0;
  const plan = report.plan;
  opts.onPlanned?.(plan);
  const executor = await Executor.create(model, plan, {
    kernels: opts.kernels,
    debug: opts.debug ?? false,
    ...(threads ? { threads } : {}),
  });
  const chunks: Record<string, number> = {};
  for (const s of plan.steps) if (s.kind === 'block') chunks[model.graph.ops[s.expand]!.name] = s.chunks;
  const out = loaded.graph.tensors[loaded.graph.outputs[0]!]!;
  const grid =
    dequantize && out.quant && out.quant.scale.length === 1 && (out.dtype === 'u8' || out.dtype === 'i8')
      ? { quant: out.quant, dtype: out.dtype }
      : undefined;
  return {
    model,
    path: integer ? 'integer' : 'float32',
    plan,
    report,
    executor,
    chunks,
    planningMs,
    ...(grid ? { outputGrid: grid } : {}),
    ...(note ? { note } : {}),
  };
}
