/**
 * Instantiates the AssemblyScript kernel module (build/lowwater.wasm, or the debug build
 * with assertions) on a caller-owned WebAssembly.Memory. Runtime-neutral: reading the
 * module from disk is node_loader.ts's job.
 *
 * Every pointer argument is a byte offset into that memory. A pointer of 0 means
 * "absent" for optional operands (bias, residual), which is why the bottom
 * KERNEL_RESERVED_BYTES of memory are never a tensor's home.
 */
import type { Q8Kernels } from './q8_kernels.js';

/**
 * Bytes at the bottom of linear memory that the module itself uses: its static data,
 * up to AS `__heap_base` (the stub runtime keeps no stack in linear memory). Release:
 * 1024 bytes the optimizer leaves below the data, then the f64 tables of Math.exp and
 * the q8 kernels' constants, to 3328; debug: the same plus assertion strings, to 4176
 *. The constant is the larger
 * of the two rounded up to a KiB; test/kernels/loader.test.ts measures both builds (heap
 * base and data segments) and fails when this is too small or more than 1 KiB too big.
 * instantiateKernels refuses a module whose heap base exceeds it. Active data segments
 * are written here at instantiation, so instantiate before loading weights into memory.
 */
export const KERNEL_RESERVED_BYTES = 5120;

type Ptr = number;

export interface Kernels extends Q8Kernels {
  readonly memory: WebAssembly.Memory;
  readonly debug: boolean;
  /** End of the module's static data, as the module reports it. */
  kernel_heap_base(): number;
  /** y = clamp((accumulate ? y : bias|0) + x·W + res, lo, hi); x [M][K], y/res [M][N], w from packGemm1x1. */
  f32_gemm_1x1(
    x: Ptr,
    M: number,
    K: number,
    w: Ptr,
    b: Ptr,
    y: Ptr,
    N: number,
    lo: number,
    hi: number,
    res: Ptr,
    accumulate: number,
  ): void;
  /** 3x3 stride-2 conv (the stem); w from packConv(… , 3, 3 …), OC may be a slice. */
  f32_conv3x3_s2(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    OC: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    lo: number,
    hi: number,
  ): void;
  f32_conv2d_generic(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    OC: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    lo: number,
    hi: number,
  ): void;
  /** Depthwise 3x3, w from packDepthwise3x3. */
  f32_dwconv3x3_s1(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    lo: number,
    hi: number,
  ): void;
  f32_dwconv3x3_s2(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    lo: number,
    hi: number,
  ): void;
  f32_dwconv3x3_generic(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padTop: number,
    padLeft: number,
    w: Ptr,
    b: Ptr,
    lo: number,
    hi: number,
  ): void;
  f32_global_avgpool(x: Ptr, HW: number, C: number, y: Ptr): void;
  /** Average pool; padded pixels are not counted (TF semantics). */
  f32_avgpool_generic(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    padTop: number,
    padLeft: number,
    lo: number,
    hi: number,
  ): void;
  /** y[N] = clamp(bias + W·x); w from packFullyConnected. */
  f32_fully_connected(x: Ptr, K: number, w: Ptr, b: Ptr, y: Ptr, N: number, lo: number, hi: number): void;
  /** y = clamp(a + b); y may alias a or b. */
  f32_add(a: Ptr, b: Ptr, y: Ptr, n: number, lo: number, hi: number): void;
  f32_softmax(x: Ptr, n: number, y: Ptr, beta: number): void;
  f32_resize_bilinear(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    alignCorners: number,
    halfPixelCenters: number,
  ): void;
  /** y_i32[p] = index of the first maximum of x[p][0..C). */
  f32_argmax_channels(x: Ptr, P: number, C: number, y: Ptr): void;
  /**
   * Fused resize + arg-max over channels: y [OH][OW] class ids (u8, or i32 when outI32) of the
   * f32_resize_bilinear scores, bit-identical to f32_resize_bilinear then f32_argmax_channels.
   */
  f32_resize_argmax(
    x: Ptr,
    H: number,
    W: number,
    C: number,
    y: Ptr,
    OH: number,
    OW: number,
    alignCorners: number,
    halfPixelCenters: number,
    outI32: number,
  ): void;
  /** rows × rowBytes copied from src (stride srcStride) to dst (stride dstStride); for concat along channels. */
  copy_strided(src: Ptr, dst: Ptr, rows: number, rowBytes: number, srcStride: number, dstStride: number): void;
  /**
   * Fused inverted-residual block (Section 5.1; assembly/fused.ts), one call per block: expansion
   * (1x1, or stem = 1: 3x3/2 conv) → depthwise 3x3 → projection into y (+ res), expanded channels in
   * groups of g, a ring of ringRows expanded rows in e and bandRows depthwise rows in d
   * (planner/block_schedule.ts); w from packFusedBlock with the same g.
   */
  f32_block_fused(
    x: Ptr,
    H: number,
    W: number,
    Cin: number,
    stem: number,
    He: number,
    We: number,
    ePadTop: number,
    ePadLeft: number,
    Cexp: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    dPadTop: number,
    dPadLeft: number,
    y: Ptr,
    OH: number,
    OW: number,
    Cout: number,
    w: Ptr,
    res: Ptr,
    lo: number,
    hi: number,
    e: Ptr,
    d: Ptr,
    g: number,
    ringRows: number,
    bandRows: number,
  ): void;
}

