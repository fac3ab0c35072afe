/**
 * `lowwater classify` over many images on worker threads (--jobs, --jsonl,
 * --unordered, or a folder among the arguments): results stream as they
 * finish, a bad file fails on its own line, Ctrl-C keeps what finished.
 */
import { humanBytes } from '../../planner/bytes.js';
import type { Classification, MemoryReport, ModelInfo } from '../api/types.js';
import { classifyMany, type BatchResult, type BatchStart } from '../batch/classify_many.js';
import { parseChunks } from '../run_setup.js';
import { expandInputs, IMAGE_EXTENSIONS } from './batch_inputs.js';
import { UsageError, type CliIO } from './io.js';
import { ProgressBar } from './progress.js';
import { checkTask, parseBudget, runJson, runSummary, type ModelFigures, type SharedRunValues } from './run_command.js';

export interface BatchValues extends SharedRunValues {
  json: boolean;
  jsonl: boolean;
  raw: boolean;
  unordered: boolean;
  jobs?: string | undefined;
}

/** One image's entry in `--json`'s results and one `--jsonl` line: the same fields either way. */
export function resultEntry(image: string, c: Classification, raw: boolean): Record<string, unknown> {
  return {
    image,
    inputSha256: c.inputSha256,
    top: c.top,
    latencyMs: c.latencyMs,
    ...(raw ? { output: Array.from(c.output) } : {}),
  };
}

/** One image in the text output: its name and latency, then a line per class. */
export function textLines(image: string, c: Classification): string[] {
  return [
    `${image}  (${c.latencyMs.toFixed(1)} ms)`,
    ...c.top.map((t) => `  ${t.score.toFixed(4)}  ${t.index.toString().padStart(4)}  ${t.label}`),
  ];
}

/** The `--json` fields that say what the scores are on a quantized model. */
export function classifyJsonExtra(info: ModelInfo): Record<string, unknown> {
  const { outputQuantization, outputGrid } = info;
  return {
    ...(info.path === 'integer' && outputQuantization ? { outputQuantization } : {}),
    ...(outputGrid ? { outputGrid: `scores rounded to the model's ${outputGrid}` } : {}),
  };
}

/** Exit codes of a batch stopped by a signal: 128 + the signal's number, as shells report it. */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

export async function classifyBatch(values: BatchValues, args: string[], top: number, io: CliIO): Promise<number> {
  const jobs = values.jobs === undefined ? 1 : Number(values.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1))
    throw new UsageError(`--jobs must be a whole number ≥ 1, got '${values.jobs}'`);
  if (values.json && values.jsonl) throw new UsageError('--json and --jsonl exclude each other');
  checkTask(values.model, 'classify');
  const budget = parseBudget(values.budget);
  const { images, empty } = await expandInputs(args);
  if (images.length === 0)
    throw new UsageError(
      `no images in ${args.join(', ')} (a folder's files are taken by ${IMAGE_EXTENSIONS.join(' ')})`,
    );
  const bar = io.progress ? new ProgressBar(io.progress.write) : undefined;
  const log = (s: string) => {
    bar?.clear();
    io.stderr(`lowwater: ${s}`);
  };
  for (const folder of empty) log(`no images in folder ${folder}`);

  const out = (s: string) => {
    if (io.progress?.sharesStdout) bar?.clear();
    io.stdout(s);
  };
  const stop = new AbortController();
  const handlers = Object.keys(STOP_SIGNALS).map((sig) => {
    const h = () => stop.abort(sig);
    process.once(sig, h);
    return [sig, h] as const;
  });

  let start: BatchStart | undefined;
  let lastMemory: MemoryReport | undefined;
  let failed = 0;
  let finished = 0;
  const collected: Record<string, unknown>[] = [];
  const entryOf = (r: BatchResult<string>) =>
    r.error !== undefined ? { image: r.image, error: r.error } : resultEntry(r.image, r, values.raw);
  const t0 = performance.now();
  let interrupted = false;
  try {
    for await (const r of classifyMany(images, {
      ...(values.model !== undefined ? { model: values.model } : {}),
      jobs,
      top,
      ordered: !values.unordered,
      signal: stop.signal,
      chunks: parseChunks(values.chunks),
      float: values.float,
      offline: values.offline,
      log,
      ...(values.labels ? { labels: values.labels } : {}),
      ...(budget !== undefined ? { budget } : {}),
      onStart: (s) => (start = s),
      ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
    })) {
      finished++;
      if (r.error !== undefined) failed++;
      else lastMemory = r.memory;
      if (values.jsonl) out(JSON.stringify(entryOf(r)));
      else if (values.json) collected.push(entryOf(r));
      else if (r.error !== undefined) out(`${r.image}  error: ${r.error}`);
      else for (const line of textLines(r.image, r)) out(line);
    }
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    interrupted = true;
  } finally {
    bar?.stop();
    for (const [sig, h] of handlers) process.removeListener(sig, h);
  }

  const seconds = (performance.now() - t0) / 1000;
  if (start) {
    const s = start;
    const figures: ModelFigures = {
      model: { info: s.info, plan: s.plan, memory: () => lastMemory ?? s.workerMemory.model },
    };
    const workers = workersLine(s);
    if (values.json)
      out(
        JSON.stringify(
          runJson(figures, collected, {
            ...classifyJsonExtra(s.info),
            jobs: s.jobs,
            ...(interrupted ? { interrupted: true } : {}),
          }),
          null,
          2,
        ),
      );
    else if (!values.jsonl) out(`${runSummary(figures)}\n${workers}`);
    // On a terminal, where the progress bar was, what it came to.
    if (io.progress)
      io.stderr(
        `lowwater: ${finished} of ${images.length} images${failed > 0 ? ` (${failed} failed)` : ''}` +
          `${interrupted ? ', stopped' : ''} in ${seconds.toFixed(1)} s (${(finished / seconds).toFixed(1)} images/s); ${workers}`,
      );
  }
  if (interrupted) return STOP_SIGNALS[stop.signal.reason as keyof typeof STOP_SIGNALS] ?? 130;
  return failed > 0 ? 1 : 0;
}

/** Each worker's memory (they load the same model, so one figure), and the whole process's resident size. */
function workersLine(s: BatchStart): string {
  const w = s.workerMemory;
  return (
    `workers ${s.jobs}, each: WebAssembly memory ${humanBytes(w.model.wasmMemoryBytes)} ` +
    `(weights ${humanBytes(w.model.weightsBytes)}, arena ${humanBytes(w.model.arenaBytes)}), ` +
    `JavaScript heap ${humanBytes(w.jsHeapBytes)}; process resident ${humanBytes(process.memoryUsage().rss)}`
  );
}
