/**
 * MobileNetV2 memory figures (per-layer, Section 5.1 with t = 6, the default), checked
 * against the issue's own arithmetic and against the shapes of paper Table 2
 * recomputed here, through planGraph, with the verifier on every plan.
 */
import t from 'tap';
import { buildMobileNetV2, MOBILENET_V2_ALPHAS } from '../../models/mobilenet_v2.js';
import { blockFootprintBytes, detectBlocks } from '../../planner/blocks.js';
import { chunkCandidates } from '../../planner/chunks.js';
import { DEFAULT_BLOCK_COST_MODEL } from '../../planner/block_cost.js';
import { tensorBytes } from '../../planner/ir.js';
import { PLACEMENT_ALGORITHMS } from '../../planner/placement/index.js';
import { planGraphReport, verifyPlan } from '../../planner/plan_graph.js';

t.test('1.0/224 f32 per-layer: 6,021,120 bytes (1,505,280 values)', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const r = planGraphReport(g, { chunks: 'none' });
  verifyPlan(g, r.plan);
  // The largest step: block 1's depthwise reads 96×112² and writes 96×56².
  t.equal(96 * 112 * 112 + 96 * 56 * 56, 1_505_280, 'issue arithmetic');
  t.equal(r.plan.peakBytes, 6_021_120);
  t.equal(r.policies.perLayerBytes, 6_021_120);
  t.equal(r.plan.arenaBytes, r.plan.peakBytes, 'arena = lower bound');
  const peakStep = r.stepBytes.indexOf(r.plan.peakBytes);
  t.equal(r.stepNames[peakStep], 'expanded_conv_1/depthwise');
  t.equal(r.plan.steps.length, g.ops.length, 'one step per op');
  t.equal(r.chunks.length, 0, 'no fused blocks');
});

t.test('1.0/224 f32 with t = 6 everywhere: 2,107,392 bytes, block 1 the largest', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const r = planGraphReport(g, { chunks: 6 });
  verifyPlan(g, r.plan);
  t.equal(
    200_704 + 75_264 + 16 * 112 * 112 + 16 * 56 * 56,
    526_848,
    'issue arithmetic: |x| + |y| + one chunk of 16 channels',
  );
  t.equal(16 * 112 * 112 + 16 * 56 * 56, 250_880);
  t.equal(r.plan.peakBytes, 2_107_392);
  t.equal(r.plan.arenaBytes, 2_107_392, 'arena = lower bound (no fragmentation) on this chain');
  t.equal(r.chunks.length, 17, 'stem + block 0 and the 16 expanded blocks are fused');
  const b1 = r.chunks.find((c) => c.block === 'expanded_conv_1')!;
  t.match(b1, { expandedChannels: 96, chunks: 6, chunkChannels: 16, footprintBytes: 2_107_392 });
  for (const c of r.chunks)
    if (c !== b1) t.ok(c.footprintBytes < b1.footprintBytes, `${c.block} (${c.footprintBytes}) below block 1`);
  // The first-layer trick: conv 3x3/2 + block 0, expansion at 112×112, x = the 224² input.
  const stem = r.chunks[0]!;
  t.match(stem, { block: 'Conv+expanded_conv', stem: true, expandedChannels: 32, chunks: 6, chunkChannels: 6 });
  t.equal(stem.footprintBytes, 4 * (224 * 224 * 3 + 112 * 112 * 16 + 6 * 112 * 112 * 2));
  // Every block's footprint recomputed from the shapes: |x| + |y| + c(H_e W_e + H_d W_d).
  const blocks = detectBlocks(g);
  for (const c of r.chunks) {
    const b = blocks.find((x) => x.name === c.block)!;
    const x = g.tensors[b.input]!.shape;
    const y = g.tensors[b.output]!.shape;
    const e = g.tensors[g.ops[b.expand]!.outputs[0]!]!.shape;
    const d = g.tensors[g.ops[b.depthwise]!.outputs[0]!]!.shape;
    const cc = Math.ceil(e[3]! / 6);
    const want = 4 * (x[1]! * x[2]! * x[3]! + y[1]! * y[2]! * y[3]! + cc * (e[1]! * e[2]! + d[1]! * d[2]!));
    t.equal(c.footprintBytes, want, `${c.block} footprint`);
  }
});

t.test('1.0/224 arena equals the lower bound on the chain under every placement but greedy-by-size', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  for (const placement of Object.keys(PLACEMENT_ALGORITHMS)) {
    for (const chunks of ['none', 6, 'auto'] as const) {
      const r = planGraphReport(g, { chunks, placement });
      verifyPlan(g, r.plan);
      t.ok(
        r.plan.arenaBytes >= r.plan.peakBytes,
        `${placement} ${chunks}: arena ${r.plan.arenaBytes} ≥ lower bound ${r.plan.peakBytes}`,
      );
      if (placement !== 'greedy-by-size')
        t.equal(r.plan.arenaBytes, r.plan.peakBytes, `${placement} ${chunks}: arena = lower bound`);
    }
  }
});

