/**
 * Throughput of `lowwater classify DIR --jsonl` with --jobs 1 against --jobs 2, side by side in one run:
 * 200 photos derived from the fixture images (bench/batch_images.ts, in a temporary folder), the int8
 * TFLite MobileNetV2 (fixtures models/mobilenet_v2_1.0_224_quant.tflite) and the default model.
 *
 * Each measurement is the whole command as a user runs it (`node bin/lowwater.js ...`, start to exit:
 * loading the model on every worker included), images / wall seconds, and the rate from the first JSON
 * line to the last (start-up left out). A control, "2 processes": two jobs 1 processes at once, each on
 * half of the files, which is what two cores give two independent processes here. The configurations
 * take turns in a rotated order, each run waiting for a mostly idle machine (other engineers' work
 * shares it) and reporting the CPU share other processes took meanwhile; the median of the rounds is
 * reported. Every run's JSON Lines are checked to be the same results (input sha256 and top classes),
 * file by file.
 *
 * Memory: each process's peak resident size (its maxRSS, read at exit by a preload), so the difference
 * between jobs 2 and jobs 1 is what one more worker costs; and one worker's own figures as classifyMany's
 * onStart reports them (WebAssembly memory = weights + arena, JavaScript heap).
 *
 *   npx tsx bench/batch.ts [--images 200] [--rounds 5] [--write]   (--write appends to bench/RESULTS.md)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { humanBytes } from '../planner/bytes.js';
import { classifyMany, type BatchStart } from '../src/index.js';
import { fixturePath, REPO_ROOT } from '../test/helpers/fixtures.js';
import { deriveImages } from './batch_images.js';
import { appendResults, median } from './results.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const count = Number(arg('--images', '200'));
const rounds = Number(arg('--rounds', '5'));
const write = argv.includes('--write');

const MODELS = [
  {
    name: 'int8 MobileNetV2 1.0/224 (mobilenet_v2_1.0_224_quant.tflite)',
    args: ['--model', fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite')],
  },
  { name: 'default model (nsfw_mobilenet_v2, float32)', args: [] as string[] },
];
type Config = 'jobs 1' | 'jobs 2' | '2 processes';
const CONFIGS: Config[] = ['jobs 1', 'jobs 2', '2 processes'];

const dir = mkdtempSync(join(tmpdir(), 'lowwater-batch-bench-'));
const photos = join(dir, 'photos');
console.error(`deriving ${count} photos from the fixture images into ${photos}`);
const files = await deriveImages(fixturePath('images'), photos, count);
// The child writes its peak resident size (kB, all threads) on stderr as it exits.
const preload = join(dir, 'maxrss.mjs');
writeFileSync(
  preload,
  "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write(`maxRSS ${u.maxRSS} cpu ${u.userCPUTime + u.systemCPUTime}\\n`); });\n",
);

/** Busy and total CPU time of the whole machine so far (all cores, /proc/stat jiffies), to see what other processes took. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}
const jiffiesPerSecond = 100;

/** Waits (up to `maxMs`) until the machine has been at least `idle` idle for a second, so a run starts on free cores. */
async function waitForIdle(idle = 0.85, maxMs = 180_000): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const a = machineCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const b = machineCpu();
    if (1 - (b.busy - a.busy) / (b.total - a.total) >= idle) return;
  }
}

interface Run {
  /** Share of the machine's CPU time (all cores) that other processes took during the run. */
  othersShare: number;
  seconds: number;
  /** From the first JSON line to the last: the rate once the workers run, without starting up. */
  steadySeconds: number;
  maxRssBytes: number;
  /** file → inputSha256 and top indices, to check every run gives the same results */
  results: Map<string, string>;
}

interface ChildRun {
  out: string;
  cpuSeconds: number;
  maxRssBytes: number;
  firstLine: number;
  lastLine: number;
}

