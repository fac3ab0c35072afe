/**
 * `npm run gen`: writes the generated files (generate.ts) under the package root, each only
 * when its text changed (so that asc and tsc see unchanged files as unchanged), and removes
 * any other file in those folders.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// A file left from a kernel or family the schema no longer has would still compile into the module.
const files = generateFiles();
for (const dir of new Set([...files.keys()].map((p) => dirname(p)))) {
  for (const name of readdirSync(join(root, dir))) {
    if (!files.has(`${dir}/${name}`)) {
      rmSync(join(root, dir, name));
      written++;
    }
  }
}
if (written) console.log(`gen: ${written} generated file(s) written`);
