/**
 * Quantized MobileNetV2 1.0/224 (fixtures models/mobilenet_v2_1.0_224_quant.tflite,
 * uint8), one image, one thread: lowwater vs TFLite compiled to WASM
 * (tfjs-tflite, XNNPACK, SIMD, 1 thread) on the same file and the same input
 * bytes, timed in the same run (interleaved rounds, benchmark.js). Appends the
 * medians, the ratio and both engines' memory to bench/RESULTS.md.
 *
 * lowwater runs whatever `prepareRun` picks for the file: the integer path once
 * it exists, the dequantized float32 path before that. The script finds out
 * which one ran and labels the row with it.
 *
 *   npm ci --prefix bench/tflite      (once: the TFLite peer's own package)
 *   npx tsx bench/classify_int8.ts [--chunks auto|none|N] [--rounds N] [--no-write]
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { tensorBytes } from '../planner/ir.js';
import { resolveModel } from '../src/load_model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { prepareRun, quantizeLike } from '../src/run_setup.js';
import { lowwaterPath } from './lowwater_path.js';
import { fixturePath, readReference } from '../test/helpers/fixtures.js';
import { createTfliteRunner, HOW_TO_INSTALL, tfliteInstallDir } from './tflite/runner.mjs';
import { appendResults, timeAgainstTflite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const chunksArg = arg('--chunks', 'auto');
const rounds = Number(arg('--rounds', '8'));
const write = !argv.includes('--no-write');

const MODEL = 'mobilenet_v2_1.0_224_quant';
const IMAGE = 'images/cat.png';
const modelFile = fixturePath('models', `${MODEL}.tflite`);
const referenceFile = fixturePath('reference', `${MODEL}.json`);
if (!existsSync(modelFile) || !existsSync(referenceFile) || !existsSync(fixturePath(IMAGE))) {
  console.error(`bench: fixtures missing (${modelFile}); set LOWWATER_FIXTURES`);
  process.exit(2);
}
if (!tfliteInstallDir()) {
  console.error(`bench: ${HOW_TO_INSTALL}`);
  process.exit(2);
}

const MiB = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
const argmax = (xs: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i; // first max wins, as in the references
  return best;
};

// Same input bytes as the reference run.
const ref = readReference<{ results: { image: string; input_sha256: string; output_uint8: number[] }[] }>(
  `${MODEL}.json`,
);
const refCat = ref.results.find((r) => r.image === IMAGE)!;
const { bytes, sha256 } = await loadModelInput(fixturePath(IMAGE), 224, 224);
if (sha256 !== refCat.input_sha256)
  throw new Error(`${IMAGE}: input sha256 ${sha256} differs from the reference's ${refCat.input_sha256}`);

// TFLite first: its heap high-water only means "this model" for the first model in the process.
const tflite = await createTfliteRunner(modelFile, { threads: 1 });
const tfliteOut = tflite.run(bytes);
const tfliteHeap = tflite.heap();
if (tfliteOut.some((q, i) => q !== refCat.output_uint8[i]))
  throw new Error('TFLite-WASM output differs from the reference output_uint8; not timing');

const resolved = await resolveModel(modelFile);
const setup = await prepareRun(resolved.model, { kernels: await loadKernels(), chunks: chunksArg });
const lw = setup.executor;
const lwOut: ArrayBufferView = lw.runPixels(bytes).output;

const path = lowwaterPath(setup, lwOut);

// The outputs must agree before timings mean anything.
let agreement: string;
if (path === 'integer') {
  const raw = new Uint8Array(lwOut.buffer, lwOut.byteOffset, lwOut.byteLength);
  const diff = raw.length === tfliteOut.length ? raw.reduce((n, q, i) => n + (q !== tfliteOut[i] ? 1 : 0), 0) : -1;
  if (diff !== 0)
    throw new Error(
      `lowwater integer output differs from TFLite's (${diff < 0 ? `${raw.length} vs ${tfliteOut.length} bytes` : `${diff} of ${raw.length} bytes`}); not timing`,
    );
  agreement = `raw output byte-equal to TFLite's (${raw.length} bytes)`;
} else {
  const f = lwOut as Float32Array;
  const top = argmax(f);
  const tTop = argmax(tfliteOut);
  if (top !== tTop) throw new Error(`lowwater float top-1 ${top} differs from TFLite's ${tTop}; not timing`);
  // How far the float path is from the integer reference, on the model's own output grid.
  const grid = setup.outputGrid;
  const onGrid = grid
    ? quantizeLike(f, grid.quant, grid.dtype).map(
        (v) => Math.round(v / grid.quant.scale[0]!) + grid.quant.zeroPoint[0]!,
      )
    : undefined;
  const gridNote = onGrid
    ? `; rounded to the uint8 output grid it equals TFLite on ${onGrid.reduce((n, q, i) => n + (q === tfliteOut[i] ? 1 : 0), 0)}/${onGrid.length} bytes, max |Δ| ${onGrid.reduce((m, q, i) => Math.max(m, Math.abs(q - tfliteOut[i]!)), 0)} LSB`
    : '';
  agreement = `same top-1 as TFLite (index ${top})${gridNote}`;
}
console.error(`lowwater path: ${path}; ${agreement}`);

const timed = await timeAgainstTflite(
  () => lw.runPixels(bytes),
  () => tflite.run(bytes),
  rounds,
);
const [L, T] = [timed.lowwater, timed.tflite];
const mem = lw.memoryReport();
const fileBytes = statSync(modelFile).size;
const lwLabel =
  path === 'integer'
    ? 'lowwater integer path'
    : 'lowwater float32 path (file dequantized to f32; integer path not in this build)';
const inT = setup.model.graph.tensors[setup.model.graph.inputs[0]!]!;
const table = [
  `Model \`${basename(modelFile)}\` (${fileBytes} bytes) for both engines; input ${IMAGE} (uint8 224x224x3, sha256 ${sha256.slice(0, 12)}…, the reference's bytes).`,
  `lowwater ran its **${path}** path (executed input tensor ${inT.dtype}, ${tensorBytes(inT)} B). Outputs: ${agreement}.`,
  '',
  '| engine | median latency (ms) | samples |',
  '| --- | ---: | ---: |',
  `| ${lwLabel}, chunks ${chunksArg} | ${L.toFixed(2)} | ${timed.lowwaterSamples} |`,
  `| ${tflite.name} | ${T.toFixed(2)} | ${timed.tfliteSamples} |`,
  '',
  `Ratio lowwater/TFLite-WASM = **${(L / T).toFixed(2)}** (${path} path; target for the integer path ≤ 1.5).`,
  '',
  '| memory | lowwater | TFLite-WASM |',
  '| --- | ---: | ---: |',
  `| WebAssembly memory | ${MiB(mem.wasmMemoryBytes)} (sized for the plan) | ${MiB(tfliteHeap.now.memoryBytes)} (initial size; grew by ${MiB(tfliteHeap.memoryGrowthBytes)}) |`,
  `| load + 1 inference | weights ${MiB(mem.weightsBytes)} + arena ${MiB(mem.arenaBytes)} = ${MiB(mem.weightsBytes + mem.arenaBytes)} | heap high-water +${MiB(tfliteHeap.highWaterGrowthBytes)} (of it the model copy, ${MiB(fileBytes)}) |`,
  `| activations | planned peak ${mem.plannedPeakBytes} B, measured ${mem.measuredPeakBytes} B | (inside the heap figure) |`,
].join('\n');
console.log(table);
if (write) {
  appendResults(
    `MobileNetV2 1.0/224 uint8 (${MODEL}.tflite): ${path === 'integer' ? 'lowwater integer' : 'lowwater float32 path'} vs TFLite-WASM (XNNPACK, SIMD, 1 thread)`,
    `npm ci --prefix bench/tflite && npx tsx bench/classify_int8.ts --chunks ${chunksArg}${rounds !== 8 ? ` --rounds ${rounds}` : ''}`,
    table,
  );
}
tflite.dispose();
