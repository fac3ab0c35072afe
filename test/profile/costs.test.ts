// What a profile says each plan step computes and moves, checked on MobileNetV2 built from
// paper Table 2 (no fixtures): every op in exactly one row, multiply-adds adding up to the
// graph's, a fused block reading its input and weights and writing only its output, and the
// multiply-adds of an integer block's tiles counting the halo rows neighbouring tiles share.
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { graphMultiplyAdds, opMultiplyAdds } from '../../planner/cost.js';
import { opConstants, tensorBytes } from '../../planner/ir.js';
import { planGraphReport } from '../../planner/plan_graph.js';
import { stepCosts, stepOps } from '../../src/profile/costs.js';
import { tilingMultiplyAdds, type BlockGeometry } from '../../planner/block_schedule/index.js';
import { operatorRanges } from '../../src/profile/table.js';

const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });

t.test('fused plan: every op in one row, multiply-adds and bytes per row', async (t) => {
  const plan = planGraphReport(g, { chunks: 'auto' }).plan;
  const costs = stepCosts(g, plan);
  t.equal(costs.length, plan.steps.length, 'one row per plan step');
  const seen = costs.flatMap((c) => c.ops).sort((a, b) => a - b);
  t.same(
    seen,
    g.ops.map((op) => op.id),
    'every op of the graph in exactly one row',
  );
  t.equal(
    costs.reduce((s, c) => s + c.macs, 0),
    graphMultiplyAdds(g),
    'rows add up to the graph',
  );
  const blocks = costs.filter((c) => c.kind === 'block');
  t.ok(blocks.length >= 16, `${blocks.length} fused blocks`);
  for (const c of blocks) {
    const step = plan.steps[c.step]!;
    if (step.kind !== 'block') throw new Error('not a block');
    const ops = stepOps(step).map((id) => g.ops[id]!);
    const input = g.tensors[ops[0]!.inputs[0]!]!;
    const output = g.tensors[ops[ops.length - 1]!.outputs[0]!]!;
    t.equal(
      c.macs,
      ops.reduce((s, op) => s + opMultiplyAdds(g, op), 0),
      `${c.what}: expansion + depthwise + projection`,
    );
    t.equal(c.executedMacs, c.macs, `${c.what}: the float kernel recomputes nothing`);
    // A residual block reads its input twice (expansion, add); it is one tensor, counted once.
    t.equal(c.activationBytesRead, tensorBytes(input), `${c.what}: reads its input once`);
    t.equal(c.bytesWritten, tensorBytes(output), `${c.what}: writes only its output`);
    t.equal(
      c.weightBytes,
      ops.flatMap(opConstants).reduce((s, id) => s + tensorBytes(g.tensors[id]!), 0),
      `${c.what}: its three layers' weights and biases`,
    );
    t.equal(c.chunks, step.chunks);
    t.match(c.what, /^block /);
  }
});

t.test('op-by-op plan: a row per op, no chunks', async (t) => {
  const plan = planGraphReport(g, { chunks: 'none' }).plan;
  const costs = stepCosts(g, plan);
  t.equal(costs.length, g.ops.length);
  t.ok(
    costs.every((c) => c.kind === 'op' && c.chunks === null),
    'no blocks',
  );
  for (const c of costs) {
    const op = g.ops[c.ops[0]!]!;
    const out = g.tensors[op.outputs[0]!]!;
    if (!c.what.includes('aliased')) t.equal(c.bytesWritten, tensorBytes(out), `${c.what} writes its output`);
  }
});

t.test('integer block tiles: one tile computes the graph, bands add their shared halo rows', async (t) => {
  // Expansion 1x1 from 24 channels to 144 on 56x56, depthwise 3x3 stride 1, projection to 24.
  const geo: BlockGeometry = {
    He: 56,
    We: 56,
    Cexp: 144,
    Hd: 56,
    Wd: 56,
    Cout: 24,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
    pt: 1,
    pl: 1,
    expandK: 24,
    stem: false,
  };
  const graph = 56 * 56 * 144 * 24 + 56 * 56 * 144 * 9 + 56 * 56 * 144 * 24;
  const tile = { q0: 0, q1: 56, n0: 0, n1: 24, G: 144, acc: 0, accOffset: 0 };
  t.equal(tilingMultiplyAdds(geo, [{ ...tile, r0: 0, r1: 56 }]), graph, 'one tile: nothing recomputed');
  // Two bands of 28 rows: each expands the row the other one starts or ends with.
  const two = tilingMultiplyAdds(geo, [
    { ...tile, r0: 0, r1: 28 },
    { ...tile, r0: 28, r1: 56 },
  ]);
  t.equal(two - graph, 2 * 56 * 144 * 24, 'two bands: two halo rows of the expansion again');
  // Splitting a pixel's output channels recomputes its expansion and depthwise per range.
  const pixel = (n0: number, n1: number) => ({ ...tile, r0: 0, r1: 1, q0: 0, q1: 1, n0, n1 });
  const whole = tilingMultiplyAdds(geo, [pixel(0, 24)]);
  const split = tilingMultiplyAdds(geo, [pixel(0, 8), pixel(8, 24)]);
  t.equal(split - whole, 2 * 2 * 144 * 24 + 144 * 9, 'a second channel range: window expansion and depthwise again');
});

t.test('operator ranges', async (t) => {
  t.equal(operatorRanges([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
  t.equal(operatorRanges([]), '');
  t.equal(operatorRanges([4]), '4');
});
