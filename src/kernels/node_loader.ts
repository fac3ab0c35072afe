/**
 * Reads and compiles the kernel module from the installed package's build/
 * folder (Node only; other runtimes pass a KernelSource, see loader.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../package_root.js';
import { compileKernelBytes, rememberKernelModuleBytes } from './loader.js';

const moduleCache = new Map<boolean, Promise<WebAssembly.Module>>();
let threadsModule: Promise<WebAssembly.Module> | undefined;

export function kernelWasmPath(debug = false): string {
  return join(packageRoot(), 'build', debug ? 'lowwater.debug.wasm' : 'lowwater.wasm');
}

/** The kernels built for shared memory (asconfig target "threads"): what an executor with threads > 1 runs. */
export function threadKernelWasmPath(): string {
  return join(packageRoot(), 'build', 'lowwater.threads.wasm');
}

/**
 * Compiles (once) the threads build of the kernels: the same kernels on an imported shared
 * memory, with kernel_thread_init (assembly/threads.ts). A separate file, so the single-thread
 * module and the web bundle stay as they are.
 */
export function loadThreadKernels(): Promise<WebAssembly.Module> {
  if (!threadsModule) {
    const path = threadKernelWasmPath();
    threadsModule = readFile(path).then(
      (bytes) => compileKernelBytes(bytes),
      (e: NodeJS.ErrnoException) => {
        threadsModule = undefined;
        throw new Error(`lowwater kernels: cannot read ${path} (${e.code ?? e.message}); run \`npm run build:wasm\``);
      },
    );
  }
  return threadsModule;
}

/** Compiles (once per flavour: release, or debug with kernel assertions) the kernel module. */
export function loadKernels(opts: { debug?: boolean } = {}): Promise<WebAssembly.Module> {
  const debug = opts.debug ?? false;
  let p = moduleCache.get(debug);
  if (!p) {
    const path = kernelWasmPath(debug);
    p = readFile(path).then(
      (bytes) => compileKernelBytes(bytes),
      (e: NodeJS.ErrnoException) => {
        throw new Error(`lowwater kernels: cannot read ${path} (${e.code ?? e.message}); run \`npm run build:wasm\``);
      },
    );
    p.catch(() => moduleCache.delete(debug));
    moduleCache.set(debug, p);
  }
  return p;
}

/**
 * Makes an already compiled kernel module the one this thread's loadModel uses: a worker thread
 * receives the module its parent compiled (a WebAssembly.Module crosses threads by structured clone,
 * and V8 shares its compiled code) instead of reading and compiling the file again.
 * `bytes` is the module file's size, for the footprint report.
 */
export function adoptKernels(module: WebAssembly.Module, opts: { debug: boolean; bytes?: number }): void {
  if (opts.bytes !== undefined) rememberKernelModuleBytes(module, opts.bytes);
  moduleCache.set(opts.debug, Promise.resolve(module));
}
