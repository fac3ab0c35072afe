/**
 * A/B latency of two lowwater trees in one process: this checkout and another one (a
 * `git archive` of a base commit with its kernels built, node_modules linked), each
 * running the same model file on the same input bytes, interleaved round by round
 * (benchmark.js, runSuite), so the machine's speed drift hits both alike. The outputs of
 * the two trees must be byte-equal before anything is timed. Prints medians, the ratio
 * and each tree's memory report; --write appends them to bench/RESULTS.md.
 *
 *   git archive BASE | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/ &&
 *     (cd /tmp/base && npx asc assembly/index.ts --target release)
 *   npx tsx bench/ab.ts --base /tmp/base [--model FILE] [--image FILE] [--rounds N] [--float] [--write]
 *
 * --float runs the float32 path (a quantized model dequantized), the f32 kernels.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadModelInput } from '../src/preprocess/image.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { appendResults, median, machineLine, runSuite } from './results.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const base = resolve(arg('--base', ''));
const modelFile = arg('--model', fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
const imageFile = arg('--image', fixturePath('images', 'cat.png'));
const rounds = Number(arg('--rounds', '8'));
const write = argv.includes('--write');
const float = argv.includes('--float');
if (!arg('--base', '') || !existsSync(resolve(base, 'src/run_setup.ts'))) {
  console.error('bench/ab: --base DIR must be a lowwater source tree with its kernels built');
  process.exit(2);
}

interface Tree {
  name: string;
  run: (pixels: Uint8Array) => ArrayBufferView;
  memory: { weightsBytes: number; arenaBytes: number; wasmMemoryBytes: number };
  size: [number, number];
}

async function loadTree(name: string, root: string): Promise<Tree> {
  const url = (p: string) => pathToFileURL(resolve(root, p)).href;
  const { resolveModel } = await import(url('src/load_model.ts'));
  const { prepareRun } = await import(url('src/run_setup.ts'));
  const { loadKernels } = await import(url('src/kernels/node_loader.ts'));
  const resolved = await resolveModel(modelFile);
  const setup = await prepareRun(resolved.model, { chunks: 'auto', kernels: await loadKernels(), float });
  const g = setup.model.graph;
  const inT = g.tensors[g.inputs[0]];
  const ex = setup.executor;
  return {
    name,
    run: (pixels) => ex.runPixels(pixels).output,
    memory: ex.memoryReport(),
    size: [inT.shape[1], inT.shape[2]],
  };
}

const here = resolve(new URL('..', import.meta.url).pathname);
const A = await loadTree('base', base);
const B = await loadTree('this', here);
const { bytes } = await loadModelInput(imageFile, A.size[0], A.size[1]);
const raw = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const oa = raw(A.run(bytes)),
  ob = raw(B.run(bytes));
if (oa.length !== ob.length || oa.some((q, i) => q !== ob[i])) {
  console.error('bench/ab: the two trees give different outputs; not timing');
  process.exit(1);
}
const samples = await runSuite(
  [A, B].map((t) => ({ name: t.name, fn: async () => t.run(bytes) })),
  { rounds },
);
const ma = median(samples.get('base')!),
  mb = median(samples.get('this')!);
const rows = [
  `Model \`${basename(modelFile)}\` (${statSync(modelFile).size} bytes${float ? ', float32 path' : ''}), image ${basename(imageFile)}; outputs of both trees byte-equal (${oa.length} bytes). Base tree: ${base}.`,
  '',
  '| tree | median latency (ms) | samples | weightsBytes | wasmMemoryBytes |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...(
    [
      [A, ma],
      [B, mb],
    ] as const
  ).map(
    ([t, m]) =>
      `| ${t.name} | ${m.toFixed(2)} | ${samples.get(t.name)!.length} | ${t.memory.weightsBytes} | ${t.memory.wasmMemoryBytes} |`,
  ),
  '',
  `Ratio this/base = **${(mb / ma).toFixed(3)}**.`,
].join('\n');
console.log(machineLine());
console.log(rows);
if (write)
  appendResults(
    `A/B: ${basename(modelFile)}${float ? ' (float32 path)' : ''}, this tree vs ${basename(base)}`,
    `npx tsx bench/ab.ts --base ${base} --model ${modelFile} --image ${imageFile} --rounds ${rounds}${float ? ' --float' : ''}`,
    rows,
  );
