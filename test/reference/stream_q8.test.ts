/**
 * The row-streamed reference (src/reference/stream_q8.ts) gives the bytes of the
 * whole-tensor reference interpreter on random small MobileNetV2-like networks, for
 * random stream configurations (ring or recompute, bands, groups, tiles, stream
 * prefixes), uint8 and int8; and a ring one row short is caught by its poisoned slots.
 */
import t from 'tap';
import { planGraphWithStream, verifyPlan } from '../../planner/plan_graph.js';
import type { Plan, StreamStep } from '../../planner/plan.js';
import { streamChain, stageRows } from '../../planner/stream/stages.js';
import { smallestStreamConfig, stageOptions, type StageConfig } from '../../planner/stream/config.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { interpretStreamQ8, RingReadError } from '../../src/reference/stream_q8.js';
import { makeRng } from '../../planner/rng.js';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { qArray } from '../q8/helpers.js';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

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
    size: [24, 20],
    stem: 8,
    first: { out: 8 },
    seed: 2,
    blocks: [
      { expand: 48, out: 16, stride: 2 },
      { expand: 96, out: 16, stride: 1 },
      { expand: 96, out: 24, stride: 2 },
      { expand: 144, out: 24, stride: 1 },
    ],
    head: { conv: 64, classes: 10 },
  },
  {
    dtype: 'u8',
    size: [13, 11],
    stem: 8,
    first: { out: 8 },
    seed: 3,
    blocks: [
      { expand: 24, out: 16, stride: 2 },
      { expand: 50, out: 16, stride: 1, dilation: 2 },
      { expand: 90, out: 30, stride: 1 },
    ],
  },
];

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
  const whole = interpretQ8(g, model.constants, input);
  const chain = streamChain(g);
  const rows = chain.map((s) => stageRows(g, s));

  t.test(
    `${spec.dtype} ${spec.size.join('x')}: random stream configurations give the whole-tensor bytes`,
    async (t) => {
      const rng = makeRng(spec.seed * 31);
      const pick = <T>(a: T[]) => a[Math.floor(rng.next() * a.length)]!;
      const trials: { n: number; configs: StageConfig[] }[] = [];
      trials.push({ n: chain.length, configs: smallestStreamConfig(rows, 'integer', true)! });
      for (let i = 0; i < 10; i++) {
        const n = i < 6 ? chain.length : 1 + Math.floor(rng.next() * chain.length);
        if (chain[n - 1]!.kind === 'pointwise') continue;
        trials.push({ n, configs: rows.slice(0, n).map((s) => pick(stageOptions(s, 'integer'))) });
      }
      for (const { n, configs } of trials) {
        const r = planGraphWithStream(g, { stages: n, configs });
        verifyPlan(g, r.plan);
        const step = streamStep(r.plan);
        const out = interpretStreamQ8(g, model.constants, r.plan, step, input);
        const want = whole.get(step.stages[step.stages.length - 1]!.output)!;
        const label = configs.map(
          (c) => `${c.expanded === 'ring' ? 'R' : 'c'}${c.bandRows}/${c.groupChannels}/${c.tileCols}`,
        );
        t.same(Array.from(out), Array.from(want), `${n} stages: ${label.join(' ')}`);
      }
    },
  );

  t.test(`${spec.dtype} ${spec.size.join('x')}: a ring one row short reads a poisoned row`, async (t) => {
    const r = planGraphWithStream(g, { configs: smallestStreamConfig(rows, 'integer', true)! });
    const step = streamStep(r.plan);
    let caught = 0;
    for (let k = 0; k < step.stages.length; k++) {
      const b = r.plan.buffers[step.stages[k]!.inputBuffer]!;
      if (!b.ring || b.ring.rows < 2) continue;
      const short: Plan = { ...r.plan, buffers: r.plan.buffers.map((x) => ({ ...x })) };
      const sb = short.buffers[step.stages[k]!.inputBuffer]!;
      sb.ring = { ...b.ring, rows: b.ring.rows - 1 };
      t.throws(() => interpretStreamQ8(g, model.constants, short, step, input), RingReadError, `stage ${k}`);
      caught++;
    }
    t.ok(caught >= 3, `${caught} rings checked`);
  });
}

t.test(
  'MobileNetV2 1.0/224 uint8, streamed from the image to the pool at its smallest: TFLite bytes on cat.png',
  {
    skip:
      skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') ||
      skipUnless('reference', 'mobilenet_v2_1.0_224_quant.json'),
  },
  async (t) => {
    const model = await loadTfliteFile(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
    const g = model.graph;
    const ref = readReference('mobilenet_v2_1.0_224_quant.json');
    const cat = (ref.results as { image: string; input_sha256: string; output_uint8: number[] }[]).find((r) =>
      r.image.endsWith('cat.png'),
    )!;
    const { bytes, sha256 } = await loadModelInput(fixturePath(cat.image), 224, 224);
    t.equal(sha256, cat.input_sha256);
    const rows = streamChain(g).map((s) => stageRows(g, s));
    const r = planGraphWithStream(g, { configs: smallestStreamConfig(rows, 'integer', true)! });
    verifyPlan(g, r.plan);
    const step = streamStep(r.plan);
    const pooled = interpretStreamQ8(g, model.constants, r.plan, step, bytes);
    // The ops after the stream (classifier conv, reshape, softmax) by the whole-tensor reference.
    const poolOut = step.stages[step.stages.length - 1]!.output;
    const after = g.ops.filter((op) => !step.stages.some((s) => s.ops.includes(op.id)));
    const values = interpretQ8(g, model.constants, new Map([[poolOut, pooled]]), after);
    const out = values.get(g.outputs[0]!)!;
    t.same(Array.from(out), cat.output_uint8, '1001 softmax bytes equal');
    model.constants.release?.();
  },
);
