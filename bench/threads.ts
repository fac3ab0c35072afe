/**
 * One inference on 1 and 2 threads, side by side in one run: latency and memory of
 *   - lowwater, MobileNetV2 1.0/224 uint8 (mobilenet_v2_1.0_224_quant.tflite, integer path)
 *     and float32 (the bundled nsfwjs MobileNetV2), `threads: 1 | 2`;
 *   - onnxruntime-node (native CPU build, bench/ort-node), the nsfwjs MobileNetV2 as ONNX,
 *     intraOpNumThreads 1 | 2;
 *   - onnxruntime-web (WASM, SIMD) in Node on the same ONNX, numThreads 1 | 2 (its threaded
 *     build runs in Node on worker_threads);
 *   - TFLite-WASM (tfjs-tflite, XNNPACK, SIMD) on the uint8 .tflite in headless Chromium,
 *     numThreads 1 | 2: its threaded build needs SharedArrayBuffer and Web Workers, so a page
 *     served cross-origin isolated (COOP/COEP), one page per thread count
 *     (bench/threads_tflite_page.ts); its memory is the page's
 *     performance.measureUserAgentSpecificMemory().
 * Each engine × thread count is its own child process (bench/threads_child.mjs), all loaded
 * before the first round. Rounds are interleaved: each round runs `--samples` inferences in
 * every child, one child at a time, in an order rotated per round, so load from the other
 * processes of this shared machine reaches every configuration alike; the load average is
 * recorded per round. Reported: median latency per configuration, and per engine the
 * median over rounds of (2-thread median / 1-thread median) of the same round, over all
 * rounds and over the quiet ones: rounds in which the machine's other processes took less
 * than a fifth of a core (/proc/stat's busy time less this process tree's), since a second
 * thread only helps when the second core is free. Memory:
 * each child's RSS after the rounds and a GC (the process's own figure: node, engine,
 * model, and its threads' stacks and heaps), and for lowwater the arena, its measured
 * peak and the WebAssembly memory.
 *
 *   npx tsx bench/threads.ts [--rounds 12] [--samples 8] [--no-write]
 *
 * Needs `npm run build` (lowwater runs from dist/, as a user imports it), the fixtures
 * (LOWWATER_FIXTURES) and `npm ci --prefix bench/ort-node` for onnxruntime-node.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { appendResults, median } from './results.js';
import { openTflitePages } from './threads_tflite_page.js';
import { fixturePath } from '../test/helpers/fixtures.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    samples: { type: 'string', default: '8' },
    'no-write': { type: 'boolean' },
  },
});
const rounds = Number(values.rounds);
const samples = Number(values.samples);
const UINT8 = fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite');
const ONNX = fixturePath('peers', 'nsfwjs_mobilenet_v2.onnx');
const childPath = fileURLToPath(new URL('./threads_child.mjs', import.meta.url));
for (const f of [UINT8, ONNX])
  if (!existsSync(f)) throw new Error(`bench/threads: ${f} is missing (LOWWATER_FIXTURES)`);
if (!existsSync(fileURLToPath(new URL('./ort-node/node_modules/onnxruntime-node', import.meta.url))))
  throw new Error('bench/threads: onnxruntime-node is not installed: npm ci --prefix bench/ort-node');

interface Engine {
  key: string;
  label: string;
  engine: 'lowwater' | 'ort-node' | 'ort-web' | 'tflite-chromium';
  model: string;
}
const engines: Engine[] = [
  { key: 'lw-u8', label: 'lowwater, MobileNetV2 uint8 (integer path)', engine: 'lowwater', model: UINT8 },
  { key: 'lw-f32', label: 'lowwater, MobileNetV2 float32 (nsfwjs)', engine: 'lowwater', model: 'default' },
  {
    key: 'ort-node',
    label: 'onnxruntime-node 1.30 (native CPU), float32 (nsfwjs ONNX)',
    engine: 'ort-node',
    model: ONNX,
  },
  {
    key: 'ort-web',
    label: 'onnxruntime-web 1.30 (WASM SIMD) in Node, float32 (nsfwjs ONNX)',
    engine: 'ort-web',
    model: ONNX,
  },
  {
    key: 'tflite',
    label: 'TFLite-WASM (tfjs-tflite, XNNPACK, SIMD) in Chromium, uint8',
    engine: 'tflite-chromium',
    model: UINT8,
  },
];

/** One engine at one thread count, loaded and waiting for rounds. */
interface Config {
  engine: Engine;
  threads: number;
  run(n: number): Promise<number[]>;
  report(): Promise<any>;
  close(): void;
  ms: number[];
  perRound: number[];
}

