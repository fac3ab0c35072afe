/**
 * Row-streamed planning: ring sizes against a brute-force replay, the footprint of
 * MobileNetV2 1.0/224 int8 against the arithmetic by hand, budget selection, and a
 * verifier that rejects rings, windows and schedules that are one row too small.
 */
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import type { Plan, StreamStep } from '../../planner/plan.js';
import { planGraphReport, PlanRefusedError, verifyPlan } from '../../planner/plan_graph.js';
import { streamChain, stageRows, needRows } from '../../planner/stream/stages.js';
import { pullSchedule } from '../../planner/stream/schedule.js';
import {
  chooseStreamConfig,
  smallestStreamConfig,
  stageOptions,
  streamFootprint,
  type StageConfig,
} from '../../planner/stream/config.js';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { makeRng } from '../../planner/rng.js';

const int8 = buildMobileNetV2({ alpha: 1.0, resolution: 224, dtype: 'u8' });

function clone(p: Plan): Plan {
  return {
    ...p,
    steps: p.steps.map((s) =>
      s.kind === 'stream'
        ? { ...s, stages: s.stages.map((x) => ({ ...x, expandWork: { ...x.expandWork } })) }
        : { ...s },
    ),
    buffers: p.buffers.map((b) => ({ ...b, ...(b.ring ? { ring: { ...b.ring } } : {}) })),
    tensorOffsets: new Map(p.tensorOffsets),
  };
}

const streamStep = (p: Plan): StreamStep => p.steps.find((s): s is StreamStep => s.kind === 'stream')!;

t.test('the chain of MobileNetV2: 17 blocks and the head, from the input to the pool', async (t) => {
  const chain = streamChain(int8);
  t.equal(chain.length, 18);
  t.same(
    chain.map((s) => s.kind),
    [...new Array<string>(17).fill('block'), 'conv_pool'],
  );
  t.ok(chain[0]!.block!.stem, 'block 0 expands with the stem conv');
});

t.test('ring sizes equal the smallest that a replay with slot tags accepts', async (t) => {
  const rng = makeRng(7);
  const rand = () => rng.next();
  const specs: QNetSpec[] = [];
  for (let i = 0; i < 12; i++) {
    const h = 9 + Math.floor(rand() * 20);
    specs.push({
      dtype: 'u8',
      size: [h, 7 + Math.floor(rand() * 12)],
      stem: 8,
      first: { out: 8 },
      seed: i,
      blocks: [
        { expand: 16, out: 8, stride: 1 },
        { expand: 24, out: 12, stride: 2 },
        { expand: 24, out: 12, stride: 1, dilation: rand() < 0.5 ? 2 : 1 },
        { expand: 36, out: 16, stride: 2 },
      ],
      head: { conv: 24, classes: 5 },
    });
  }
  for (const spec of specs) {
    const g = buildQNet(spec).graph;
    const rows = streamChain(g).map((s) => stageRows(g, s));
    t.equal(rows.length, 6, 'blocks 0..4 and the head');
    for (let trial = 0; trial < 6; trial++) {
      const configs: StageConfig[] = rows.map((s) => {
        const opts = stageOptions(s, 'integer');
        return opts[Math.floor(rand() * opts.length)]!;
      });
      const sched = pullSchedule({
        stages: rows,
        bandRows: configs.map((c) => c.bandRows),
        ringExpanded: configs.map((c) => c.expanded === 'ring'),
        externalSource: true,
      });
      rows.forEach((s, k) => {
        // Brute force: the smallest N whose replay never reads a row written over.
        let smallest = -1;
        for (let N = 1; N <= s.stage.inH && smallest < 0; N++) {
          const tags = new Int32Array(N).fill(-1);
          let ok = true;
          for (const c of sched.calls) {
            if (c.stage === k - 1) for (let r = c.r0; r < c.r1; r++) tags[r % N] = r;
            if (c.stage === k) {
              const need = needRows(s, c.r0, c.r1, configs[k]!.expanded === 'ring');
              for (let r = need.lo; r <= need.hi; r++) if (tags[r % N] !== r) ok = false;
            }
          }
          if (ok) smallest = N;
        }
        t.equal(sched.ringRows[k], smallest, `${spec.size.join('x')} stage ${k} ${JSON.stringify(configs[k])}`);
      });
    }
  }
});

t.test('MobileNetV2 1.0/224 int8, every stage at its fewest bytes: the rings by hand', async (t) => {
  const rows = streamChain(int8).map((s) => stageRows(int8, s));
  const fp = streamFootprint(rows, smallestStreamConfig(rows, 'integer', true)!, 'integer', true);
  // Row bytes of each stage's input: the image, then each block's output.
  const rowBytes = [224 * 3, 112 * 16, 56 * 24, 56 * 24, 28 * 32, 28 * 32, 28 * 32, 14 * 64, 14 * 64, 14 * 64, 14 * 64];
  rowBytes.push(14 * 96, 14 * 96, 14 * 96, 7 * 160, 7 * 160, 7 * 160, 7 * 320);
  // Block 0 recomputes 3 stem rows per output row: image rows 2r−2..2r+4 (7) + 2 mirror rows for
  // the stem's taps; every other block reads 3 input rows (stride 1: r−1..r+1; stride 2, SAME
  // padding at the bottom: 2r..2r+2); the head's 1x1 conv reads one.
  const ringRows = [9, ...new Array<number>(16).fill(3), 1];
  t.same(
    fp.ringBytes,
    rowBytes.map((b, i) => b * ringRows[i]!),
  );
  const rings = fp.ringBytes.reduce((a, b) => a + b, 0);
  t.equal(rings, 62_720);
  t.equal(fp.totalBytes, rings + 1280 * 4 + fp.workBytes, 'rings + the pool sums (int32) + one work area');
  t.ok(fp.workBytes <= 2048, `work ${fp.workBytes}`);
  const r = planGraphReport(int8, { stream: 'on' });
  verifyPlan(int8, r.plan);
  t.equal(r.plan.peakBytes, fp.totalBytes + 1280, 'the stream and its output, the pooled 1280 bytes');
  t.equal(r.stream!.stages.length, 18);
  t.equal(r.stream!.recomputingBlocks.length, 17);
});

