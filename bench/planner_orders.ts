/**
 * Peak of the given order vs the planned order on seeded random DAGs (the
 * test utility's deep and wide graphs; op by op, so every op is a node), and
 * how long the exact search takes or what gap its fallback leaves.
 *
 *   npx tsx bench/planner_orders.ts [units=60] [graphs=10] [timeLimitMs=10000]
 *
 * The RandWire / DARTS / SSDLite / DeepLab rows of issue 3 come from the graph
 * generators in models/generators/ once they land; this script takes any Graph.
 */
import { cpus } from 'node:os';
import { groupDigits } from '../planner/bytes.js';
import type { Graph } from '../planner/ir.js';
import { planGraphReport } from '../planner/plan_graph.js';
import { randomDag } from '../test/planner/random_dag.js';

export function compareOrders(graphs: { name: string; graph: Graph }[], timeLimitMs: number, chunks: 'none' | 'auto' = 'none'): string {
  const lines = ['| graph | nodes | given order peak | planned peak | given / planned | order algorithm | lower bound | gap | ms |', '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |'];
  let ratioProduct = 1;
  for (const { name, graph } of graphs) {
    const r = planGraphReport(graph, { chunks, timeLimitMs });
    const ratio = r.givenOrderPeakBytes / r.plan.peakBytes;
    ratioProduct *= ratio;
    const gap = r.plan.peakBytes / r.order.lowerBoundBytes - 1;
    lines.push(
      `| ${name} | ${r.plan.steps.length} | ${groupDigits(r.givenOrderPeakBytes)} | ${groupDigits(r.plan.peakBytes)} | ${ratio.toFixed(2)}× | ${r.plan.orderAlgorithm} | ${groupDigits(r.order.lowerBoundBytes)} | ${(gap * 100).toFixed(1)}% | ${r.planningMs.toFixed(0)} |`,
    );
  }
  lines.push(`\nGeometric mean given / planned: ${Math.pow(ratioProduct, 1 / graphs.length).toFixed(2)}×`);
  return lines.join('\n');
}

const units = Number(process.argv[2] ?? 60);
const count = Number(process.argv[3] ?? 10);
const timeLimitMs = Number(process.argv[4] ?? 10000);
console.log(`Given vs planned order — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version}`);
console.log(`Command: \`npx tsx bench/planner_orders.ts ${units} ${count} ${timeLimitMs}\`\n`);
for (const uniform of [false, true]) {
  const graphs = Array.from({ length: count }, (_, i) => ({ name: `${uniform ? 'wide' : 'deep'} ${i + 1}`, graph: randomDag(1000 + i, { maxUnits: units, exactUnits: true, uniform }) }));
  console.log(`\n${uniform ? 'Wide' : 'Deep'} random DAGs, ${units} ops (inputs drawn ${uniform ? 'uniformly' : 'preferring recent tensors'}):\n`);
  console.log(compareOrders(graphs, timeLimitMs));
}
