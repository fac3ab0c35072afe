// model.profile() on real models: in each run the steps' times add up to the run's latency
// (within 10%), every TFLite operator of the file is in exactly one row, multiply-adds are the
// graph's, and a timed run computes what an ordinary one does.
//
// The 10% check compares two measurements of the same run, in this process: the sum of the
// run's step times against the run's latency (input written, every step, outputs copied);
// the profile's `coverage` is the median of that ratio over many runs, and the test also
// takes it here from Executor.runPixelsTimed directly. It fails when steps go untimed or
// are counted twice, or when the timed loop does other work. Waits for a CPU on a busy
// machine fall into both sides of one run, so they do not move it.
import t, { type Test } from 'tap';
import { graphMultiplyAdds } from '../../planner/cost.js';
import { loadModel, type Model, type NodeImage, type Profile } from '../../src/index.js';
import type { Executor } from '../../src/executor/executor.js';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';
const TF2 = 'tf2_mobilenet_v2_1.0_224_ptq.tflite';

function sumCheck(t: Test, p: Profile): void {
  t.ok(
    Math.abs(p.coverage - 1) <= 0.1,
    `the steps account for ${(p.coverage * 100).toFixed(1)}% of each run (median of ${p.runs})`,
  );
  // The steps' medians leave out most waits for a CPU, so they may add up to less than the median run, never more.
  t.ok(
    p.stepsMs <= 1.1 * p.totalMs,
    `the steps' medians add up to ${p.stepsMs.toFixed(3)} ms, the median run is ${p.totalMs.toFixed(3)} ms`,
  );
}

/** The same check without the profile's arithmetic: runs timed here, each run's steps against its latency. */
function sameRunCheck(t: Test, ex: Executor, runs: number): void {
  const px = new Uint8Array(224 * 224 * 3).fill(128);
  const times = new Float64Array(ex.stepCount);
  for (let i = 0; i < 5; i++) ex.runPixels(px);
  const ratios: number[] = [];
  for (let r = 0; r < runs; r++) {
    const { latencyMs } = ex.runPixelsTimed(px, times);
    ratios.push(times.reduce((s, x) => s + x, 0) / latencyMs);
  }
  ratios.sort((a, b) => a - b);
  const med = (ratios[(runs - 1) >> 1]! + ratios[runs >> 1]!) / 2;
  t.ok(
    Math.abs(med - 1) <= 0.1,
    `runPixelsTimed: steps add up to ${(med * 100).toFixed(1)}% of their run (median of ${runs})`,
  );
}

const executorOf = (model: Model<NodeImage>) => (model as unknown as { setup: { executor: Executor } }).setup.executor;

function commonChecks(t: Test, p: Profile, steps: number): void {
  t.equal(p.version, 1);
  t.equal(p.rows.length, steps, 'one row per plan step');
  t.same(
    p.rows.map((r) => r.step),
    Array.from({ length: steps }, (_, i) => i),
  );
  for (const r of p.rows) {
    if (!(r.minMs <= r.ms && r.ms >= 0)) t.fail(`step ${r.step}: min ${r.minMs} ≤ median ${r.ms}`);
    if (Math.abs(r.share - r.ms / p.stepsMs) > 1e-12) t.fail(`step ${r.step}: share is ms over the steps' sum`);
    if (r.gmacPerS !== null && Math.abs(r.gmacPerS - r.macs / r.ms / 1e6) > 1e-9) t.fail(`step ${r.step}: GMAC/s`);
    if (r.bytesRead !== r.activationBytesRead + r.weightBytes) t.fail(`step ${r.step}: bytes read`);
  }
  t.equal(
    p.stepsMs,
    p.rows.reduce((s, r) => s + r.ms, 0),
  );
  t.equal(p.input.synthetic, true);
  t.match(p.input.description, /mid-grey/);
  t.ok(p.unprofiledMs > 0 && p.totalMs > 0);
  t.ok(p.cpuMs !== null && p.cpuMs > 0, 'CPU time measured in Node');
}

