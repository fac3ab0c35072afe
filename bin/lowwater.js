#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript bundled into dist/main.js by `npm run build` (run by `npm ci`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('lowwater: not built yet (dist/ is missing). Run `npm run build` in the lowwater folder.');
  process.exit(2);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
