/**
 * Node's threads for one inference: worker_threads, each instantiating the kernels'
 * threads build on the executor's shared WebAssembly.Memory (the module crosses threads
 * by structured clone; V8 shares its compiled code). Synchronisation is a small shared
 * Int32Array: the executor's thread writes the step and bumps a generation counter
 * (Atomics.notify), each worker runs its calls for that step and counts down `pending`;
 * the executor's thread, after its own share, waits for 0 (Atomics.wait, which Node
 * allows on the main thread).
 */
import { Worker } from 'node:worker_threads';
import type { StartThreadPool, ThreadPool, ThreadPoolSpec } from './threads.js';

/** Control words: generation (bumped per started step; -1 in STEP stops), step, workers pending, failed worker + 1. */
const GEN = 0,
  STEP = 1,
  PENDING = 2,
  FAILED = 3;
/** Bytes of the control block after the words: the first failing worker's message (UTF-8). */
const MESSAGE_BYTES = 1024;
const WORDS = 4;
/**
 * How long an idle thread spins before it sleeps, in ms: longer than the gap between two
 * steps of one inference, shorter than a pause between inferences that someone would
 * notice as a busy core.
 */
const SPIN_MS = 0.5;

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
const steps = jobs.map((list) => {
  if (!list) return null;
  const calls = list.map(({ kernel, args }) => {
    const f = ex[kernel];
    if (typeof f !== 'function') throw new Error('the threads build has no kernel ' + kernel);
    return () => f(...args);
  });
  return () => { for (let i = 0; i < calls.length; i++) calls[i](); };
});
// Read before 'ready': the executor may start a step as soon as it has every 'ready'.
let gen = Atomics.load(c, ${GEN});
parentPort.postMessage('ready');
for (;;) {
  // Spin a while before sleeping: the steps of one inference follow each other within
  // microseconds, and a thread woken from Atomics.wait is often put on its waker's core,
  // which then waits for it instead of running its own share.
  const until = performance.now() + ${SPIN_MS};
  for (let i = 1; Atomics.load(c, ${GEN}) === gen; i++) {
    if ((i & 1023) === 0 && performance.now() > until) {
      Atomics.wait(c, ${GEN}, gen);
      break;
    }
  }
  gen = Atomics.load(c, ${GEN});
  const step = Atomics.load(c, ${STEP});
  if (step < 0) break;
  try {
    const run = steps[step];
    if (!run) throw new Error('no calls for step ' + step);
    run();
  } catch (e) {
    if (Atomics.compareExchange(c, ${FAILED}, 0, index) === 0) {
      const text = new TextEncoder().encode(String((e && e.message) || e)).subarray(0, message.length - 1);
      message.fill(0);
      message.set(text);
    }
  }
  if (Atomics.sub(c, ${PENDING}, 1) === 1) Atomics.notify(c, ${PENDING});
}
`;

class NodeThreadPool implements ThreadPool {
  private readonly c: Int32Array;
  private closed = false;

  constructor(
    private readonly threads: Worker[],
    private readonly control: SharedArrayBuffer,
  ) {
    this.c = new Int32Array(control, 0, WORDS);
  }

  get workers(): number {
    return this.threads.length;
  }

  start(step: number): void {
    const c = this.c;
    Atomics.store(c, STEP, step);
    Atomics.store(c, PENDING, this.threads.length);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
  }

  finish(): void {
    const c = this.c;
    // The other threads finish about when this one does: spin, then sleep if they are late.
    const until = performance.now() + SPIN_MS;
    for (let i = 1, p = Atomics.load(c, PENDING); p !== 0; i++, p = Atomics.load(c, PENDING))
      if ((i & 1023) === 0 && performance.now() > until) Atomics.wait(c, PENDING, p);
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
    Atomics.store(this.c, STEP, -1);
    Atomics.add(this.c, GEN, 1);
    Atomics.notify(this.c, GEN);
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}

/** Starts spec.jobs.length worker threads, each ready (kernels instantiated, calls bound) when this resolves. */
export const startNodeThreads: StartThreadPool = async (spec: ThreadPoolSpec) => {
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