/** One `lowwater classify ... --jsonl` process (with the preload that reports its CPU time and peak RSS). */
function child(inputs: string[], jobs: number, modelArgs: string[]): Promise<ChildRun> {
  const bin = join(REPO_ROOT, 'bin', 'lowwater.js');
  const args = ['--import', preload, bin, 'classify', ...inputs, '--jsonl', '--jobs', String(jobs), ...modelArgs];
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let firstLine = 0;
    let lastLine = 0;
    c.stdout.on('data', (d) => {
      out += d;
      lastLine = performance.now();
      firstLine ||= lastLine;
    });
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`exit code ${code}: ${err}`));
      const m = /maxRSS (\d+) cpu (\d+)/.exec(err);
      resolve({ out, cpuSeconds: Number(m?.[2]) / 1e6, maxRssBytes: Number(m?.[1]) * 1024, firstLine, lastLine });
    });
  });
}

/**
 * A run of configuration `config`: 'jobs 1' or 'jobs 2' over the folder, or '2 processes' (two jobs 1
 * processes at once, each given half of the files: what two separate processes get from this machine's
 * two cores, the bound for two workers in one process).
 */
async function runOnce(modelArgs: string[], config: Config): Promise<Run> {
  const cpu0 = machineCpu();
  const t0 = performance.now();
  const half = Math.ceil(files.length / 2);
  const children =
    config === '2 processes'
      ? await Promise.all([child(files.slice(0, half), 1, modelArgs), child(files.slice(half), 1, modelArgs)])
      : [await child([photos], config === 'jobs 2' ? 2 : 1, modelArgs)];
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = machineCpu();
  const results = new Map<string, string>();
  for (const line of children.flatMap((c) => c.out.trimEnd().split('\n'))) {
    const j = JSON.parse(line) as { image: string; inputSha256: string; top: { index: number }[] };
    results.set(j.image, `${j.inputSha256} ${j.top.map((c) => c.index).join(',')}`);
  }
  if (results.size !== count) throw new Error(`${results.size} results for ${count} images`);
  const ours = children.reduce((n, c) => n + c.cpuSeconds, 0) * jiffiesPerSecond;
  // The first chunk holds at least the first line; the time to the last chunk covers count − 1 more images.
  const first = Math.min(...children.map((c) => c.firstLine));
  const last = Math.max(...children.map((c) => c.lastLine));
  return {
    othersShare: Math.max(0, (cpu1.busy - cpu0.busy - ours) / (cpu1.total - cpu0.total)),
    seconds,
    steadySeconds: (last - first) / 1000,
    maxRssBytes: Math.max(...children.map((c) => c.maxRssBytes)),
    results,
  };
}

