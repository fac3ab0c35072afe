/**
 * Timing a model's run per plan step. Timed runs (each kernel call between two
 * performance.now() readings, Executor.runPixelsTimed) alternate with ordinary
 * runs, so both see the same machine. Each step's figure is its median over the
 * timed runs, which leaves out most waits for a CPU on a busy machine (few steps
 * are hit by one); the whole run's wall time is the median of the same runs'
 * latencies, reported with their CPU time, and each run's own steps are compared
 * with its own latency (`coverage`).
 */
import type { Graph } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';
import type { Executor } from '../executor/executor.js';
import { UsageError } from '../errors.js';
import { stepCosts } from './costs.js';
import type { Profile, ProfileOptions, ProfileRow } from './types.js';

export const DEFAULT_WARMUP = 5;
/** Without `runs`, as many timed runs as take about this long... */
const TARGET_MS = 2000;
/** ...within these bounds. */
const MIN_RUNS = 10;
const MAX_RUNS = 100;

/** '1 run', '5 runs'. */
export const runsText = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export function median(values: ArrayLike<number>): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function checkCount(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= min))
    throw new UsageError(`profile: ${name} must be a whole number ≥ ${min}, got ${v}`);
}

/** Microseconds of user and system CPU time (Node's process.cpuUsage). */
interface CpuUsage {
  user: number;
  system: number;
}

export interface StepTimes {
  /** stepMs[s][r]: step s in timed run r. */
  stepMs: Float64Array[];
  /** Latency of each timed run. */
  runMs: Float64Array;
  /** CPU time of the process over each timed run; empty where process.cpuUsage does not exist. */
  cpuMs: Float64Array;
  /** Latency of each ordinary run. */
  plainMs: Float64Array;
  runs: number;
  warmup: number;
}

/** Warm-up runs, then `runs` timed runs each followed by an ordinary one. */
export function timeSteps(executor: Executor, pixels: Uint8Array, options: ProfileOptions = {}): StepTimes {
  checkCount('runs', options.runs, 1);
  checkCount('warmup', options.warmup, 0);
  const warmup = options.warmup ?? DEFAULT_WARMUP;
  const warm: number[] = [];
  for (let i = 0; i < warmup; i++) warm.push(executor.runPixels(pixels).latencyMs);
  let runs = options.runs;
  if (runs === undefined) {
    const probe = warm.length ? median(warm.slice(-3)) : executor.runPixels(pixels).latencyMs;
    runs = Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.round(TARGET_MS / Math.max(probe, 1e-3))));
  }
  const n = executor.stepCount;
  const stepMs = Array.from({ length: n }, () => new Float64Array(runs));
  const runMs = new Float64Array(runs);
  const plainMs = new Float64Array(runs);
  const cpuUsage = (globalThis as { process?: { cpuUsage?: (since?: CpuUsage) => CpuUsage } }).process?.cpuUsage;
  const cpuMs = new Float64Array(cpuUsage ? runs : 0);
  const one = new Float64Array(n);
  for (let r = 0; r < runs; r++) {
    const c0 = cpuUsage?.();
    runMs[r] = executor.runPixelsTimed(pixels, one).latencyMs;
    if (cpuUsage) {
      const c = cpuUsage(c0);
      cpuMs[r] = (c.user + c.system) / 1000;
    }
    for (let s = 0; s < n; s++) stepMs[s]![r] = one[s]!;
    plainMs[r] = executor.runPixels(pixels).latencyMs;
  }
  return { stepMs, runMs, cpuMs, plainMs, runs, warmup };
}

export interface ProfileSubject {
  executor: Executor;
  /** The graph as executed and its plan. */
  graph: Graph;
  plan: Plan;
  /** The graph as imported from the file (before dequantizing or fusing), for operator indices. */
  fileGraph?: Graph;
  model: string;
  path: 'integer' | 'float32';
  pathDescription: string;
}

const gmacs = (macs: number, ms: number): number | null => (macs > 0 && ms > 0 ? macs / ms / 1e6 : null);

/** Times `subject` on `pixels` (RGB bytes of the model's input size) and puts costs next to the times. */
export function profileSteps(
  subject: ProfileSubject,
  pixels: Uint8Array,
  input: Profile['input'],
  options: ProfileOptions = {},
): Profile {
  const times = timeSteps(subject.executor, pixels, options);
  const costs = stepCosts(subject.graph, subject.plan, subject.executor.q8Blocks, subject.fileGraph);
  const totalMs = median(times.runMs);
  const medians = times.stepMs.map((x) => median(x));
  const stepsMs = medians.reduce((s, x) => s + x, 0);
  // Per run: the part of its latency that falls inside timed steps.
  const covered = Float64Array.from(times.runMs, (total, r) => times.stepMs.reduce((s, x) => s + x[r]!, 0) / total);
  const rows: ProfileRow[] = costs.map((c, i) => {
    const ms = medians[i]!;
    return {
      step: c.step,
      kind: c.kind,
      what: c.what,
      name: c.name,
      out: c.out,
      operators: c.operators,
      operatorTypes: c.operatorTypes,
      folded: c.folded,
      ms,
      meanMs: times.stepMs[i]!.reduce((a, x) => a + x, 0) / times.runs,
      minMs: Math.min(...times.stepMs[i]!),
      share: ms / stepsMs,
      macs: c.macs,
      executedMacs: c.executedMacs,
      gmacPerS: gmacs(c.macs, ms),
      bytesRead: c.activationBytesRead + c.weightBytes,
      activationBytesRead: c.activationBytesRead,
      weightBytes: c.weightBytes,
      bytesWritten: c.bytesWritten,
      chunks: c.chunks,
    };
  });
  const macs = rows.reduce((s, r) => s + r.macs, 0);
  const executedMacs = rows.reduce((s, r) => s + r.executedMacs, 0);
  const notes: string[] = [];
  if (executedMacs > macs)
    notes.push(
      `the fused integer blocks compute ${((executedMacs / macs - 1) * 100).toFixed(1)}% more multiply-adds than the graph has (halo rows of neighbouring tiles, recomputed); GMAC/s counts the graph's`,
    );
  if (rows.some((r) => r.kind === 'block'))
    notes.push(
      'a fused block is one kernel call (expansion, depthwise, projection and residual add, chunk by chunk), so it is timed as one row',
    );
  const cpuMs = times.cpuMs.length ? median(times.cpuMs) : null;
  if (stepsMs < 0.9 * totalMs)
    notes.push(
      `the steps' medians add up to ${((stepsMs / totalMs) * 100).toFixed(0)}% of the median run` +
        (cpuMs !== null && cpuMs < 0.9 * totalMs
          ? `, and a run took ${cpuMs.toFixed(2)} ms of CPU time for ${totalMs.toFixed(2)} ms of wall time: the process waited for a CPU (a busy machine), which the medians mostly leave out`
          : ': the runs vary (a busy machine?); more runs help'),
    );
  return {
    version: 1,
    model: subject.model,
    path: subject.path,
    pathDescription: subject.pathDescription,
    input,
    runs: times.runs,
    warmup: times.warmup,
    timer: `performance.now() around each plan step's kernel call; medians of ${runsText(times.runs, 'run')} after ${runsText(times.warmup, 'warm-up run')}, each timed run followed by an untimed one`,
    totalMs,
    cpuMs,
    unprofiledMs: median(times.plainMs),
    stepsMs,
    coverage: median(covered),
    macs,
    executedMacs,
    gmacPerS: macs / stepsMs / 1e6,
    rows,
    notes,
  };
}
