// Fused blocks through the executor: every chunk count against t = 1 and the
// unfused per-layer path, dilated blocks (DeepLab's backbone), the debug range guard on
// every fused call, the measured memory of MobileNetV2 1.0/224 against the Section 5.1
// figures, and top-1 on every fixture image for every chunk count.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { randomConstants } from '../../models/random_weights.js';
import { detectBlocks } from '../../planner/blocks.js';
import { planGraph } from '../../planner/plan_graph.js';
import type { Graph } from '../../planner/ir.js';
import type { BlockStep } from '../../planner/plan.js';
import type { LoadedModel } from '../../src/model.js';
import { interpret } from '../../src/reference/interpreter.js';
import { Executor } from '../../src/executor/executor.js';
import { lowerPlan } from '../../src/executor/lower.js';
import { resolveModel } from '../../src/load_model.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { prepareRun } from '../../src/run_setup.js';
import { fixturePath, skipUnless, skipWithout } from '../helpers/fixtures.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

function modelOf(graph: Graph, seed: number): LoadedModel {
  const s = graph.tensors[graph.inputs[0]!]!.shape;
  return {
    source: graph.name,
    format: 'tfjs',
    graph,
    constants: randomConstants(graph, seed),
    input: { height: s[1]!, width: s[2]!, channels: 3, normalization: { kind: 'affine', scale: 1 / 255, offset: 0 } },
  };
}

function input(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / (1 << 24);
  }
  return a;
}

