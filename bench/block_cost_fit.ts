/**
 * Fits the planner's block cost model (planner/block_cost.ts) to the fused kernel on this
 * machine: times f32_block_fused for every inverted residual block of MobileNetV2 1.0/224
 * and 0.35/96 at a range of chunk counts (the schedule the executor would run), then fits
 * the four constants by least squares on relative error (non-negative; a constant that
 * comes out negative is dropped and the rest refitted).
 *
 *   npx tsx bench/block_cost_fit.ts [--rounds 40] [--min-ms 0.3] [--json] [--from FILE]
 *
 * Each point is the minimum over `rounds` interleaved trials (all points of a block take
 * turns, so a loaded moment hurts them alike and the minimum filters it out). Prints the
 * constants, measured against estimated time per block and chunk count, and how often the
 * model orders two chunk counts of one block the way the measurements do (pairs whose
 * measured times differ by more than 10%). --json prints the measured table instead;
 * --from FILE fits a table printed that way without measuring again. Short trials and
 * many rounds suit a shared machine: a trial that fits in one scheduler slice is not
 * preempted, and the minimum over rounds finds one.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { buildMobileNetV2 } from '../models/mobilenet_v2.js';
import { randomConstants } from '../models/random_weights.js';
import {
  DEFAULT_BLOCK_COST_MODEL,
  fusedBlockWork,
  workNs,
  type BlockCostModel,
  type BlockWork,
} from '../planner/block_cost.js';
import { chunkChannelsFor, detectBlocks, type InvertedResidualBlock } from '../planner/blocks.js';
import type { Conv2DOp, DepthwiseConv2DOp, Graph } from '../planner/ir.js';
import { instantiateKernels, type Kernels } from '../src/kernels/loader.js';
import { loadKernels } from '../src/kernels/node_loader.js';
import { Bump } from './bump.js';
import { packFusedBlock } from '../src/kernels/pack.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const rounds = Number(arg('rounds', '40'));
const minMs = Number(arg('min-ms', '0.3'));
const from = arg('from', '');
const asJson = argv.includes('--json');

const T_VALUES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96, 100000];

interface Point {
  model: string;
  block: string;
  chunks: number;
  chunkChannels: number;
  work: BlockWork;
  ms: number;
}

function f32(c: Map<number, unknown>, id: number): Float32Array {
  return c.get(id) as Float32Array;
}

/** One timed closure per chunk count of the block. */
function blockCases(k: Kernels, bump: Bump, g: Graph, consts: Map<number, unknown>, b: InvertedResidualBlock) {
  const e = g.ops[b.expand] as Conv2DOp,
    d = g.ops[b.depthwise] as DepthwiseConv2DOp,
    p = g.ops[b.project] as Conv2DOp;
  const xs = g.tensors[b.input]!.shape,
    ys = g.tensors[b.output]!.shape;
  const [H, W, cin] = [xs[1]!, xs[2]!, xs[3]!];
  const [oh, ow, cout] = [ys[1]!, ys[2]!, ys[3]!];
  const [he, we] = b.expandedSize;
  const stem = b.stem;
  const x = bump.put(new Float32Array(H * W * cin).map((_, i) => ((i * 7919) % 255) / 255));
  const y = bump.alloc(oh * ow * cout * 4);
  const res = b.add >= 0 ? x : 0;
  const weights = {
    expand: f32(consts, e.weights),
    expandBias: e.bias >= 0 ? f32(consts, e.bias) : null,
    depthwise: f32(consts, d.weights),
    depthwiseBias: d.bias >= 0 ? f32(consts, d.bias) : null,
    project: f32(consts, p.weights),
    projectBias: p.bias >= 0 ? f32(consts, p.bias) : null,
  };
  const seen = new Set<number>();
  const out: { chunks: number; chunkChannels: number; work: BlockWork; run: () => void }[] = [];
  for (const t of T_VALUES) {
    const c = chunkChannelsFor(b, t);
    if (seen.has(c)) continue;
    seen.add(c);
    const work = fusedBlockWork(g, b, c);
    const s = work.schedule;
    const w = bump.put(packFusedBlock(weights, cin, b.expandedChannels, cout, stem, s.groupChannels));
    const eb = bump.alloc(s.expandBytesUsed),
      db = bump.alloc(s.depthwiseBytesUsed);
    const args = [
      x,
      H,
      W,
      cin,
      stem ? 1 : 0,
      he,
      we,
      stem ? e.pad.top : 0,
      stem ? e.pad.left : 0,
      b.expandedChannels,
      d.stride[0],
      d.stride[1],
      d.dilation[0],
      d.dilation[1],
      d.pad.top,
      d.pad.left,
      y,
      oh,
      ow,
      cout,
      w,
      res,
      -Infinity,
      Infinity,
      eb,
      db,
      s.groupChannels,
      s.ringRows,
      s.bandRows,
    ] as const;
    out.push({
      chunks: Math.ceil(b.expandedChannels / c),
      chunkChannels: c,
      work,
      run: () => k.f32_block_fused(...args),
    });
  }
  return out;
}