t.test('a budget of 86 KiB is met by streaming; a whole-tensor plan could not', async (t) => {
  t.throws(() => planGraphReport(int8, { budgetBytes: 88_064, stream: 'off' }), PlanRefusedError);
  for (const budget of [88_064, 131_072, 172_000]) {
    const r = planGraphReport(int8, { budgetBytes: budget });
    verifyPlan(int8, r.plan);
    t.ok(r.plan.arenaBytes <= budget, `${budget}: arena ${r.plan.arenaBytes}`);
    t.ok(r.stream, `${budget}: streamed`);
    t.equal(r.options.stream, 'auto');
  }
  // A budget that a whole-tensor plan meets is not streamed unless asked.
  t.equal(planGraphReport(int8, { budgetBytes: 400_000 }).stream, null);
  const on = planGraphReport(int8, { budgetBytes: 400_000, stream: 'on' });
  verifyPlan(int8, on.plan);
  t.ok(on.stream && on.plan.arenaBytes <= 400_000);
});

t.test('chooseStreamConfig stays within its limit and gets no slower as the limit grows', async (t) => {
  const rows = streamChain(int8).map((s) => stageRows(int8, s));
  let prev = Infinity;
  for (const limit of [70_000, 80_000, 100_000, 150_000, 250_000, 400_000, 1_000_000]) {
    const c = chooseStreamConfig(rows, 'integer', limit, true);
    t.ok(c, `${limit}: a configuration`);
    const fp = streamFootprint(rows, c!, 'integer', true);
    t.ok(fp.totalBytes <= limit, `${limit}: ${fp.totalBytes}`);
    const ns = rows.reduce((s, r, i) => s + stageNsOf(r, c![i]!), 0);
    t.ok(ns <= prev * 1.0001, `${limit}: ${(ns / 1e6).toFixed(2)} ms`);
    prev = ns;
  }
  t.equal(chooseStreamConfig(rows, 'integer', 60_000, true), undefined);
});

import { stageNs } from '../../planner/stream/config.js';
const stageNsOf = (r: ReturnType<typeof stageRows>, c: StageConfig) => stageNs(r, c, 'integer');

t.test('the verifier rejects a ring one row short, a window too small, a missing mirror, a wrong band', async (t) => {
  const good = planGraphReport(int8, { stream: 'on' }).plan;
  const fast = planGraphReport(int8, { budgetBytes: 300_000, stream: 'on' }).plan;
  verifyPlan(int8, good);
  verifyPlan(int8, fast);
  for (const plan of [good, fast]) {
    const st = streamStep(plan);
    for (const k of [...new Set([0, 1, 2, st.stages.length - 1])].filter((k) => k < st.stages.length)) {
      const p = clone(plan);
      const b = p.buffers[streamStep(p).stages[k]!.inputBuffer]!;
      if (!b.ring || b.ring.rows === 1) continue;
      b.ring.rows -= 1;
      b.bytes -= b.ring.rowBytes;
      t.throws(
        () => verifyPlan(int8, p),
        { message: /reads row \d+ of .* ring of \d+ rows holds row|holds row/ },
        `stage ${k}`,
      );
    }
  }
  {
    const p = clone(good);
    const b = p.buffers[streamStep(p).stages[0]!.inputBuffer]!;
    b.ring!.mirrorRows = 0;
    b.bytes -= 2 * b.ring!.rowBytes;
    t.throws(() => verifyPlan(int8, p), { message: /stem's taps .* wrap around/ });
  }
  {
    const p = clone(good);
    const s = streamStep(p).stages[3]!;
    s.expandWork.bytes = 1;
    t.throws(() => verifyPlan(int8, p), { message: /partial sums|expanded window/ });
  }
  {
    const p = clone(good);
    streamStep(p).stages[2]!.bandRows = 2;
    t.throws(() => verifyPlan(int8, p));
  }
  {
    const p = clone(good);
    streamStep(p).stages[4]!.groupChannels += 8;
    t.throws(() => verifyPlan(int8, p), { message: /chunks/ });
  }
});

t.test('float32 MobileNetV2: the streamed floor is four times the int8 rings', async (t) => {
  const f32 = buildMobileNetV2({ alpha: 1.0, resolution: 224 });
  const r = planGraphReport(f32, { stream: 'on' });
  verifyPlan(f32, r.plan);
  t.equal(r.stream!.ringBytes, 62_720 * 4);
  const within = planGraphReport(f32, { budgetBytes: 352_256 });
  verifyPlan(f32, within.plan);
  t.ok(within.plan.arenaBytes <= 352_256);
});
