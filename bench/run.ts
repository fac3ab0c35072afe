/**
 * `npm run bench`: every suite that appends to bench/RESULTS.md, one after
 * another (each in its own process so engines do not share a heap).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const suites = ['classify_f32.ts'];
for (const s of suites) {
  console.error(`== bench/${s}`);
  execFileSync(process.execPath, ['--import=tsx', fileURLToPath(new URL(s, import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit' });
}
