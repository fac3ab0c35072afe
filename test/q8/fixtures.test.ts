// The integer path on the fixture models against TFLite (XNNPACK) itself:
//  - `classify --json --raw` gives exactly the reference `output_uint8` bytes for every
//    fixture image of the three quantized classifiers;
//  - every layer of cat.png and grace_hopper.png, run op by op, has the sha256 of TFLite's
//    layer (mobilenet_v2_1.0_224_quant.layers.json); a failure names the first divergence;
//  - every chunk count gives the same bytes;
//  - the measured int8 activation peak is a quarter of the float path's (default plan),
//    and within the Section 5.1 figure at t = 6;
//  - quantized weights stay one byte each: the packed weights are the file's constants plus
//    padding and per-channel data, and the uint8 MobileNetV2 runs in 4 MiB of WebAssembly
//    memory.
import t from 'tap';
import type { Conv2DOp } from '../../planner/ir.js';
import { createHash } from 'node:crypto';
import { run } from '../../src/cli/main.js';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { prepareRun } from '../../src/run_setup.js';
import { detectBlocks } from '../../planner/blocks.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';
import { loadKernels } from '../../src/kernels/node_loader.js';
import { constantEntries } from '../helpers/constants.js';

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
interface Layer {
  op: number;
  type: string;
  name: string;
  sha256: string;
  sum: number;
  first16: number[];
}

const MODELS = ['mobilenet_v2_1.0_224_quant', 'tf2_mobilenet_v2_1.0_224_ptq', 'mobilenet_v2_1.0_224_inat_bird_quant'];

for (const name of MODELS) {
  t.test(
    `${name}: classify --json --raw equals TFLite's output_uint8 on every image`,
    { skip: skipUnless('reference', `${name}.json`) || skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const ref = readReference(`${name}.json`);
      const results = ref.results as RefResult[];
      t.ok(results.length >= 7, `${results.length} images`);
      const { code, out, err } = await cli([
        'classify',
        ...results.map((r) => fixturePath(r.image)),
        '--model',
        fixturePath(ref.model),
        '--json',
        '--raw',
      ]);
      t.equal(code, 0, err);
      const j = JSON.parse(out) as { path: string; results: { inputSha256: string; output: number[] }[] };
      t.equal(j.path, 'integer', 'quantized models run on the integer path by default');
      results.forEach((r, i) => {
        const got = j.results[i]!;
        t.equal(got.inputSha256, r.input_sha256, `${r.image}: same input bytes as TFLite`);
        const diff = got.output.findIndex((v, k) => v !== r.output_uint8[k]);
        t.ok(
          got.output.length === r.output_uint8.length && diff < 0,
          `${r.image}: ${got.output.length} raw bytes equal` +
            (diff >= 0 ? ` (first difference at ${diff}: ${got.output[diff]} vs ${r.output_uint8[diff]})` : ''),
        );
      });
    },
  );
}

t.test(
  "layer fingerprints: every op output of cat.png and grace_hopper.png equals TFLite's",
  { skip: skipUnless('reference', 'mobilenet_v2_1.0_224_quant.layers.json') },
  async (t) => {
    const layers = readReference('mobilenet_v2_1.0_224_quant.layers.json');
    const model = await loadTfliteFile(fixturePath(layers.model));
    const setup = await prepareRun(model, { kernels: await loadKernels(), chunks: 'none' });
    const g = setup.model.graph;
    t.equal(setup.path, 'integer');
    for (const img of layers.images as { image: string; input_sha256: string; layers: Layer[] }[]) {
      const input = await loadModelInput(fixturePath(img.image), 224, 224);
      t.equal(input.sha256, img.input_sha256, `${img.image}: same input bytes`);
      const byOp = new Map(img.layers.map((l) => [l.op, l]));
      const diverged: string[] = [];
      let checked = 0;
      setup.executor.runQuantized(input.bytes, {
        afterStep: (i, read) => {
          const s = setup.plan.steps[i]!;
          if (s.kind !== 'op') throw new Error('op-by-op plan expected');
          const l = byOp.get(s.op);
          if (!l) return;
          const bytes = read(g.ops[s.op]!.outputs[0]!);
          checked++;
          if (createHash('sha256').update(bytes).digest('hex') !== l.sha256) {
            let sum = 0;
            for (const v of bytes) sum += v;
            diverged.push(
              `op ${l.op} ${l.type} '${l.name}': sum ${sum} vs ${l.sum}, first16 ${Array.from(bytes.subarray(0, 16)).join(',')} vs ${l.first16.join(',')}`,
            );
          }
        },
      });
      t.equal(checked, img.layers.length, `${img.image}: all ${img.layers.length} layers checked`);
      t.same(diverged.slice(0, 1), [], `${img.image}: first diverging layer`);
    }
  },
);

