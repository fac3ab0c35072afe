/**
 * Builds bench/web/entry.ts into one ES module for browsers (esbuild), with the two
 * Node-only dependencies of the inference path shimmed: node:fs, node:fs/promises and
 * node:url in src/kernels/loader.ts (the kernel module's bytes are provided by the page),
 * node:path in src/importers/tflite/import.ts. Also compiles the plain SIMD loop
 * (bench/web/assembly/simd_loop.ts) with asc, with the kernels' release options.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { build, type Plugin } from 'esbuild';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const SHIMS: Record<string, string> = {
  'node:fs': here('./shims/fs.ts'),
  'node:fs/promises': here('./shims/fs_promises.ts'),
  'node:path': here('./shims/path.ts'),
  'node:url': here('./shims/url.ts'),
};

/** Maps the shimmed built-ins to their shims and refuses any other node: import. */
const shimNode: Plugin = {
  name: 'lowwater-node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => {
      const path = SHIMS[args.path];
      if (!path) return { errors: [{ text: `${args.path} (imported by ${args.importer}) has no browser shim` }] };
      return { path };
    });
  },
};

/** The bundle's source text. */
export async function buildWebBundle(): Promise<string> {
  const r = await build({
    entryPoints: [here('./entry.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [shimNode],
  });
  return r.outputFiles[0]!.text;
}

/** bench/web/assembly/simd_loop.ts as a WebAssembly binary (optimizeLevel 3, SIMD, imported memory). */
export async function buildSimdLoop(): Promise<Uint8Array> {
  const src = readFileSync(here('./assembly/simd_loop.ts'), 'utf8');
  const r = await asc.compileString(
    { 'simd_loop.ts': src },
    { optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', importMemory: true, enable: ['simd'], noAssert: true },
  );
  if (r.error || !r.binary) throw new Error(`asc: ${r.error?.message ?? 'no binary'}\n${r.stderr.toString()}`);
  return r.binary;
}
