/**
 * Row-streamed execution of the fixture models at the budgets streaming exists for:
 * - `classify --budget 86KiB --json --raw` on the three quantized classifiers gives
 *   TFLite's output bytes for every fixture image, with the same input sha256, and
 *   measured peak ≤ arena ≤ 88,064 bytes; the input image is read from outside the arena;
 * - `plan --budget 86KiB --json -` plans within 88,064 bytes;
 * - the float default model (nsfwjs) within 344 KiB measures at most 352,256 bytes and
 *   gives the default plan's probabilities to 1e-5;
 * - Mobile DeepLabv3 (both fixture models) streamed with its head (`segment --budget 500000`,
 *   `--stream`) gives TFLite's class map within 500,000 bytes.
 */
import t from 'tap';
import { run } from '../../src/cli/main.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

interface RefResult {
  image: string;
  input_sha256: string;
  output_uint8: number[];
}
interface Json {
  path: string;
  results: { inputSha256: string; output: number[]; top: { index: number; score: number }[] }[];
  memory: { arenaBytes: number; measuredPeakBytes: number; plannedPeakBytes: number; inputOutsideArenaBytes: number };
}

const MODELS = ['mobilenet_v2_1.0_224_quant', 'tf2_mobilenet_v2_1.0_224_ptq', 'mobilenet_v2_1.0_224_inat_bird_quant'];
const BUDGET = 88_064;

for (const name of MODELS) {
  t.test(
    `${name}: classify --budget 86KiB --json --raw equals TFLite's bytes on every image, within 88,064 bytes`,
    { skip: skipUnless('reference', `${name}.json`) || skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const ref = readReference(`${name}.json`);
      const results = ref.results as RefResult[];
      const { code, out, err } = await cli([
        'classify',
        ...results.map((r) => fixturePath(r.image)),
        '--model',
        fixturePath(ref.model),
        '--budget',
        '86KiB',
        '--json',
        '--raw',
      ]);
      t.equal(code, 0, err);
      const j = JSON.parse(out) as Json;
      t.equal(j.path, 'integer');
      results.forEach((r, i) => {
        const got = j.results[i]!;
        t.equal(
          got.inputSha256,
          r.input_sha256,
          `${r.image}: the rows resized as the stream asked hash as TFLite's input`,
        );
        t.same(got.output, r.output_uint8, `${r.image}: ${r.output_uint8.length} raw bytes equal`);
      });
      const m = j.memory;
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      t.ok(m.arenaBytes <= BUDGET, `arena ${m.arenaBytes} ≤ ${BUDGET}`);
      t.ok(
        m.inputOutsideArenaBytes > 0,
        `the decoded image (${m.inputOutsideArenaBytes} bytes) stays outside the arena`,
      );
    },
  );
}

t.test(
  'mobilenet_v2_1.0_224_quant: classify --stream (the whole network streamed at its smallest) equals TFLite within 72 KiB',
  {
    skip:
      skipUnless('reference', 'mobilenet_v2_1.0_224_quant.json') ||
      skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite'),
  },
  async (t) => {
    const ref = readReference('mobilenet_v2_1.0_224_quant.json');
    const results = ref.results as RefResult[];
    const { code, out, err } = await cli([
      'classify',
      ...results.map((r) => fixturePath(r.image)),
      '--model',
      fixturePath(ref.model),
      '--stream',
      '--json',
      '--raw',
    ]);
    t.equal(code, 0, err);
    const j = JSON.parse(out) as Json;
    results.forEach((r, i) => t.same(j.results[i]!.output, r.output_uint8, `${r.image}: raw bytes equal`));
    const m = j.memory;
    t.ok(
      m.measuredPeakBytes <= m.arenaBytes && m.arenaBytes <= 72 * 1024,
      `measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes} ≤ 73,728`,
    );
  },
);

t.test(
  'plan --budget 86KiB --json -: a plan within 88,064 bytes',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const r = await cli([
      'plan',
      '--model',
      fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'),
      '--budget',
      '86KiB',
      '--json',
      '-',
    ]);
    t.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    t.ok(j.plan.peakBytes <= BUDGET, `peak ${j.plan.peakBytes}`);
    t.ok(j.plan.arenaBytes <= BUDGET, `arena ${j.plan.arenaBytes}`);
    t.ok(j.plan.stream, 'streamed');
    t.ok(
      j.plan.buffers.some((b: { ring: unknown }) => b.ring),
      'rings among the buffers',
    );
  },
);

