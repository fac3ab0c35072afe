/**
 * Peak memory of the given order (the order the file or generator stores the
 * ops in: a BFS-like order) vs the planned order, on ten seeded RandWire
 * graphs of 60 nodes, DARTS-like cell stacks, and MobileNetV2 with SSDLite
 * and DeepLabv3 heads (generated, and the DeepLab fixture files when present);
 * with how long the exact search took or which heuristic it fell back to and
 * its gap to the best lower bound. Appends the table to bench/RESULTS.md.
 *
 *   npx tsx bench/planner_orders.ts [--time-limit MS] [--no-write]
 */
import { existsSync } from 'node:fs';
import { groupDigits } from '../planner/bytes.js';
import type { Graph } from '../planner/ir.js';
import { planGraphReport } from '../planner/plan_graph.js';
import { buildRandWire } from '../models/generators/randwire.js';
import { buildDartsStack } from '../models/generators/darts.js';
import { buildSSDLite } from '../models/generators/ssdlite.js';
import { buildDeepLabV3 } from '../models/generators/deeplab.js';
import { loadTfliteFile } from '../src/importers/tflite/index.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { appendResults } from './results.js';

const argv = process.argv.slice(2);
const timeLimitMs = argv.includes('--time-limit') ? Number(argv[argv.indexOf('--time-limit') + 1]) : 10000;
const write = !argv.includes('--no-write');

export function compareOrders(
  graphs: { name: string; graph: Graph }[],
  chunks: 'none' | 'auto',
): { table: string; geomean: number } {
  const lines = [
    '| graph | steps | given-order peak (B) | planned peak (B) | given / planned | order algorithm | lower bound (B) | gap | planning ms |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ];
  let logSum = 0;
  for (const { name, graph } of graphs) {
    const r = planGraphReport(graph, { chunks, timeLimitMs });
    const ratio = r.givenOrderPeakBytes / r.plan.peakBytes;
    logSum += Math.log(ratio);
    const gap = r.plan.peakBytes / r.order.lowerBoundBytes - 1;
    lines.push(
      `| ${name} | ${r.plan.steps.length} | ${groupDigits(r.givenOrderPeakBytes)} | ${groupDigits(r.plan.peakBytes)} | ${ratio.toFixed(2)}× | ${r.plan.orderAlgorithm} | ${groupDigits(r.order.lowerBoundBytes)} | ${(gap * 100).toFixed(1)}% | ${r.planningMs.toFixed(0)} |`,
    );
    console.error(
      `  ${chunks} ${name}: ${ratio.toFixed(2)}x ${r.plan.orderAlgorithm} gap ${(gap * 100).toFixed(1)}% ${r.planningMs.toFixed(0)} ms`,
    );
  }
  const geomean = Math.exp(logSum / graphs.length);
  lines.push('', `Geometric mean given / planned: **${geomean.toFixed(2)}×**`);
  return { table: lines.join('\n'), geomean };
}

const graphs: { name: string; graph: Graph }[] = [];
for (let seed = 1; seed <= 10; seed++)
  graphs.push({
    name: `RandWire WS(60,4,0.75) seed ${seed}`,
    graph: buildRandWire({ nodes: 60, seed, channels: 32, resolution: 56 }),
  });
for (let seed = 1; seed <= 2; seed++)
  graphs.push({
    name: `DARTS-like 8 cells seed ${seed}`,
    graph: buildDartsStack({ cells: 8, seed, channels: 16, resolution: 32 }),
  });
graphs.push({ name: 'SSDLite MobileNetV2 320', graph: buildSSDLite({ resolution: 320 }) });
graphs.push({ name: 'DeepLabv3 MobileNetV2 OS16 513', graph: buildDeepLabV3({ resolution: 513 }) });
for (const f of ['deeplabv3_mnv2_pascal_quant.tflite', 'deeplabv3_mnv2_dm05_pascal_quant.tflite']) {
  const p = fixturePath('models', f);
  if (existsSync(p)) graphs.push({ name: `${f} (file order, uint8)`, graph: (await loadTfliteFile(p)).graph });
}

const sections: string[] = [];
for (const chunks of ['none', 'auto'] as const) {
  const { table } = compareOrders(graphs, chunks);
  sections.push(
    `### ${chunks === 'none' ? 'Op by op (no chunking)' : 'With Section 5.1 chunking (--chunks auto)'}\n\n${table}`,
  );
}
const body = [
  `Exact order search with a ${timeLimitMs} ms limit per graph; past it the planner says \`heuristic:…\` and the gap is to the best lower bound it proved. "given" is the order the generator or file stores the ops in.`,
  '',
  ...sections,
].join('\n');
console.log(body);
if (write)
  appendResults(
    'Planner: given order vs planned order (peak activation bytes)',
    `npx tsx bench/planner_orders.ts --time-limit ${timeLimitMs}`,
    body,
  );
