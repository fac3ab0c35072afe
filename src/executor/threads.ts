/**
 * What an executor running one inference on several threads needs from its runtime,
 * whatever starts the threads (Node: node_threads.ts): each extra thread instantiates
 * the same compiled kernel module on the executor's shared memory and runs, for each
 * step that splits, the kernel calls recorded for it, between a start and a finish the
 * executor's thread gives.
 */

/** One kernel call as a thread replays it: the export's name and its positional arguments. */
export interface ThreadJob {
  kernel: string;
  args: number[];
}

export interface ThreadPool {
  /** Extra threads (the executor's own thread is not one of them). */
  readonly workers: number;
  /** Starts step `step` on every extra thread and returns at once. */
  start(step: number): void;
  /** Waits until every extra thread finished the step started last; throws the first thread's error. */
  finish(): void;
  /** Ends the threads. */
  close(): Promise<void>;
}

export interface ThreadPoolSpec {
  /** The threads build of the kernels (build/lowwater.threads.wasm), compiled. */
  module: WebAssembly.Module;
  /** The executor's memory (shared). */
  memory: WebAssembly.Memory;
  /** Per extra thread w (thread t = w + 1): where its copy of the kernels' static argument structs goes. */
  argsShift: number[];
  /** Per extra thread, per plan step: the calls it runs (null: the step does not split). */
  jobs: (ThreadJob[] | null)[][];
}

/** Starts a pool of extra threads (Node: worker_threads, node_threads.ts). */
export type StartThreadPool = (spec: ThreadPoolSpec) => Promise<ThreadPool>;

/** An executor's threads: how many (the executor's own included) and how to start the others. */
export interface ThreadsOption {
  count: number;
  start: StartThreadPool;
}

/**
 * Kernels whose calls are recorded instead of run: binding a step's part with them and
 * calling it once lists the kernel calls (name and positional arguments) another thread
 * replays. Lowered calls are fixed-argument kernel calls, so one run records them all.
 */
export function recordingKernels<K extends object>(names: readonly string[], into: ThreadJob[][]): K {
  const k: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of names)
    k[name] = (...args: number[]) => {
      const list = into[into.length - 1];
      if (!list) throw new Error(`kernel ${name} called outside a recorded step`);
      list.push({ kernel: name, args });
    };
  return k as K;
}