/** max |a − b| relative to the largest |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / Math.max(m, 1e-30);
}

const argmax = (a: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
};

const allChannels = (g: Graph) => Math.max(...detectBlocks(g).map((b) => b.expandedChannels));

t.test(
  'dilated blocks (DeepLab v3, MobileNetV2 backbone at output stride 8): every t equals per-layer and the reference',
  async (t) => {
    const graph = buildDeepLabV3({ alpha: 0.5, resolution: 49, outputStride: 8, argmax: false });
    const blocks = detectBlocks(graph);
    const dilations = new Set(
      blocks.map((b) => (graph.ops[b.depthwise] as { dilation: [number, number] }).dilation[0]),
    );
    t.ok(
      dilations.has(2) && dilations.has(4),
      `blocks with dilation 2 and 4 are fused (dilations ${[...dilations].join(', ')})`,
    );
    const model = modelOf(graph, 3);
    const x = input(49 * 49 * 3, 9);
    const want = interpret(graph, model.constants, x).get(graph.outputs[0]!)!;
    const perLayer = (
      await Executor.create(model, planGraph(graph, { chunks: 'none' }), { kernels: await loadKernels() })
    ).runFloat(x).output;
    t.ok(relDiff(perLayer, want) < 1e-5, `per-layer vs reference ${relDiff(perLayer, want).toExponential(2)}`);
    for (const chunks of [1, 2, 3, 4, 6, 8, 16, allChannels(graph), 'auto'] as const) {
      const plan = planGraph(graph, { chunks });
      const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
      const got = ex.runFloat(x).output;
      t.ok(relDiff(got, perLayer) < 1e-5, `chunks ${chunks}: vs per-layer ${relDiff(got, perLayer).toExponential(2)}`);
      const m = ex.memoryReport();
      t.ok(
        m.measuredPeakBytes <= m.arenaBytes,
        `chunks ${chunks}: measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
    }
  },
);

t.test(
  'debug build: the range guard checks every fused call for every t, and debug = release bit for bit',
  async (t) => {
    const graph = buildMobileNetV2({ alpha: 0.35, resolution: 96, softmax: false });
    const model = modelOf(graph, 21);
    const x = input(96 * 96 * 3, 4);
    for (const chunks of [1, 2, 3, 4, 6, 8, 16, allChannels(graph), 'auto'] as const) {
      const plan = planGraph(graph, { chunks });
      const rel = (await Executor.create(model, plan, { kernels: await loadKernels() })).runFloat(x).output;
      const dbgEx = await Executor.create(model, plan, { kernels: await loadKernels({ debug: true }), debug: true });
      const dbg = dbgEx.runFloat(x).output;
      t.same(Array.from(dbg), Array.from(rel), `chunks ${chunks}`);
    }
  },
);

t.test("lowering refuses chunk buffers smaller than the fused kernel's schedule", async (t) => {
  const graph = buildMobileNetV2({ alpha: 0.35, resolution: 96 });
  const model = modelOf(graph, 5);
  const plan = planGraph(graph, { chunks: 6 });
  const step = plan.steps.find((s): s is BlockStep => s.kind === 'block')!;
  for (const which of ['expandBuffer', 'depthwiseBuffer'] as const) {
    const buffers = plan.buffers.map((b) => ({ ...b }));
    buffers[step[which]]!.bytes = 4;
    t.throws(
      () => lowerPlan(model, { ...plan, buffers }),
      /chunk buffer #\d+ has 4 bytes; the fused kernel's schedule needs \d+/,
      which,
    );
  }
});

const nsfw = await resolveModel('nsfw_mobilenet_v2');

t.test('MobileNetV2 1.0/224: measured peak within the Section 5.1 figures', async (t) => {
  const x = input(224 * 224 * 3, 17);
  for (const [chunks, limit] of [
    [6, 2_107_392],
    ['auto', 2_007_040],
  ] as const) {
    const s = await prepareRun(nsfw.model, { kernels: await loadKernels(), chunks });
    s.executor.runFloat(x);
    const m = s.executor.memoryReport();
    t.ok(m.measuredPeakBytes <= limit, `chunks ${chunks}: measured ${m.measuredPeakBytes} ≤ ${limit}`);
    t.ok(m.measuredPeakBytes <= m.plannedPeakBytes, `chunks ${chunks}: measured ≤ planned ${m.plannedPeakBytes}`);
    t.equal(m.arenaBytes, s.plan.arenaBytes);
    // weights + arena + 64 KiB (module data and alignment), rounded up to whole pages.
    const allowed = Math.ceil((m.weightsBytes + m.arenaBytes + 65536) / 65536) * 65536;
    t.ok(m.wasmMemoryBytes <= allowed, `chunks ${chunks}: WebAssembly memory ${m.wasmMemoryBytes} ≤ ${allowed}`);
  }
});

const images = (() => {
  try {
    return readdirSync(fixturePath('images'))
      .filter((f) => /\.(png|jpe?g|webp)$/i.test(f))
      .sort();
  } catch {
    return [];
  }
})();

t.test(
  'nsfwjs MobileNetV2 on every fixture image: each t, auto and per-layer give the t = 1 output (1e-5) and top-1',
  {
    skip: skipUnless('images') || skipWithout(images.length ? false : 'no fixture images'),
  },
  async (t) => {
    const runs = new Map<string, Executor>();
    for (const chunks of [1, 2, 3, 4, 6, 8, 16, 1280, 'auto', 'none'] as const)
      runs.set(String(chunks), (await prepareRun(nsfw.model, { kernels: await loadKernels(), chunks })).executor);
    for (const image of images) {
      const { bytes } = await loadModelInput(fixturePath('images', image), 224, 224);
      const base = runs.get('1')!.runPixels(bytes).output;
      const bad: string[] = [];
      for (const [k, ex] of runs) {
        const out = ex.runPixels(bytes).output;
        const d = relDiff(out, base);
        if (!(d <= 1e-5) || argmax(out) !== argmax(base))
          bad.push(`chunks ${k}: relative difference ${d.toExponential(2)}, top-1 ${argmax(out)} vs ${argmax(base)}`);
      }
      t.same(bad, [], `${image}: top-1 ${argmax(base)} for all ${runs.size} plans`);
    }
  },
);
