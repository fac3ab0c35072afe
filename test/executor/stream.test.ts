/**
 * The executor on streamed plans of small random MobileNetV2-like networks: every stream
 * configuration (ring or recompute, bands, groups of inner channels, column tiles, stream
 * prefixes) gives the bytes of the whole-tensor reference on the integer path, uint8 and
 * int8; the debug build's range checks accept every kernel call; no step writes outside its
 * buffers; the measured peak stays within the arena. On the float path, streamed and
 * whole-tensor runs agree to float rounding. An image at its own size, resized row by row
 * as the stream asks, gives the bytes and the sha256 of the whole-image resize.
 */
import t from 'tap';
import { planGraph, planGraphWithStream, verifyPlan } from '../../planner/plan_graph.js';
import { streamChain, stageRows } from '../../planner/stream/stages.js';
import { smallestStreamConfig, stageOptions, type StageConfig } from '../../planner/stream/config.js';
import { makeRng } from '../../planner/rng.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { Executor } from '../../src/executor/executor.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { resizeBilinearHalfPixel } from '../../src/preprocess/resize.js';
import { createHash } from 'node:crypto';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { qArray } from '../q8/helpers.js';
import { strayWrites } from '../q8/step_writes.js';

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

const label = (cs: StageConfig[]) =>
  cs.map((c) => `${c.expanded === 'ring' ? 'R' : 'c'}${c.bandRows}/${c.groupChannels}/${c.tileCols}`).join(' ');

/** The smallest configuration, then random ones: whole chains and prefixes. */
function configurations(rows: ReturnType<typeof stageRows>[], path: 'integer' | 'float', seed: number, count: number) {
  const rng = makeRng(seed);
  const out: StageConfig[][] = [smallestStreamConfig(rows, path, true)!];
  while (out.length < count) {
    const n = out.length % 2 ? rows.length : 1 + Math.floor(rng.next() * rows.length);
    if (rows[n - 1]!.stage.kind === 'pointwise') continue;
    out.push(
      rows.slice(0, n).map((s) => {
        const o = stageOptions(s, path);
        return o[Math.floor(rng.next() * o.length)]!;
      }),
    );
  }
  return out;
}

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
  const rows = streamChain(g).map((s) => stageRows(g, s));

  t.test(`${spec.dtype} ${spec.size.join('x')}: every stream configuration gives the reference bytes`, async (t) => {
    const release = await loadKernels({});
    const debug = await loadKernels({ debug: true });
    for (const [i, configs] of configurations(rows, 'integer', spec.seed * 7, 14).entries()) {
      const r = planGraphWithStream(g, { stages: configs.length, configs });
      verifyPlan(g, r.plan);
      const ex = await Executor.create(model, r.plan, { kernels: release });
      const out = ex.runQuantized(input).output;
      t.same(Array.from(out), Array.from(want), `${configs.length} stages ${label(configs)}`);
      const m = ex.memoryReport();
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      t.equal(m.inputOutsideArenaBytes, input.byteLength, 'the input is read from outside the arena');
      if (i < 4) {
        const checked = await Executor.create(model, r.plan, { kernels: debug, debug: true });
        t.same(Array.from(checked.runQuantized(input).output), Array.from(want), 'debug build, range checks on');
        t.same(await strayWrites(model, r.plan, input), [], 'no step writes outside its buffers');
      }
    }
  });
}

t.test('float path: streamed plans agree with the whole-tensor plan', async (t) => {
  const model = dequantizeModel(buildQNet(specs[0]!));
  const g = model.graph;
  const rng = makeRng(11);
  const input = Float32Array.from({ length: 29 * 27 * 3 }, () => rng.next() * 2 - 1);
  const kernels = await loadKernels({});
  const want = (await Executor.create(model, planGraph(g), { kernels })).runFloat(input).output;
  const rows = streamChain(g).map((s) => stageRows(g, s));
  for (const configs of configurations(rows, 'float', 5, 10)) {
    const r = planGraphWithStream(g, { stages: configs.length, configs });
    verifyPlan(g, r.plan);
    const ex = await Executor.create(model, r.plan, { kernels });
    const out = ex.runFloat(input).output;
    const diff = Math.max(...Array.from(out, (v, i) => Math.abs(v - want[i]!)));
    t.ok(diff <= 1e-5, `${label(configs)}: largest difference ${diff.toExponential(2)}`);
    const m = ex.memoryReport();
    t.ok(m.measuredPeakBytes <= m.arenaBytes);
  }
});

t.test('an image at its own size, resized row by row as the stream asks: same bytes, same sha256', async (t) => {
  const model = buildQNet(specs[0]!);
  const g = model.graph;
  const rng = makeRng(21);
  const [w, h] = [53, 41];
  const rgb = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rng.next() * 256)) };
  const whole = resizeBilinearHalfPixel(rgb.data, w, h, 3, 27, 29);
  const want = interpretQ8(g, model.constants, whole).get(g.outputs[0]!)!;
  const kernels = await loadKernels({});
  const rows = streamChain(g).map((s) => stageRows(g, s));
  const streamed = await Executor.create(
    model,
    planGraphWithStream(g, { configs: smallestStreamConfig(rows, 'integer', true)! }).plan,
    {
      kernels,
    },
  );
  t.ok(streamed.streamsInput);
  const run = streamed.runImage(rgb);
  t.same(Array.from(run.output), Array.from(want));
  t.equal(run.inputSha256, createHash('sha256').update(whole).digest('hex'));
  t.equal(streamed.memoryReport().inputOutsideArenaBytes, w * h * 3);
  const plain = await Executor.create(model, planGraph(g), { kernels });
  t.notOk(plain.streamsInput);
  const run2 = plain.runImage(rgb);
  t.same(Array.from(run2.output), Array.from(want));
  t.equal(run2.inputSha256, run.inputSha256);
});

t.test(
  'every option of a stage (ring or recompute, band, group = chunk, tile) gives the unstreamed executor bytes',
  async (t) => {
    const kernels = await loadKernels({});
    for (const spec of specs.slice(0, 2)) {
      const model = buildQNet(spec);
      const g = model.graph;
      const inT = g.tensors[g.inputs[0]!]!;
      const input = qArray(
        spec.dtype,
        inT.shape.reduce((a, b) => a * b, 1),
        spec.seed + 200,
      );
      const want = (await Executor.create(model, planGraph(g, { stream: 'off' }), { kernels })).runQuantized(
        input,
      ).output;
      const rows = streamChain(g).map((s) => stageRows(g, s));
      const base = smallestStreamConfig(rows, 'integer', true)!;
      // The stem block, a stride-2 block and the last block: each through all its options, the others at their smallest.
      for (const k of [0, 1, rows.length - 2]) {
        const opts = stageOptions(rows[k]!, 'integer');
        let same = 0;
        for (const o of opts) {
          const configs = base.map((c, i) => (i === k ? o : c));
          const r = planGraphWithStream(g, { configs });
          const out = (await Executor.create(model, r.plan, { kernels })).runQuantized(input).output;
          if (out.every((v, i) => v === want[i])) same++;
          else t.fail(`${spec.dtype} stage ${k} ${label([o])}: bytes differ`);
        }
        t.equal(same, opts.length, `${spec.dtype} stage ${k}: all ${opts.length} options give the same bytes`);
      }
    }
  },
);
