/**
 * The folder of the installed lowwater package (Node only): where its built
 * kernels (build/*.wasm) and its bundled default model (build/models/) are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** Found upward from this file, so it works from src/ (tsx) and from dist/src/ (the package). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'lowwater') return (root = dir);
      } catch {
        /* not ours; keep looking */
      }
    }
    dir = dirname(dir);
  }
  throw new Error(`lowwater: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
}
