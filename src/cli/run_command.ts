/**
 * What classify, segment and detect share: the options that load, plan and
 * run a model, their help text, and the memory/plan part of their output.
 */
import { humanBytes, parseByteSize } from '../../planner/bytes.js';
import { findRegistryEntry } from '../../models/registry.js';
import { loadModel, type Model, type NodeImage } from '../index.js';
import { parseChunks } from '../run_setup.js';
import { UsageError, type CliIO } from './io.js';

/** node:util parseArgs specs of the shared options. */
export const RUN_OPTION_SPECS = {
  model: { type: 'string' },
  labels: { type: 'string' },
  chunks: { type: 'string', default: 'auto' },
  budget: { type: 'string' },
  stream: { type: 'boolean', default: false },
  float: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  offline: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Help lines of the shared planning and path options (`budgetExample` fits the command's models). */
export function runOptionsHelp(budgetExample: string): string {
  return `  --chunks auto|none|N
                      Section 5.1 channel chunks per inverted residual block
                      (default auto: the lowest peak memory, then the fastest)
  --budget BYTES      peak activation memory allowed (e.g. ${budgetExample}); refused with the
                      smallest feasible peak when too small; a budget no whole-tensor
                      plan meets runs the network row by row (streamed)
  --stream            run row by row through line buffers from the image on (the
                      fastest streamed plan within --budget, or the smallest): the
                      image is read from its decoded buffer, outside the arena
  --float             run a quantized model on the float32 path (dequantized weights)
                      instead of the integer path, which reproduces TFLite exactly
  --offline           never download a model
  -h, --help          this help`;
}

export interface SharedRunValues {
  model?: string | undefined;
  labels?: string | undefined;
  chunks: string;
  budget?: string | undefined;
  stream?: boolean | undefined;
  float: boolean;
  offline: boolean;
}

export interface PreparedCommand {
  model: Model<NodeImage>;
  log: (line: string) => void;
}

/** --budget as bytes (undefined when not given); the message names the flag and the text. */
export function parseBudget(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let n: number;
  try {
    n = parseByteSize(text);
  } catch (e) {
    throw new UsageError(`--budget: ${(e as Error).message}`);
  }
  if (!(n > 0)) throw new UsageError(`--budget must be more than 0 bytes, got '${text}'`);
  return n;
}

/** A registry model named for a task it does not do is a usage error. */
export function checkTask(spec: string | undefined, task: 'classify' | 'segment' | 'detect'): void {
  const entry = spec === undefined ? undefined : findRegistryEntry(spec);
  const kind = { classify: 'classification', segment: 'segmentation', detect: 'detection' }[task];
  if (entry && entry.task !== task)
    throw new UsageError(
      `'${entry.name}' is a ${entry.task} model; ${task} needs a ${kind} model (run 'lowwater models')`,
    );
}

/**
 * Loads the model (`values.model`, else `defaultModel`), checks it suits the
 * command's task when it is a registry name, plans and prepares the run.
 */
export async function loadAndPrepare(
  values: SharedRunValues,
  io: CliIO,
  opts: {
    task: 'classify' | 'segment' | 'detect';
    defaultModel?: string;
    fuseResizeArgmax?: boolean;
    /** Threads per inference (classify --threads). */
    threads?: number;
  },
): Promise<PreparedCommand> {
  const budget = parseBudget(values.budget);
  const log = (s: string) => io.stderr(`lowwater: ${s}`);
  const spec = values.model ?? opts.defaultModel;
  checkTask(spec, opts.task);
  const model = await loadModel(spec, {
    chunks: parseChunks(values.chunks),
    float: values.float,
    offline: values.offline,
    log,
    ...(values.labels ? { labels: values.labels } : {}),
    ...(budget !== undefined ? { budget } : {}),
    ...(values.stream ? { stream: 'on' as const } : {}),
    ...(opts.fuseResizeArgmax !== undefined ? { streamHead: opts.fuseResizeArgmax } : {}),
    ...(opts.threads !== undefined && opts.threads > 1 ? { threads: opts.threads } : {}),
  });
  return { model, log };
}

/** What the closing output reads of a model: a loaded one, or the figures a batch's workers report. */
export interface ModelFigures {
  model: Pick<Model<NodeImage>, 'info' | 'plan' | 'memory'>;
}

/** The JSON fields every run command ends with: model, numeric path, memory, plan. */
export function runJson(
  p: ModelFigures,
  results: unknown[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const { info, plan } = p.model;
  return {
    model: info.description,
    path: info.path,
    dequantized: info.dequantized,
    pathDescription: info.pathDescription,
    ...(info.note ? { note: info.note } : {}),
    ...extra,
    results,
    memory: { ...p.model.memory(), chunks: info.chunks },
    plan: {
      orderAlgorithm: plan.plan.orderAlgorithm,
      placementAlgorithm: plan.plan.placementAlgorithm,
      planningMs: info.planningMs,
    },
  };
}

/** The closing lines of the human output: model, path, memory. */
export function runSummary(p: ModelFigures): string {
  const m = p.model.memory();
  return (
    `model ${p.model.info.description}\npath ${p.model.info.pathDescription}\n` +
    `memory: arena ${humanBytes(m.arenaBytes)} (planned peak ${humanBytes(m.plannedPeakBytes)}, measured ${humanBytes(m.measuredPeakBytes)}), ` +
    `weights ${humanBytes(m.weightsBytes)}, WebAssembly memory ${humanBytes(m.wasmMemoryBytes)}` +
    (m.inputOutsideArenaBytes && p.model.plan.plan.stream
      ? `, input image ${humanBytes(m.inputOutsideArenaBytes)} read row by row outside the arena\n`
      : '\n') +
    (m.threads.count > 1
      ? `threads ${m.threads.count}: the arena holds ${m.threads.count - 1} extra region(s) of ${humanBytes(m.threads.perThreadBytes)} ` +
        `(chunk scratch ${humanBytes(m.threads.perThreadScratchBytes)}; the largest block's is ${humanBytes(m.threads.largestBlockScratchBytes)}), ` +
        `${humanBytes(m.threads.extraBytes)} in all\n`
      : '') +
    `footprint: WebAssembly memory ${humanBytes(m.footprint.wasmMemoryBytes)} (weights ${humanBytes(m.footprint.weightsBytes)}), ` +
    `JS kept ${humanBytes(m.footprint.jsRetainedBytes)}, kernel module ${m.footprint.kernelModuleBytes < 0 ? 'given compiled' : humanBytes(m.footprint.kernelModuleBytes)}`
  );
}
