/**
 * A batch worker thread: loads its own copy of the model on the kernel module
 * its parent compiled, then classifies the images it is sent one at a time
 * (decode, resize, run), so that N workers keep N cores busy and no more.
 * Bundled as dist/batch_worker.js; src/batch/classify_many.ts starts it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { loadModel, type Model, type NodeImage } from '../index.js';
import { adoptKernels } from '../kernels/node_loader.js';
import { serializeError, type Task, type WorkerMessage, type WorkerStart } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('lowwater batch worker: start it as a worker thread');
const start = workerData as WorkerStart;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** The error of one image on one line, naming the image (decoder messages already do). */
function imageError(e: unknown, image: NodeImage, id: number): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
  const name = typeof image === 'string' ? image : `image ${id}`;
  return message.includes(name) ? message : `${name}: ${message}`;
}

const queue: Task[] = [];
let model: Model<NodeImage> | undefined;
let busy = false;

async function drain(): Promise<void> {
  if (busy || !model) return;
  busy = true;
  for (let task = queue.shift(); task; task = queue.shift()) {
    try {
      const result = await model.classify(task.image, { top: start.top });
      post({ type: 'done', id: task.id, result }, [result.output.buffer as ArrayBuffer]);
    } catch (e) {
      post({ type: 'error', id: task.id, message: imageError(e, task.image, task.id) });
    }
  }
  busy = false;
}

port.on('message', (task: Task) => {
  queue.push(task);
  void drain();
});

try {
  adoptKernels(start.kernels, {
    debug: start.options.debug ?? false,
    ...(start.kernelBytes ? { bytes: start.kernelBytes } : {}),
  });
  model = await loadModel(start.source, { ...start.options, log: (line) => post({ type: 'log', line }) });
  post({
    type: 'ready',
    info: model.info,
    plan: model.plan,
    memory: { model: model.memory(), jsHeapBytes: getHeapStatistics().used_heap_size },
  });
  void drain();
} catch (e) {
  post({ type: 'failed', error: serializeError(e) });
}
