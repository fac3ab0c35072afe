// One engine's whole-process footprint, for bench/footprint.ts: process RSS and ArrayBuffers after GC,
// before anything, after importing the engine, after loading the model, after one inference.
// Plain JavaScript run by plain node (no TypeScript loader), so the figures are the engine's alone.
// argv: mode, model path (int8 .tflite or the nsfwjs .onnx), fixture image bytes are not needed: the
// input is a mid-grey image, the same for every engine.
const [mode, modelPath] = process.argv.slice(2);
const snap = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
};
const out = { mode, before: snap() };
const grey = (n) => new Uint8Array(n).fill(128);
const settle = () => new Promise((r) => setTimeout(r, 100));

if (mode === 'lowwater-int8' || mode === 'lowwater-f32') {
  const { loadModel } = await import(new URL('../dist/index.js', import.meta.url).href);
  out.imported = snap();
  const model = await loadModel(mode === 'lowwater-int8' ? modelPath : undefined);
  out.loaded = snap();
  const r = await model.classify({ data: grey(224 * 224 * 3), width: 224, height: 224, channels: 3 });
  await settle();
  out.ran = snap();
  out.engine = r.memory.footprint;
} else if (mode === 'tflite-int8') {
  const { createTfliteRunner } = await import(new URL('./tflite/runner.mjs', import.meta.url).href);
  out.imported = snap();
  const tfl = await createTfliteRunner(modelPath, { threads: 1 });
  out.loaded = snap();
  await tfl.run(grey(224 * 224 * 3));
  await settle();
  out.ran = snap();
  out.engine = { wasmMemoryBytes: tfl.heap().now.memoryBytes };
} else if (mode === 'onnxruntime-web') {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  out.imported = snap();
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  out.loaded = snap();
  const x = new Float32Array(224 * 224 * 3).fill(128 / 255);
  await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 224, 224, 3]) });
  await settle();
  out.ran = snap();
} else if (mode === 'tfjs-wasm') {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const nsfwjs = await import('nsfwjs');
  out.imported = snap();
  const loaded = await nsfwjs.load('MobileNetV2');
  out.loaded = snap();
  const x = tf.tensor4d(new Float32Array(224 * 224 * 3).fill(128 / 255), [1, 224, 224, 3]);
  const y = loaded.model.predict(x);
  await y.data();
  x.dispose();
  y.dispose();
  await settle();
  out.ran = snap();
} else if (mode !== 'bare') throw new Error(`footprint_child: unknown mode '${mode}'`);
process.stdout.write(JSON.stringify(out) + '\n');
