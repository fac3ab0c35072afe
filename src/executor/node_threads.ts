/**
 * Node's threads for one inference: worker_threads, each instantiating the kernels'
 * threads build on the executor's shared WebAssembly.Memory (the module crosses threads
 * by structured clone; V8 shares its compiled code).
 *
 * Synchronisation is a small shared Int32Array. To run a step the executor's thread
 * zeroes DONE, writes STEP, publishes CLAIM = (epoch << 8 | 0) and bumps GEN (waking
 * sleeping workers with Atomics.notify). Every thread, the executor's included, claims
 * pieces by compare-and-swap on CLAIM (the epoch in the word makes a claim for an older
 * step fail) and runs them; each finished piece adds 1 to DONE, and the executor's
 * thread returns when DONE reaches the piece count. A worker the OS has not woken yet
 * claims nothing, and the executor's thread runs its piece: the step takes about one
 * thread's time, never waits for a thread that is not running.
 */
import type { Worker } from 'node:worker_threads';
import type { StartThreadPool, ThreadPool, ThreadPoolSpec } from './threads.js';

/** Control words: wake counter, step, claim word (epoch << 8 | next piece), pieces done, failed thread, stop. */
const GEN = 0,
  STEP = 1,
  CLAIM = 2,
  DONE = 3,
  FAILED = 4,
  STOP = 5;
const WORDS = 6;
/** Bytes of the control block after the words: the first failing thread's message (UTF-8). */
const MESSAGE_BYTES = 1024;
/**
 * How long a thread with nothing to do spins before it sleeps (Atomics.wait), in ms: the
 * steps of one inference follow each other within microseconds, and a thread woken from
 * sleep is often put on its waker's core. Short, so that on a machine whose other core is
 * busy a spinning thread takes little from the one that works.
 */
const SPIN_MS = 1;

// The worker's code (CommonJS, run with eval: true, so the bundles need no file beside them).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, control, index, shift, jobs } = workerData;
const c = new Int32Array(control, 0, ${WORDS});
const message = new Uint8Array(control, ${WORDS * 4});
const instance = new WebAssembly.Instance(module, {
  env: { memory, abort() { throw new Error('kernel assertion failed'); } },
});
const ex = instance.exports;
ex.kernel_thread_init(shift);
const steps = jobs.map((pieces) =>
  pieces &&
  pieces.map((list) => {
    const calls = list.map(({ kernel, args }) => {
      const f = ex[kernel];
      if (typeof f !== 'function') throw new Error('the threads build has no kernel ' + kernel);
      return () => f(...args);
    });
    return () => { for (let i = 0; i < calls.length; i++) calls[i](); };
  }),
);
// Read before 'ready': the executor may start a step as soon as it has every 'ready'.
let gen = Atomics.load(c, ${GEN});
parentPort.postMessage('ready');
for (;;) {
  const until = performance.now() + ${SPIN_MS};
  for (let i = 1; Atomics.load(c, ${GEN}) === gen; i++) {
    if ((i & 255) === 0 && performance.now() > until) {
      Atomics.wait(c, ${GEN}, gen);
      break;
    }
  }
  gen = Atomics.load(c, ${GEN});
  if (Atomics.load(c, ${STOP})) break;
  for (;;) {
    const w = Atomics.load(c, ${CLAIM});
    const step = Atomics.load(c, ${STEP});
    const pieces = steps[step];
    const p = w & 255;
    if (!pieces || p >= pieces.length) break;
    if (Atomics.compareExchange(c, ${CLAIM}, w, w + 1) !== w) continue;
    try {
      pieces[p]();
    } catch (e) {
      if (Atomics.compareExchange(c, ${FAILED}, 0, index) === 0) {
        const text = new TextEncoder().encode('step ' + step + ', piece ' + p + ': ' + String((e && e.message) || e));
        message.fill(0);
        message.set(text.subarray(0, message.length - 1));
      }
    }
    if (Atomics.add(c, ${DONE}, 1) + 1 === pieces.length) Atomics.notify(c, ${DONE});
  }
}
`;

class NodeThreadPool implements ThreadPool {
  private readonly c: Int32Array;
  private closed = false;
  private epoch = 0;

  constructor(
    private readonly threads: Worker[],
    private readonly control: SharedArrayBuffer,
  ) {
    this.c = new Int32Array(control, 0, WORDS);
  }

  get workers(): number {
    return this.threads.length;
  }

  run(step: number, own: readonly (() => void)[]): void {
    const c = this.c;
    const n = own.length;
    this.epoch = (this.epoch + 1) & 0x7fffff;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, STEP, step);
    Atomics.store(c, CLAIM, this.epoch << 8);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    let error: unknown;
    for (;;) {
      const w = Atomics.load(c, CLAIM);
      const p = w & 255;
      if (p >= n) break;
      if (Atomics.compareExchange(c, CLAIM, w, w + 1) !== w) continue;
      try {
        own[p]!();
      } catch (e) {
        error ??= e;
      }
      Atomics.add(c, DONE, 1);
    }
    // Pieces other threads claimed: spin a little, then sleep until the last one is done.
    const until = performance.now() + SPIN_MS;
    for (let i = 1, d = Atomics.load(c, DONE); d < n; i++, d = Atomics.load(c, DONE))
      if ((i & 255) === 0 && performance.now() > until) Atomics.wait(c, DONE, d);
    if (error !== undefined) throw error;
    const failed = Atomics.load(c, FAILED);
    if (failed) {
      Atomics.store(c, FAILED, 0);
      const bytes = new Uint8Array(this.control, WORDS * 4).slice();
      const end = bytes.indexOf(0);
      const text = new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
      throw new Error(`thread ${failed} of ${this.threads.length + 1}: ${text}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.c, STOP, 1);
    Atomics.add(this.c, GEN, 1);
    Atomics.notify(this.c, GEN);
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}

/** Starts spec.jobs.length worker threads, each ready (kernels instantiated, calls bound) when this resolves. */
export const startNodeThreads: StartThreadPool = async (spec: ThreadPoolSpec) => {
  // node:worker_threads is loaded when threads start, not by importing lowwater (~1.3 MB of RSS).
  const { Worker } = await import('node:worker_threads');
  const control = new SharedArrayBuffer(WORDS * 4 + MESSAGE_BYTES);
  const workers: Worker[] = [];
  try {
    for (let w = 0; w < spec.jobs.length; w++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module: spec.module,
          memory: spec.memory,
          control,
          index: w + 1,
          shift: spec.argsShift[w]!,
          jobs: spec.jobs[w]!,
        },
      });
      workers.push(worker);
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) =>
          reject(new Error(`lowwater threads: thread ${w + 1} did not start: ${e.message}`));
        worker.once('error', onError);
        worker.once('message', () => {
          worker.off('error', onError);
          resolve();
        });
      });
      // An idle pool does not keep the process alive; model.dispose() ends it.
      worker.unref();
    }
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return new NodeThreadPool(workers, control);
};
