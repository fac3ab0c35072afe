/**
 * Shared pieces of the q8 tests: deterministic quantized data, byte buffers in the kernel
 * test arena (test/kernels/harness.ts: canary gaps, manifest-checked calls), and the
 * parameters of the scalar reference.
 */
import { Arena } from '../kernels/harness.js';
import type { QDType } from '../../src/reference/q8_ops.js';

export const DTYPES: { dtype: QDType; sg: number }[] = [
  { dtype: 'u8', sg: 0 },
  { dtype: 'i8', sg: 1 },
];

/** Deterministic LCG integers in [lo, hi]. */
export function randInts(n: number, lo: number, hi: number, seed: number): number[] {
  const out = new Array<number>(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + Math.floor(((s >>> 8) / (1 << 24)) * (hi - lo + 1));
  }
  return out;
}

export function qArray(dtype: QDType, n: number, seed: number): Uint8Array | Int8Array {
  return dtype === 'u8' ? Uint8Array.from(randInts(n, 0, 255, seed)) : Int8Array.from(randInts(n, -128, 127, seed));
}

/** Copy any typed array into a fresh arena buffer. */
export function putBytes(a: Arena, name: string, data: ArrayBufferView): number {
  const p = a.alloc(name, Math.max(1, data.byteLength));
  new Uint8Array(a.k.memory.buffer, p, data.byteLength).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  return p;
}

export function readQ(a: Arena, dtype: QDType, p: number, n: number): Uint8Array | Int8Array {
  const b = a.k.memory.buffer.slice(p, p + n);
  return dtype === 'u8' ? new Uint8Array(b) : new Int8Array(b);
}

/** First differing index, as a message, or null. */
export function byteMismatch(got: ArrayLike<number>, want: ArrayLike<number>): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `element ${i}: got ${got[i]} want ${want[i]}`;
  return null;
}

/**
 * A multiplier that spreads a K-term sum of byte products over the output range:
 * s ≈ 1 / (√K · 128 · 64) · (0.5 .. 2), so rounding and clamping both happen.
 */
export function spreadScales(n: number, K: number, seed: number): number[] {
  return randInts(n, 50, 200, seed).map((v) => Math.fround(v / 100 / (Math.sqrt(K) * 128 * 48)));
}

/**
 * Quantized weights with their zero points as TFLite files hold them: uint8 with one zero
 * point (nonzero, anywhere in the byte range: the kernels subtract it after widening); int8
 * per channel, zero point 0 on even channels (TFLite's int8 files, any byte) and in [−3, 3]
 * on odd ones, whose weights keep w − zw inside a byte (the packers store w − zw).
 * `channelOf(i)` is the channel of weight i in the op's layout.
 */
export function qWeights(
  dtype: QDType,
  n: number,
  channels: number,
  channelOf: (i: number) => number,
  seed: number,
): { w: Uint8Array | Int8Array; zw: number[] } {
  if (dtype === 'u8') return { w: Uint8Array.from(randInts(n, 0, 255, seed)), zw: randInts(1, 1, 255, seed + 1) };
  const zw = randInts(channels, -3, 3, seed + 1).map((z, c) => (c % 2 ? z : 0));
  const u = randInts(n, 0, 255, seed);
  const w = Int8Array.from(u, (v, i) => {
    // w in [max(−128, z − 128), min(127, z + 127)]: w and w − z both fit a byte.
    const z = zw[channelOf(i)]!;
    const lo = Math.max(-128, z - 128),
      hi = Math.min(127, z + 127);
    return lo + Math.floor((v * (hi - lo + 1)) / 256);
  });
  return { w, zw };
}
