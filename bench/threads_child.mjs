// One engine at one thread count, for bench/threads.ts: loads, then on each { run: n } message
// runs n inferences and replies with their latencies; on { report } replies with its memory.
// Plain JavaScript run by plain node, so the process's figures are the engine's alone.
// argv: engine (lowwater | ort-node | ort-web), model (a .tflite, the .onnx, or 'default' for
// lowwater's bundled nsfwjs model), threads.
import { createRequire } from 'node:module';

const [engine, model, threadsText] = process.argv.slice(2);
const threads = Number(threadsText);
const pixels = new Uint8Array(224 * 224 * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 7)) & 255;
const floats = Float32Array.from(pixels, (p) => p / 255);

let run; // () => latency ms
let engineMemory = () => ({});

if (engine === 'lowwater') {
  const { loadModel } = await import(new URL('../dist/index.js', import.meta.url).href);
  const m = await loadModel(model === 'default' ? undefined : model, { threads });
  const input = { data: pixels, width: 224, height: 224, channels: 3 };
  run = async () => (await m.classify(input)).latencyMs;
  engineMemory = () => {
    const r = m.memory();
    return {
      arenaBytes: r.arenaBytes,
      plannedPeakBytes: r.plannedPeakBytes,
      measuredPeakBytes: r.measuredPeakBytes,
      wasmMemoryBytes: r.wasmMemoryBytes,
      threads: r.threads,
    };
  };
} else if (engine === 'ort-node' || engine === 'ort-web') {
  const ort =
    engine === 'ort-node'
      ? createRequire(new URL('./ort-node/package.json', import.meta.url))('onnxruntime-node')
      : await import('onnxruntime-web');
  if (engine === 'ort-web') ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [engine === 'ort-node' ? 'cpu' : 'wasm'],
    graphOptimizationLevel: 'all',
    ...(engine === 'ort-node' ? { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' } : {}),
  });
  const name = session.inputNames[0];
  run = async () => {
    const t0 = performance.now();
    await session.run({ [name]: new ort.Tensor('float32', floats, [1, 224, 224, 3]) });
    return performance.now() - t0;
  };
} else throw new Error(`threads_child: unknown engine '${engine}'`);

// The threads this process runs: what each engine really started.
const osThreads = async () => {
  const { readdirSync } = await import('node:fs');
  return readdirSync('/proc/self/task').length;
};

process.on('message', async (msg) => {
  try {
    if (msg.run) {
      const ms = [];
      for (let i = 0; i < msg.run; i++) ms.push(await run());
      process.send({ ms });
    } else if (msg.report) {
      globalThis.gc?.();
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
      const u = process.memoryUsage();
      process.send({
        rss: u.rss,
        maxRss: process.resourceUsage().maxRSS * 1024,
        osThreads: await osThreads(),
        engine: engineMemory(),
      });
    } else if (msg.exit) process.exit(0);
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) });
  }
});
await run();
process.send({ ready: true });
