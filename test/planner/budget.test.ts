/**
 * Budget mode: the fastest estimated plan whose arena fits
 * the budget, or a refusal stating the smallest reachable peak.
 */
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { parseByteSize } from '../../planner/bytes.js';
import { planGraphReport, PlanRefusedError, verifyPlan } from '../../planner/plan_graph.js';
import { randomDag } from './random_dag.js';
import { detectBlocks } from '../../planner/blocks.js';
import { chunkCandidates } from '../../planner/chunks.js';
import { DEFAULT_BLOCK_COST_MODEL } from '../../planner/block_cost.js';

const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
const blocks = detectBlocks(g);

t.test('--budget 2MiB: a plan at or under 2 MiB', async (t) => {
  const r = planGraphReport(g, { budgetBytes: parseByteSize('2MiB') });
  verifyPlan(g, r.plan);
  t.ok(r.plan.arenaBytes <= 2 * 1024 * 1024, `arena ${r.plan.arenaBytes} ≤ 2,097,152`);
  t.ok(r.plan.peakBytes <= r.plan.arenaBytes);
  const auto = planGraphReport(g);
  t.ok(r.estimatedBlocksMs <= auto.estimatedBlocksMs, 'a looser limit never costs more time than auto');
  // Each block runs the fewest chunks whose step fits: one chunk fewer would not.
  for (const c of r.chunks) {
    const base = r.stepBytes[c.step]! - c.scratchBytes;
    t.ok(base + c.scratchBytes <= 2 * 1024 * 1024, `${c.block} fits`);
  }
});

t.test('--budget 100KiB is refused with the smallest feasible peak in the message (no streaming)', async (t) => {
  const err = t.throws(() =>
    planGraphReport(g, { budgetBytes: parseByteSize('100KiB'), stream: 'off' }),
  ) as unknown as PlanRefusedError;
  t.ok(err instanceof PlanRefusedError);
  t.equal(err.minimumBytes, 1_505_280);
  t.match(err.message, /1,505,280 B/);
  t.match(err.message, /102,400 B/);
});

t.test('the refusal minimum is exact: that budget is accepted, one byte less is not (no streaming)', async (t) => {
  const r = planGraphReport(g, { budgetBytes: 1_505_280, stream: 'off' });
  verifyPlan(g, r.plan);
  t.equal(r.plan.arenaBytes, 1_505_280);
  t.equal(r.stream, null);
  t.throws(() => planGraphReport(g, { budgetBytes: 1_505_279, stream: 'off' }), PlanRefusedError);
});

t.test('estimated time never rises as the budget grows; a huge budget runs every block whole', async (t) => {
  let prev = Infinity;
  for (const mib of [1.5, 1.75, 2, 3, 4, 6, 8, 64]) {
    const r = planGraphReport(g, { budgetBytes: Math.round(mib * 1024 * 1024) });
    verifyPlan(g, r.plan);
    t.ok(r.plan.arenaBytes <= mib * 1024 * 1024, `${mib} MiB: arena ${r.plan.arenaBytes}`);
    t.ok(
      r.estimatedBlocksMs <= prev + 1e-9,
      `${mib} MiB: ${r.estimatedBlocksMs.toFixed(3)} ms ≤ ${prev.toFixed(3)} ms`,
    );
    prev = r.estimatedBlocksMs;
    // Unconstrained, each block gets its fastest estimate (chunk counts with the same kernel schedule tie; the smaller scratch wins).
    const fastest = (name: string) =>
      Math.min(
        ...chunkCandidates(
          g,
          blocks.find((b) => b.name === name)!,
          DEFAULT_BLOCK_COST_MODEL,
        ).map((x) => x.estimatedNs),
      ) / 1e6;
    if (mib === 64)
      t.ok(
        r.chunks.every((c) => Math.abs(c.estimatedMs - fastest(c.block)) <= 1e-9 * c.estimatedMs),
        'every block at its fastest estimate',
      );
  }
});

t.test('with fixed chunks or none, a budget is a check', async (t) => {
  t.throws(() => planGraphReport(g, { chunks: 'none', budgetBytes: 5_000_000 }), /6,021,120 B/);
  const ok = planGraphReport(g, { chunks: 6, budgetBytes: 2_107_392 });
  verifyPlan(g, ok.plan);
  t.throws(() => planGraphReport(g, { chunks: 6, budgetBytes: 2_107_391 }), PlanRefusedError);
});

t.test('budget mode on random DAGs with blocks: feasible plans fit, infeasible ones name the minimum', async (t) => {
  let checked = 0;
  for (let seed = 500; seed < 560; seed++) {
    const dag = randomDag(seed, { maxUnits: 10, blockRate: 0.4 });
    const auto = planGraphReport(dag);
    const min = auto.policies.minimumPeakBytes!;
    const budget = Math.round(min * 1.3);
    const r = planGraphReport(dag, { budgetBytes: budget });
    verifyPlan(dag, r.plan);
    t.ok(r.plan.arenaBytes <= budget, `seed ${seed}: arena ${r.plan.arenaBytes} ≤ ${budget}`);
    const err = t.throws(() => planGraphReport(dag, { budgetBytes: min - 1 })) as unknown as PlanRefusedError;
    t.equal(err.minimumBytes, min, `seed ${seed}: refusal names ${min}`);
    checked++;
  }
  t.equal(checked, 60);
});