async function measure(): Promise<Point[]> {
  const k = instantiateKernels(await loadKernels(), new WebAssembly.Memory({ initial: 256 }));
  const points: Point[] = [];
  for (const [alpha, res] of [
    [1.0, 224],
    [0.35, 96],
  ] as const) {
    const g = buildMobileNetV2({ alpha, resolution: res });
    const consts = randomConstants(g, 1);
    for (const b of detectBlocks(g)) {
      const bump = new Bump(k.memory);
      const cases = blockCases(k, bump, g, consts, b);
      // Calls per trial so that a trial lasts about minMs.
      const reps = cases.map((c) => {
        const t0 = performance.now();
        c.run();
        return Math.max(1, Math.ceil(minMs / Math.max(1e-3, performance.now() - t0)));
      });
      const best = cases.map(() => Infinity);
      for (let r = 0; r < rounds; r++) {
        cases.forEach((c, i) => {
          const t0 = performance.now();
          for (let j = 0; j < reps[i]!; j++) c.run();
          best[i] = Math.min(best[i]!, (performance.now() - t0) / reps[i]!);
        });
      }
      cases.forEach((c, i) =>
        points.push({
          model: `${alpha}/${res}`,
          block: b.name,
          chunks: c.chunks,
          chunkChannels: c.chunkChannels,
          work: c.work,
          ms: best[i]!,
        }),
      );
      console.error(
        `${alpha}/${res} ${b.name}: ${cases.map((c, i) => `t=${c.chunks} ${best[i]!.toFixed(3)}`).join(', ')}`,
      );
    }
  }
  return points;
}

const FEATURES: ((w: BlockWork) => number)[] = [
  (w) => w.gemmMultiplyAdds,
  (w) => w.depthwiseMultiplyAdds,
  (w) => w.calls,
  (w) => w.accumulatedBytes,
];

/** Least squares on relative error, θ ≥ 0 by dropping negative constants and refitting. */
function fit(points: { work: BlockWork; ms: number }[]): BlockCostModel {
  let active = FEATURES.map(() => true);
  for (;;) {
    const idx = active.flatMap((a, i) => (a ? [i] : []));
    const n = idx.length;
    const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const rhs = new Array<number>(n).fill(0);
    for (const p of points) {
      const ns = p.ms * 1e6;
      const f = idx.map((i) => FEATURES[i]!(p.work) / ns); // row of the relative-error system: f·θ ≈ 1
      for (let i = 0; i < n; i++) {
        rhs[i] += f[i]!;
        for (let j = 0; j < n; j++) A[i]![j] += f[i]! * f[j]!;
      }
    }
    const theta = solve(A, rhs);
    const neg = theta.findIndex((v) => v < 0);
    const full = FEATURES.map(() => 0);
    idx.forEach((i, j) => (full[i] = theta[j]!));
    if (neg < 0)
      return {
        nsPerMultiplyAdd: full[0]!,
        nsPerDepthwiseMultiplyAdd: full[1]!,
        nsPerCall: full[2]!,
        nsPerAccumulatedByte: full[3]!,
      };
    active = active.map((a, i) => a && i !== idx[neg]);
  }
}

/** Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j] -= f * M[c]![j]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= M[r]![j]! * x[j]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** Fraction of same-block pairs (measured ratio > 1.1) that the model orders the same way. */
function rankAgreement(points: Point[], model: BlockCostModel): { agree: number; pairs: number; worst: string[] } {
  let agree = 0,
    pairs = 0;
  const worst: string[] = [];
  for (const p of points) {
    for (const q of points) {
      if (p.model !== q.model || p.block !== q.block || !(q.ms > p.ms * 1.1)) continue;
      pairs++;
      if (workNs(q.work, model) > workNs(p.work, model)) agree++;
      else
        worst.push(
          `${p.model} ${p.block}: t=${p.chunks} ${p.ms.toFixed(3)} ms < t=${q.chunks} ${q.ms.toFixed(3)} ms, estimated ${(workNs(p.work, model) / 1e6).toFixed(3)} ≥ ${(workNs(q.work, model) / 1e6).toFixed(3)}`,
        );
    }
  }
  return { agree, pairs, worst };
}

/** Points of a --json table, with their work recomputed from the current schedule. */
function load(file: string): Point[] {
  const rows = JSON.parse(readFileSync(file, 'utf8')) as {
    model: string;
    block: string;
    chunks: number;
    chunkChannels: number;
    ms: number;
  }[];
  const graphs = new Map<string, Graph>();
  return rows.map((r) => {
    let g = graphs.get(r.model);
    if (!g) {
      const [alpha, res] = r.model.split('/').map(Number) as [number, number];
      graphs.set(r.model, (g = buildMobileNetV2({ alpha, resolution: res })));
    }
    const b = detectBlocks(g).find((x) => x.name === r.block);
    if (!b) throw new Error(`${file}: no block '${r.block}' in MobileNetV2 ${r.model}`);
    return { ...r, work: fusedBlockWork(g, b, r.chunkChannels) };
  });
}

const points = from ? load(from) : await measure();
if (asJson) {
  console.log(
    JSON.stringify(
      points.map((p) => ({
        model: p.model,
        block: p.block,
        chunks: p.chunks,
        chunkChannels: p.chunkChannels,
        ms: Number(p.ms.toFixed(4)),
      })),
    ),
  );
} else {
  const m = fit(points);
  console.log(
    `block cost fit — ${new Date().toISOString().slice(0, 16)}, ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version}, ${points.length} points`,
  );
  console.log(`fitted:  ${JSON.stringify(m)}`);
  console.log(`default: ${JSON.stringify(DEFAULT_BLOCK_COST_MODEL)}`);
  for (const [name, model] of [
    ['fitted', m],
    ['default', DEFAULT_BLOCK_COST_MODEL],
  ] as const) {
    const rel = points.map((p) => Math.abs(workNs(p.work, model) / 1e6 - p.ms) / p.ms).sort((a, b) => a - b);
    const r = rankAgreement(points, model);
    console.log(
      `${name}: median |relative error| ${(rel[rel.length >> 1]! * 100).toFixed(1)}%, 90th percentile ${(rel[Math.floor(rel.length * 0.9)]! * 100).toFixed(1)}%; ranking: ${r.agree}/${r.pairs} pairs (measured >10% apart) ordered as measured`,
    );
    for (const w of r.worst.slice(0, 8)) console.log(`  disagrees: ${w}`);
  }
  console.log('\n| model | block | t | c | groups | measured ms | estimated ms (fitted) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const p of points)
    console.log(
      `| ${p.model} | ${p.block} | ${p.chunks} | ${p.chunkChannels} | ${p.work.schedule.groups} | ${p.ms.toFixed(3)} | ${(workNs(p.work, m) / 1e6).toFixed(3)} |`,
    );
}
