/**
 * The same WebAssembly, timed in Node and in headless Chromium on this machine, side by
 * side in one run: the int8 MobileNetV2 inference through lowwater's whole inference
 * path, a real kernel (q8_gemm), plain SIMD loops with no lowwater code, the JS → WASM
 * call boundary and the timer. One bundle (bench/web/entry.ts, built by bench/web/bundle.ts)
 * runs in every realm:
 *
 *   node[:FLAGS]              a Node child process with those V8 flags (space-separated)
 *   chromium[:FLAGS]          the only page of a Chromium launched with --js-flags=FLAGS
 *   chromium-worker[:FLAGS]   a dedicated Worker of that page
 *   chromium-open             a page served without COOP/COEP (not cross-origin isolated)
 *   chromium-bg               a page that another page was opened after (a background tab)
 *   chromium-bg-worker        a dedicated Worker of that background page
 *   chromium-debugger         a page with the DevTools protocol's Debugger domain enabled
 *   node-debugger             a Node child with the inspector's Debugger domain enabled
 *
 * Rounds are interleaved: each round runs a batch of samples in every realm, in a rotated
 * order, so load from other processes and frequency drift reach every realm alike; each
 * realm's ratio to the first realm is also taken per round (the two batches seconds apart)
 * and its median reported. Before the rounds each realm runs `--warmup` samples,
 * reported as the tier-up curve (Liftoff code until V8's TurboFan code is ready). For each
 * realm the thread that did the work is found from /proc (the one whose CPU time grew most
 * during a batch) and its nice value reported: Chromium lowers the main thread of a
 * background tab's renderer to nice 5.
 *
 *   npx tsx bench/web_runtimes.ts [--rounds 12] [--samples 4] [--warmup 30]
 *       [--load N [--load-session own|shared]]
 *       [--workloads net,kernel,simd-i16,...] [--realms node,chromium,...] [--no-write]
 *
 * --load N runs N busy-looping processes (nice 0) during the measurement, standing in for
 * the other work of a shared machine (startLoad says where they run). Needs Chromium
 * (apt-get install -y chromium) and the fixtures (LOWWATER_FIXTURES).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelInput } from '../src/preprocess/image.js';
import { kernelWasmPath } from '../src/kernels/node_loader.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import {
  chromiumArgs,
  chromiumSkip,
  launchChromium,
  servePage,
  type ChromiumSession,
  type Realm,
  type ServedPage,
  type WebPage,
} from '../test/web/chromium.js';
import { buildSimdLoop, buildWebBundle } from './web/bundle.js';
import type { SetupInfo, SetupOptions, WorkloadName } from './web/entry.js';
import { appendResults, median } from './results.js';

const argv = process.argv.slice(2);
const arg = (flag: string, dflt: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? dflt) : dflt);
const rounds = Number(arg('--rounds', '12'));
const samples = Number(arg('--samples', '4'));
const warmup = Number(arg('--warmup', '30'));
const load = Number(arg('--load', '0'));
const loadSession = arg('--load-session', 'own') as 'own' | 'shared';
if (loadSession !== 'own' && loadSession !== 'shared') throw new Error('--load-session is own or shared');
const write = !argv.includes('--no-write');
/** A workload name with '+max' gives its memory a maximum (kernel, simd-*). */
const workloads = arg('--workloads', 'net,kernel,kernel+max,simd-i16,simd-i16+max,simd-f32,calls,timer').split(',');
const DEFAULT_REALMS = [
  'node',
  'node:--no-liftoff',
  'node:--liftoff-only',
  'chromium',
  'chromium-worker',
  'chromium-open',
  'chromium-bg',
  'chromium-bg-worker',
  'chromium:--no-liftoff',
  'chromium:--liftoff-only',
  'node:--wasm-enforce-bounds-checks',
  'chromium:--wasm-enforce-bounds-checks',
  'node-debugger',
  'chromium-debugger',
];
const realmNames = arg('--realms', DEFAULT_REALMS.join(',')).split(',');

const MODEL = 'mobilenet_v2_1.0_224_quant';
const IMAGE = 'images/cat.png';

interface BenchRealm {
  name: string;
  /** Runtime version (Node / V8 / Chromium). */
  version: string;
  /** Processes whose threads may run this realm's work (for the busiest-thread probe). */
  pids(): number[];
  setup(w: WorkloadName, o: SetupOptions): Promise<SetupInfo>;
  run(n: number): Promise<number[]>;
}

// ---------------------------------------------------------------------------------------
// Threads, from /proc