const rows: string[] = [];
const memoryRows: string[] = [];
const loads: number[] = [loadavg()[0]!];
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
for (const model of MODELS) {
  const runs = new Map<Config, Run[]>(CONFIGS.map((c) => [c, []]));
  let reference: Map<string, string> | undefined;
  for (let r = 0; r < rounds; r++) {
    // A rotated order each round, so no configuration always runs first or last.
    const order = CONFIGS.map((_, k) => CONFIGS[(k + r) % CONFIGS.length]!);
    for (const config of order) {
      await waitForIdle();
      const run = await runOnce(model.args, config);
      reference ??= run.results;
      for (const [file, got] of run.results)
        if (reference.get(file) !== got)
          throw new Error(`${file}: ${config} gave ${got}, another run ${reference.get(file)}`);
      runs.get(config)!.push(run);
      console.error(
        `  ${model.name}, ${config}, round ${r + 1}/${rounds}: ${(count / run.seconds).toFixed(1)} images/s (${run.seconds.toFixed(2)} s; other processes took ${pct(run.othersShare)} of the CPU)`,
      );
      loads.push(loadavg()[0]!);
    }
  }
  const rate = (c: Config) => median(runs.get(c)!.map((x) => count / x.seconds));
  const rss = (c: Config) => median(runs.get(c)!.map((x) => x.maxRssBytes));
  const steady = (c: Config) => median(runs.get(c)!.map((x) => (count - 1) / x.steadySeconds));
  const best = (c: Config) => Math.max(...runs.get(c)!.map((x) => count / x.seconds));
  const [r1, r2, rp] = [rate('jobs 1'), rate('jobs 2'), rate('2 processes')];
  const perRound = runs.get('jobs 1')!.map((x, k) => {
    const y = runs.get('jobs 2')![k]!;
    return `${(x.seconds / y.seconds).toFixed(2)} (${pct(x.othersShare)}, ${pct(y.othersShare)})`;
  });
  rows.push(
    `| ${model.name} | ${r1.toFixed(1)} | ${r2.toFixed(1)} | **${(r2 / r1).toFixed(2)}×** | ${(best('jobs 2') / best('jobs 1')).toFixed(2)}× | ${steady('jobs 1').toFixed(1)} → ${steady('jobs 2').toFixed(1)} (**${(steady('jobs 2') / steady('jobs 1')).toFixed(2)}×**) | ${rp.toFixed(1)} (${(rp / r1).toFixed(2)}×) | ${perRound.join('; ')} |`,
  );

  let start: BatchStart | undefined;
  const modelSource = model.args[1];
  for await (const _ of classifyMany([join(photos, 'img0000.jpg')], {
    ...(modelSource ? { model: modelSource } : {}),
    onStart: (s) => (start = s),
  }));
  const w = start!.workerMemory;
  memoryRows.push(
    `| ${model.name} | ${humanBytes(w.model.wasmMemoryBytes)} (weights ${humanBytes(w.model.weightsBytes)}, arena ${humanBytes(w.model.arenaBytes)}) | ${humanBytes(w.jsHeapBytes)} | ${humanBytes(rss('jobs 1'))} | ${humanBytes(rss('jobs 2'))} | ${humanBytes(rss('jobs 2') - rss('jobs 1'))} |`,
  );
}
rmSync(dir, { recursive: true, force: true });

const body = `${count} photos derived from the fixture images (crops of 70–100%, 200–520 px wide, some mirrored, JPEG and PNG alternately; bench/batch_images.ts). Each figure is a whole \`lowwater classify DIR --jsonl --jobs N\` process, start to exit (every worker loading the model included): images / wall seconds, median of ${rounds} rounds, the configurations taking turns in a rotated order. "First to last line" leaves start-up out: the rate from the first JSON line to the last. "2 processes" runs two \`--jobs 1\` processes at once, each on half of the files: what this machine's two cores give two independent processes, the bound for two workers in one. Every run's JSON Lines gave the same input sha256 and top classes for every file.

Other engineers' processes share this machine's 2 cores: each run starts once the machine has been at least 85% idle for a second (waiting 3 minutes at most), and the last column gives, per round, the ratio of the jobs 1 and jobs 2 times and in brackets the share of the machine's CPU time other processes took during each (a jobs 2 run needs both cores). Load average (1 min) seen between runs: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}; this run's nice value: ${getPriority()}.

| model | jobs 1 (images/s) | jobs 2 (images/s) | jobs 2 / jobs 1 | best jobs 2 / best jobs 1 | first to last line, jobs 1 → 2 (images/s) | 2 processes (images/s) | per round: time jobs 1 / jobs 2 (others' CPU share) |
| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |
${rows.join('\n')}

Memory. A worker: its model's WebAssembly memory and its JavaScript heap, as classifyMany's onStart reports them. A process: peak resident size (maxRSS, all threads, median over the rounds); the difference is what one more worker costs.

| model | one worker: WebAssembly memory | one worker: JS heap | process peak RSS, jobs 1 | jobs 2 | one more worker |
| --- | ---: | ---: | ---: | ---: | ---: |
${memoryRows.join('\n')}
`;
console.log(body);
if (write)
  appendResults(
    `Batch classify: throughput with --jobs 1 and --jobs 2`,
    `npx tsx bench/batch.ts --images ${count} --rounds ${rounds} --write`,
    body,
  );
