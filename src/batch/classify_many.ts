/**
 * classifyMany: many images over a pool of worker threads, results streamed
 * as an async iterable, in input order by default.
 *
 * The main thread compiles the kernel module once and posts it to every
 * worker (V8 shares the compiled code); each worker loads its own copy of the
 * model's weights into its own WebAssembly memory, next to its own arena, and
 * decodes its images itself. The pool is a few dozen lines here rather than a
 * library: it needs per-worker model loading, a bounded reorder window and a
 * stop that keeps what finished, and little else.
 */
import type { Worker } from 'node:worker_threads';
import { runOptions } from '../api/options.js';
import type { Classification, ModelInfo, PlanJson } from '../api/types.js';
import { UsageError } from '../errors.js';
import { kernelModuleBytes } from '../kernels/loader.js';
import { loadKernels } from '../kernels/node_loader.js';
import { prefetchModel } from '../load_model.js';
import type { LoadOptions, NodeImage } from '../index.js';
import { deserializeError, type Task, type WorkerMemory, type WorkerMessage, type WorkerStart } from './protocol.js';

export type { WorkerMemory };

export interface ClassifyManyOptions extends LoadOptions {
  /** The model, as `loadModel`'s first argument (default: the bundled model). */
  model?: string | Uint8Array | ArrayBuffer;
  /** Worker threads, each with its own copy of the model (default 1). */
  jobs?: number;
  /** Classes per image (default 5). */
  top?: number;
  /** Results in input order (default true; a result may then wait for an earlier, slower image); false: as they finish. */
  ordered?: boolean;
  /** Stops the batch: no image is started after it; images being classified finish and are yielded, then the iteration throws the signal's reason. */
  signal?: AbortSignal;
  /** Called at the start, as each worker is ready, and as images finish. */
  onProgress?: (progress: BatchProgress) => void;
  /** Called once, when the first worker has loaded the model (before any result). */
  onStart?: (start: BatchStart) => void;
}

export interface BatchProgress {
  /** Images finished, failed ones included. */
  done: number;
  failed: number;
  total: number;
  /** Workers that have loaded the model (images are classified from the first one on). */
  workersReady: number;
  /** Since the batch started (workers loading the model included). */
  elapsedMs: number;
}

export interface BatchStart {
  info: ModelInfo;
  plan: PlanJson;
  /** Worker threads started (each loads the same model with the same plan). */
  jobs: number;
  /** Memory of the first worker ready; every worker has as much: its own WebAssembly memory (weights + arena) and JavaScript heap. */
  workerMemory: WorkerMemory;
}

/** An image's result: `index` is its place in the input. */
export type BatchClassification<I = NodeImage> = { image: I; index: number; error?: undefined } & Classification;
/** An image that could not be classified: `error` is a one-line message naming it. */
export interface BatchFailure<I = NodeImage> {
  image: I;
  index: number;
  error: string;
}
export type BatchResult<I = NodeImage> = BatchClassification<I> | BatchFailure<I>;

/** Tasks a worker holds at once: one running, one waiting, so it never idles between two messages. */
const PER_WORKER = 2;

type WorkerClass = typeof import('node:worker_threads').Worker;

function startWorker(Worker: WorkerClass, workerData: WorkerStart): Worker {
  const here = import.meta.url;
  // Bundled, this module is part of dist/index.js or dist/main.js, beside dist/batch_worker.js.
  if (!here.endsWith('.ts')) return new Worker(new URL('./batch_worker.js', here), { workerData });
  // From source (under tsx, which does not carry its loader into worker threads): the worker registers tsx's
  // loader, then imports the TypeScript entry beside this file.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./batch_worker.ts', here).href);
  return new Worker(`import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`, {
    eval: true,
    workerData,
  });
}

/**
 * Classifies `images` on `jobs` worker threads. A file that fails (unreadable, not an image) gives a
 * BatchFailure and the batch goes on; a model that fails to load throws from the iteration.
 * Breaking out of the loop stops the workers.
 */
