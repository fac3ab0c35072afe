/**
 * The workloads of bench/web_runtimes.ts as one bundle (bench/web/bundle.ts builds it with
 * esbuild, node:fs and node:path shimmed). Node and Chromium load this same file, so both
 * run identical JavaScript around identical WebAssembly:
 *
 * - 'net': int8 MobileNetV2 — importTflite on the file's bytes, prepareRun (plan, executor),
 *   Executor.runPixels on 224×224 RGB bytes; the lowwater inference path as the CLI runs it.
 * - 'kernel': one q8_gemm call of build/lowwater.wasm on a layer-sized problem, called
 *   straight from JS (no executor, one call per sample).
 * - 'simd-i16', 'simd-f32': the plain SIMD loops of bench/web/assembly/simd_loop.ts (no lowwater code).
 * - 'calls': 100,000 calls from JS of a kernel-module export that does nothing but return
 *   (the per-call cost of the JS → WebAssembly boundary the executor crosses ~100 times
 *   per inference).
 * - 'timer': 100,000 performance.now() calls.
 *
 * Every file comes over HTTP from the bench's server (fetch works in Node 20 too), and every
 * sample is performance.now() around one call, taken in the realm that runs it.
 */
import { importTflite } from '../../src/importers/tflite/import.js';
import { prepareRun, type RunSetup } from '../../src/run_setup.js';
import { compileKernels, instantiateKernels, KERNEL_RESERVED_BYTES, type Kernels } from '../../src/kernels/loader.js';
import { foldQ8Bias, packQ8Gemm, padQ8Scales, q8OutputParams } from '../../src/kernels/q8_pack.js';

export type WorkloadName = 'net' | 'kernel' | 'simd-i16' | 'simd-f32' | 'calls' | 'timer';

export interface SetupOptions {
  /** Server origin the files are fetched from. */
  base: string;
  /** Give the WebAssembly.Memory of 'kernel' / 'simd' a maximum equal to its initial size. */
  maximum?: boolean;
}

export interface SetupInfo {
  workload: WorkloadName;
  /** The first sample, taken at the end of setup: cold code (lazily compiled, Liftoff). */
  firstMs: number;
  /** A checksum of the workload's result: equal in every realm, or the realms computed different things. */
  check: string;
  /** What ran, for the report. */
  detail: string;
}

let runOne: (() => number) | undefined;

const bytesOf = async (base: string, path: string) =>
  new Uint8Array(await (await fetch(new URL(path, base))).arrayBuffer());

/** FNV-1a of bytes, as 8 hex digits. */
function fnv(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Deterministic bytes (LCG), the same in every realm. */
function lcgBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** The int8 MobileNetV2 inference, as `lowwater classify` runs it. */
async function setupNet(opts: SetupOptions): Promise<SetupInfo> {
  const model = importTflite(await bytesOf(opts.base, '/model.tflite'), 'mobilenet_v2_1.0_224_quant.tflite');
  const pixels = await bytesOf(opts.base, '/pixels.bin');
  const kernels = await compileKernels(await bytesOf(opts.base, '/lowwater.wasm'));
  const setup: RunSetup = await prepareRun(model, { kernels });
  if (setup.path !== 'integer') throw new Error(`expected the integer path, ran ${setup.path}`);
  let last: Uint8Array | undefined;
  runOne = () => {
    const t0 = performance.now();
    const r = setup.executor.runPixels(pixels);
    const ms = performance.now() - t0;
    last = r.output as Uint8Array;
    return ms;
  };
  const firstMs = runOne();
  return {
    firstMs,
    workload: 'net',
    check: fnv(last!),
    detail: `integer path, ${setup.plan.steps.length} plan steps, output ${last!.length} bytes`,
  };
}

/** q8_gemm as a uint8 1x1 conv of MobileNetV2 size (28×28 pixels, 192 → 64 channels), 20 calls a sample. */
async function setupKernel(opts: SetupOptions): Promise<SetupInfo> {
  const [M, K, N] = [784, 192, 64];
  const CALLS = 20;
  const module = await WebAssembly.compile(await bytesOf(opts.base, '/lowwater.wasm'));
  const x = lcgBytes(M * K, 1);
  const w = lcgBytes(N * K, 2);
  const zw = [128];
  const parts: ArrayBufferView[] = [
    x,
    packQ8Gemm(w, N, K, zw),
    foldQ8Bias(
      Int32Array.from({ length: N }, (_, n) => 100 * n - 3000),
      w,
      N,
      K,
      zw,
      120,
    ),
    padQ8Scales([1 / 40000], N),
    q8OutputParams(128, 0, 255),
    new Uint8Array(M * N),
  ];
  const at: number[] = [];
  let end = KERNEL_RESERVED_BYTES;
  for (const p of parts) {
    at.push(end);
    end += (p.byteLength + 63) & ~63;
  }
  const pages = Math.ceil(end / 65536);
  const k: Kernels = instantiateKernels(
    module,
    new WebAssembly.Memory(opts.maximum ? { initial: pages, maximum: pages } : { initial: pages }),
  );
  const mem = new Uint8Array(k.memory.buffer);
  parts.forEach((p, i) => mem.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at[i]!));
  const [xp, wp, bp, sp, rq, yp] = at as [number, number, number, number, number, number];
  runOne = () => {
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) k.q8_gemm(xp, M, K, K, wp, N, bp, sp, yp, N, rq, 0, 0, 0);
    return performance.now() - t0;
  };
  const firstMs = runOne();
  return {
    firstMs,
    workload: 'kernel',
    check: fnv(new Uint8Array(k.memory.buffer, yp, M * N)),
    detail: `${CALLS} q8_gemm calls, M=${M} K=${K} N=${N} uint8, memory ${pages} pages${opts.maximum ? ' (maximum = initial)' : ''}`,
  };
}

