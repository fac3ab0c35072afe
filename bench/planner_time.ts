/**
 * Planning time of MobileNetV2 (its target: under 100 ms).
 * benchmark.js, one planGraph call per iteration, for the executor's default
 * ('auto'), t = 6, op by op, and budget mode.
 *
 *   npx tsx bench/planner_time.ts
 *
 * Prints a markdown table (median of benchmark.js samples) with the machine.
 */
import Benchmark from 'benchmark';
import { cpus } from 'node:os';
import { buildMobileNetV2 } from '../models/mobilenet_v2.js';
import { planGraph, type PlanOptions } from '../planner/plan_graph.js';

const cases: [string, number, number, PlanOptions][] = [
  ['1.0/224 auto', 1.0, 224, {}],
  ['1.0/224 t=6', 1.0, 224, { chunks: 6 }],
  ['1.0/224 none', 1.0, 224, { chunks: 'none' }],
  ['1.0/224 budget 2MiB', 1.0, 224, { budgetBytes: 2 * 1024 * 1024 }],
  ['1.4/224 auto', 1.4, 224, {}],
  ['0.35/96 auto', 0.35, 96, {}],
];

const suite = new Benchmark.Suite('planGraph');
for (const [name, alpha, res, opts] of cases) {
  const g = buildMobileNetV2({ alpha, resolution: res });
  suite.add(name, () => planGraph(g, opts), { minSamples: 20 });
}
const rows: string[] = [];
suite.on('cycle', (e: Benchmark.Event) => {
  const b = e.target as unknown as Benchmark & { name: string; stats: Benchmark.Stats };
  const sorted = b.stats.sample.slice().sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)]! * 1000;
  rows.push(`| ${b.name} | ${median.toFixed(2)} | ${b.stats.rme.toFixed(1)}% | ${b.stats.sample.length} |`);
});
suite.on('complete', () => {
  console.log(
    `planGraph on MobileNetV2 — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version}`,
  );
  console.log('Command: `npx tsx bench/planner_time.ts`\n');
  console.log('| case | median ms | ±rme | samples |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
});
suite.run();
