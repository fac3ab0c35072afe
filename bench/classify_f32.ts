/**
 * MobileNetV2 1.0/224 float32, one image, one thread, the same nsfwjs
 * weights in every engine, measured side by side in one run (benchmark.js):
 * lowwater vs tfjs-backend-wasm vs onnxruntime-web, and onnxruntime-node (native) when
 * bench/ort-node is installed. Appends medians and ratios to bench/RESULTS.md.
 *
 *   npm run bench            (all suites)
 *   npm ci --prefix bench/ort-node   (once, for the native peer)
 *   npx tsx bench/classify_f32.ts [--chunks auto|none|N] [--no-write]
 */
import { existsSync } from 'node:fs';
import { resolveModel } from '../src/load_model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { prepareRun } from '../src/run_setup.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import {
  onnxruntimeNodeDir,
  onnxruntimeNodeRunner,
  onnxruntimeWebRunner,
  ORT_NODE_HOW_TO_INSTALL,
  tfjsWasmRunner,
} from './peers.js';
import { appendResults, median, runSuite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const chunksArg = argv.includes('--chunks') ? argv[argv.indexOf('--chunks') + 1]! : 'auto';
const write = !argv.includes('--no-write');

const onnx = fixturePath('peers', 'nsfwjs_mobilenet_v2.onnx');
const image = fixturePath('images', 'cat.png');
if (!existsSync(onnx) || !existsSync(image)) {
  console.error(`bench: fixtures missing (${onnx}); set LOWWATER_FIXTURES`);
  process.exit(2);
}

const { bytes } = await loadModelInput(image, 224, 224);
const input = Float32Array.from(bytes, (p) => p / 255);

const resolved = await resolveModel('nsfw_mobilenet_v2');
const setup = await prepareRun(resolved.model, { kernels: await loadKernels(), chunks: chunksArg });
const lw = setup.executor;
const tfjs = await tfjsWasmRunner();
const ort = await onnxruntimeWebRunner(onnx);
if (!onnxruntimeNodeDir()) console.error(`bench: ${ORT_NODE_HOW_TO_INSTALL}; running without it`);
const ortNode = onnxruntimeNodeDir() ? await onnxruntimeNodeRunner(onnx) : undefined;

// Same input, same weights: the outputs must agree before timings mean anything.
const outs = {
  lowwater: lw.runFloat(input).output,
  tfjs: await tfjs.run(input),
  ort: await ort.run(input),
  ortNode: ortNode ? await ortNode.run(input) : undefined,
};
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const dTfjs = maxDiff(outs.lowwater, outs.tfjs);
const dOrt = maxDiff(outs.lowwater, outs.ort);
const dNode = outs.ortNode ? maxDiff(outs.lowwater, outs.ortNode) : 0;
console.error(`max |lowwater - tfjs| = ${dTfjs.toExponential(2)}, max |lowwater - ort| = ${dOrt.toExponential(2)}`);
if (dTfjs > 1e-4 || dOrt > 1e-4 || dNode > 1e-4) throw new Error('engines disagree on the output; not timing');

const samples = await runSuite([
  { name: 'lowwater', fn: async () => lw.runFloat(input) },
  { name: 'tfjs-wasm', fn: () => tfjs.run(input) },
  { name: 'onnxruntime-web', fn: () => ort.run(input) },
  ...(ortNode ? [{ name: 'onnxruntime-node', fn: () => ortNode.run(input) }] : []),
]);
const med = (n: string) => median(samples.get(n)!);
const L = med('lowwater'),
  T = med('tfjs-wasm'),
  O = med('onnxruntime-web'),
  N = ortNode ? med('onnxruntime-node') : NaN;
const mem = lw.memoryReport();
const table = [
  '| engine | median latency (ms) | samples |',
  '| --- | ---: | ---: |',
  `| lowwater (chunks ${chunksArg}, arena ${mem.arenaBytes} B) | ${L.toFixed(2)} | ${samples.get('lowwater')!.length} |`,
  `| ${tfjs.name} | ${T.toFixed(2)} | ${samples.get('tfjs-wasm')!.length} |`,
  `| ${ort.name} | ${O.toFixed(2)} | ${samples.get('onnxruntime-web')!.length} |`,
  ...(ortNode ? [`| ${ortNode.name} | ${N.toFixed(2)} | ${samples.get('onnxruntime-node')!.length} |`] : []),
  '',
  `Ratios: lowwater/onnxruntime-web = **${(L / O).toFixed(2)}**, lowwater/tfjs-wasm = **${(L / T).toFixed(2)}**${ortNode ? `, lowwater/onnxruntime-node = **${(L / N).toFixed(2)}**` : ''}.`,
  `Outputs agree: max abs diff vs tfjs ${dTfjs.toExponential(2)}, vs onnxruntime-web ${dOrt.toExponential(2)}${ortNode ? `, vs onnxruntime-node ${dNode.toExponential(2)}` : ''} (cat.png, uint8 half-pixel input / 255).`,
].join('\n');
console.log(table);
if (write)
  appendResults(
    `MobileNetV2 1.0/224 float32, nsfwjs weights: lowwater vs tfjs-wasm vs onnxruntime-web${ortNode ? ' vs onnxruntime-node' : ''}`,
    `npx tsx bench/classify_f32.ts --chunks ${chunksArg}`,
    table,
  );
await tfjs.dispose();
await ort.dispose();
await ortNode?.dispose();