t.test(
  'every chunk count gives the same bytes (mobilenet_v2_1.0_224_quant)',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const ref = readReference('mobilenet_v2_1.0_224_quant.json');
    const model = await loadTfliteFile(fixturePath(ref.model));
    const all = Math.max(...detectBlocks(model.graph).map((b) => b.expandedChannels));
    const images = (ref.results as RefResult[]).filter((r) => /cat\.png|grace_hopper|parrot/.test(r.image));
    const inputs = await Promise.all(images.map((r) => loadModelInput(fixturePath(r.image), 224, 224)));
    for (const chunks of [1, 2, 3, 4, 6, 8, 16, all, 'auto'] as const) {
      const setup = await prepareRun(model, { kernels: await loadKernels(), chunks });
      images.forEach((r, i) => {
        const raw = setup.executor.runPixels(inputs[i]!.bytes).output;
        t.same(Array.from(raw), r.output_uint8, `chunks ${chunks === all ? `${all} (all)` : chunks}: ${r.image}`);
      });
    }
  },
);

t.test(
  'measured memory: int8 is a quarter of float32 (default plan, every classifier) and within 526,848 + 1 KiB at t = 6',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const input = await loadModelInput(fixturePath('images', 'cat.png'), 224, 224);
    for (const name of MODELS) {
      const m = await loadTfliteFile(fixturePath('models', `${name}.tflite`));
      const q = await prepareRun(m, { kernels: await loadKernels() });
      const f = await prepareRun(m, { kernels: await loadKernels(), float: true });
      t.equal(q.path, 'integer');
      t.equal(f.path, 'float32');
      q.executor.runPixels(input.bytes);
      f.executor.runPixels(input.bytes);
      const qm = q.executor.memoryReport(),
        fm = f.executor.memoryReport();
      t.ok(
        qm.measuredPeakBytes <= fm.measuredPeakBytes / 4 + 1024,
        `${name}: int8 measured ${qm.measuredPeakBytes} ≤ float32 measured ${fm.measuredPeakBytes} / 4 + 1024`,
      );
      t.ok(qm.measuredPeakBytes <= qm.arenaBytes, `${name}: inside the arena`);
      // The first layer is fused with block 0 (Section 5.1) in every file, the TF2 one's QUANTIZE of the input included.
      const stemFused = q.plan.steps.some(
        (s) => s.kind === 'block' && (q.model.graph.ops[s.expand] as Conv2DOp).kernel[0] === 3,
      );
      t.ok(stemFused, `${name}: the stem conv runs fused with block 0`);
    }
    const model = await loadTfliteFile(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
    const t6 = await prepareRun(model, { kernels: await loadKernels(), chunks: 6 });
    t6.executor.runPixels(input.bytes);
    const m6 = t6.executor.memoryReport();
    t.ok(m6.measuredPeakBytes <= 526_848 + 1024, `t = 6: measured ${m6.measuredPeakBytes} ≤ 526,848 + 1,024`);
    t.ok(
      Object.values(t6.chunks).every((c) => c === 6 || c < 6),
      't = 6 in every block (fewer only where a block has fewer channels)',
    );
  },
);

t.test(
  'quantized weights stay one byte: packed weights ≤ 1.05 × the file constants, uint8 MobileNetV2 in 4 MiB',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    for (const name of MODELS) {
      const m = await loadTfliteFile(fixturePath('models', `${name}.tflite`));
      let constBytes = 0;
      for (const [, c] of constantEntries(m)) constBytes += c.byteLength;
      const q = await prepareRun(m, { kernels: await loadKernels() });
      const mem = q.executor.memoryReport();
      t.ok(
        mem.weightsBytes <= 1.05 * constBytes,
        `${name}: packed weights ${mem.weightsBytes} ≤ 1.05 × ${constBytes} bytes of constants in the file`,
      );
      if (name === 'mobilenet_v2_1.0_224_quant')
        t.ok(mem.wasmMemoryBytes <= 4 * 1048576, `${name}: WebAssembly memory ${mem.wasmMemoryBytes} ≤ 4 MiB`);
    }
  },
);
