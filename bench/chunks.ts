/**
 * Chunk counts: latency (median) and measured activation peak of
 * MobileNetV2 run with t ∈ {1, 2, 4, 6, 8, 16} chunks in every block, the default plan
 * (auto: the smallest peak) and per-layer (none, no fusion), side by side in one run
 * (benchmark.js, engines interleaved in rounds), on
 *   - 1.0/224 with the nsfwjs weights (cat.png from the fixtures when present),
 *   - 0.35/96 built by models/mobilenet_v2.ts with models/random_weights.ts.
 * The planner's estimated block time (planner/block_cost.ts) is printed next to the
 * measured latency, to check that the cost model ranks chunk counts as real time does.
 *
 *   npx tsx bench/chunks.ts [--no-write] [--rounds 8] [--max-time 1.5] [--models 1.0/224,0.35/96]
 *
 * Appends one section per model to bench/RESULTS.md unless --no-write.
 */
import { existsSync } from 'node:fs';
import { buildMobileNetV2 } from '../models/mobilenet_v2.js';
import { randomConstants } from '../models/random_weights.js';
import { planGraphReport } from '../planner/plan_graph.js';
import { resolveModel } from '../src/load_model.js';
import type { LoadedModel } from '../src/model.js';
import { loadModelInput } from '../src/preprocess/image.js';
import { prepareRun, type RunSetup } from '../src/run_setup.js';
import { fixturePath } from '../test/helpers/fixtures.js';
import { appendResults, median, runSuite } from './results.js';
import { loadKernels } from '../src/kernels/node_loader.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const write = !argv.includes('--no-write');
const rounds = Number(arg('rounds', '8'));
const maxTime = Number(arg('max-time', '1.5'));
const models = arg('models', '1.0/224,0.35/96').split(',');

const CHUNKS: (number | 'auto' | 'none')[] = [1, 2, 4, 6, 8, 16, 'auto', 'none'];
const label = (c: number | string) =>
  c === 'none' ? 'per-layer (none)' : c === 'auto' ? 'auto (default)' : `t = ${c}`;

async function modelAndInput(spec: string): Promise<{ model: LoadedModel; input: Float32Array; what: string }> {
  if (spec === '1.0/224') {
    const model = (await resolveModel('nsfw_mobilenet_v2')).model;
    const image = fixturePath('images', 'cat.png');
    if (existsSync(image)) {
      const { bytes } = await loadModelInput(image, 224, 224);
      return {
        model,
        input: Float32Array.from(bytes, (p) => p / 255),
        what: 'MobileNetV2 1.0/224 float32, nsfwjs weights, cat.png',
      };
    }
    return {
      model,
      input: syntheticInput(224 * 224 * 3),
      what: 'MobileNetV2 1.0/224 float32, nsfwjs weights, synthetic input (fixtures absent)',
    };
  }
  const m = /^([\d.]+)\/(\d+)$/.exec(spec);
  if (!m) throw new Error(`--models: expected ALPHA/RESOLUTION such as 0.35/96, got '${spec}'`);
  const alpha = Number(m[1]),
    res = Number(m[2]);
  const graph = buildMobileNetV2({ alpha, resolution: res });
  const model: LoadedModel = {
    source: graph.name,
    format: 'tfjs',
    graph,
    constants: randomConstants(graph, 1),
    input: { height: res, width: res, channels: 3, normalization: { kind: 'affine', scale: 1 / 255, offset: 0 } },
  };
  return {
    model,
    input: syntheticInput(res * res * 3),
    what: `MobileNetV2 ${alpha}/${res} float32, random weights (models/random_weights.ts, seed 1), synthetic input`,
  };
}

function syntheticInput(n: number): Float32Array {
  const a = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / (1 << 24);
  }
  return a;
}

function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / Math.max(m, 1e-30);
}

/** "32×1, 16×6, 4×36, …" for the first blocks, then how many blocks run whole. */
function chunkSummary(s: RunSetup): string {
  const steps = s.plan.steps.filter((x) => x.kind === 'block');
  if (steps.length === 0) return 'no fusion';
  const parts = steps.map((x) => (x.kind === 'block' ? (x.chunks === 1 ? '1' : `${x.chunks}×${x.chunkChannels}`) : ''));
  return parts.join(' ');
}

for (const spec of models) {
  const { model, input, what } = await modelAndInput(spec);
  const setups = new Map<string, RunSetup>();
  const estimated = new Map<string, number>();
  for (const c of CHUNKS) {
    const s = await prepareRun(model, { kernels: await loadKernels(), chunks: c });
    setups.set(String(c), s);
    estimated.set(String(c), planGraphReport(s.model.graph, { chunks: c }).estimatedBlocksMs);
  }
  // Every plan must compute the same network before its time means anything.
  const base = setups.get('1')!.executor.runFloat(input).output;
  const diffs = new Map<string, number>();
  for (const [k, s] of setups) {
    const d = relDiff(s.executor.runFloat(input).output, base);
    diffs.set(k, d);
    if (!(d < 1e-5))
      throw new Error(`${spec} chunks ${k}: output differs from t = 1 by ${d.toExponential(2)} (relative); not timing`);
  }
  console.error(
    `${what}: outputs agree (max relative difference vs t = 1: ${Math.max(...diffs.values()).toExponential(2)})`,
  );
  const samples = await runSuite(
    [...setups].map(([k, s]) => ({ name: k, fn: async () => s.executor.runFloat(input) })),
    { rounds, maxTime },
  );
  const med = (k: string) => median(samples.get(k)!);
  const t1 = med('1'),
    none = med('none');
  const rows = [...setups].map(([k, s]) => {
    const m = s.executor.memoryReport();
    const est = s.plan.steps.some((x) => x.kind === 'block') ? estimated.get(k)!.toFixed(2) : '–';
    return `| ${label(k === 'auto' || k === 'none' ? k : Number(k))} | ${m.plannedPeakBytes.toLocaleString('en-US')} | ${m.measuredPeakBytes.toLocaleString('en-US')} | ${med(k).toFixed(2)} | ${(med(k) / t1).toFixed(3)} | ${(med(k) / none).toFixed(3)} | ${est} | ${samples.get(k)!.length} | ${chunkSummary(s)} |`;
  });
  const table = [
    '| chunks | planned peak (B) | measured peak (B) | median latency (ms) | vs t = 1 | vs per-layer | estimated blocks (ms) | samples | chunks per block (t×c) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `Measured peak: highest arena byte written (canary scan). Outputs of every row equal t = 1 within ${Math.max(...diffs.values()).toExponential(1)} relative.`,
    `Fused blocks run one f32_block_fused call each (assembly/fused.ts); its schedule (planner/block_schedule/float.ts) follows from the chunk size.`,
  ].join('\n');
  console.log(`\n${what}\n\n${table}\n`);
  if (write)
    appendResults(
      `Chunk counts: ${what}`,
      `npx tsx bench/chunks.ts --models ${spec}${rounds !== 8 ? ` --rounds ${rounds}` : ''}`,
      table,
    );
}
