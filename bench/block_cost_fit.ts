/**
 * Fits the planner's block cost model (planner/block_cost.ts) to one path's fused kernel on
 * this machine, then fits its four constants by least squares on relative error
 * (non-negative; a constant that comes out negative is dropped and the rest refitted).
 *
 *   npx tsx bench/block_cost_fit.ts [--path float|integer] [--rounds 40] [--min-ms 0.3]
 *                                   [--model FILE] [--json] [--from FILE]
 *
 * --path float (default) times f32_block_fused for every inverted residual block of
 * MobileNetV2 1.0/224 and 0.35/96 (built with random weights) at a range of chunk counts
 * (the float schedule the executor would run). Each point is the minimum over `rounds`
 * interleaved trials (all points of a block take turns, so a loaded moment hurts them alike
 * and the minimum filters it out); a trial repeats the call for about --min-ms. Short trials
 * and many rounds suit a shared machine: a trial that fits in one scheduler slice is not
 * preempted, and the minimum over rounds finds one.
 *
 * --path integer times q8_block for every block of the quantized MobileNetV2 file (--model,
 * default the fixture mobilenet_v2_1.0_224_quant.tflite) at the same chunk counts: one
 * executor per chunk count runs the whole network on cat.png per round (each block's call
 * timed, its input fresh from the previous step as in a real run), the executors in turn,
 * and each block's point is its minimum over the rounds. A point's work is counted from the
 * tiles that executor's lowering chose (integer schedule, float high-water included).
 *
 * Prints the constants, measured against estimated time per block and chunk count, and how
 * often the model orders two chunk counts of one block the way the measurements do (pairs
 * whose measured times differ by more than 10%). --json prints the measured table instead;
 * --from FILE fits a table printed that way without measuring again (work recomputed from
 * the current schedules).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename } from 'node:path';
import { buildMobileNetV2 } from '../models/mobilenet_v2.js';
import { randomConstants } from '../models/random_weights.js';
import {
  blockWorkForChunks,
  DEFAULT_BLOCK_COST_MODEL,
  integerBlockWork,
  workNs,
  type BlockWork,
  type KernelCostModel,
} from '../planner/block_cost.js';
import { chunkChannelsFor, detectBlocks, type InvertedResidualBlock } from '../planner/blocks.js';
import type { NumericPath } from '../planner/block_schedule/index.js';
import type { Conv2DOp, DepthwiseConv2DOp, Graph } from '../planner/ir.js';
import { planGraph } from '../planner/plan_graph.js';
import { Executor } from '../src/executor/executor.js';
import { lowerPlanQ8, type Q8BlockLowering } from '../src/executor/lower.js';
import { loadTfliteFile } from '../src/importers/tflite/index.js';
import { instantiateKernels, type Kernels } from '../src/kernels/loader.js';
import { loadKernels } from '../src/kernels/node_loader.js';
import type { LoadedModel } from '../src/model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { Bump } from './bump.js';
import { packFusedBlock } from '../src/kernels/pack.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const path = arg('path', 'float') as NumericPath;
if (path !== 'float' && path !== 'integer') throw new Error(`--path must be float or integer, got '${path}'`);
const rounds = Number(arg('rounds', '40'));
const minMs = Number(arg('min-ms', '0.3'));
const from = arg('from', '');
const modelFile = arg('model', fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
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
    const work = blockWorkForChunks(g, b, c, 'float');
    const s = work.schedule;
    if (s.path !== 'float') throw new Error('float path: expected a float schedule');
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

async function measureFloat(): Promise<Point[]> {
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

/** The blocks of an integer plan with `chunks` in every block, as lowering tiled them (by step index). */
function integerLowering(model: LoadedModel, chunks: number) {
  const plan = planGraph(model.graph, { chunks });
  return { plan, blocks: lowerPlanQ8(model, plan).blocks };
}

/** A lowered block as the table names it: 'block i' (i-th in the graph; TFLite names are long). */
const blockKey = (g: Graph, l: Q8BlockLowering, plan: ReturnType<typeof planGraph>) => {
  const step = plan.steps[l.step]!;
  if (step.kind !== 'block') throw new Error(`step ${l.step} is not a block`);
  const i = detectBlocks(g).findIndex((x) => x.expand === step.expand);
  return { name: `block ${i}`, chunkChannels: step.chunkChannels, chunks: step.chunks };
};