interface ThreadStat {
  comm: string;
  nice: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function threadStats(pids: number[]): Map<string, ThreadStat> {
  const out = new Map<string, ThreadStat>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = s.lastIndexOf(')');
        // Fields after the command, from field 3 (state): utime is field 14, stime 15, nice 19.
        const f = s.slice(close + 2).split(' ');
        out.set(`${pid}/${tid}`, {
          comm: s.slice(s.indexOf('(') + 1, close),
          nice: Number(f[16]),
          ticks: Number(f[11]) + Number(f[12]),
        });
      } catch {
        /* thread ended */
      }
    }
  }
  return out;
}

/** The thread whose CPU time grew most while `work` ran: where the realm's code executes. */
async function busiestThread(pids: number[], work: () => Promise<unknown>): Promise<string> {
  const before = threadStats(pids);
  await work();
  const after = threadStats(pids);
  let best: [string, ThreadStat, number] | undefined;
  for (const [id, s] of after) {
    const d = s.ticks - (before.get(id)?.ticks ?? 0);
    if (!best || d > best[2]) best = [id, s, d];
  }
  return best ? `${best[1].comm} (nice ${best[1].nice})` : '?';
}

function autogroup(): string {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1' ? 'on' : 'off';
  } catch {
    return 'unknown';
  }
}

/** Chromium renderer processes on this machine. */
function rendererPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes('chromium') && cmd.includes('--type=renderer')) out.push(Number(d));
    } catch {
      /* process ended */
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Realms

/** A Node child process running bench/web/node_realm.mjs with the given V8 flags. */
async function nodeRealm(
  name: string,
  flags: string[],
  bundle: string,
  debug: boolean,
): Promise<BenchRealm & { child: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('./web/node_realm.mjs', import.meta.url)), [], {
    execArgv: flags,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { ok(v: unknown): void; fail(e: Error): void }>();
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id)!;
    waiting.delete(m.id);
    if (m.error) w.fail(new Error(`${name}: ${m.error}`));
    else w.ok(m.result);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.fail(new Error(`${name} exited (${code})`));
  });
  const ask = <T>(msg: object) =>
    new Promise<T>((ok, fail) => {
      const id = next++;
      waiting.set(id, { ok: ok as (v: unknown) => void, fail });
      child.send({ id, ...msg });
    });
  const info = await ask<{ node: string; v8: string }>({ bundle });
  if (debug) await ask({ debugger: true });
  return {
    name,
    child,
    version: `Node ${info.node} (V8 ${info.v8})`,
    pids: () => [child.pid!],
    setup: (w, o) => ask<SetupInfo>({ setup: [w, o] }),
    run: (n) => ask<number[]>({ run: n }),
  };
}

/** Loads the bundle into a Chromium realm (page or worker) and drives it. */
async function chromiumRealm(name: string, realm: Realm, version: string, bundleUrl: string): Promise<BenchRealm> {
  await realm.evaluate(async (u) => {
    (globalThis as unknown as { bench: unknown }).bench = await import(u);
  }, bundleUrl);
  type Bench = { setup(w: WorkloadName, o: SetupOptions): Promise<SetupInfo>; run(n: number): number[] };
  return {
    name,
    version,
    pids: rendererPids,
    setup: (w, o) =>
      realm.evaluate(([w, o]) => (globalThis as unknown as { bench: Bench }).bench.setup(w, o), [w, o] as [
        WorkloadName,
        SetupOptions,
      ]),
    run: (n) => realm.evaluate((n) => (globalThis as unknown as { bench: Bench }).bench.run(n), n),
  };
}

/**
 * fg: the only page of its browser (a foreground tab); open: the same, not cross-origin
 * isolated; bg: a page another page was opened after; debugger: a foreground page whose
 * renderer has the Debugger domain enabled over the DevTools protocol.
 */
type Role = 'fg' | 'open' | 'bg' | 'debugger';

/** One browser per role and flag set. */
class Browsers {
  private sessions = new Map<string, { session: ChromiumSession; page?: WebPage }>();
  constructor(
    private isolated: ServedPage,
    private open: ServedPage,
  ) {}