/**
 * Where the compiled kernel module can come from: an already compiled module,
 * a fetch Response (or a promise of one), the .wasm bytes, or a URL to fetch.
 * Browsers and Deno fetch a URL; edge workers (workerd) cannot compile bytes at
 * run time and pass the module they imported statically.
 */
export type KernelSource = WebAssembly.Module | Response | PromiseLike<Response> | BufferSource | URL;

/** Byte size of kernel modules compiled here (a module given already compiled has no known size). */
const moduleBytes = new WeakMap<WebAssembly.Module, number>();

/** Size in bytes of the kernel module's file, when lowwater compiled it (else undefined). */
export function kernelModuleBytes(module: WebAssembly.Module): number | undefined {
  return moduleBytes.get(module);
}

/** Records the file size of a module compiled elsewhere (a worker's module, compiled by its parent). */
export function rememberKernelModuleBytes(module: WebAssembly.Module, bytes: number): void {
  moduleBytes.set(module, bytes);
}

/** Compiles bytes into the kernel module, remembering their size for the footprint report. */
export async function compileKernelBytes(bytes: BufferSource): Promise<WebAssembly.Module> {
  const module = await WebAssembly.compile(bytes);
  moduleBytes.set(module, bytes.byteLength);
  return module;
}

/** Compiles (or passes through) the kernel module from any KernelSource. */
export async function compileKernels(source: KernelSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof URL) return compileKernels(fetch(source));
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return compileKernelBytes(source);
  const res = await source;
  if (!res.ok) throw new Error(`lowwater kernels: fetching ${res.url || 'the kernel module'} gave HTTP ${res.status}`);
  return compileKernelBytes(await res.arrayBuffer());
}

/** Read an AssemblyScript string (UTF-16, byte length stored at ptr-4). */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const buf = memory.buffer;
  if (ptr < 4 || ptr > buf.byteLength) return `<string @${ptr}>`;
  const len = new Uint32Array(buf, ptr - 4, 1)[0]! >>> 1;
  if (ptr + len * 2 > buf.byteLength) return `<string @${ptr}>`;
  return String.fromCharCode(...new Uint16Array(buf, ptr, len));
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const debug = WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'abort');
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number): never {
        throw new Error(
          `lowwater kernel assertion failed: ${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`,
        );
      },
    },
  });
  const ex = instance.exports as unknown as Omit<Kernels, 'memory' | 'debug'>;
  const heapBase = ex.kernel_heap_base();
  if (heapBase > KERNEL_RESERVED_BYTES) {
    throw new Error(
      `lowwater kernels: module static data ends at ${heapBase} > KERNEL_RESERVED_BYTES ${KERNEL_RESERVED_BYTES}`,
    );
  }
  return Object.assign(Object.create(null) as object, ex, { memory, debug }) as Kernels;
}