async function measureInteger(): Promise<Point[]> {
  const model = await loadTfliteFile(modelFile);
  const g = model.graph;
  const kernels = await loadKernels();
  const { bytes } = await loadModelInput(fixturePath('images', 'cat.png'), 224, 224);
  // One executor per chunk count; a (block, chunk size) reached by several counts is timed in the first.
  const runs: { ex: Executor; times: Float64Array; points: { step: number; key: string }[] }[] = [];
  const info = new Map<string, { block: string; chunks: number; chunkChannels: number; work: BlockWork }>();
  for (const t of T_VALUES) {
    const plan = planGraph(g, { chunks: t });
    const ex = await Executor.create(model, plan, { kernels, measure: false });
    const points: { step: number; key: string }[] = [];
    for (const l of ex.q8Blocks) {
      const k = blockKey(g, l, plan);
      const key = `${k.name} ${k.chunkChannels}`;
      if (info.has(key)) continue;
      info.set(key, {
        block: k.name,
        chunks: k.chunks,
        chunkChannels: k.chunkChannels,
        work: integerBlockWork(l.geometry, l.tiling),
      });
      points.push({ step: l.step, key });
    }
    if (points.length) runs.push({ ex, times: new Float64Array(ex.stepCount), points });
  }
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const run of runs) {
      run.ex.runPixelsTimed(bytes, run.times);
      for (const p of run.points) best.set(p.key, Math.min(best.get(p.key) ?? Infinity, run.times[p.step]!));
    }
  }
  const name = basename(modelFile, '.tflite');
  const points = [...info].map(([key, p]) => ({ model: name, ...p, ms: best.get(key)! }));
  detectBlocks(g).forEach((_, i) => {
    const mine = points.filter((p) => p.block === `block ${i}`).sort((x, y) => x.chunks - y.chunks);
    console.error(`${name} block ${i}: ${mine.map((p) => `t=${p.chunks} ${p.ms.toFixed(3)}`).join(', ')}`);
  });
  return points;
}

/**
 * The counts each path's constants weigh. The float fit keeps the stem conv with the GEMMs
 * (one constant for both: the float stem runs the same micro-kernel row by row) and has no
 * requantization; the integer fit weighs all six counts.
 */
const FEATURES: Record<NumericPath, { keys: (keyof KernelCostModel)[]; count: (w: BlockWork) => number }[]> = {
  float: [
    { keys: ['nsPerMultiplyAdd', 'nsPerConvMultiplyAdd'], count: (w) => w.gemmMultiplyAdds + w.convMultiplyAdds },
    { keys: ['nsPerDepthwiseMultiplyAdd'], count: (w) => w.depthwiseMultiplyAdds },
    { keys: ['nsPerCall'], count: (w) => w.calls },
    { keys: ['nsPerAccumulatedByte'], count: (w) => w.accumulatedBytes },
  ],
  integer: [
    { keys: ['nsPerMultiplyAdd'], count: (w) => w.gemmMultiplyAdds },
    { keys: ['nsPerConvMultiplyAdd'], count: (w) => w.convMultiplyAdds },
    { keys: ['nsPerDepthwiseMultiplyAdd'], count: (w) => w.depthwiseMultiplyAdds },
    { keys: ['nsPerCall'], count: (w) => w.calls },
    { keys: ['nsPerAccumulatedByte'], count: (w) => w.accumulatedBytes },
    { keys: ['nsPerRequantizedValue'], count: (w) => w.requantizedValues },
  ],
};