  async page(role: Role, flags: string): Promise<WebPage> {
    const key = `${role} ${flags}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = { session: await launchChromium({ jsFlags: flags ? flags.split(' ') : [] }) };
      this.sessions.set(key, s);
    }
    if (!s.page) {
      s.page = await s.session.open((role === 'open' ? this.open : this.isolated).url('/'));
      // A second tab opened after it sends the measured page to the background.
      if (role === 'bg') await s.session.open(this.isolated.url('/'));
      if (role === 'debugger') await (await s.session.context.newCDPSession(s.page.page)).send('Debugger.enable');
    }
    return s.page;
  }

  version(): string {
    return [...this.sessions.values()][0]?.session.version ?? '?';
  }

  async close(): Promise<void> {
    for (const s of this.sessions.values()) await s.session.close();
  }
}

/**
 * N processes that busy-loop for at most 30 minutes (killed at the end of the run). With
 * the kernel's autogroup scheduling (sched_autogroup_enabled = 1), CPU time is shared
 * between sessions first and between threads second. Chromium, started detached by
 * playwright, has a session of its own; the Node children share the bench's. 'own' starts
 * each busy process in a session of its own, as another user's job would be; 'shared'
 * leaves them in the bench's session, with the Node children.
 */
function startLoad(n: number, session: 'own' | 'shared'): ChildProcess[] {
  const code = 'const end = Date.now() + 1800e3; let x = 0; while (Date.now() < end) x++;';
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', code], { stdio: 'ignore', detached: session === 'own' }),
  );
}

// ---------------------------------------------------------------------------------------

const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function main(): Promise<void> {
  // Exit code 2: a browser or fixture it needs is missing (npm run bench reports, not fails).
  const skip = chromiumSkip();
  const modelFile = fixturePath('models', `${MODEL}.tflite`);
  if (skip || !existsSync(modelFile) || !existsSync(fixturePath(IMAGE))) {
    console.error(`bench/web_runtimes.ts: ${skip || `fixtures missing (${modelFile}); set LOWWATER_FIXTURES`}`);
    process.exit(2);
  }
  const { bytes: pixels } = await loadModelInput(fixturePath(IMAGE), 224, 224);

  // One folder, served to Chromium and fetched by the Node children alike.
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-web-bench-'));
  const bundleFile = join(dir, 'bench.js');
  writeFileSync(bundleFile, await buildWebBundle());
  writeFileSync(join(dir, 'simd_loop.wasm'), await buildSimdLoop());
  writeFileSync(join(dir, 'lowwater.wasm'), readFileSync(kernelWasmPath(false)));
  writeFileSync(join(dir, 'model.tflite'), readFileSync(modelFile));
  writeFileSync(join(dir, 'pixels.bin'), pixels);

  const isolated = await servePage(dir);
  const open = await servePage(dir, { isolated: false });
  const browsers = new Browsers(isolated, open);
  const children: ChildProcess[] = [];
  const realms: BenchRealm[] = [];
  const load0 = loadavg()[0]!;
  let loadProcs: ChildProcess[] = [];
  try {
    for (const name of realmNames) {
      const [kind, flags = ''] = name.split(/:(.*)/s) as [string, string?];
      if (kind === 'node' || kind === 'node-debugger') {
        const r = await nodeRealm(name, flags ? flags.split(' ') : [], bundleFile, kind === 'node-debugger');
        children.push(r.child);
        realms.push(r);
        continue;
      }
      const roles: Record<string, Role> = {
        chromium: 'fg',
        'chromium-worker': 'fg',
        'chromium-open': 'open',
        'chromium-bg': 'bg',
        'chromium-bg-worker': 'bg',
        'chromium-debugger': 'debugger',
      };
      const role = roles[kind];
      if (!role) throw new Error(`unknown realm '${name}'`);
      const page = await browsers.page(role, flags);
      const target = kind.endsWith('-worker') ? await page.worker() : page;
      const isolatedHere = await target.evaluate(
        () => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
        undefined,
      );
      if (isolatedHere !== (role !== 'open')) throw new Error(`${name}: crossOriginIsolated is ${isolatedHere}`);
      const site = role === 'open' ? open : isolated;
      realms.push(await chromiumRealm(name, target, `Chromium ${browsers.version()}`, site.url('/bench.js')));
    }
    loadProcs = startLoad(load, loadSession);

    const sections: string[] = [];
    const summary: string[][] = [];
    for (const spec of workloads) {
      const w = spec.replace(/\+max$/, '') as WorkloadName;
      const infos: SetupInfo[] = [];
      for (const r of realms) {
        const base = (r.name === 'chromium-open' ? open : isolated).origin;
        infos.push(await r.setup(w, { base, maximum: spec.endsWith('+max') }));
      }
      if (w !== 'timer' && new Set(infos.map((i) => i.check)).size !== 1)
        throw new Error(
          `${spec}: realms computed different results: ${infos.map((i, k) => `${realms[k]!.name}=${i.check}`)}`,
        );

      // Tier-up curve (the samples after the one setup ran), then where the work runs.
      const curves: number[][] = [];
      const threads: string[] = [];
      for (const r of realms) {
        curves.push(await r.run(warmup));
        // A probe of at least ~300 ms (30 clock ticks), so the busiest thread stands out.
        const per = Math.max(0.01, median(curves.at(-1)!.slice(-10)));
        threads.push(await busiestThread(r.pids(), () => r.run(Math.max(samples, Math.ceil(300 / per)))));
      }

      const all = realms.map(() => [] as number[]);
      const paired = realms.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        const batch: number[] = [];
        for (let i = 0; i < realms.length; i++) {
          const k = (i + round) % realms.length;
          const xs = await realms[k]!.run(samples);
          all[k]!.push(...xs);
          batch[k] = median(xs);
        }
        realms.forEach((_, k) => paired[k]!.push(batch[k]! / batch[0]!));
        console.error(
          `  ${spec} round ${round + 1}/${rounds}: ${realms.map((r, k) => `${r.name} ${fmt(batch[k]!)}`).join(', ')}`,
        );
      }
      const base = median(all[0]!);
      const base10 = pct(all[0]!, 0.1);
      const rows = realms.map((r, k) => {
        const c = curves[k]!;
        const m = median(all[k]!);
        const pr = paired[k]!;
        const p10 = pct(all[k]!, 0.1);
        return `| ${r.name} | ${threads[k]} | ${fmt(m)} | ${fmt(p10)} | ${fmt(pct(all[k]!, 0.9))} | **${(m / base).toFixed(2)}** | ${median(pr).toFixed(2)} (${pct(pr, 0.25).toFixed(2)}–${pct(pr, 0.75).toFixed(2)}) | ${(p10 / base10).toFixed(2)} | ${fmt(infos[k]!.firstMs)} | ${fmt(median(c.slice(0, 4)))} | ${fmt(median(c.slice(-10)))} |`;
      });
      sections.push(
        [
          `### ${spec}: ${infos[0]!.detail}`,
          '',
          `${w === 'timer' ? '' : `Result checksum ${infos[0]!.check} in every realm. `}${rounds} interleaved rounds × ${samples} samples per realm, after ${warmup} warm-up samples. Ratios are to ${realms[0]!.name}: of the medians; per round, the median (quartiles) of the ratio of the two batches' medians; of the 10th percentiles (the speed when the machine's other work leaves the realm alone). Warm-up: the 1st run (cold: code compiled lazily, by Liftoff), runs 2–5, and the last 10 warm-up runs.`,
          '',
          `| realm | busiest thread | median (ms) | p10 | p90 | ÷ ${realms[0]!.name} | per round | p10 ÷ p10 | 1st run | 2nd–5th | last 10 |`,
          '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
          ...rows,
        ].join('\n'),
      );
      realms.forEach((_, k) =>
        (summary[k] ??= []).push(
          `${(median(all[k]!) / base).toFixed(2)} / ${(pct(all[k]!, 0.1) / base10).toFixed(2)} / ${median(paired[k]!).toFixed(2)}`,
        ),
      );
    }

    const versions = [...new Set(realms.map((r) => r.version))].join('; ');
    const body = [
      `Runtimes: ${versions}. Chromium switches: \`${chromiumArgs().join(' ')}\` (+ --js-flags per realm, and playwright-core's own defaults).`,
      `Load: 1-minute load average ${load0.toFixed(2)} at the start${load ? `; ${load} busy-looping processes ran during the measurement, ${loadSession === 'own' ? 'each in a session of its own' : "in the bench's session (with the Node children)"}` : ''}; nproc ${availableParallelism()}; autogroup scheduling ${autogroup()}.`,
      '',
      `Time ÷ ${realms[0]!.name}'s, same run, interleaved: ratio of medians / of 10th percentiles / median of per-round ratios.`,
      '',
      `| realm | ${workloads.join(' | ')} |`,
      `| --- | ${workloads.map(() => '---:').join(' | ')} |`,
      ...realms.map((r, k) => `| ${r.name} | ${summary[k]!.join(' | ')} |`),
      '',
      ...sections.flatMap((s) => [s, '']),
    ].join('\n');
    console.log(body);
    if (write)
      appendResults(
        `Same bundle in Node and headless Chromium${load ? `, ${load} busy processes (${loadSession} session)` : ''} (bench/web_runtimes.ts)`,
        `npx tsx bench/web_runtimes.ts ${argv.filter((a) => a !== '--no-write').join(' ')}`.trim(),
        body,
      );
  } finally {
    for (const p of loadProcs) p.kill();
    for (const c of children) c.kill();
    await browsers.close();
    await isolated.close();
    await open.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
