/**
 * Peer engines for side-by-side benchmarks, each set up for one thread:
 * TensorFlow.js with the WASM backend (XNNPACK, SIMD) running the nsfwjs
 * MobileNetV2, and onnxruntime-web (WASM) running the same weights as ONNX
 * (fixtures/peers/nsfwjs_mobilenet_v2.onnx), and onnxruntime-node (native, bench/ort-node)
 * on that file.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerRunner {
  name: string;
  /** Runs one inference on a [1,224,224,3] float32 input and returns the 5 probabilities. */
  run(input: Float32Array): Promise<Float32Array>;
  dispose(): Promise<void>;
}

const require = createRequire(import.meta.url);

export async function tfjsWasmRunner(): Promise<PeerRunner> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs-backend-wasm: SIMD is not available');
  const nsfwjs = await import('nsfwjs');
  const loaded = await nsfwjs.load('MobileNetV2');
  const model = (
    loaded as unknown as { model: { predict(x: unknown): { data(): Promise<Float32Array>; dispose(): void } } }
  ).model;
  return {
    name: 'tfjs-backend-wasm (XNNPACK, SIMD, 1 thread)',
    async run(input) {
      const x = tf.tensor4d(input, [1, 224, 224, 3]);
      const y = model.predict(x);
      const out = await y.data();
      x.dispose();
      y.dispose();
      return Float32Array.from(out);
    },
    async dispose() {
      tf.disposeVariables();
    },
  };
}

export async function onnxruntimeWebRunner(onnxPath: string): Promise<PeerRunner> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return sessionRunner(ort, session, 'onnxruntime-web (WASM, SIMD, 1 thread)');
}

type Ort = typeof import('onnxruntime-web');

/** A PeerRunner over an onnxruntime session (web or node: the same API) of the [1,224,224,3] model. */
function sessionRunner(
  ort: Ort,
  session: Awaited<ReturnType<Ort['InferenceSession']['create']>>,
  name: string,
): PeerRunner {
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  return {
    name,
    async run(input) {
      const out = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 224, 224, 3]) });
      return Float32Array.from(out[outputName]!.data as Float32Array);
    },
    async dispose() {
      await session.release();
    },
  };
}

/** Where bench/ort-node's onnxruntime-node is installed, or undefined before `npm ci --prefix bench/ort-node`. */
export function onnxruntimeNodeDir(): string | undefined {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'ort-node', 'node_modules', 'onnxruntime-node');
  return existsSync(join(dir, 'package.json')) ? dir : undefined;
}

export const ORT_NODE_HOW_TO_INSTALL =
  'bench/ort-node is not installed: run `npm ci --prefix bench/ort-node` (onnxruntime-node, native CPU peer; its .npmrc skips the optional GPU download)';

/**
 * onnxruntime-node: the native build's MLAS CPU kernels (AVX2/AVX-512 FMA where the CPU has
 * them), one intra-op and one inter-op thread, sequential execution: the limit a user of a
 * native runtime sees, on the same ONNX file as onnxruntime-web.
 */
export async function onnxruntimeNodeRunner(onnxPath: string): Promise<PeerRunner> {
  const dir = onnxruntimeNodeDir();
  if (!dir) throw new Error(ORT_NODE_HOW_TO_INSTALL);
  const ort = createRequire(join(dir, 'package.json'))('onnxruntime-node') as Ort;
  const session = await ort.InferenceSession.create(onnxPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  return sessionRunner(ort, session, 'onnxruntime-node (native CPU, MLAS, 1 thread)');
}
