/**
 * Latency of lowwater in Deno against Node on the same model and image, measured in one
 * run: quantized MobileNetV2 1.0/224 (fixtures models/mobilenet_v2_1.0_224_quant.tflite)
 * on images/cat.png, one thread. Three runners take turns, one classify each per round in a
 * rotated order, so a machine whose speed drifts slows them alike:
 *
 *   - Node, `lowwater` (Node entry: sharp decodes the PNG)
 *   - Node, `lowwater/web` (fast-png decodes it, as in Deno)
 *   - Deno, `lowwater/web` imported by package name (bench/deno_latency_child.ts, a long-lived
 *     child answering one classify per line on stdin)
 *
 * Reports the median, min and max over the measured rounds (after warm-up) of the network run
 * (`latencyMs`) and of the whole classify call from the encoded bytes.
 *
 *   npx tsx bench/deno_latency.ts [--rounds 20] [--warmup 5] [--write]   (--write appends to bench/RESULTS.md)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadModel as loadNode } from '../src/index.js';
import { loadModel as loadWeb } from '../src/web.js';
import { kernelWasmPath } from '../src/kernels/node_loader.js';
import { denoBinary, denoEnv, DENO_RUN_FLAGS } from '../test/helpers/deno.js';
import { fixturePath, REPO_ROOT } from '../test/helpers/fixtures.js';
import { appendResults, machineLine, median } from './results.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const rounds = Number(arg('--rounds', '20'));
const warmup = Number(arg('--warmup', '5'));
const write = argv.includes('--write');

const MODEL = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const IMAGE = fixturePath('images', 'cat.png');
const deno = denoBinary();
if (!existsSync(MODEL) || !existsSync(IMAGE)) {
  console.error(`bench: fixtures missing (${MODEL}, ${IMAGE}); set LOWWATER_FIXTURES`);
  process.exit(2);
}
if (!deno) {
  console.error('bench: no deno binary (the devDependency `deno`): run npm ci');
  process.exit(2);
}

interface Sample {
  latencyMs: number;
  classifyMs: number;
  top1: number;
}

// Deno child: loads the model, then one classify per "run" line.
const denoDir = mkdtempSync(join(tmpdir(), 'lowwater-deno-bench-'));
const wasm = join(REPO_ROOT, 'build', 'lowwater.wasm');
const child = spawn(
  deno,
  [
    'run',
    ...DENO_RUN_FLAGS,
    `--allow-read=${[wasm, MODEL, IMAGE].join(',')}`,
    join('bench', 'deno_latency_child.ts'),
    MODEL,
    IMAGE,
  ],
  { cwd: REPO_ROOT, env: denoEnv(denoDir), stdio: ['pipe', 'pipe', 'inherit'] },
);
const cleanup = () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(denoDir, { recursive: true, force: true });
};
process.on('exit', cleanup);
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
async function nextLine(): Promise<string> {
  const { value, done } = await lines.next();
  if (done) throw new Error(`deno exited (code ${child.exitCode})`);
  return value as string;
}
const hello = JSON.parse(await nextLine()) as { deno: string; v8: string };
const runDeno = async (): Promise<Sample> => {
  child.stdin!.write('run\n');
  return JSON.parse(await nextLine()) as Sample;
};

const modelBytes = new Uint8Array(readFileSync(MODEL));
const imageBytes = new Uint8Array(readFileSync(IMAGE));
const nodeModel = await loadNode(MODEL);
const webModel = await loadWeb(modelBytes, { kernels: new Uint8Array(readFileSync(kernelWasmPath())) });
const timed = (run: () => ReturnType<typeof nodeModel.classify>) => async (): Promise<Sample> => {
  const t0 = performance.now();
  const r = await run();
  return { latencyMs: r.latencyMs, classifyMs: performance.now() - t0, top1: r.top[0]!.index };
};

const runners: { name: string; run: () => Promise<Sample> }[] = [
  { name: `Node ${process.version}, lowwater`, run: timed(() => nodeModel.classify(imageBytes, { top: 1 })) },
  { name: `Node ${process.version}, lowwater/web`, run: timed(() => webModel.classify(imageBytes, { top: 1 })) },
  { name: `Deno ${hello.deno} (V8 ${hello.v8}), lowwater/web`, run: runDeno },
];
const samples = new Map<string, Sample[]>(runners.map((r) => [r.name, []]));
for (let round = 0; round < warmup + rounds; round++) {
  for (let i = 0; i < runners.length; i++) {
    const r = runners[(i + round) % runners.length]!;
    const s = await r.run();
    if (round >= warmup) samples.get(r.name)!.push(s);
  }
}
child.stdin!.end();

const tops = new Set([...samples.values()].flat().map((s) => s.top1));
if (tops.size !== 1) throw new Error(`the runners disagree on top-1: ${[...tops].join(', ')}`);
const stats = (xs: number[]) =>
  `${median(xs).toFixed(2)} | ${Math.min(...xs).toFixed(2)} | ${Math.max(...xs).toFixed(2)}`;
const nodeWeb = median(samples.get(runners[1]!.name)!.map((s) => s.latencyMs));
const rows = runners.map((r) => {
  const s = samples.get(r.name)!;
  const lat = s.map((x) => x.latencyMs);
  return `| ${r.name} | ${stats(lat)} | ${(median(lat) / nodeWeb).toFixed(2)} | ${stats(s.map((x) => x.classifyMs))} |`;
});
const body = [
  `mobilenet_v2_1.0_224_quant.tflite (uint8), images/cat.png, ${rounds} rounds after ${warmup} warm-up, runners in turn; ms.`,
  '',
  '| runner | network median | min | max | ÷ Node web median | classify from PNG bytes median | min | max |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
// The machine may be shared: the load average says how much else ran.
const load = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
console.log(`${machineLine()}, ${new Date().toISOString()}, load average ${load}\n\n${body}`);
if (write) appendResults('Deno vs Node latency', `npx tsx bench/deno_latency.ts ${argv.join(' ')}`.trim(), body);
