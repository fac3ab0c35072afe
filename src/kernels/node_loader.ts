/**
 * Reads and compiles the kernel module from the installed package's build/
 * folder (Node only; other runtimes pass a KernelSource, see loader.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../package_root.js';
import { compileKernelBytes } from './loader.js';

const moduleCache = new Map<boolean, Promise<WebAssembly.Module>>();

export function kernelWasmPath(debug = false): string {
  return join(packageRoot(), 'build', debug ? 'lowwater.debug.wasm' : 'lowwater.wasm');
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
