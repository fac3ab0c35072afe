// The TFLite-WASM benchmark peer (bench/tflite) reproduces the reference
// outputs byte for byte: same engine build, same input bytes, same output.
// If it did not, the latency it reports would be for some other computation.
import t from 'tap';
import { loadModelInput } from '../../src/preprocess/image.js';
import { createTfliteRunner, HOW_TO_INSTALL, tfliteInstallDir, type TfliteRunner } from '../../bench/tflite/runner.mjs';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';

const MODELS = ['mobilenet_v2_1.0_224_quant', 'tf2_mobilenet_v2_1.0_224_ptq', 'mobilenet_v2_1.0_224_inat_bird_quant'];

interface RefIo {
  name: string;
  shape: number[];
  dtype: string;
}
interface Reference {
  engine: string;
  io: { inputs: RefIo[]; outputs: RefIo[] };
  results: { image: string; input_sha256: string; output_uint8: number[] }[];
}

const notInstalled = tfliteInstallDir() ? false : HOW_TO_INSTALL;

for (const name of MODELS) {
  const skip = notInstalled || skipUnless('models', `${name}.tflite`) || skipUnless('reference', `${name}.json`);
  t.test(`${name}: TFLite-WASM peer output equals the reference output_uint8 on every image`, { skip }, async (t) => {
    const ref = readReference<Reference>(`${name}.json`);
    t.match(ref.engine, /tflite_web_api_cc_simd\.wasm/, 'the reference was made with the same build');
    const runner: TfliteRunner = await createTfliteRunner(fixturePath('models', `${name}.tflite`), { threads: 1 });
    t.teardown(() => runner.dispose());
    t.equal(runner.build, 'tflite_web_api_cc_simd.wasm');
    const io = (info: { name: string; shape: string; dataType: string }) => ({
      name: info.name,
      shape: info.shape.split(',').map(Number),
      dtype: info.dataType.toUpperCase(),
    });
    const refIo = (r: RefIo) => ({ name: r.name, shape: r.shape, dtype: r.dtype });
    t.same(io(runner.input), refIo(ref.io.inputs[0]!), 'input tensor as in the reference');
    t.same(io(runner.output), refIo(ref.io.outputs[0]!), 'output tensor as in the reference');
    const [, h, w] = ref.io.inputs[0]!.shape as [number, number, number, number];
    t.ok(ref.results.length >= 7, `${ref.results.length} images`);
    for (const r of ref.results) {
      const { bytes, sha256 } = await loadModelInput(fixturePath(r.image), w, h);
      t.equal(sha256, r.input_sha256, `${r.image}: input bytes are the reference's`);
      const out = runner.run(bytes);
      t.equal(out.length, r.output_uint8.length, `${r.image}: output length`);
      let diff = 0;
      for (let i = 0; i < out.length; i++) if (out[i] !== r.output_uint8[i]) diff++;
      t.equal(diff, 0, `${r.image}: all ${out.length} output bytes equal`);
    }
    // Repeating a run gives the same bytes (no state carried between runs).
    const first = ref.results[0]!;
    const again = runner.run((await loadModelInput(fixturePath(first.image), w, h)).bytes);
    t.same(Array.from(again), first.output_uint8, `${first.image}: same bytes on a later run`);
  });
}

t.test(
  'TFLite-WASM peer: clear error for an input of the wrong size',
  { skip: notInstalled || skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const runner = await createTfliteRunner(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'), { threads: 1 });
    t.teardown(() => runner.dispose());
    t.throws(
      () => runner.run(new Uint8Array(100)),
      /mobilenet_v2_1\.0_224_quant\.tflite: input 'input' \[1,224,224,3\] uint8 takes 150528 bytes, got 100/,
    );
  },
);

// The reference README: XNNPACK runs the quantized ops; AVERAGE_POOL_2D,
// RESHAPE and SOFTMAX stay TFLite builtins (and the TF2 model's QUANTIZE
// ops, which convert between its int8 graph and uint8 input/output).
const BUILTINS_OUTSIDE_XNNPACK = new Set(['AVERAGE_POOL_2D', 'RESHAPE', 'SOFTMAX', 'QUANTIZE']);
for (const name of MODELS) {
  t.test(
    `${name}: the XNNPACK delegate takes every conv, depthwise conv and add`,
    { skip: notInstalled || skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const runner = await createTfliteRunner(fixturePath('models', `${name}.tflite`), { threads: 1, profiling: true });
      t.teardown(() => runner.dispose());
      runner.run(new Uint8Array(224 * 224 * 3).fill(128));
      const nodes = runner.profile().map((p) => p.nodeType);
      t.ok(nodes.includes('TfLiteXNNPackDelegate'), `delegate nodes: ${nodes.join(', ')}`);
      t.same(
        nodes.filter((n) => n !== 'TfLiteXNNPackDelegate' && !BUILTINS_OUTSIDE_XNNPACK.has(n)),
        [],
        'no other op runs outside the delegate',
      );
    },
  );
}
