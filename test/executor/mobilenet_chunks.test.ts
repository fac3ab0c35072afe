// Section 5.1 chunks on real weights: MobileNetV2 1.0/224 (the nsfwjs Keras model) run with
// every chunk count on every fixture image must give the t = 1 output (float
// reassociation only) with the same top-1, inside the memory the plan promised.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { loadNsfwjsMobileNetV2 } from '../../src/importers/tfjs/index.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { prepareRun } from '../../src/run_setup.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const skip = skipUnless('images');

t.test('every chunk count gives the t = 1 output and top-1 on every fixture image', { skip }, async (t) => {
  const model = await loadNsfwjsMobileNetV2();
  const images = readdirSync(fixturePath('images'))
    .filter((f) => /\.(png|jpe?g)$/.test(f) && !f.includes('mask'))
    .sort();
  t.ok(images.length >= 7, `${images.length} images`);
  const inputs = await Promise.all(
    images.map(async (f) =>
      Float32Array.from((await loadModelInput(fixturePath('images', f), 224, 224)).bytes, (p) => p / 255),
    ),
  );
  const runAll = async (chunks: string | number) => {
    const s = await prepareRun(model, { kernels: await loadKernels(), chunks });
    return { setup: s, outs: inputs.map((x) => s.executor.runFloat(x).output) };
  };
  const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
  const base = await runAll(1);
  const maxC = Math.max(...base.setup.plan.steps.map((s) => (s.kind === 'block' ? s.chunks * s.chunkChannels : 0)));
  for (const chunks of ['none', 2, 3, 4, 6, 8, 16, maxC, 'auto'] as const) {
    const { setup, outs } = await runAll(chunks);
    let worst = 0;
    outs.forEach((o, i) => {
      const ref = base.outs[i]!;
      const scale = Math.max(...ref.map(Math.abs));
      worst = Math.max(worst, Math.max(...o.map((v, k) => Math.abs(v - ref[k]!))) / scale);
      if (argmax(o) !== argmax(ref)) t.fail(`chunks ${chunks}: top-1 of ${images[i]} changed`);
    });
    t.ok(worst < 1e-5, `chunks ${chunks}: max relative difference to t = 1 is ${worst.toExponential(2)}`);
    const m = setup.executor.memoryReport();
    t.ok(
      m.measuredPeakBytes <= m.plannedPeakBytes && m.arenaBytes === setup.plan.arenaBytes,
      `chunks ${chunks}: measured ${m.measuredPeakBytes} ≤ planned ${m.plannedPeakBytes}, arena ${m.arenaBytes}`,
    );
  }
});

t.test('MobileNetV2 1.0/224 float32 keeps the Section 5.1 memory promise, measured', async (t) => {
  const model = await loadNsfwjsMobileNetV2();
  const x = new Float32Array(224 * 224 * 3).map((_, i) => ((i * 7919) % 256) / 255);
  const six = await prepareRun(model, { kernels: await loadKernels(), chunks: 6 });
  six.executor.runFloat(x);
  const m6 = six.executor.memoryReport();
  t.ok(m6.measuredPeakBytes <= 2_107_392, `t = 6 everywhere: measured ${m6.measuredPeakBytes} ≤ 2,107,392`);
  const dflt = await prepareRun(model, { kernels: await loadKernels() });
  dflt.executor.runFloat(x);
  const md = dflt.executor.memoryReport();
  t.ok(
    md.measuredPeakBytes <= 2_007_040,
    `default plan: measured ${md.measuredPeakBytes} ≤ 2,007,040 (a third of per-layer 6,021,120)`,
  );
  const perLayer = await prepareRun(model, { kernels: await loadKernels(), chunks: 'none' });
  perLayer.executor.runFloat(x);
  t.equal(perLayer.executor.memoryReport().arenaBytes, 6_021_120, 'per-layer arena is 6,021,120 B');
  for (const m of [m6, md]) {
    const pages = Math.ceil((m.weightsBytes + m.arenaBytes + 65536) / 65536) * 65536;
    t.ok(
      m.wasmMemoryBytes <= pages,
      `WebAssembly memory ${m.wasmMemoryBytes} ≤ weights ${m.weightsBytes} + arena ${m.arenaBytes} + 64 KiB, page-rounded (${pages})`,
    );
  }
});
