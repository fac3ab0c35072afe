/**
 * Cut lower bounds (planner/order/cut_bound.ts) against brute force: for every
 * set S that some order runs first and every node a after it, the bound must not
 * exceed the smallest bytes live at a's step over all orders that start with S;
 * the global bound must not exceed the optimum. And the bound has to earn its
 * keep: on many problems it is above the per-node static bound.
 */
import t from 'tap';
import { evaluateOrder, type MemoryProblem } from '../../planner/memory.js';
import { Reach, staticLowerBound } from '../../planner/order/analysis.js';
import { CutBound } from '../../planner/order/cut_bound.js';
import { SearchSpace } from '../../planner/order/space.js';
import { buildRandWire } from '../../models/generators/randwire.js';
import { buildUnitGraph, memoryProblem } from '../../planner/units.js';
import { bruteForceMinPeak, forEachOrder, randomProblem } from './random_problem.js';

t.test(
  'cut bound ≤ the smallest step of every node after every prefix set (brute force, 400 random problems)',
  async (t) => {
    let checked = 0,
      bad = 0,
      tight = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const p = randomProblem(seed, 3 + (seed % 6));
      const space = new SearchSpace(p);
      const cut = new CutBound(space, new Reach(p), p.baseBytes);
      // (S as a bitmask, a) → smallest bytes live at a's step over orders starting with S.
      const best = new Map<string, number>();
      forEachOrder(p, (order) => {
        const steps = evaluateOrder(p, order).stepBytes;
        let mask = 0;
        order.forEach((a, k) => {
          const key = `${mask},${a}`;
          best.set(key, Math.min(best.get(key) ?? Infinity, steps[k]!));
          mask |= 1 << a;
        });
      });
      for (const [key, truth] of best) {
        const [mask, a] = key.split(',').map(Number) as [number, number];
        const S = new Uint32Array(space.words);
        S[0] = mask;
        const bound = cut.at(S, a);
        checked++;
        if (bound > truth) {
          bad++;
          t.fail(`seed ${seed}: S ${mask.toString(2)} node ${a}: bound ${bound} > ${truth}`);
        }
        if (bound === truth) tight++;
      }
    }
    t.equal(bad, 0, `${checked} (prefix set, node) pairs`);
    t.ok(tight > checked / 2, `tight on ${tight} of ${checked}`);
  },
);

t.test('global cut bound ≤ optimum, and above the static bound on some problems', async (t) => {
  let above = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const p = randomProblem(seed, 4 + (seed % 6));
    const cut = new CutBound(new SearchSpace(p), new Reach(p), p.baseBytes);
    const opt = bruteForceMinPeak(p);
    const g = cut.global();
    if (g > opt) t.fail(`seed ${seed}: cut bound ${g} > optimum ${opt}`);
    if (g > staticLowerBound(p)) above++;
  }
  t.ok(above >= 10, `${above} problems where the cut bound beats the static bound`);
});

t.test('RandWire(60): the cut bound is at least the static bound', async (t) => {
  for (const seed of [1, 2, 3]) {
    const p = memoryProblem(
      buildUnitGraph(buildRandWire({ nodes: 60, k: 4, seed, channels: 16, resolution: 16 }), []),
      [],
    );
    const cut = new CutBound(new SearchSpace(p), new Reach(p), p.baseBytes);
    const s = staticLowerBound(p);
    t.ok(cut.global() >= s, `seed ${seed}: cut ${cut.global()} ≥ static ${s}`);
  }
});