export async function* classifyMany<I extends NodeImage>(
  images: Iterable<I>,
  options: ClassifyManyOptions = {},
): AsyncGenerator<BatchResult<I>, void, undefined> {
  const t0 = performance.now();
  const list = Array.from(images);
  const total = list.length;
  const { model: source, jobs: jobsOpt, top = 5, ordered = true, signal, onProgress, onStart, log, ...load } = options;
  const jobs = Math.min(jobsOpt ?? 1, Math.max(total, 1));
  if (!(Number.isInteger(jobsOpt ?? 1) && (jobsOpt ?? 1) >= 1))
    throw new UsageError(`jobs must be a whole number ≥ 1, got ${jobsOpt}`);
  if (!(Number.isInteger(top) && top >= 1)) throw new UsageError(`top must be a whole number ≥ 1, got ${top}`);
  if (load.threads !== undefined && load.threads !== 1)
    throw new UsageError(
      `threads ${load.threads} with classifyMany: a batch keeps the cores busy with one image per job; give jobs instead (one inference per thread)`,
    );
  signal?.throwIfAborted();
  const kernels = await loadKernels({ debug: load.debug ?? false });
  runOptions(load, kernels); // option errors here, once, rather than from every worker
  if (total === 0) return;
  await prefetchModel(source, {
    ...(load.offline !== undefined ? { offline: load.offline } : {}),
    ...(typeof load.labels === 'string' ? { labelsFile: load.labels } : {}),
    ...(log ? { log } : {}),
  });

  const start: WorkerStart = { kernels, kernelBytes: kernelModuleBytes(kernels), source, options: load, top };
  const workers: { worker: Worker; ready: boolean; tasks: Set<number> }[] = [];
  const finished = new Map<number, BatchResult<I>>(); // finished, not yet yielded
  const finishOrder: number[] = []; // unordered: the order they finished in
  let next = 0; // next image to dispatch
  let yielded = 0;
  let done = 0;
  let failed = 0;
  let fatal: Error | undefined;
  let stopped = signal?.aborted ?? false;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  const progress = () =>
    onProgress?.({
      done,
      failed,
      total,
      workersReady: workers.filter((w) => w.ready).length,
      elapsedMs: performance.now() - t0,
    });
  // Results waiting to be yielded plus images in flight stay under this, so memory stays bounded whatever the
  // consumer's pace or a slow image's delay.
  const window = Math.max(16, jobs * PER_WORKER * 4);
  const inFlight = () => workers.reduce((n, w) => n + w.tasks.size, 0);

  const dispatch = () => {
    for (const w of workers) {
      while (!stopped && !fatal && w.ready && w.tasks.size < PER_WORKER && next < total && next < yielded + window) {
        const task: Task = { id: next, image: list[next]! };
        w.tasks.add(next++);
        w.worker.postMessage(task);
      }
    }
  };
  const finish = (id: number, r: BatchResult<I>) => {
    finished.set(id, r);
    if (!ordered) finishOrder.push(id);
    done++;
    if (r.error !== undefined) failed++;
    progress();
  };
  const onAbort = () => {
    stopped = true;
    poke();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    progress();
    // node:worker_threads is loaded by a batch, not by importing lowwater (~1.3 MB of RSS).
    const { Worker } = await import('node:worker_threads');
    for (let i = 0; i < jobs; i++) {
      const w = { worker: startWorker(Worker, start), ready: false, tasks: new Set<number>() };
      const slot = w as (typeof workers)[number];
      workers.push(slot);
      w.worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') log?.(m.line);
        else if (m.type === 'ready') {
          if (!workers.some((x) => x.ready)) onStart?.({ info: m.info, plan: m.plan, jobs, workerMemory: m.memory });
          slot.ready = true;
          progress();
        } else if (m.type === 'failed') fatal ??= deserializeError(m.error);
        else {
          slot.tasks.delete(m.id);
          const image = list[m.id]!;
          finish(
            m.id,
            m.type === 'done' ? { image, index: m.id, ...m.result } : { image, index: m.id, error: m.message },
          );
        }
        dispatch();
        poke();
      });
      w.worker.on('error', (e) => {
        fatal ??= e;
        poke();
      });
      w.worker.on('exit', (code) => {
        fatal ??= new Error(`lowwater: a batch worker stopped unexpectedly (exit code ${code})`);
        poke();
      });
    }

    for (;;) {
      if (ordered) {
        while (finished.has(yielded)) {
          const r = finished.get(yielded)!;
          finished.delete(yielded++);
          dispatch();
          yield r;
        }
      } else {
        while (finishOrder.length > 0) {
          const id = finishOrder.shift()!;
          const r = finished.get(id)!;
          finished.delete(id);
          yielded++;
          dispatch();
          yield r;
        }
      }
      if (fatal) throw fatal;
      if (yielded === total) return;
      if (stopped && inFlight() === 0 && yielded === next) throw signal?.reason ?? new Error('stopped');
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(
      workers.map((w) => {
        w.worker.removeAllListeners('exit');
        return w.worker.terminate();
      }),
    );
  }
}