t.test(
  "uint8 MobileNetV2, integer path: each run's steps add up to it; every operator in one row",
  { skip: skipUnless('models', Q8) },
  async (t) => {
    const file = fixturePath('models', Q8);
    const model = await loadModel(file);
    t.teardown(() => model.dispose());
    const p = await model.profile(undefined, { runs: 60 });
    sumCheck(t, p);
    sameRunCheck(t, executorOf(model), 60);
    t.equal(p.runs, 60);
    t.equal(p.path, 'integer');
    commonChecks(t, p, model.plan.plan.steps.length);
    const { graph } = await loadTfliteFile(file);
    const n = new Set(graph.ops.map((op) => op.origin!.index)).size;
    t.same(
      p.rows.flatMap((r) => r.operators).sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
      `the file's ${n} operators, each in exactly one row`,
    );
    t.equal(p.macs, graphMultiplyAdds(graph), "multiply-adds: the file's graph");
    t.ok(p.executedMacs >= p.macs, `computed ${p.executedMacs} ≥ graph ${p.macs}`);
    const blocks = p.rows.filter((r) => r.kind === 'block');
    t.equal(blocks.length, 17, 'the 17 inverted residual blocks, fused');
    t.ok(
      blocks.every((r) => r.chunks !== null && r.chunks >= 1 && r.operators.length >= 3),
      'blocks have chunks and 3-4 operators',
    );
    t.same(blocks[0]!.operatorTypes, ['CONV_2D', 'DEPTHWISE_CONV_2D', 'CONV_2D'], 'the stem conv fused into block 0');
  },
);

t.test("the float default model: each run's steps add up to it", async (t) => {
  const model = await loadModel();
  t.teardown(() => model.dispose());
  const p = await model.profile(undefined, { runs: 60 });
  sumCheck(t, p);
  sameRunCheck(t, executorOf(model), 60);
  t.equal(p.path, 'float32');
  commonChecks(t, p, model.plan.plan.steps.length);
  t.same(
    p.rows.flatMap((r) => r.operators),
    [],
    'a TensorFlow.js model has no operator indices',
  );
  t.equal(p.executedMacs, p.macs, 'the float blocks recompute nothing');
  t.ok(p.macs > 290e6 && p.macs < 310e6, `${p.macs} multiply-adds (MobileNetV2 1.0/224: 300 M)`);
});

t.test(
  'TF2 int8 MobileNetV2 on the float path: the QUANTIZE operators it drops are folded into rows',
  { skip: skipUnless('models', TF2) },
  async (t) => {
    const file = fixturePath('models', TF2);
    const model = await loadModel(file, { float: true });
    t.teardown(() => model.dispose());
    const p = await model.profile(undefined, { runs: 2, warmup: 1 });
    const { graph } = await loadTfliteFile(file);
    const quantize = graph.ops.filter((op) => op.kind === 'quantize').map((op) => op.origin!.index);
    t.ok(quantize.length >= 2, `QUANTIZE operators ${quantize.join(', ')}`);
    const folded = p.rows.flatMap((r) => r.folded).sort((a, b) => a - b);
    t.same(folded, quantize, 'exactly the dropped operators are folded');
    const n = new Set(graph.ops.map((op) => op.origin!.index)).size;
    t.same(
      p.rows.flatMap((r) => r.operators).sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
      'still every operator in exactly one row',
    );
    t.same(
      p.rows[0]!.operators.slice(0, 1),
      [quantize[0]],
      'the input QUANTIZE goes with the step that reads its output',
    );
  },
);

t.test('a timed run computes the same output as an ordinary one', { skip: skipUnless('models', Q8) }, async (t) => {
  const model = await loadModel(fixturePath('models', Q8));
  t.teardown(() => model.dispose());
  // Model.profile runs through Executor.runPixelsTimed; compare its output bytes directly.
  const ex = executorOf(model);
  const px = Uint8Array.from({ length: 224 * 224 * 3 }, (_, i) => (i * 7) & 0xff);
  const times = new Float64Array(ex.stepCount);
  const timed = ex.runPixelsTimed(px, times);
  const plain = ex.runPixels(px);
  t.same(timed.output, plain.output, 'same output bytes');
  t.ok(
    times.every((x) => x >= 0),
    'every step timed',
  );
  t.ok(times.some((x) => x > 0));
  t.throws(() => ex.runPixelsTimed(px, new Float64Array(3)), /3 entries/);
});

t.test('options are checked', async (t) => {
  const model = await loadModel();
  t.teardown(() => model.dispose());
  await t.rejects(model.profile(undefined, { runs: 0 }), /runs must be a whole number ≥ 1/);
  await t.rejects(model.profile(undefined, { warmup: 1.5 }), /warmup/);
  const debug = await loadModel(undefined, { debug: true });
  t.teardown(() => debug.dispose());
  await t.rejects(debug.profile(undefined, { runs: 1, warmup: 0 }), /debug kernels/);
});
