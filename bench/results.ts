/**
 * Appends a benchmark section to bench/RESULTS.md with the command, the
 * machine (nproc, CPU model), Node version, date and load average, so figures
 * are never separated from where they were measured.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';

export const RESULTS_FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

export function machineLine(): string {
  return `nproc ${availableParallelism()}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function appendResults(title: string, command: string, body: string): void {
  if (!existsSync(RESULTS_FILE))
    writeFileSync(
      RESULTS_FILE,
      '# Benchmark results\n\nEach section: command, machine, date, then figures measured side by side in one run.\n',
    );
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  appendFileSync(
    RESULTS_FILE,
    `\n## ${title}\n\n- command: \`${command}\`\n- machine: ${machineLine()}\n- date: ${date}\n- load average at the end (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}\n\n${body.trim()}\n`,
  );
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs async functions as benchmark.js deferred benchmarks and returns
 * per-name samples (ms). The engines are interleaved: `rounds` short suites,
 * each running every case (in a rotated order), so a machine whose speed
 * drifts during the run slows every engine alike instead of whichever ran last.
 */
export async function runSuite(
  cases: { name: string; fn: () => Promise<unknown> }[],
  opts: { rounds?: number; maxTime?: number } = {},
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const rounds = opts.rounds ?? 8;
  for (let r = 0; r < rounds; r++) {
    const suite = new Benchmark.Suite();
    const order = cases.map((_, i) => cases[(i + r) % cases.length]!);
    for (const c of order) {
      suite.add(c.name, {
        defer: true,
        minSamples: 5,
        maxTime: opts.maxTime ?? 1.5,
        fn: (d: { resolve(): void }) => {
          c.fn().then(
            () => d.resolve(),
            (e) => {
              console.error(e);
              process.exit(1);
            },
          );
        },
      });
    }
    await new Promise<void>((resolve) => {
      suite.on('cycle', (ev: { target: Benchmark }) =>
        console.error(`  round ${r + 1}/${rounds}: ${String(ev.target)}`),
      );
      suite.on('complete', () => resolve());
      suite.run({ async: true });
    });
    suite.forEach((b: Benchmark) => out.get(b.name!)!.push(...b.stats.sample.map((s) => s * 1000)));
  }
  return out;
}

/**
 * Medians (ms) of lowwater and TFLite-WASM, each running one input, timed side by side in
 * interleaved rounds (runSuite), with the sample counts.
 */
export async function timeAgainstTflite(
  lowwater: () => unknown,
  tflite: () => unknown,
  rounds: number,
): Promise<{ lowwater: number; tflite: number; lowwaterSamples: number; tfliteSamples: number }> {
  const samples = await runSuite(
    [
      { name: 'lowwater', fn: async () => lowwater() },
      { name: 'tflite-wasm', fn: async () => tflite() },
    ],
    { rounds },
  );
  const lw = samples.get('lowwater')!,
    tf = samples.get('tflite-wasm')!;
  return { lowwater: median(lw), tflite: median(tf), lowwaterSamples: lw.length, tfliteSamples: tf.length };
}
