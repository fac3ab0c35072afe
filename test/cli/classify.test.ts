// `lowwater classify` end to end, in-process, against the reference engines' outputs.
import t from 'tap';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { resolveModel } from '../../src/load_model.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

interface TopEntry {
  index: number;
  label: string;
  score: number;
}
interface ClassifyJson {
  results: { image: string; inputSha256: string; top: TopEntry[]; latencyMs: number; output?: number[] }[];
  memory: {
    arenaBytes: number;
    weightsBytes: number;
    measuredPeakBytes: number;
    plannedPeakBytes: number;
    wasmMemoryBytes: number;
  };
}

t.test(
  'uint8 MobileNetV2 (float path): same top-1 and ≥4 of the top-5 as TFLite on every confident image',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const ref = readReference('mobilenet_v2_1.0_224_quant.json');
    const confident = (
      ref.results as { image: string; input_sha256: string; top5: { index: number; score_uint8: number }[] }[]
    ).filter((r) => r.top5[0]!.score_uint8 >= 128);
    t.ok(confident.length >= 6, `${confident.length} confident images`);
    const { code, out, err } = await cli([
      'classify',
      ...confident.map((r) => fixturePath(r.image)),
      '--model',
      fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
      '--labels',
      fixturePath('labels', 'imagenet_labels.txt'),
      '--json',
      '--float',
    ]);
    t.equal(code, 0, err);
    const j = JSON.parse(out) as ClassifyJson;
    confident.forEach((r, i) => {
      const got = j.results[i]!;
      t.equal(got.inputSha256, r.input_sha256, `${r.image}: same input bytes as TFLite`);
      t.equal(got.top[0]!.index, r.top5[0]!.index, `${r.image}: top-1 ${got.top[0]!.label}`);
      const shared = got.top.filter((e) => r.top5.some((q) => q.index === e.index)).length;
      t.ok(shared >= 4, `${r.image}: top-5 shares ${shared} indices`);
      t.match(got.top[0]!.label, /\w/, 'labels come from the labels file');
    });
    t.ok(j.memory.arenaBytes > 0 && j.memory.weightsBytes > 3e6 * 4, 'memory figures reported');
    t.ok(j.memory.measuredPeakBytes <= j.memory.arenaBytes, 'measured ≤ arena');
  },
);

t.test(
  'nsfwjs MobileNetV2 (the default model) matches TensorFlow.js within 1e-4',
  { skip: skipUnless('reference', 'nsfwjs_mobilenet_v2.json') },
  async (t) => {
    const ref = readReference('nsfwjs_mobilenet_v2.json');
    const rows = ref.results as {
      image: string;
      uint8_halfpixel_input: { input_sha256: string; probabilities: number[] };
    }[];
    const { code, out, err } = await cli(['classify', ...rows.map((r) => fixturePath(r.image)), '--json', '--raw']);
    t.equal(code, 0, err);
    const j = JSON.parse(out) as ClassifyJson;
    t.equal(rows.length, 7);
    rows.forEach((r, i) => {
      const got = j.results[i]!;
      t.equal(
        got.inputSha256,
        r.uint8_halfpixel_input.input_sha256,
        `${r.image}: same input bytes as the tfjs reference`,
      );
      const d = Math.max(...r.uint8_halfpixel_input.probabilities.map((p, k) => Math.abs(p - got.output![k]!)));
      t.ok(d <= 1e-4, `${r.image}: max abs difference ${d.toExponential(2)}`);
      t.same(got.top.map((e) => e.label).slice(0, 1), [
        ref.classes[r.uint8_halfpixel_input.probabilities.indexOf(Math.max(...r.uint8_halfpixel_input.probabilities))],
      ]);
    });
  },
);

