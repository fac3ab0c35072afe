/**
 * lowwater in every runtime, side by side in one run: the network run of the
 * int8 MobileNetV2 (mobilenet_v2_1.0_224_quant.tflite) on cat.png, timed inside
 * each runtime by the model's own latencyMs, after warm-up:
 *   - Node: the package's Node entry (dist/index.js), in this process;
 *   - Deno: the web entry imported by package name (a long-lived deno process);
 *   - Chromium: the web entry bundled by esbuild, on the main thread and in a Worker;
 *   - workerd: the example edge worker (miniflare), one request per run (its clock
 *     moves in whole milliseconds, so its figure is coarse).
 * Rounds are interleaved (each runtime runs a few inferences in turn), so the
 * machine's drift falls on every runtime alike. Also the web bundle's size: the
 * web entry minified, its decoders (loaded on first use) and the kernels, gzip.
 *
 *   npx tsx bench/runtimes.ts [--rounds 10] [--per 5] [--no-write]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { appendResults, median } from './results.js';
import { REPO_ROOT, fixturePath } from '../test/helpers/fixtures.js';
import { denoBinary, DENO_RUN_FLAGS, denoEnv } from '../test/helpers/deno.js';
import { servePage, withChromium } from '../test/web/chromium.js';
import { bundleEdgeWorker, startEdgeWorker } from '../test/helpers/edge_worker.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    per: { type: 'string', default: '5' },
    'no-write': { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const per = Number(values.per);
const MODEL = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const IMAGE = fixturePath('images', 'cat.png');
const modelBytes = readFileSync(MODEL);
const png = readFileSync(IMAGE);

mkdirSync(join(REPO_ROOT, '.tap'), { recursive: true });
const work = mkdtempSync(join(REPO_ROOT, '.tap', 'runtimes-'));

/** A runtime: `run(n)` does n inferences and resolves with their latencies (ms). */
interface Runtime {
  name: string;
  run(n: number): Promise<number[]>;
  close(): Promise<void>;
}

async function nodeRuntime(): Promise<Runtime> {
  const { loadModel } = (await import(join(REPO_ROOT, 'dist', 'index.js'))) as typeof import('../src/index.js');
  const model = await loadModel(new Uint8Array(modelBytes));
  return {
    name: 'Node 20 (lowwater)',
    async run(n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await model.classify(new Uint8Array(png))).latencyMs);
      return out;
    },
    close: async () => {},
  };
}

const DENO_PROGRAM = `import { loadModel } from 'lowwater/web';
const model = await loadModel(await Deno.readFile(Deno.args[0]));
const png = await Deno.readFile(Deno.args[1]);
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buf = '';
console.log('ready');
for await (const chunk of lines) {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const n = Number(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (!n) Deno.exit(0);
    const ms = [];
    for (let k = 0; k < n; k++) ms.push((await model.classify(png)).latencyMs);
    console.log(JSON.stringify(ms));
  }
}
`;

