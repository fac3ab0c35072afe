// The Node entry (`import { loadModel } from 'lowwater'`) against the reference engines' outputs:
// every way of giving an image yields TFLite's bytes, the plan is the CLI's, errors name what is wrong.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModel, PlanRefusedError, UsageError, ImageError, type Pixels } from '../../src/index.js';
import { run } from '../../src/cli/main.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

const Q8 = 'mobilenet_v2_1.0_224_quant.tflite';

interface RefResult {
  image: string;
  input_sha256: string;
  output_uint8: number[];
  top5: { index: number }[];
}

async function rawPixels(file: string, alpha: boolean): Promise<Pixels> {
  let img = sharp(file).removeAlpha();
  if (alpha) img = img.ensureAlpha(0.5);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

t.test(
  'integer path: a path, encoded bytes, RGB and RGBA pixels all give TFLite’s output bytes',
  { skip: skipUnless('models', Q8) },
  async (t) => {
    const ref = readReference<{ results: RefResult[] }>('mobilenet_v2_1.0_224_quant.json');
    const model = await loadModel(fixturePath('models', Q8), { labels: fixturePath('labels', 'imagenet_labels.txt') });
    t.equal(model.info.path, 'integer');
    t.same(model.info.tasks, ['classify']);
    t.same(model.info.input, { width: 224, height: 224, channels: 3 });
    t.equal(model.labels?.length, 1001);
    for (const r of ref.results) {
      const file = fixturePath(r.image);
      const inputs: [string, Parameters<typeof model.classify>[0]][] = [
        ['path', file],
        ['bytes', new Uint8Array(readFileSync(file))],
        ['ArrayBuffer', new Uint8Array(readFileSync(file)).buffer],
        ['RGB pixels', await rawPixels(file, false)],
        ['RGBA pixels', await rawPixels(file, true)],
      ];
      for (const [how, image] of inputs) {
        const c = await model.classify(image, { top: 5 });
        t.equal(c.inputSha256, r.input_sha256, `${r.image} as ${how}: input bytes are the reference's`);
        t.same(Array.from(c.output), r.output_uint8, `${r.image} as ${how}: output bytes equal TFLite's`);
        t.same(
          c.top.map((e) => e.index),
          r.top5.map((e) => e.index),
          `${r.image} as ${how}: top-5`,
        );
      }
    }
    const m = model.memory();
    t.ok(m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes, 'measured peak within the arena');
    t.equal(m.arenaBytes, model.plan.plan.arenaBytes, 'the arena is the plan’s');
  },
);

t.test(
  'model.plan is what `lowwater plan --model FILE --json -` prints',
  { skip: skipUnless('models', Q8) },
  async (t) => {
    const model = await loadModel(fixturePath('models', Q8));
    let out = '';
    const code = await run(['plan', '--model', fixturePath('models', Q8), '--json', '-'], {
      stdout: (s) => (out += s),
      stderr: () => {},
    });
    t.equal(code, 0);
    const cli = JSON.parse(out);
    const strip = (j: { planningMs?: number }) => ({ ...j, planningMs: 0 });
    t.same(strip(model.plan), strip(cli));
  },
);

t.test('the default model (bundled): labels, float path, probabilities as the reference', async (t) => {
  const ref = readReference<{
    results: { image: string; uint8_halfpixel_input: { input_sha256: string; probabilities: number[] } }[];
  }>('nsfwjs_mobilenet_v2.json');
  const model = await loadModel();
  t.match(model.info.description, /nsfw_mobilenet_v2/);
  t.same(model.labels, ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
  t.equal(model.info.path, 'float32');
  for (const r of ref.results.filter((r) => r.image.endsWith('.png'))) {
    const c = await model.classify(fixturePath(r.image));
    t.equal(c.inputSha256, r.uint8_halfpixel_input.input_sha256, `${r.image}: input`);
    const diff = Math.max(...r.uint8_halfpixel_input.probabilities.map((p, i) => Math.abs(p - c.output[i]!)));
    t.ok(diff < 1e-5, `${r.image}: probabilities within 1e-5 of TensorFlow.js (max diff ${diff.toExponential(2)})`);
  }
});

t.test(
  'segment: DeepLab class map equals TFLite’s',
  { skip: skipUnless('models', 'deeplabv3_mnv2_pascal_quant.tflite') },
  async (t) => {
    const ref = readReference<{
      results: { image: string; argmax_sha256_uint8: string; argmax_class_pixel_counts: Record<string, number> }[];
    }>('deeplabv3_mnv2_pascal_quant.json');
    const model = await loadModel('deeplabv3_mnv2_pascal', { offline: true }).catch(() =>
      loadModel(fixturePath('models', 'deeplabv3_mnv2_pascal_quant.tflite'), {
        labels: fixturePath('labels', 'pascal_voc_segmentation_labels.txt'),
      }),
    );
    t.same(model.info.tasks, ['segment']);
    t.ok(model.info.fusedHead, 'the resize + arg-max head is fused');
    const r = ref.results[0]!;
    const s = await model.segment(fixturePath(r.image));
    t.equal(s.maskSha256, r.argmax_sha256_uint8);
    t.equal(s.width * s.height, s.classMap.length);
    const total = Object.values(s.classCounts).reduce((a, b) => a + b, 0);
    t.equal(total, s.width * s.height, 'class counts add up to the map');
    await t.rejects(model.detect(fixturePath(r.image)), /no TFLite_Detection_PostProcess/);
  },
);

t.test(
  'labels given as an array; dispose; errors that say what is wrong',
  { skip: skipUnless('models', Q8) },
  async (t) => {
    const names = Array.from({ length: 1001 }, (_, i) => `n${i}`);
    const model = await loadModel(new Uint8Array(readFileSync(fixturePath('models', Q8))), { labels: names });
    t.match(model.info.description, /model bytes/);
    const c = await model.classify(fixturePath('images', 'cat.png'), { top: 1 });
    t.equal(c.top[0]!.label, `n${c.top[0]!.index}`);
    await t.rejects(model.classify(fixturePath('images', 'cat.png'), { top: 0 }), /top must be a whole number/);
    await t.rejects(model.classify(fixturePath('images')), ImageError);
    await t.rejects(model.classify(fixturePath('images')), /is a directory/);
    await t.rejects(model.classify(new Uint8Array([1, 2, 3])), /cannot decode image/);
    await t.rejects(
      model.classify({ data: new Uint8Array(10), width: 2, height: 2, channels: 3 }),
      /10 bytes, but 2x2x3 needs 12/,
    );
    model.dispose();
    await t.rejects(model.classify(fixturePath('images', 'cat.png')), /disposed/);
    t.throws(() => model.memory(), /disposed/);

    await t.rejects(loadModel(fixturePath('models', Q8), { chunks: 0 }), UsageError);
    await t.rejects(loadModel(fixturePath('models', Q8), { budget: 'lots' }), /budget/);
    const refused = await loadModel(fixturePath('models', Q8), { budget: '1KiB' }).catch((e: unknown) => e);
    t.ok(refused instanceof PlanRefusedError, 'a budget below the minimum is refused');
    t.ok((refused as PlanRefusedError).minimumBytes > 1024, 'with the smallest feasible arena');
    await t.rejects(loadModel(new Uint8Array(64)), /not a TFLite model/);
    await t.rejects(loadModel('no_such_model_anywhere'), /neither a file nor a known model name/);
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-api-'));
    await t.rejects(loadModel(dir), /is a directory/);
    const labels = join(dir, 'labels.txt');
    writeFileSync(labels, '');
    await t.rejects(loadModel(fixturePath('models', Q8), { labels }), /labels file .* is empty/);
    await t.rejects(loadModel(fixturePath('models', Q8), { labels: dir }), /labels file .* is a directory/);
  },
);