t.test(
  'JSON output has the documented fields; --raw adds the whole output',
  { skip: skipUnless('images', 'cat.png') },
  async (t) => {
    const plain = JSON.parse(
      (await cli(['classify', fixturePath('images', 'cat.png'), '--json', '--top', '3'])).out,
    ) as ClassifyJson;
    const r = plain.results[0]!;
    t.same(Object.keys(r).sort(), ['image', 'inputSha256', 'latencyMs', 'top']);
    t.equal(r.top.length, 3);
    t.ok(r.top[0]!.score >= r.top[1]!.score && r.top[1]!.score >= r.top[2]!.score, 'sorted by score');
    t.match(r.inputSha256, /^[0-9a-f]{64}$/);
    for (const k of ['arenaBytes', 'weightsBytes', 'measuredPeakBytes', 'plannedPeakBytes', 'wasmMemoryBytes'])
      t.type((plain.memory as unknown as Record<string, unknown>)[k], 'number', `memory.${k}`);
    const raw = JSON.parse(
      (await cli(['classify', fixturePath('images', 'cat.png'), '--json', '--raw'])).out,
    ) as ClassifyJson;
    t.equal(raw.results[0]!.output!.length, 5);
    const human = await cli(['classify', fixturePath('images', 'cat.png')]);
    t.match(human.out, /Neutral/);
    t.match(human.out, /arena .*planned peak .*measured/);
  },
);

t.test('bad input gives clear errors naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-cli-'));
  const junkModel = join(dir, 'junk.tflite');
  writeFileSync(junkModel, 'not a flatbuffer at all, just text');
  const junkImage = join(dir, 'photo.jpg');
  writeFileSync(junkImage, 'GIF89a? no');
  const img = fixturePath('images', 'cat.png');
  let r = await cli(['classify', img, '--model', junkModel]);
  t.equal(r.code, 1);
  t.match(r.err, /junk\.tflite/);
  r = await cli(['classify', img, '--model', join(dir, 'nope.tflite')]);
  t.equal(r.code, 1);
  t.match(r.err, /nope\.tflite.*neither a file nor a known model name/);
  r = await cli(['classify', junkImage]);
  t.equal(r.code, 1);
  t.match(r.err, /photo\.jpg/);
  r = await cli(['classify']);
  t.equal(r.code, 2);
  t.match(r.err, /at least one image.*--help/s);
  r = await cli(['classify', img, '--top', 'zero']);
  t.equal(r.code, 2);
  r = await cli(['classify', img, '--chunks', '0']);
  t.equal(r.code, 2);
  r = await cli(['classify', img, '--budget', 'lots']);
  t.equal(r.code, 2);
  t.match(r.err, /--budget/);
  r = await cli(['classify', img, '--budget', '10KiB']);
  t.equal(r.code, 1);
  t.match(r.err, /smallest|minimum/i, 'a budget below the minimum names the minimum');
  r = await cli(['classify', '--help']);
  t.equal(r.code, 0);
  t.match(r.out, /--model NAME\|FILE/);
});

t.test(
  'without nsfwjs the default falls back to mobilenet_v2_1.0_224, found in LOWWATER_MODELS, offline',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const models = mkdtempSync(join(tmpdir(), 'lowwater-models-'));
    symlinkSync(
      fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
      join(models, 'mobilenet_v2_1.0_224_quant.tflite'),
    );
    symlinkSync(fixturePath('labels', 'imagenet_labels.txt'), join(models, 'imagenet_labels.txt'));
    const empty = mkdtempSync(join(tmpdir(), 'lowwater-nowhere-'));
    const notes: string[] = [];
    const r = await resolveModel(undefined, {
      modelsDir: models,
      cacheDir: empty,
      offline: true,
      bundledModelsDir: empty,
      log: (s) => notes.push(s),
    });
    t.match(r.description, /mobilenet_v2_1\.0_224/);
    t.equal(r.labels?.length, 1001);
    t.match(notes.join('\n'), /nsfw_mobilenet_v2 is not available.*bundled model.*using mobilenet_v2_1\.0_224/s);
    // And with neither: the message says where to put the file.
    await t.rejects(
      resolveModel('mobilenet_v2_1.0_224', { modelsDir: empty, cacheDir: empty, offline: true }),
      /mobilenet_v2_1\.0_224_quant\.tflite.*sha256 7aad0c74.*LOWWATER_MODELS/s,
    );
  },
);
