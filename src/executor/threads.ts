/**
 * What an executor running one inference on several threads needs from its runtime,
 * whatever starts the threads (Node: node_threads.ts): each extra thread instantiates
 * the same compiled kernel module on the executor's shared memory. A step that splits
 * has one piece per thread; the threads claim pieces one at a time (the executor's thread
 * too), each running a claimed piece with the kernel calls bound for it in its own scratch.
 * A thread the OS has not scheduled yet then delays nothing: the others take its piece.
 */

/** One kernel call as a thread replays it: the export's name and its positional arguments. */
export interface ThreadJob {
  kernel: string;
  args: number[];
}

export interface ThreadPool {
  /** Extra threads (the executor's own thread is not one of them). */
  readonly workers: number;
  /**
   * Runs plan step `step`: its pieces are claimed by this thread (which runs `own[p]` for
   * piece p) and the extra threads alike; returns when every piece is done, and throws the
   * first error any thread met.
   */
  run(step: number, own: readonly (() => void)[]): void;
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
  /** Per extra thread, per plan step, per piece: the calls it runs (null: the step does not split). */
  jobs: (ThreadJob[][] | null)[][];
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