async function denoRuntime(): Promise<Runtime> {
  const deno = denoBinary();
  if (!deno) throw new Error('bench/runtimes: the npm package deno is not installed (npm ci)');
  const program = join(work, 'deno_bench.js');
  writeFileSync(program, DENO_PROGRAM);
  const child = spawn(
    deno,
    ['run', ...DENO_RUN_FLAGS, `--allow-read=${REPO_ROOT},${MODEL},${IMAGE}`, program, MODEL, IMAGE],
    {
      env: denoEnv(join(work, 'deno-dir')),
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('deno exited');
    return r.value;
  };
  if ((await next()) !== 'ready') throw new Error('deno did not start');
  return {
    name: 'Deno (lowwater/web)',
    async run(n) {
      child.stdin!.write(`${n}\n`);
      return JSON.parse(await next()) as number[];
    },
    async close() {
      child.stdin!.end('0\n');
      child.kill();
    },
  };
}

const APP = `import { loadModel } from 'lowwater/web';
import kernels from 'lowwater/kernels.wasm';
let model, png;
globalThis.runN = async (n) => {
  model ??= await loadModel(await fetch('/model.tflite'), { kernels: new URL(kernels, import.meta.url) });
  png ??= new Uint8Array(await (await fetch('/cat.png')).arrayBuffer());
  const ms = [];
  for (let i = 0; i < n; i++) ms.push((await model.classify(png)).latencyMs);
  return ms;
};
`;

async function chromiumRuntimes(): Promise<{ runtimes: Runtime[]; close(): Promise<void> }> {
  const dir = join(work, 'chromium');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.src.js'), APP);
  await build({
    entryPoints: { app: join(dir, 'app.src.js') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: dir,
    loader: { '.wasm': 'file' },
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  const site = await servePage(dir, { files: { '/model.tflite': modelBytes, '/cat.png': png } });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const ready = new Promise<Runtime[]>((resolve, reject) => {
    withChromium(async (browser) => {
      const page = await browser.open(site.url('/'));
      const load = async (url: string) => {
        await import(url);
      };
      await page.evaluate(load, '/app.js');
      const worker = await page.worker();
      await worker.evaluate(load, '/app.js');
      const runN = (n: number) => (globalThis as unknown as { runN(n: number): Promise<number[]> }).runN(n);
      resolve([
        { name: 'Chromium, main thread', run: (n) => page.evaluate(runN, n), close: async () => {} },
        { name: 'Chromium, Web Worker', run: (n) => worker.evaluate(runN, n), close: async () => {} },
      ]);
      await finished;
    }).catch(reject);
  });
  return {
    runtimes: await ready,
    async close() {
      done();
      await site.close();
    },
  };
}

async function workerdRuntime(): Promise<Runtime> {
  const bundle = await bundleEdgeWorker({
    files: {
      './models/mobilenet_v2_1.0_224_quant.tflite': MODEL,
      './models/imagenet_labels.txt': fixturePath('labels', 'imagenet_labels.txt'),
    },
  });
  const { mf, url } = await startEdgeWorker(bundle);
  return {
    name: 'workerd (edge worker; 1 ms clock)',
    async run(n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = (await (await fetch(url, { method: 'POST', body: png })).json()) as { latencyMs: number };
        out.push(r.latencyMs);
      }
      return out;
    },
    close: () => mf.dispose(),
  };
}

/** The web entry as a user's bundler makes it: minified, decoders split out (loaded on first use). */
async function bundleSizes(): Promise<string> {
  const dir = join(work, 'size');
  mkdirSync(dir);
  writeFileSync(join(dir, 'entry.js'), "export { loadModel } from 'lowwater/web';\n");
  await build({
    entryPoints: [join(dir, 'entry.js')],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    outdir: join(dir, 'out'),
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const files = readdirSync(join(dir, 'out')).map((f) => {
    const b = readFileSync(join(dir, 'out', f));
    return { f, raw: b.length, gz: gzipSync(b, { level: 9 }).length };
  });
  const core = files.find((x) => x.f === 'entry.js')!;
  const rest = files.filter((x) => x !== core);
  const wasm = readFileSync(join(REPO_ROOT, 'build', 'lowwater.wasm'));
  const sum = (xs: typeof files, k: 'raw' | 'gz') => xs.reduce((s, x) => s + x[k], 0);
  return [
    '| part | minified | gzip |',
    '| --- | ---: | ---: |',
    `| lowwater/web (JS: importer, planner, lowering, executor, API) | ${kb(core.raw)} | ${kb(core.gz)} |`,
    `| PNG and JPEG decoders (fast-png, jpeg-js; separate chunks, loaded on first use) | ${kb(sum(rest, 'raw'))} | ${kb(sum(rest, 'gz'))} |`,
    `| kernels (lowwater.wasm) | ${kb(wasm.length)} | ${kb(gzipSync(wasm, { level: 9 }).length)} |`,
  ].join('\n');
}

const runtimes: Runtime[] = [];
const closers: (() => Promise<void>)[] = [];
try {
  runtimes.push(await nodeRuntime());
  runtimes.push(await denoRuntime());
  const c = await chromiumRuntimes();
  closers.push(c.close);
  runtimes.push(...c.runtimes);
  runtimes.push(await workerdRuntime());
  for (const r of runtimes) await r.run(5); // warm-up: lazy compilation and tier-up
  const samples = new Map<string, number[]>(runtimes.map((r) => [r.name, []]));
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < runtimes.length; k++) {
      const r = runtimes[(k + i) % runtimes.length]!;
      samples.get(r.name)!.push(...(await r.run(per)));
    }
    console.error(`  round ${i + 1}/${rounds}`);
  }
  const node = median(samples.get(runtimes[0]!.name)!);
  const rows = runtimes.map((r) => {
    const m = median(samples.get(r.name)!);
    return `| ${r.name} | ${m.toFixed(2)} | ${(m / node).toFixed(2)} |`;
  });
  const body = [
    `Int8 MobileNetV2 (\`mobilenet_v2_1.0_224_quant.tflite\`), cat.png, the network run as each runtime's \`latencyMs\` reports it; medians of ${rounds} interleaved rounds × ${per} runs after 5 warm-up runs.`,
    '',
    '| runtime | median ms | ÷ Node |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    'The web bundle (esbuild, minified, as an application bundles `lowwater/web`):',
    '',
    await bundleSizes(),
  ].join('\n');
  console.log(body);
  if (!values['no-write'])
    appendResults(
      'lowwater in Node, Deno, Chromium and workerd',
      `npx tsx bench/runtimes.ts --rounds ${rounds} --per ${per}`,
      body,
    );
} finally {
  for (const r of runtimes) await r.close();
  for (const c of closers) await c();
}
