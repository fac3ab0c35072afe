// `lowwater classify --threads N`: the same raw output bytes as one thread, TFLite's on the integer
// path; the memory the second thread adds, in --json and in the text summary; the refusals.
import t from 'tap';
import { run } from '../../src/cli/main.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

const MODEL = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const IMAGES = ['grace_hopper.png', 'cat.png'].map((f) => fixturePath('images', f));

t.test(
  '--threads 2: the raw bytes of one thread, and what the second thread adds to the arena',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const args = ['classify', ...IMAGES, '--model', MODEL, '--json', '--raw'];
    const one = await cli(args);
    const two = await cli([...args, '--threads', '2']);
    t.equal(two.code, 0, two.err);
    const [a, b] = [JSON.parse(one.out), JSON.parse(two.out)];
    for (let i = 0; i < IMAGES.length; i++) {
      t.same(b.results[i].output, a.results[i].output, `${IMAGES[i]}: the same output bytes`);
      t.same(b.results[i].top, a.results[i].top);
    }
    // And TFLite's bytes (the reference engine's uint8 top-5 scores).
    const ref = readReference('mobilenet_v2_1.0_224_quant.json') as {
      results: { input_sha256: string; top5: { index: number; score_uint8: number }[] }[];
    };
    let compared = 0;
    for (const r of b.results as { inputSha256: string; output: number[] }[]) {
      const want = ref.results.find((x) => x.input_sha256 === r.inputSha256);
      if (!want) continue;
      compared++;
      for (const e of want.top5) t.equal(r.output[e.index], e.score_uint8, `class ${e.index}: TFLite's byte`);
    }
    t.ok(compared > 0, `${compared} image(s) compared with TFLite's bytes`);
    t.equal(a.memory.threads.count, 1);
    t.equal(a.memory.threads.extraBytes, 0);
    t.equal(b.memory.threads.count, 2);
    t.ok(
      b.memory.threads.extraBytes > 0 && b.memory.threads.extraBytes <= 2 * b.memory.threads.largestBlockScratchBytes,
    );
    t.equal(
      b.memory.arenaBytes,
      a.memory.arenaBytes + b.memory.threads.extraBytes,
      'arena = one thread’s + the region',
    );
    const text = await cli(['classify', IMAGES[0]!, '--model', MODEL, '--threads', '2']);
    t.match(text.out, /threads 2: the arena holds 1 extra region\(s\) of [\d.]+ KiB \(chunk scratch/);
  },
);

t.test('--threads refusals name the flag, the value and what to change', async (t) => {
  const img = fixturePath('images', 'cat.png');
  let r = await cli(['classify', img, '--threads', '0']);
  t.equal(r.code, 2);
  t.match(r.err, /--threads must be a whole number from 1 to 64, got '0'/);
  r = await cli(['classify', img, '--threads', '2', '--stream']);
  t.equal(r.code, 2);
  t.match(r.err, /--threads 2 with --stream: threads split whole-tensor plans only/);
  r = await cli(['classify', img, '--threads', '2', '--jobs', '2']);
  t.equal(r.code, 2);
  t.match(r.err, /--threads 2 with a batch .* use --jobs N/);
  r = await cli(['classify', img, '--threads', '2', '--budget', '100KiB']);
  t.not(r.code, 0);
  t.match(r.err, /threads 2: only whole-tensor plans split across threads/);
  r = await cli(['classify', '--help']);
  t.match(r.out, /--threads N +split each image's inference across N threads/);
});
