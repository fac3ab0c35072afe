/**
 * The exact order search against brute force over every topological order,
 * on seeded random DAGs of at most 10 units with random sizes, through the
 * whole planner: per-layer ('none'), fused
 * blocks at fixed chunk counts, and the 'auto' minimum. Every plan passes the
 * verifier, and its peak equals the independent reference on its own order.
 */
import t from 'tap';
import { planGraphReport, verifyPlan } from '../../planner/plan_graph.js';
import { chunkChannelsFor } from '../../planner/blocks.js';
import { ORDER_ALGORITHMS } from '../../planner/order/index.js';
import { buildUnitGraph, memoryProblem } from '../../planner/units.js';
import { detectBlocks } from '../../planner/blocks.js';
import { randomDag } from './random_dag.js';
import { bruteForceMinPeak, refModel, refPeak } from './reference_memory.js';

const ORDER_LIMIT = 40_000;

t.test('exact order == brute force on 200+ random DAGs (≤ 10 units), every plan verified', async (t) => {
  let tested = 0;
  let withBlocks = 0;
  let orderMattered = 0;
  let seed = 0;
  while (tested < 240) {
    seed++;
    const g = randomDag(seed, { maxUnits: 10, blockRate: seed % 2 === 0 ? 0.35 : 0 });
    const blocks = detectBlocks(g);
    const chunks = blocks.length > 0 ? 1 + (seed % 3) : 'none';
    const pick = (b: Parameters<typeof chunkChannelsFor>[0]) => chunkChannelsFor(b, chunks === 'none' ? 1 : chunks);
    const m = refModel(g, chunks === 'none' ? undefined : pick);
    if (m.units.length > 10) continue;
    const brute = bruteForceMinPeak(m, ORDER_LIMIT);
    if (brute === undefined) continue; // too many orders to enumerate; draw another
    tested++;
    if (blocks.length > 0) withBlocks++;
    const rep = planGraphReport(g, { chunks });
    verifyPlan(g, rep.plan);
    if (rep.plan.peakBytes !== brute || !rep.order.exact || rep.order.algorithm !== 'exact-dp') {
      t.fail(`seed ${seed}: planner ${rep.plan.peakBytes} (${rep.order.algorithm}) vs brute force ${brute}`);
      continue;
    }
    // The plan's own order, recomputed by the reference model, gives the same peak.
    const unitOfFirstOp = new Map(m.units.map((u, i) => [u.ops[0]!, i]));
    const refOrder = rep.stepOps.map((ops) => unitOfFirstOp.get(Math.min(...ops))!);
    const refOwn = refPeak(m, refOrder);
    if (refOwn !== rep.plan.peakBytes)
      t.fail(`seed ${seed}: reference gives ${refOwn} for the plan's order, planner ${rep.plan.peakBytes}`);
    if (rep.givenOrderPeakBytes > brute) orderMattered++;
    if (rep.plan.arenaBytes < rep.plan.peakBytes) t.fail(`seed ${seed}: arena below the lower bound`);
    // 'auto': the minimum over every order with one channel per chunk.
    if (blocks.length > 0) {
      const m1 = refModel(g, () => 1);
      const brute1 = bruteForceMinPeak(m1, ORDER_LIMIT)!;
      const auto = planGraphReport(g, { chunks: 'auto' });
      verifyPlan(g, auto.plan);
      if (auto.policies.minimumPeakBytes !== brute1 || auto.plan.peakBytes !== brute1)
        t.fail(
          `seed ${seed}: auto ${auto.plan.peakBytes} / minimum ${auto.policies.minimumPeakBytes} vs brute force ${brute1}`,
        );
    }
  }
  t.ok(tested >= 200, `${tested} DAGs compared with brute force`);
  t.ok(withBlocks >= 50, `${withBlocks} of them with fused blocks`);
  t.ok(orderMattered >= 20, `${orderMattered} where the given order is worse than the best (the search matters)`);
});

t.test('heuristics never beat exact; lower bounds never exceed it', async (t) => {
  for (let seed = 1000; seed < 1100; seed++) {
    const g = randomDag(seed, { maxUnits: 14, blockRate: 0.2 });
    const ug = buildUnitGraph(g, detectBlocks(g));
    const p = memoryProblem(
      ug,
      ug.blocks.map(() => 2),
    );
    const opts = { timeLimitMs: 5000, maxStates: 2_000_000 };
    const exact = ORDER_ALGORITHMS.exact!(p, opts);
    t.equal(exact.algorithm, 'exact-dp', `seed ${seed} solved exactly`);
    for (const [name, algo] of Object.entries(ORDER_ALGORITHMS)) {
      const r = algo(p, opts);
      if (r.peakBytes < exact.peakBytes) t.fail(`seed ${seed}: ${name} ${r.peakBytes} below exact ${exact.peakBytes}`);
      if (r.lowerBoundBytes > exact.peakBytes)
        t.fail(`seed ${seed}: ${name} lower bound ${r.lowerBoundBytes} above the optimum ${exact.peakBytes}`);
    }
  }
});
