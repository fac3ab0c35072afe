/**
 * Appends a benchmark section to bench/RESULTS.md with the command, the
 * machine (nproc, CPU model), Node version and date, so figures are never
 * separated from where they were measured.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';

export const RESULTS_FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

export function machineLine(): string {
  return `nproc ${availableParallelism()}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;
}

export function appendResults(title: string, command: string, body: string): void {
  if (!existsSync(RESULTS_FILE)) writeFileSync(RESULTS_FILE, '# Benchmark results\n\nEach section: command, machine, date, then figures measured side by side in one run.\n');
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  appendFileSync(RESULTS_FILE, `\n## ${title}\n\n- command: \`${command}\`\n- machine: ${machineLine()}\n- date: ${date}\n\n${body.trim()}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs async functions as benchmark.js deferred benchmarks, interleaved in one suite; returns per-name samples (ms). */
export async function runSuite(cases: { name: string; fn: () => Promise<unknown> }[], opts: { minSamples?: number; maxTime?: number } = {}): Promise<Map<string, number[]>> {
  const suite = new Benchmark.Suite();
  for (const c of cases) {
    suite.add(c.name, {
      defer: true,
      minSamples: opts.minSamples ?? 30,
      maxTime: opts.maxTime ?? 8,
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
    suite.on('cycle', (ev: { target: Benchmark }) => console.error(`  ${String(ev.target)}`));
    suite.on('complete', () => resolve());
    suite.run({ async: true });
  });
  const out = new Map<string, number[]>();
  suite.forEach((b: Benchmark) => out.set(b.name!, b.stats.sample.map((s) => s * 1000)));
  return out;
}
