/**
 * Shared by the tfjs importer tests: seeded random numbers, float16 encoding,
 * weight-manifest writing, and loading @tensorflow/tfjs (a devDependency) on
 * its cpu backend for live comparisons.
 */
import type { WeightGroup, WeightSpec } from '../../src/importers/tfjs/weights.js';

/** Deterministic uniform [0,1) (LCG, fixed seed). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export type Storage = 'float32' | 'uint8' | 'uint16' | 'float16';

/**
 * Random weights for `specs`, stored as `storage`, returned as a one-group
 * manifest plus its bytes. Stored values are exact for the storage (random
 * q for uint8/uint16, random bit patterns for float16), so any decoder must
 * reproduce them exactly. Values lie within ±amplitude, except names ending in
 * `moving_variance`, which get values in about [0.3, 1.5].
 */
export function randomWeights(
  specs: { name: string; shape: number[] }[],
  storage: Storage | ((name: string) => Storage),
  seed: number,
  amplitude = 1,
): { groups: WeightGroup[]; data: Uint8Array } {
  const a = amplitude;
  const topExp = 15 + Math.floor(Math.log2(a)) - 1; // float16 exponent field of the largest magnitude below a
  const rnd = rng(seed);
  const chunks: Uint8Array[] = [];
  const weights: WeightSpec[] = [];
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const positive = /moving_variance$/.test(s.name);
    const st = typeof storage === 'function' ? storage(s.name) : storage;
    const spec: WeightSpec = { name: s.name, shape: s.shape.slice(), dtype: 'float32' };
    let bytes: Uint8Array;
    if (st === 'float32') {
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = positive ? 0.5 + rnd() : (rnd() * 2 - 1) * a;
      bytes = new Uint8Array(v.buffer);
    } else if (st === 'float16') {
      const v = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const sign = positive ? 0 : rnd() < 0.5 ? 1 : 0;
        const exp = positive ? 14 + Math.floor(rnd() * 2) : topExp - Math.floor(rnd() * 4);
        v[i] = (sign << 15) | (exp << 10) | Math.floor(rnd() * 1024);
      }
      spec.quantization = { dtype: 'float16' };
      bytes = new Uint8Array(v.buffer);
    } else {
      const max = st === 'uint8' ? 255 : 65535;
      const v = st === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
      for (let i = 0; i < n; i++) v[i] = Math.floor(rnd() * (max + 1));
      const min = positive ? 0.3 + rnd() * 0.2 : (-1 + rnd() * 0.2) * a;
      spec.quantization = { dtype: st, min, scale: (positive ? 1.2 : 1.8 * a) / max };
      bytes = new Uint8Array(v.buffer);
    }
    weights.push(spec);
    chunks.push(bytes);
  }
  const data = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.byteLength;
  }
  return { groups: [{ paths: ['weights.bin'], weights }], data };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Tf = any;

/** @tensorflow/tfjs on the cpu backend, or null when it is not installed. Silences its banner. */
export async function loadTfjs(): Promise<Tf | null> {
  const log = console.log;
  const warn = console.warn;
  try {
    console.log = () => {};
    console.warn = () => {};
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    await tf.ready();
    tf.tensor([0]).dispose(); // the cpu backend prints its tfjs-node banner on the first write
    return tf;
  } catch {
    return null;
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

export const NO_TFJS = '@tensorflow/tfjs is not installed (it is a devDependency: run npm ci in a clone of lowwater)';

/** The artifacts tfjs's own serializer writes for `model` (topology and weight specs). */
export async function tfjsArtifacts(
  tf: Tf,
  model: Tf,
): Promise<{ modelTopology: object; weightSpecs: { name: string; shape: number[] }[] }> {
  let art: { modelTopology: object; weightSpecs: { name: string; shape: number[] }[] } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a: typeof art) => {
      art = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return art!;
}

/** Loads a layers model into tfjs from an in-memory model.json + weights and runs it on one NHWC input. */
export async function tfjsPredict(
  tf: Tf,
  modelTopology: object,
  groups: WeightGroup[],
  data: Uint8Array,
  input: Float32Array,
  shape: number[],
): Promise<Float32Array> {
  const weightSpecs = groups.flatMap((g) => g.weights);
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData: buf }));
  const x = tf.tensor(input, shape, 'float32');
  const y = model.predict(x);
  const out = new Float32Array(await y.data());
  x.dispose();
  y.dispose();
  model.dispose();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
