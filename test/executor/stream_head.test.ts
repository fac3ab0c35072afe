/**
 * Row heads on small random DeepLab-like networks (test/q8/qnet.ts `seg`: image pooling,
 * a 1x1 branch, concatenation, projection, logits, resize and arg-max): the stream chain
 * ends with the head, and every streamed plan — the whole chain with the head (two passes)
 * or a prefix of blocks only, every stage at random options — gives the bytes of the
 * unstreamed executor and of the whole-tensor reference interpreter (class map and the
 * logits the head writes) on the integer path,
 * uint8 and int8, both resize coordinate rules; the debug build's range checks accept
 * every call and no step writes outside its buffers; the measured peak stays within the
 * arena. The float path's streamed head gives the unstreamed plan's class ids. The
 * verifier rejects a head stage with one pass, or with its areas moved.
 */
import t from 'tap';
import { planGraph, planGraphWithStream, verifyPlan } from '../../planner/plan_graph.js';
import type { Plan, StreamStep } from '../../planner/plan.js';
import { streamChain, stageRows } from '../../planner/stream/stages.js';
import { smallestStreamConfig, stageOptions, type StageConfig } from '../../planner/stream/config.js';
import { makeRng } from '../../planner/rng.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { Executor } from '../../src/executor/executor.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { qArray } from '../q8/helpers.js';
import { strayWrites } from '../q8/step_writes.js';

const specs: QNetSpec[] = [
  {
    dtype: 'u8',
    size: [29, 27],
    stem: 16,
    first: { out: 8 },
    seed: 43,
    blocks: [
      { expand: 36, out: 12, stride: 2 },
      { expand: 60, out: 12, stride: 1 },
      { expand: 72, out: 20, stride: 2 },
      { expand: 100, out: 20, stride: 1, dilation: 2 },
    ],
    seg: { branch: 24, classes: 7, alignCorners: true, halfPixelCenters: false },
  },
  {
    dtype: 'i8',
    size: [24, 21],
    stem: 8,
    first: { out: 8 },
    seed: 42,
    blocks: [
      { expand: 48, out: 16, stride: 2 },
      { expand: 96, out: 16, stride: 1 },
      { expand: 96, out: 24, stride: 2 },
    ],
    seg: { branch: 40, classes: 11, alignCorners: false, halfPixelCenters: true },
  },
];

const label = (cs: StageConfig[]) =>
  cs.map((c) => `${c.expanded === 'ring' ? 'R' : 'c'}${c.bandRows}/${c.groupChannels}/${c.tileCols}`).join(' ');

const streamStep = (p: Plan): StreamStep => p.steps.find((s): s is StreamStep => s.kind === 'stream')!;