/** Least squares on relative error, θ ≥ 0 by dropping negative constants and refitting. */
function fit(points: { work: BlockWork; ms: number }[]): KernelCostModel {
  const features = FEATURES[path];
  let active = features.map(() => true);
  for (;;) {
    const idx = active.flatMap((a, i) => (a ? [i] : []));
    const n = idx.length;
    const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const rhs = new Array<number>(n).fill(0);
    for (const p of points) {
      const ns = p.ms * 1e6;
      const f = idx.map((i) => features[i]!.count(p.work) / ns); // row of the relative-error system: f·θ ≈ 1
      for (let i = 0; i < n; i++) {
        rhs[i] += f[i]!;
        for (let j = 0; j < n; j++) A[i]![j] += f[i]! * f[j]!;
      }
    }
    const theta = solve(A, rhs);
    const neg = theta.findIndex((v) => v < 0);
    if (neg < 0) {
      const model: KernelCostModel = {
        nsPerMultiplyAdd: 0,
        nsPerConvMultiplyAdd: 0,
        nsPerDepthwiseMultiplyAdd: 0,
        nsPerCall: 0,
        nsPerAccumulatedByte: 0,
        nsPerRequantizedValue: 0,
      };
      idx.forEach((i, j) => features[i]!.keys.forEach((k) => (model[k] = theta[j]!)));
      return model;
    }
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
function rankAgreement(points: Point[], model: KernelCostModel): { agree: number; pairs: number; worst: string[] } {
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

/** Points of a --json table, with their work recomputed from the current schedules. */
async function load(file: string): Promise<Point[]> {
  const rows = JSON.parse(readFileSync(file, 'utf8')) as {
    model: string;
    block: string;
    chunks: number;
    chunkChannels: number;
    ms: number;
  }[];
  if (path === 'integer') {
    const model = await loadTfliteFile(modelFile);
    const byChunks = new Map<number, Map<string, BlockWork>>();
    return rows.map((r) => {
      let works = byChunks.get(r.chunks);
      if (!works) {
        const { plan, blocks } = integerLowering(model, r.chunks);
        works = new Map(
          blocks.map((l) => [blockKey(model.graph, l, plan).name, integerBlockWork(l.geometry, l.tiling)]),
        );
        byChunks.set(r.chunks, works);
      }
      const work = works.get(r.block);
      if (!work) throw new Error(`${file}: no block '${r.block}' in ${modelFile}`);
      return { ...r, work };
    });
  }
  const graphs = new Map<string, Graph>();
  return rows.map((r) => {
    let g = graphs.get(r.model);
    if (!g) {
      const [alpha, res] = r.model.split('/').map(Number) as [number, number];
      graphs.set(r.model, (g = buildMobileNetV2({ alpha, resolution: res })));
    }
    const b = detectBlocks(g).find((x) => x.name === r.block);
    if (!b) throw new Error(`${file}: no block '${r.block}' in MobileNetV2 ${r.model}`);
    return { ...r, work: blockWorkForChunks(g, b, r.chunkChannels, 'float') };
  });
}

const points = from ? await load(from) : path === 'integer' ? await measureInteger() : await measureFloat();
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
    `block cost fit (${path}) — ${new Date().toISOString().slice(0, 16)}, ${cpus().length} CPUs, ${cpus()[0]?.model}, node ${process.version}, ${points.length} points`,
  );
  console.log(`fitted:  ${JSON.stringify(m)}`);
  console.log(`default: ${JSON.stringify(DEFAULT_BLOCK_COST_MODEL[path])}`);
  for (const [name, model] of [
    ['fitted', m],
    ['default', DEFAULT_BLOCK_COST_MODEL[path]],
  ] as const) {
    const rel = points.map((p) => Math.abs(workNs(p.work, model) / 1e6 - p.ms) / p.ms).sort((a, b) => a - b);
    const r = rankAgreement(points, model);
    console.log(
      `${name}: median |relative error| ${(rel[rel.length >> 1]! * 100).toFixed(1)}%, 90th percentile ${(rel[Math.floor(rel.length * 0.9)]! * 100).toFixed(1)}%; ranking: ${r.agree}/${r.pairs} pairs (measured >10% apart) ordered as measured`,
    );
    for (const w of r.worst.slice(0, 8)) console.log(`  disagrees: ${w}`);
  }
  console.log(
    `\n| model | block | t | c | ${path === 'float' ? 'groups' : 'tiles'} | measured ms | estimated ms (fitted) |`,
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const p of points) {
    const s = p.work.schedule;
    console.log(
      `| ${p.model} | ${p.block} | ${p.chunks} | ${p.chunkChannels} | ${s.path === 'float' ? s.groups : s.tiles.length} | ${p.ms.toFixed(3)} | ${(workNs(p.work, m) / 1e6).toFixed(3)} |`,
    );
  }
}
