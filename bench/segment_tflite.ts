/**
 * Quantized Mobile DeepLabv3 (fixtures models/deeplabv3_mnv2_pascal_quant.tflite by default,
 * uint8, 513x513), one image, one thread: lowwater vs TFLite compiled to WASM (tfjs-tflite,
 * XNNPACK, SIMD, 1 thread) on the same file and the same input bytes, timed in the same run
 * (interleaved rounds, benchmark.js). Both engines' class maps must equal each other (and the
 * reference's) before anything is timed. Appends the medians and the ratio to bench/RESULTS.md.
 *
 *   npm ci --prefix bench/tflite      (once: the TFLite peer's own package)
 *   npx tsx bench/segment_tflite.ts [--model NAME] [--chunks auto|none|N] [--rounds N] [--no-write]
 *
 * NAME: a fixture model (deeplabv3_mnv2_pascal_quant or deeplabv3_mnv2_dm05_pascal_quant).
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveModel } from '../src/load_model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { prepareRun } from '../src/run_setup.js';
import { classMapFromOutput, classMapSha256 } from '../src/segment/index.js';
import { refQArgMax } from '../src/reference/q8_ops.js';
import { tfliteTensor } from '../test/helpers/tflite_outputs.js';
import { lowwaterPath } from './lowwater_path.js';
import { fixturePath, readReference } from '../test/helpers/fixtures.js';
import { createTfliteRunner, HOW_TO_INSTALL, tfliteInstallDir } from './tflite/runner.mjs';
import { appendResults, timeAgainstTflite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const MODEL = arg('--model', 'deeplabv3_mnv2_pascal_quant');
const chunksArg = arg('--chunks', 'auto');
const rounds = Number(arg('--rounds', '6'));
const write = !argv.includes('--no-write');

const modelFile = fixturePath('models', `${MODEL}.tflite`);
if (!existsSync(modelFile) || !existsSync(fixturePath('reference', `${MODEL}.json`))) {
  console.error(`bench: fixtures missing (${modelFile}); set LOWWATER_FIXTURES`);
  process.exit(2);
}
if (!tfliteInstallDir()) {
  console.error(`bench: ${HOW_TO_INSTALL}`);
  process.exit(2);
}

const reference = readReference<{ results: { image: string; input_sha256: string; argmax_sha256_uint8: string }[] }>(
  `${MODEL}.json`,
).results[0]!;
const IMAGE = reference.image;
const resolved = await resolveModel(modelFile);
const setup = await prepareRun(resolved.model, { kernels: await loadKernels(), chunks: chunksArg });
const lw = setup.executor;
const g = setup.model.graph;
const inT = g.tensors[g.inputs[0]!]!;
const [, H, W] = inT.shape as number[];
const { bytes, sha256 } = await loadModelInput(fixturePath(IMAGE), W!, H!);
if (sha256 !== reference.input_sha256)
  throw new Error(`${IMAGE}: input sha256 ${sha256} differs from the reference's ${reference.input_sha256}`);

const tflite = await createTfliteRunner(modelFile, { threads: 1 });
const outShape = g.tensors[g.outputs[0]!]!.shape;
// TFLite's ARG_MAX output is int64, which tfjs-tflite cannot read back: its class map is the
// first maximum of its own resized scores (the ARG_MAX input, read through a model copy
// whose output is that tensor), as test/q8/deeplab_tflite_ops.test.ts checks it.
const argmaxOp = resolved.model.graph.ops.find((o) => o.kind === 'argmax');
if (!argmaxOp) throw new Error(`${MODEL}: no ARG_MAX op`);
const scoresT = resolved.model.graph.tensors[argmaxOp.inputs[0]!]!;
const scores = await tfliteTensor(modelFile, scoresT.name, bytes);
const tfMap = classMapFromOutput(refQArgMax(scores, scoresT.shape[3]!), outShape, 'TFLite-WASM class map');
const lwOut = lw.runPixels(bytes).output;
const lwMap = classMapFromOutput(lwOut as ArrayLike<number>, outShape, 'lowwater output');
const path = lowwaterPath(setup, lwOut);

// Same class map from both engines (and the reference's on the integer path), or the timings mean nothing.
const [lwSha, tfSha] = await Promise.all([classMapSha256(lwMap), classMapSha256(tfMap)]);
if (lwSha !== tfSha) {
  const diff = lwMap.ids.reduce((n, c, i) => n + (c !== tfMap.ids[i] ? 1 : 0), 0);
  throw new Error(
    `lowwater's class map differs from TFLite-WASM's on ${diff} of ${lwMap.ids.length} pixels; not timing`,
  );
}
if (path === 'integer' && lwSha !== reference.argmax_sha256_uint8)
  throw new Error(`class map ${lwSha} is not the reference's ${reference.argmax_sha256_uint8}; not timing`);
console.error(`lowwater path: ${path}; class map ${lwSha.slice(0, 16)}… equal to TFLite-WASM's`);

const timed = await timeAgainstTflite(
  () => lw.runPixels(bytes),
  () => tflite.run(bytes),
  rounds,
);
const [L, T] = [timed.lowwater, timed.tflite];
const fileBytes = statSync(modelFile).size;
const table = [
  `Model \`${basename(modelFile)}\` (${fileBytes} bytes) for both engines; input ${IMAGE} (uint8 ${W}x${H}x3, sha256 ${sha256.slice(0, 12)}…).`,
  `lowwater ran its **${path}** path. Class maps (${W}x${H}) equal: lowwater's = TFLite-WASM's${path === 'integer' ? " = the reference's" : ''} (sha256 ${lwSha.slice(0, 16)}…).`,
  '',
  '| engine | median latency (ms) | samples |',
  '| --- | ---: | ---: |',
  `| lowwater ${path} path, chunks ${chunksArg} | ${L.toFixed(2)} | ${timed.lowwaterSamples} |`,
  `| ${tflite.name} | ${T.toFixed(2)} | ${timed.tfliteSamples} |`,
  '',
  `Ratio lowwater/TFLite-WASM = **${(L / T).toFixed(2)}**.`,
].join('\n');
console.log(table);
if (write) {
  appendResults(
    `Mobile DeepLabv3 (${MODEL}.tflite): lowwater ${path} vs TFLite-WASM (XNNPACK, SIMD, 1 thread)`,
    `npm ci --prefix bench/tflite && npx tsx bench/segment_tflite.ts --model ${MODEL} --chunks ${chunksArg}${rounds !== 6 ? ` --rounds ${rounds}` : ''}`,
    table,
  );
}
tflite.dispose();
