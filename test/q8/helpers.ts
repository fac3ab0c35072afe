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