function request(proc: ChildProcess, what: string, msg: object): Promise<any> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`${what} exited (${code})`));
    proc.once('exit', onExit);
    proc.once('message', (m: any) => {
      proc.off('exit', onExit);
      if (m.error) reject(new Error(`${what}: ${m.error}`));
      else resolve(m);
    });
    if (Object.keys(msg).length) proc.send(msg);
  });
}

const configs: Config[] = [];
let closeChromium = async () => {};
for (const engine of engines) {
  if (engine.engine === 'tflite-chromium') {
    const { session, site, pages } = await openTflitePages(engine.model, [1, 2]);
    closeChromium = async () => {
      await session.close();
      await site.close();
    };
    for (const p of pages)
      configs.push({
        engine,
        threads: p.threads,
        run: (n) => p.run(n),
        report: async () => ({ pageMemory: await p.memory(), build: p.build }),
        close: () => {},
        ms: [],
        perRound: [],
      });
    continue;
  }
  for (const threads of [1, 2]) {
    const proc = fork(childPath, [engine.engine, engine.model, String(threads)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--expose-gc'],
    });
    const what = `${engine.key} ×${threads}`;
    await request(proc, what, {}); // ready: loaded, one inference run
    configs.push({
      engine,
      threads,
      run: async (n) => (await request(proc, what, { run: n })).ms as number[],
      report: () => request(proc, what, { report: true }),
      close: () => proc.send({ exit: true }),
      ms: [],
      perRound: [],
    });
  }
}

/**
 * CPU time (jiffies) of the whole machine (busy, and all) and of this process and its
 * descendants (the children, Chromium and its renderers) from /proc: the rest is what
 * other processes took while a round ran.
 */
function cpuSnapshot(): { busy: number; all: number; ours: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  const busy = all - f[3]! - f[4]!;
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(rest[1]));
      cpu.set(Number(d), Number(rest[11]) + Number(rest[12]));
    } catch {
      // exited meanwhile
    }
  }
  let ours = 0;
  for (const [pid, t] of cpu) {
    for (let p: number | undefined = pid; p && p > 1; p = parent.get(p))
      if (p === process.pid) {
        ours += t;
        break;
      }
  }
  return { busy, all, ours };
}

const loads: number[] = [];
/** Per round: CPU the other processes of the machine took, in % of one core. */
const others: number[] = [];
const start = new Date();
for (let r = 0; r < rounds; r++) {
  loads.push(loadavg()[0]!);
  const before = cpuSnapshot();
  const order = configs.map((_, i) => configs[(i + r) % configs.length]!);
  for (const c of order) {
    const ms = await c.run(samples);
    c.ms.push(...ms);
    c.perRound.push(median(ms));
  }
  const after = cpuSnapshot();
  const cores = availableParallelism();
  others.push(
    (100 * cores * (after.busy - before.busy - (after.ours - before.ours))) / Math.max(1, after.all - before.all),
  );
  process.stderr.write(`round ${r + 1}/${rounds}, load ${loads[r]!.toFixed(2)}, others ${others[r]!.toFixed(0)}%\n`);
}
/** Rounds in which the other processes took less than a fifth of a core: the cores were this benchmark's. */
const QUIET_PERCENT = 20;
const quiet = others.map((o, r) => (o < QUIET_PERCENT ? r : -1)).filter((r) => r >= 0);
const reports: any[] = [];
for (const c of configs) reports.push(await c.report());
for (const c of configs) c.close();
await closeChromium();

