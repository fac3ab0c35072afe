/**
 * How far the order search's heuristic and its lower bound are from the true
 * minimum peak, on RandWire graphs small enough for the exact search to finish
 * (20 and 30 nodes), and where it stops finishing (40 nodes). On RandWire(60)
 * the planner reports heuristic orders with gaps to the proven lower bound
 * (bench/planner_orders.ts); this shows which side of that gap is loose.
 * For each graph: the exact result (time limit 20 s), the min-cut lower bound
 * (planner/order/cut_bound.ts) and a DP beam of width 64 (the planner's first
 * upper bound), as a fraction of the optimum where it is known.
 *
 *   npx tsx bench/planner_gap.ts [--no-write]
 */
import { buildRandWire } from '../models/generators/randwire.js';
import { groupDigits } from '../planner/bytes.js';
import { Reach } from '../planner/order/analysis.js';
import { CutBound } from '../planner/order/cut_bound.js';
import { dpRun } from '../planner/order/dp.js';
import { exactOrder } from '../planner/order/exact.js';
import { ScheduleRules } from '../planner/order/rules.js';
import { SearchSpace } from '../planner/order/space.js';
import { buildUnitGraph, memoryProblem } from '../planner/units.js';
import { appendResults } from './results.js';

const write = !process.argv.includes('--no-write');
const TIME_LIMIT_MS = 20000;
const pct = (x: number, opt: number) => `${x >= opt ? '+' : ''}${(((x - opt) / opt) * 100).toFixed(1)}%`;
const lines = [
  '| graph | ops | exact search | ms | peak (B) | proven lower bound (B) | cut bound (B) | cut vs optimum | DP beam-64 (B) | beam-64 vs optimum |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const nodes of [20, 30, 40]) {
  for (const seed of [1, 2, 3]) {
    const p = memoryProblem(buildUnitGraph(buildRandWire({ nodes, seed, channels: 32, resolution: 56 }), []), []);
    const t0 = Date.now();
    const r = exactOrder(p, { timeLimitMs: TIME_LIMIT_MS, maxStates: 5_000_000 });
    const ms = Date.now() - t0;
    const space = new SearchSpace(p);
    const cut = new CutBound(space, new Reach(p), p.baseBytes).global();
    const beam = dpRun(space, new ScheduleRules(space), {
      tau: Infinity,
      theta: Infinity,
      deadline: Infinity,
      maxStates: 1e9,
      keep: 64,
    });
    const beamPeak = beam.kind === 'found' ? beam.peak : NaN;
    const known = r.exact ? r.peakBytes : NaN;
    lines.push(
      `| RandWire WS(${nodes},4,0.75) seed ${seed} | ${p.nodes.length} | ${r.algorithm} | ${ms} | ${groupDigits(r.peakBytes)} | ${groupDigits(r.lowerBoundBytes)} | ${groupDigits(cut)} | ${r.exact ? pct(cut, known) : '–'} | ${groupDigits(beamPeak)} | ${r.exact ? pct(beamPeak, known) : '–'} |`,
    );
    console.error(`  RandWire(${nodes}) seed ${seed}: ${r.algorithm} in ${ms} ms`);
  }
}
const body = [
  `Exact order search with a ${TIME_LIMIT_MS} ms limit; "cut bound" is the min-cut lower bound before any search, "DP beam-64" the planner's first upper bound. Where the search finished, both are given relative to the optimum.`,
  '',
  ...lines,
].join('\n');
console.log(body);
if (write)
  appendResults(
    'Planner: heuristic and lower bound vs the optimum on smaller RandWire graphs',
    'npx tsx bench/planner_gap.ts',
    body,
  );
