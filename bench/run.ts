/**
 * `npm run bench`: every suite that appends to bench/RESULTS.md, one after
 * another, each in its own process so engines do not share a heap. A suite
 * that exits with code 2 lacks an optional peer (e.g. bench/tflite not
 * installed) and is reported, not fatal.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Each appends its section to bench/RESULTS.md (pass --no-write to only print).
const suites = [
  'classify_f32.ts',
  'classify_int8.ts',
  'chunks.ts',
  'stream.ts',
  'segment.ts',
  'segment_tflite.ts',
  'planner_orders.ts',
  'planner_gap.ts',
  'web_runtimes.ts',
];
let failed = 0;
for (const s of suites) {
  console.error(`== bench/${s}`);
  const r = spawnSync(
    process.execPath,
    ['--import=tsx', fileURLToPath(new URL(s, import.meta.url)), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (r.status === 2) console.error(`   (skipped: a peer or fixture it needs is missing; see its message above)`);
  else if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