t.test(
  'nsfwjs (float32 default model): --budget 344KiB measures ≤ 352,256 bytes, probabilities within 1e-5 of the default plan',
  { skip: skipUnless('images', 'cat.png') },
  async (t) => {
    const images = ['cat.png', 'bird.png', 'grace_hopper.png', 'parrot.jpg'].map((i) => fixturePath('images', i));
    const base = await cli(['classify', ...images, '--json', '--raw']);
    t.equal(base.code, 0, base.err);
    const small = await cli(['classify', ...images, '--budget', '344KiB', '--json', '--raw']);
    t.equal(small.code, 0, small.err);
    const [a, b] = [JSON.parse(base.out) as Json, JSON.parse(small.out) as Json];
    t.equal(b.path, 'float32');
    a.results.forEach((r, i) => {
      const diff = Math.max(...r.output.map((v, k) => Math.abs(v - b.results[i]!.output[k]!)));
      t.ok(diff <= 1e-5, `${images[i]}: largest difference ${diff.toExponential(2)}`);
    });
    t.ok(b.memory.measuredPeakBytes <= 352_256, `measured ${b.memory.measuredPeakBytes}`);
    t.ok(b.memory.arenaBytes <= 352_256, `arena ${b.memory.arenaBytes}`);
  },
);

const DEEPLAB_TARGET = 500_000;

for (const [name, args] of [
  ['deeplabv3_mnv2_pascal_quant', ['--budget', '500000']],
  ['deeplabv3_mnv2_pascal_quant', ['--stream']],
  ['deeplabv3_mnv2_dm05_pascal_quant', ['--stream']],
] as const) {
  t.test(
    `${name}: segment ${args.join(' ')} streams backbone and head (two passes), the class map equals TFLite's within ${DEEPLAB_TARGET.toLocaleString('en-US')} bytes`,
    { skip: skipUnless('models', `${name}.tflite`) || skipUnless('reference', `${name}.json`) },
    async (t) => {
      const ref = readReference(`${name}.json`);
      const r0 = (ref.results as { image: string; input_sha256: string; argmax_sha256_uint8: string }[])[0]!;
      const { code, out, err } = await cli([
        'segment',
        fixturePath(r0.image),
        '--model',
        fixturePath(ref.model),
        ...args,
        '--json',
      ]);
      t.equal(code, 0, err);
      const j = JSON.parse(out) as {
        path: string;
        results: { maskSha256: string; inputSha256: string }[];
        memory: Json['memory'];
      };
      t.equal(j.path, 'integer');
      t.equal(j.results[0]!.inputSha256, r0.input_sha256, 'input rows (asked for twice) hash as TFLite input');
      t.equal(j.results[0]!.maskSha256, r0.argmax_sha256_uint8, 'class map sha256 equals TFLite');
      const m = j.memory;
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      t.ok(m.arenaBytes <= DEEPLAB_TARGET, `arena ${m.arenaBytes} ≤ ${DEEPLAB_TARGET}`);
      t.ok(m.inputOutsideArenaBytes > 0, 'the image is read from outside the arena');
    },
  );
}

t.test(
  'deeplabv3_mnv2_pascal_quant: plan --budget 500000 --json - streams the head in two passes within the budget',
  { skip: skipUnless('models', 'deeplabv3_mnv2_pascal_quant.tflite') },
  async (t) => {
    const r = await cli([
      'plan',
      '--model',
      fixturePath('models', 'deeplabv3_mnv2_pascal_quant.tflite'),
      '--budget',
      '500000',
      '--json',
      '-',
    ]);
    t.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const st = j.plan.stream;
    t.ok(st, 'streamed');
    t.equal(st.passes, 2, 'two passes');
    const head = st.stages[st.stages.length - 1];
    t.equal(head.kind, 'row_head');
    t.ok(head.ops.length >= 8, `the head runs ${head.ops.length} ops row by row`);
    t.ok(j.plan.arenaBytes <= DEEPLAB_TARGET, `arena ${j.plan.arenaBytes}`);
    t.ok(
      !j.plan.buffers.some((b: { bytes: number; ring: unknown }) => !b.ring && b.bytes >= 33 * 33 * 256),
      'no 33x33 map of 256 or more channels is whole',
    );
  },
);