for (const spec of specs) {
  const model = buildQNet(spec);
  const g = model.graph;
  const inT = g.tensors[g.inputs[0]!]!;
  const input = qArray(
    spec.dtype,
    inT.shape.reduce((a, b) => a * b, 1),
    spec.seed + 100,
  );
  const chain = streamChain(g);
  const rows = chain.map((s) => stageRows(g, s));

  t.test(`${spec.dtype} ${spec.size.join('x')}: the chain ends with the row head, two passes`, async (t) => {
    const head = chain[chain.length - 1]!;
    t.equal(head.kind, 'row_head');
    t.equal(head.head!.passes, 2, 'it pools its input');
    t.same(
      head.ops.map((o) => g.ops[o]!.kind),
      ['global_avgpool', 'conv2d', 'conv2d', 'resize_bilinear', 'quantize', 'concat', 'conv2d', 'conv2d'],
    );
    t.equal(g.tensors[head.output]!.producer, g.ops.find((o) => o.name === 'seg/logits')!.id, 'writes the logits');
    t.same(
      head.head!.tensors.map((x) => x.kind),
      ['const', 'row', 'const', 'bcast', 'bcast', 'row', 'row'],
    );
  });

  t.test(`${spec.dtype} ${spec.size.join('x')}: every streamed plan gives the unstreamed bytes`, async (t) => {
    const release = await loadKernels({});
    const debug = await loadKernels({ debug: true });
    const want = (await Executor.create(model, planGraph(g, { stream: 'off' }), { kernels: release })).runQuantized(
      input,
    ).output;
    const values = interpretQ8(g, model.constants, input);
    const ref = values.get(g.outputs[0]!)!;
    t.same(Array.from(want), Array.from(ref), 'the unstreamed executor gives the reference interpreter its bytes');
    t.ok(new Set(Array.from(ref)).size >= 3, 'the class map has several classes');
    const logits = chain[chain.length - 1]!.output;
    const wantLogits = Array.from(values.get(logits)!);
    const rng = makeRng(spec.seed * 13);
    const pick = <T>(a: T[]) => a[Math.floor(rng.next() * a.length)]!;
    const trials: StageConfig[][] = [smallestStreamConfig(rows, 'integer', true)!];
    for (let i = 0; i < 9; i++) {
      // Mostly the whole chain (head included); every third a prefix of blocks only.
      const n = i % 3 === 2 ? 1 + Math.floor(rng.next() * (rows.length - 1)) : rows.length;
      if (rows[n - 1]!.stage.kind === 'pointwise') continue;
      trials.push(rows.slice(0, n).map((s) => pick(stageOptions(s, 'integer'))));
    }
    let heads = 0;
    for (const [i, configs] of trials.entries()) {
      const r = planGraphWithStream(g, { stages: configs.length, configs });
      verifyPlan(g, r.plan);
      const withHead = configs.length === rows.length;
      if (withHead) heads++;
      t.equal(streamStep(r.plan).passes, withHead ? 2 : 1, `${configs.length} stages: passes`);
      const ex = await Executor.create(model, r.plan, { kernels: release });
      let got: number[] | undefined;
      const at = r.plan.steps.findIndex((x) => x.kind === 'stream');
      const out = ex.runQuantized(input, {
        afterStep: (k, read) => {
          if (withHead && k === at) got = Array.from(read(logits));
        },
      }).output;
      t.same(Array.from(out), Array.from(want), `${configs.length} stages ${label(configs)}`);
      if (withHead) t.same(got, wantLogits, 'the logits the head wrote row by row');
      const m = ex.memoryReport();
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      if (i < 3) {
        const checked = await Executor.create(model, r.plan, { kernels: debug, debug: true });
        t.same(Array.from(checked.runQuantized(input).output), Array.from(want), 'debug build, range checks on');
        t.same(await strayWrites(model, r.plan, input), [], 'no step writes outside its buffers');
      }
    }
    t.ok(heads >= 5, `${heads} plans stream the head`);
  });

  t.test(`${spec.dtype} ${spec.size.join('x')}: the verifier rejects one pass, or moved head areas`, async (t) => {
    const r = planGraphWithStream(g, { configs: smallestStreamConfig(rows, 'integer', true)! });
    const step = streamStep(r.plan);
    const withStep = (s: StreamStep): Plan => ({ ...r.plan, steps: r.plan.steps.map((x) => (x === step ? s : x)) });
    t.throws(() => verifyPlan(g, withStep({ ...step, passes: 1 })), /makes 1 pass\(es\); its stages need 2/);
    const last = step.stages[step.stages.length - 1]!;
    const moved = {
      ...last,
      head: { ...last.head!, work: last.head!.work.map((a, i) => (i === 1 ? { ...a, offset: 0 } : a)) },
    };
    t.throws(
      () => verifyPlan(g, withStep({ ...step, stages: [...step.stages.slice(0, -1), moved] })),
      /row head's areas/,
    );
  });
}

t.test('float path: the streamed head gives the unstreamed plan its class ids', async (t) => {
  const model = dequantizeModel(buildQNet(specs[0]!));
  const g = model.graph;
  const rng = makeRng(17);
  const input = Float32Array.from({ length: 29 * 27 * 3 }, () => rng.next() * 2 - 1);
  const kernels = await loadKernels({});
  const want = (await Executor.create(model, planGraph(g, { stream: 'off' }), { kernels })).runFloat(input).output;
  const rows = streamChain(g).map((s) => stageRows(g, s));
  t.equal(rows[rows.length - 1]!.stage.kind, 'row_head');
  const r = planGraphWithStream(g, { configs: smallestStreamConfig(rows, 'float', true)! });
  verifyPlan(g, r.plan);
  t.equal(streamStep(r.plan).passes, 2);
  const ex = await Executor.create(model, r.plan, { kernels });
  t.same(Array.from(ex.runFloat(input).output), Array.from(want));
  const m = ex.memoryReport();
  t.ok(m.measuredPeakBytes <= m.arenaBytes);
});