const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const KiB = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
const memoryOf = (rep: any): number => rep.rss ?? rep.pageMemory;
const lines: string[] = [];
lines.push(
  `| engine | threads | median ms | 2 threads / 1 thread: median of per-round ratios (min–max), all rounds | the same, quiet rounds (${quiet.length}) | memory: process RSS after a GC (Chromium: page) | lowwater arena (measured peak) | WebAssembly memory | OS threads |`,
);
lines.push('| --- | ---: | ---: | --- | --- | ---: | --- | ---: | ---: |');
const summary: Record<string, unknown>[] = [];
for (let i = 0; i < configs.length; i++) {
  const c = configs[i]!;
  const rep = reports[i];
  const one = configs.find((o) => o.engine === c.engine && o.threads === 1)!;
  const ratios = c.perRound.map((m, r) => m / one.perRound[r]!);
  const span = (xs: number[]) =>
    xs.length ? `**${median(xs).toFixed(3)}** (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})` : '–';
  const quietRatios = quiet.map((r) => ratios[r]!);
  const ratio = c.threads === 1 ? ' | ' : `${span(ratios)} | ${span(quietRatios)}`;
  const e = rep.engine ?? {};
  const mem = memoryOf(rep);
  lines.push(
    `| ${c.engine.label}${rep.build ? ` (${rep.build})` : ''} | ${c.threads} | ${median(c.ms).toFixed(2)} | ${ratio} | ` +
      `${mem >= 0 ? `${rep.pageMemory !== undefined ? 'page ' : ''}${MiB(mem)}` : '–'} | ` +
      (e.arenaBytes !== undefined
        ? `${KiB(e.arenaBytes)} (${KiB(e.measuredPeakBytes)})${c.threads > 1 ? `: +${KiB(e.threads.extraBytes)} for the 2nd thread (largest block's chunk scratch ${KiB(e.threads.largestBlockScratchBytes)})` : ''}`
        : '–') +
      ` | ${e.wasmMemoryBytes !== undefined ? MiB(e.wasmMemoryBytes) : '–'} | ${rep.osThreads ?? '–'} |`,
  );
  summary.push({
    key: c.engine.key,
    threads: c.threads,
    medianMs: median(c.ms),
    ratio: c.threads > 1 ? median(ratios) : 1,
    quietRatio: c.threads > 1 && quiet.length ? median(quietRatios) : null,
    memory: mem,
    engine: e,
  });
}
const growth = engines.map((e) => {
  const [a, b] = [1, 2].map((t) => memoryOf(reports[configs.findIndex((c) => c.engine === e && c.threads === t)]));
  return `${e.key} ${b! - a! >= 0 ? '+' : ''}${MiB(b! - a!)}`;
});
const command = `npx tsx bench/threads.ts --rounds ${rounds} --samples ${samples}`;
const text = [
  `Started ${start.toISOString()}; ${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}.`,
  `Load average (1 min) at each round's start: ${loads.map((l) => l.toFixed(2)).join(', ')} (median ${median(loads).toFixed(2)})`,
  `CPU the machine's other processes took during each round, % of one core (from /proc: all busy time less this benchmark's process tree): ${others.map((o) => o.toFixed(0)).join(', ')}; quiet rounds (< ${QUIET_PERCENT}%): ${quiet.length ? quiet.map((r) => r + 1).join(', ') : 'none'}.`,
  '',
  ...lines,
  '',
  `Memory with 2 threads − with 1: ${growth.join(', ')}.`,
].join('\n');
process.stdout.write(text + '\n');
if (!values['no-write']) appendResults('Threads: one inference on 1 and 2 threads', command, text);
process.stdout.write(JSON.stringify(summary) + '\n');
