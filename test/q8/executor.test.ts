// The integer executor on small random quantized MobileNetV2-like networks: every plan (op
// by op, every chunk count, auto, a tight budget) gives the bytes of the scalar reference
// interpreter, uint8 and int8; the memory it touches stays inside the plan; the debug
// build's range guard accepts every kernel call; and the fused blocks' tilings reach their
// fallbacks (the tilings themselves: test/planner/block_schedule.test.ts).
import t from 'tap';
import { planGraph } from '../../planner/plan_graph.js';
import { detectBlocks } from '../../planner/blocks.js';
import { ArenaTooSmallError, Executor } from '../../src/executor/executor.js';
import { lowerPlanQ8 } from '../../src/executor/lower.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { ACC_D, ACC_E, ACC_Y } from '../../planner/block_schedule/index.js';
import { buildQNet, type QNetSpec } from './qnet.js';
import { byteMismatch, qArray } from './helpers.js';
import { strayWrites } from './step_writes.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const specs: QNetSpec[] = [
  {
    dtype: 'u8',
    size: [29, 27],
    stem: 16,
    first: { out: 8 },
    seed: 1,
    blocks: [
      { expand: 36, out: 12, stride: 2 },
      { expand: 60, out: 12, stride: 1 },
      { expand: 72, out: 20, stride: 2 },
      { expand: 100, out: 20, stride: 1, dilation: 2 },
      { expand: 120, out: 24, stride: 1 },
    ],
    head: { conv: 40, classes: 17 },
  },
  {
    dtype: 'i8',
    size: [24, 24],
    stem: 8,
    first: { out: 8 },
    seed: 2,
    blocks: [
      { expand: 48, out: 16, stride: 2 },
      { expand: 96, out: 16, stride: 1 },
      { expand: 96, out: 24, stride: 2 },
      { expand: 144, out: 24, stride: 1 },
      { expand: 144, out: 40, stride: 2 },
    ],
    head: { conv: 64, classes: 10 },
  },
  {
    // 3x3 feature maps: at one inner channel per chunk the accumulators of the last pixels
    // only fit a few channels at a time (the tiling's last resort, the scalar projection).
    dtype: 'u8',
    size: [11, 11],
    stem: 8,
    first: { out: 8 },
    seed: 3,
    blocks: [
      { expand: 24, out: 16, stride: 2 },
      { expand: 50, out: 30, stride: 1 },
      { expand: 90, out: 30, stride: 1 },
    ],
  },
];

for (const spec of specs) {
  const model = buildQNet(spec);
  const g = model.graph;
  const inT = g.tensors[g.inputs[0]!]!;
  const input = qArray(
    spec.dtype,
    inT.shape.reduce((a, b) => a * b, 1),
    spec.seed + 100,
  );
  const want = interpretQ8(g, model.constants, input).get(g.outputs[0]!)!;
  const maxExpanded = Math.max(...detectBlocks(g).map((b) => b.expandedChannels));

  t.test(`${spec.dtype} network: every plan gives the reference bytes, within its memory`, async (t) => {
    t.ok(detectBlocks(g).length === spec.blocks.length + 1, 'every block is fused');
    for (const chunks of ['none', 1, 2, 3, 4, 6, 8, 16, maxExpanded, 'auto'] as const) {
      const plan = planGraph(g, { chunks });
      const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
      t.ok(ex.integer, 'runs on the integer path');
      const a = ex.runQuantized(input);
      const b = ex.runQuantized(input); // second run: another canary byte
      t.equal(byteMismatch(a.output, want), null, `chunks ${chunks}: output equals the reference interpreter`);
      t.same(Array.from(b.output), Array.from(a.output), `chunks ${chunks}: repeatable`);
      const m = ex.memoryReport();
      t.equal(m.arenaBytes, plan.arenaBytes);
      // Odd byte sizes leave alignment gaps, so the arena (not the live-bytes peak) bounds the touched memory here;
      // strayWrites checks each step against its own buffers byte by byte.
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `chunks ${chunks}: measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      t.same(await strayWrites(model, plan, input), [], `chunks ${chunks}: every step writes only its own buffers`);
    }
  });

  t.test(`${spec.dtype} network (${spec.size.join('x')}): the tilings reach their fallbacks`, async (t) => {
    const kinds = new Set<string>();
    for (const chunks of [16, maxExpanded] as const) {
      for (const b of lowerPlanQ8(model, planGraph(g, { chunks })).blocks) {
        for (const tl of b.tiling.tiles) {
          if (tl.acc === ACC_Y) kinds.add('accumulator in y');
          if (tl.acc === ACC_E || tl.acc === ACC_D) kinds.add('accumulator in E/D');
          if (
            tl.q1 - tl.q0 < g.tensors[g.ops[detectBlocks(g).find((x) => x.name)!.project]!.outputs[0]!]!.shape[2]! &&
            tl.r1 - tl.r0 === 1
          )
            kinds.add('short tiles');
          if (tl.n0 % 8 !== 0) kinds.add('unaligned channel range');
        }
        if (b.tiling.unit === 1) kinds.add('unit 1');
      }
    }
    t.ok(kinds.has('accumulator in y') && kinds.has('accumulator in E/D'), [...kinds].join(', '));
    if (spec.size[0] === 11)
      t.ok(kinds.has('unaligned channel range') && kinds.has('unit 1'), 'the last-resort paths run in this network');
  });

  t.test(`${spec.dtype} network: debug build with range checks agrees, also under a tight budget`, async (t) => {
    const minimum = planGraph(g, { chunks: maxExpanded }).peakBytes;
    for (const opts of [
      { chunks: 'none' as const },
      { chunks: 3 },
      { chunks: maxExpanded },
      { chunks: 'auto' as const, budgetBytes: minimum + 256 },
    ]) {
      const plan = planGraph(g, opts);
      const ex = await Executor.create(model, plan, { kernels: await loadKernels({ debug: true }), debug: true });
      t.equal(
        byteMismatch(ex.runQuantized(input).output, want),
        null,
        `${JSON.stringify(opts)}: debug build, range guard on`,
      );
    }
  });
}

t.test('runFloat is refused on the integer path; wrong input sizes and short arenas are refused', async (t) => {
  const model = buildQNet(specs[0]!);
  const plan = planGraph(model.graph, { chunks: 6 });
  const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
  t.throws(() => ex.runFloat(new Float32Array(29 * 27 * 3)), /integer path/);
  t.throws(() => ex.runQuantized(new Uint8Array(5)), /needs 2349/);
  // Integer tensors are sized by their own dtype: one byte short of the largest buffer is refused before running.
  const largest = Math.max(...plan.buffers.map((b) => b.bytes));
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - largest }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
  );
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - 1 }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
    'even 1 byte short',
  );
});
