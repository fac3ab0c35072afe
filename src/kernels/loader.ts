/**
 * Instantiates the AssemblyScript kernel module (build/lowwater.wasm, or the debug build
 * with assertions) on a caller-owned WebAssembly.Memory. Runtime-neutral: reading the
 * module from disk is node_loader.ts's job.
 *
 * Every pointer argument is a byte offset into that memory. A pointer of 0 means
 * "absent" for optional operands (bias, residual), which is why the bottom
 * KERNEL_RESERVED_BYTES of memory are never a tensor's home.
 */
import type { GeneratedKernels } from './gen/abi.js';

/**
 * Bytes at the bottom of linear memory that the module itself uses: its static data,
 * up to AS `__heap_base` (the stub runtime keeps no stack in linear memory). Release:
 * 1024 bytes the optimizer leaves below the data, then the f64 tables of Math.exp, the
 * q8 kernels' constants and the static body structs (assembly/gen/args.ts), to 3928;
 * debug: the same plus assertion strings, to 4832. The constant is the larger
 * of the two rounded up to a KiB; test/kernels/loader.test.ts measures both builds (heap
 * base and data segments) and fails when this is too small or more than 1 KiB too big.
 * instantiateKernels refuses a module whose heap base exceeds it. Active data segments
 * are written here at instantiation, so instantiate before loading weights into memory.
 */
export const KERNEL_RESERVED_BYTES = 5120;

/**
 * The compiled kernels on their memory: the exports with their positional signatures
 * (GeneratedKernels, from the kernel schema src/kernels/schema/kernels.ts), the memory and
 * which build it is.
 */
export interface Kernels extends GeneratedKernels {
  readonly memory: WebAssembly.Memory;
  readonly debug: boolean;
  /** End of the module's static data, as the module reports it. */
  kernel_heap_base(): number;
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