/** The plain loop: `reps` passes of a multiply-accumulate over two 256 KiB vectors. */
async function setupSimd(kind: 'simd-i16' | 'simd-f32', opts: SetupOptions): Promise<SetupInfo> {
  const BYTES = 256 * 1024,
    REPS = 1024;
  const module = await WebAssembly.compile(await bytesOf(opts.base, '/simd_loop.wasm'));
  const pages = Math.ceil((1024 + 2 * BYTES) / 65536);
  const memory = new WebAssembly.Memory(opts.maximum ? { initial: pages, maximum: pages } : { initial: pages });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const a = 1024,
    b = 1024 + BYTES;
  new Uint8Array(memory.buffer).set(lcgBytes(BYTES, 3), a);
  new Uint8Array(memory.buffer).set(lcgBytes(BYTES, 4), b);
  if (kind === 'simd-f32') {
    // Small finite floats: random bytes would make NaNs and infinities.
    const f = new Float32Array(memory.buffer, a, (2 * BYTES) / 4);
    for (let i = 0; i < f.length; i++) f[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  }
  const fn = instance.exports[kind === 'simd-i16' ? 'mac_i16' : 'mac_f32'] as (
    a: number,
    b: number,
    n: number,
    r: number,
  ) => number;
  let last = 0;
  runOne = () => {
    const t0 = performance.now();
    last = fn(a, b, BYTES, REPS);
    return performance.now() - t0;
  };
  const firstMs = runOne();
  return {
    firstMs,
    workload: kind,
    check: String(last),
    detail: `${kind === 'simd-i16' ? 'i32x4.dot_i16x8_s + i32x4.add' : 'f32x4.mul + f32x4.add'} over 2 × ${BYTES / 1024} KiB, ${REPS} passes${opts.maximum ? ', memory maximum = initial' : ''}`,
  };
}

/** The JS → WebAssembly call boundary: an export that only returns a constant. */
async function setupCalls(opts: SetupOptions): Promise<SetupInfo> {
  const module = await WebAssembly.compile(await bytesOf(opts.base, '/lowwater.wasm'));
  const k = instantiateKernels(module, new WebAssembly.Memory({ initial: 1 }));
  const CALLS = 100_000;
  let sum = 0;
  runOne = () => {
    const t0 = performance.now();
    let s = 0;
    for (let i = 0; i < CALLS; i++) s += k.kernel_heap_base();
    const ms = performance.now() - t0;
    sum = s;
    return ms;
  };
  const firstMs = runOne();
  return {
    firstMs,
    workload: 'calls',
    check: String(sum),
    detail: `${CALLS} calls of kernel_heap_base() from JS`,
  };
}

/** The timer's own cost. */
async function setupTimer(): Promise<SetupInfo> {
  const CALLS = 100_000;
  runOne = () => {
    const t0 = performance.now();
    let last = t0;
    for (let i = 0; i < CALLS; i++) last = performance.now();
    return last - t0;
  };
  const firstMs = runOne();
  return {
    firstMs,
    workload: 'timer',
    check: 'n/a',
    detail: `${CALLS} performance.now() calls`,
  };
}

export async function setup(workload: WorkloadName, opts: SetupOptions): Promise<SetupInfo> {
  switch (workload) {
    case 'net':
      return setupNet(opts);
    case 'kernel':
      return setupKernel(opts);
    case 'simd-i16':
    case 'simd-f32':
      return setupSimd(workload, opts);
    case 'calls':
      return setupCalls(opts);
    case 'timer':
      return setupTimer();
  }
}

/** `n` samples (ms) of the workload set up last. */
export function run(n: number): number[] {
  if (!runOne) throw new Error('run before setup');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(runOne());
  return out;
}
