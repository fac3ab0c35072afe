/**
 * From a loaded model to a ready executor: choose the numeric path, plan the
 * graph (before any weight is packed), then create the executor for that plan.
 */
import type { Plan } from '../planner/plan.js';
import { planGraph } from '../planner/plan_graph.js';
import type { LoadedModel } from './model.js';
import { dequantizeModel } from './importers/dequantize.js';
import { Executor } from './executor/executor.js';
import { UsageError } from './cli/io.js';

export interface RunOptions {
  /** 'auto' | 'none' | a chunk count, as text from the CLI or a number. */
  chunks?: string | number;
  budgetBytes?: number;
  debug?: boolean;
}

export interface RunSetup {
  /** The model as executed (float32 path: dequantized). */
  model: LoadedModel;
  plan: Plan;
  executor: Executor;
  /** Chunk count per fused block, by the block's expand op name. */
  chunks: Record<string, number>;
  planningMs: number;
}

export function parseChunks(v: string | number | undefined): 'auto' | 'none' | number {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'none') return 'none';
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--chunks must be auto, none or a positive integer, got '${v}'`);
  return n;
}

export async function prepareRun(loaded: LoadedModel, opts: RunOptions = {}): Promise<RunSetup> {
  const model = loaded.graph.tensors.some((t) => !t.constant && t.dtype !== 'f32' && t.dtype !== 'i32') ? dequantizeModel(loaded) : loaded;
  const t0 = performance.now();
  const plan = planGraph(model.graph, { chunks: parseChunks(opts.chunks), ...(opts.budgetBytes !== undefined ? { budgetBytes: opts.budgetBytes } : {}) });
  const planningMs = performance.now() - t0;
  const executor = await Executor.create(model, plan, { debug: opts.debug ?? false });
  const chunks: Record<string, number> = {};
  for (const s of plan.steps) if (s.kind === 'block') chunks[model.graph.ops[s.expand]!.name] = s.chunks;
  return { model, plan, executor, chunks, planningMs };
}