t.test('0.35/96 f32: per-layer 138,240 values, t = 6: 59,904 values', async (t) => {
  const g = buildMobileNetV2({ alpha: 0.35, resolution: 96 });
  const none = planGraphReport(g, { chunks: 'none' });
  verifyPlan(g, none.plan);
  t.equal(none.plan.peakBytes, 138_240 * 4);
  const six = planGraphReport(g, { chunks: 6 });
  verifyPlan(g, six.plan);
  t.equal(six.plan.peakBytes, 59_904 * 4);
  // The largest here is the stem block: x = 96²·3, y = 48²·8, c = ceil(16/6) = 3 at 48² twice.
  t.equal(96 * 96 * 3 + 48 * 48 * 8 + 3 * 48 * 48 * 2, 59_904);
  t.equal(six.chunks[0]!.footprintBytes, 59_904 * 4);
  t.equal(six.plan.arenaBytes, six.plan.peakBytes, 'arena = lower bound');
});

t.test('int8 activations: a quarter of the f32 figures', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224, dtype: 'i8' });
  const six = planGraphReport(g, { chunks: 6 });
  verifyPlan(g, six.plan);
  t.equal(six.plan.peakBytes, 526_848);
  t.equal(planGraphReport(g, { chunks: 'none' }).plan.peakBytes, 1_505_280);
  t.ok(six.plan.arenaBytes <= 526_848 + 16, `arena ${six.plan.arenaBytes} (alignment may pad 1-byte tensors)`);
});

t.test("'auto': the smallest peak, then the fewest chunks that keep it", async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const r = planGraphReport(g);
  verifyPlan(g, r.plan);
  // Smallest peak: the stem block at one channel per chunk: |input| + |y| + 112² + 112².
  const P = 4 * (224 * 224 * 3 + 112 * 112 * 16 + 112 * 112 + 112 * 112);
  t.equal(P, 1_505_280);
  t.equal(r.policies.minimumPeakBytes, P);
  t.equal(r.plan.peakBytes, P);
  t.equal(r.plan.arenaBytes, P);
  t.ok(r.order.exact, 'order proven minimal');
  t.ok(r.plan.peakBytes <= 2_007_040, 'the default plan takes at most a third of per-layer');
  const blocks = detectBlocks(g);
  for (const c of r.chunks) {
    const b = blocks.find((x) => x.name === c.block)!;
    const base = r.stepBytes[c.step]! - c.scratchBytes;
    t.ok(base + c.scratchBytes <= P, `${c.block}: step within the peak`);
    // Any cheaper chunk count would exceed the peak.
    const cands = chunkCandidates(g, b, DEFAULT_BLOCK_COST_MODEL);
    for (const cand of cands) {
      if (cand.estimatedNs >= cands.find((x) => x.chunkChannels === c.chunkChannels)!.estimatedNs) break;
      t.ok(base + cand.scratchBytes > P, `${c.block}: ${cand.chunks} chunks would exceed the peak`);
    }
  }
  t.match(r.chunks[1], { block: 'expanded_conv_1' });
  t.ok(r.chunks[1]!.chunkChannels <= 6, 'block 1: c ≤ (P − |x| − |y|) / (112² + 56²) = 6.4');
  t.equal(r.chunks[r.chunks.length - 1]!.chunks, 1, 'late blocks are small enough to run whole');
});

t.test('every width and resolution plans and verifies; auto ≤ t=6 ≤ per-layer', async (t) => {
  for (const alpha of MOBILENET_V2_ALPHAS) {
    for (const res of [96, 160, 224]) {
      const g = buildMobileNetV2({ alpha, resolution: res });
      const auto = planGraphReport(g);
      const six = planGraphReport(g, { chunks: 6 });
      const none = planGraphReport(g, { chunks: 'none' });
      for (const r of [auto, six, none]) verifyPlan(g, r.plan);
      t.ok(
        auto.plan.peakBytes <= six.plan.peakBytes && six.plan.peakBytes <= none.plan.peakBytes,
        `${alpha}/${res}: ${auto.plan.peakBytes} ≤ ${six.plan.peakBytes} ≤ ${none.plan.peakBytes}`,
      );
      t.equal(
        six.plan.peakBytes,
        Math.max(...six.chunks.map((c) => c.footprintBytes), ...six.stepBytes),
        `${alpha}/${res}: t=6 peak is the largest step`,
      );
      const naive = g.tensors.filter((x) => !x.constant).reduce((s, x) => s + tensorBytes(x), 0);
      t.equal(none.policies.naiveBytes, naive, `${alpha}/${res}: naive = every activation tensor`);
    }
  }
});

t.test('planning time (printed, not asserted)', async (t) => {
  const g = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  for (const opts of [{}, { chunks: 6 }, { chunks: 'none' as const }, { budgetBytes: 2 * 1024 * 1024 }]) {
    planGraphReport(g, opts); // warm up
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) ms.push(planGraphReport(g, opts).planningMs);
    ms.sort((a, b) => a - b);
    t.comment(
      `MobileNetV2 1.0/224 ${JSON.stringify(opts)}: median planning ${ms[2]!.toFixed(1)} ms (min ${ms[0]!.toFixed(1)}, max ${ms[4]!.toFixed(1)})`,
    );
  }
  t.pass('measured');
});
