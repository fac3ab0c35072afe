/**
 * Test harness for the WASM kernels: both builds, a bump arena with canary-painted gaps,
 * calls checked against the manifest, and the output tolerance.
 *
 * Every checked call (1) asserts that each range the manifest reports lies inside one
 * buffer the test allocated for that operand, (2) snapshots the arena, (3) runs the
 * kernel, and (4) asserts that no byte outside the manifest's write ranges changed —
 * which covers the canary gaps between buffers, the inputs, and the unwritten part of
 * any strided output.
 */
import { instantiateKernels, KERNEL_RESERVED_BYTES, type Kernels } from '../../src/kernels/loader.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { KERNEL_MANIFEST_BY_NAME, rangeEnd, type KernelName } from '../../src/kernels/manifest.js';

export const BUILDS = [
  { name: 'release', debug: false },
  { name: 'debug', debug: true },
] as const;

const instances = new Map<boolean, Kernels>();

/** One instance per build on a 64 MiB memory (tests use small tensors; the bench uses its own). */
export async function kernelsFor(debug: boolean): Promise<Kernels> {
  let k = instances.get(debug);
  if (!k) {
    k = instantiateKernels(await loadKernels({ debug }), new WebAssembly.Memory({ initial: 1024 }));
    instances.set(debug, k);
  }
  return k;
}

/** A NaN bit pattern: a kernel that read a gap would propagate it into its output. */
export const CANARY = 0x7fc0dead;
const GAP = 64;

export interface Buffer {
  name: string;
  ptr: number;
  bytes: number;
}

export class Arena {
  readonly k: Kernels;
  private top = 0;
  private buffers: Buffer[] = [];
  private start: number;

  constructor(k: Kernels, start = KERNEL_RESERVED_BYTES) {
    this.k = k;
    this.start = start;
    this.reset();
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.k.memory.buffer);
  }
  get f32(): Float32Array {
    return new Float32Array(this.k.memory.buffer);
  }

  reset(): void {
    this.top = this.start + GAP;
    this.buffers = [];
  }

  /** Reserve `bytes` (4-aligned, offset by a canary gap), painted with the canary. */
  alloc(name: string, bytes: number): number {
    const ptr = this.top;
    this.top = ptr + ((bytes + 3) & ~3) + GAP;
    if (this.top > this.k.memory.buffer.byteLength) throw new Error('test arena overflow');
    new Uint32Array(this.k.memory.buffer, ptr - GAP, (this.top - (ptr - GAP)) >> 2).fill(CANARY);
    this.buffers.push({ name, ptr, bytes });
    return ptr;
  }

  /** Allocate and fill with data. */
  put(name: string, data: Float32Array | Int32Array): number {
    const p = this.alloc(name, data.byteLength);
    new Uint8Array(this.k.memory.buffer, p, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return p;
  }

  read(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer.slice(ptr, ptr + n * 4));
  }

  readI32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer.slice(ptr, ptr + n * 4));
  }

  /**
   * Call a kernel with manifest checks; `operands` maps manifest operand names to the test
   * buffer they must stay inside (defaults to the buffer containing the range's start).
   */
  call(name: KernelName, args: readonly number[]): void {
    const entry = KERNEL_MANIFEST_BY_NAME.get(name);
    if (!entry) throw new Error(`no manifest entry for ${name}`);
    const { reads, writes } = entry.ranges(args);
    for (const r of [...reads, ...writes]) {
      const end = rangeEnd(r);
      const buf = this.buffers.find((b) => r.start >= b.ptr && r.start < b.ptr + b.bytes);
      if (!buf || end > buf.ptr + buf.bytes) {
        throw new Error(`${name}: operand ${r.operand} [${r.start}, ${end}) is not inside one allocated buffer`);
      }
    }
    const lo = this.start;
    const hi = this.top;
    const before = this.u8.slice(lo, hi);
    (this.k[name] as (...a: number[]) => void)(...args);
    const after = this.u8.subarray(lo, hi);
    const writable = new Uint8Array(hi - lo);
    for (const w of writes) {
      for (let r = 0; r < w.rows; r++)
        writable.fill(1, w.start + r * w.stride - lo, w.start + r * w.stride + w.bytes - lo);
    }
    for (let i = 0; i < before.length; i++) {
      if (before[i] !== after[i] && !writable[i]) {
        const addr = lo + i;
        const buf = this.buffers.find((b) => addr >= b.ptr - GAP && addr < b.ptr + b.bytes + GAP);
        throw new Error(`${name}: wrote byte ${addr} outside its write ranges (near buffer ${buf?.name ?? '?'})`);
      }
    }
  }
}

/** Deterministic uniform values in [-1, 1) (LCG, fixed seed). */
export function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = ((s >>> 8) / (1 << 24)) * 2 - 1;
  }
  return a;
}

/**
 * Tolerance. The references accumulate in float64; the kernels in float32 in a different
 * order. The float32 rounding error of a sum of K products is about K·2⁻²⁴·Σ|terms|, which
 * for our test sizes (K ≤ ~300, inputs in [-1, 1]) is far below 1e-5 of the output's
 * magnitude. A single output can be near zero by cancellation while its terms are not, so
 * the error is measured against the magnitude of the whole output tensor (its largest
 * absolute value, at least 1e-3 so that an all-tiny output is not held to an absolute
 * 1e-11): |got − want| ≤ 1e-5 · max(max|want|, 1e-3) for every element.
 */
export const REL_TOL = 1e-5;

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** First element out of tolerance, or null. */
export function mismatch(got: ArrayLike<number>, want: ArrayLike<number>, scale = maxAbs(want)): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  const tol = REL_TOL * Math.max(scale, 1e-3);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol))
      return `element ${i}: got ${got[i]} want ${want[i]} (|diff| ${d.toExponential(2)} > tol ${tol.toExponential(2)})`;
  }
  return null;
}

/** TF padding for one axis: SAME puts the odd pixel at the end; VALID pads nothing. */
export function tfPad(
  n: number,
  k: number,
  s: number,
  d: number,
  mode: 'SAME' | 'VALID',
): { out: number; before: number; after: number } {
  const ek = (k - 1) * d + 1;
  if (mode === 'VALID') return { out: Math.floor((n - ek) / s) + 1, before: 0, after: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + ek - n);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

/** Activation as a [lo, hi] clamp, and its reference name. */
export const ACTS = [
  { act: 'none' as const, lo: -Infinity, hi: Infinity },
  { act: 'relu6' as const, lo: 0, hi: 6 },
];
