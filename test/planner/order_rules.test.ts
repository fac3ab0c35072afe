/**
 * The order DP with its exchange rules (planner/order/rules.ts: forced moves,
 * lazy runs) against brute force over every topological order, on seeded
 * random problems with every feature of the memory model, and against a
 * plain DP with no rules on small RandWire graphs (sum chains, depthwise,
 * pointwise: the structure the rules were made for):
 * - a run at budget τ = optimum finds an order whose peak (memory.ts) is the optimum;
 * - a run at τ = optimum − 1 finds nothing, and the lower bound it reports
 *   (smallest dropped peak) is > τ and ≤ the optimum: a valid lower bound;
 * - an unbounded run with the forced-move threshold at the optimum finds it;
 * - a beam run returns a real order whose peak is what it reports.
 */
import t, { type Test } from 'tap';
import { buildRandWire } from '../../models/generators/randwire.js';
import { evaluateOrder, type MemoryProblem } from '../../planner/memory.js';
import { Reach } from '../../planner/order/analysis.js';
import { CutBound } from '../../planner/order/cut_bound.js';
import { dpRun } from '../../planner/order/dp.js';
import { ScheduleRules } from '../../planner/order/rules.js';
import { SearchSpace } from '../../planner/order/space.js';
import { buildUnitGraph, memoryProblem } from '../../planner/units.js';
import { bruteForceMinPeak, plainDpMinPeak, randomProblem } from './random_problem.js';

function checkAgainst(t: Test, p: MemoryProblem, opt: number, what: string): { lazy: boolean } {
  checkRuns(t, p, opt, what, false);
  return checkRuns(t, p, opt, `${what} (cut bounds on)`, true);
}

function checkRuns(t: Test, p: MemoryProblem, opt: number, what: string, withCut: boolean): { lazy: boolean } {
  const space = new SearchSpace(p);
  const rules = new ScheduleRules(space);
  const cut = withCut ? new CutBound(space, new Reach(p), p.baseBytes) : undefined;
  const run = (tau: number, theta = tau, keep?: number) =>
    dpRun(space, rules, {
      tau,
      theta,
      deadline: Infinity,
      maxStates: 10_000_000,
      ...(keep ? { keep } : {}),
      ...(cut ? { cut } : {}),
    });
  const at = run(opt);
  if (at.kind !== 'found') t.fail(`${what}: nothing found at τ = optimum ${opt}`);
  else if (at.peak !== opt || evaluateOrder(p, at.order).peakBytes !== opt)
    t.fail(
      `${what}: found peak ${at.peak} (order evaluates to ${evaluateOrder(p, at.order).peakBytes}), optimum ${opt}`,
    );
  const below = run(opt - 1);
  if (below.kind === 'found') t.fail(`${what}: found peak ${below.peak} below the optimum ${opt}`);
  else if (below.kind === 'none' && !(below.minPruned > opt - 1 && below.minPruned <= opt))
    t.fail(`${what}: lower bound ${below.minPruned} not in (${opt - 1}, ${opt}]`);
  const open = run(Infinity, opt);
  if (open.kind !== 'found' || open.peak !== opt)
    t.fail(`${what}: unbounded run with θ = optimum gives ${open.kind === 'found' ? open.peak : open.kind}`);
  const beam = run(Infinity, Infinity, 2);
  if (beam.kind !== 'found' || evaluateOrder(p, beam.order).peakBytes !== beam.peak || beam.peak < opt)
    t.fail(
      `${what}: beam run gives ${beam.kind === 'found' ? `${beam.peak} (evaluates to ${evaluateOrder(p, beam.order).peakBytes})` : beam.kind}`,
    );
  let lazy = false;
  for (let u = 0; u < space.n; u++) if (rules.lazyCapable[u]) lazy = true;
  return { lazy };
}

t.test('DP with forced moves and lazy runs == brute force on 1500 random problems', async (t) => {
  let withLazy = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const p = randomProblem(seed, 3 + (seed % 7));
    const opt = bruteForceMinPeak(p);
    if (checkAgainst(t, p, opt, `seed ${seed}`).lazy) withLazy++;
  }
  t.ok(withLazy >= 500, `${withLazy} problems have nodes that can be lazy`);
});

t.test('DP == plain DP on 200 larger random problems (10 to 16 nodes)', async (t) => {
  for (let seed = 5000; seed < 5200; seed++) {
    const p = randomProblem(seed, 10 + (seed % 7));
    checkAgainst(t, p, plainDpMinPeak(p), `seed ${seed}`);
  }
});

t.test('the plain DP reference agrees with brute force', async (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const p = randomProblem(seed, 3 + (seed % 6));
    t.equal(plainDpMinPeak(p), bruteForceMinPeak(p), `seed ${seed}`);
  }
});

t.test('DP == plain DP on small RandWire graphs (sum chains, depthwise, pointwise)', async (t) => {
  let tested = 0;
  for (let seed = 1; seed <= 24; seed++) {
    for (const k of [2, 4]) {
      const nodes = 5 + (seed % 3);
      if (nodes <= k) continue;
      const g = buildRandWire({ nodes, k, seed, channels: 4, resolution: 8 });
      const p = memoryProblem(buildUnitGraph(g, []), []);
      if (p.nodes.length > 22) continue;
      checkAgainst(t, p, plainDpMinPeak(p), `RandWire nodes ${nodes} k ${k} seed ${seed} (${p.nodes.length} ops)`);
      tested++;
    }
  }
  t.ok(tested >= 30, `${tested} RandWire graphs`);
});
