/**
 * `npm run gen`: writes the generated files (generate.ts) under the package root, each only
 * when its text changed (so that asc and tsc see unchanged files as unchanged).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFiles } from './generate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let written = 0;
for (const [path, text] of generateFiles()) {
  const file = join(root, path);
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) continue;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  written++;
}
if (written) console.log(`gen: ${written} generated file(s) written`);
