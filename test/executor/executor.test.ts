// The executor runs plans in one WebAssembly memory: outputs against the
// scalar reference interpreter, every chunk count against t = 1, and the
// memory it really touches against what the plan says.
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { randomConstants } from '../../models/random_weights.js';
import { planGraph } from '../../planner/plan_graph.js';
import type { Graph } from '../../planner/ir.js';
import type { Plan } from '../../planner/plan.js';
import type { LoadedModel } from '../../src/model.js';
import { interpret } from '../../src/reference/interpreter.js';
import { ArenaTooSmallError, Executor } from '../../src/executor/executor.js';
import { rangeChecker, RangeViolationError } from '../../src/executor/range_guard.js';
import { PlanVerificationError } from '../../planner/verify.js';
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

/** max |a-b| relative to the largest |b|: float reassociation only should stay near 1e-7. */
function relDiff(a: Float32Array, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / Math.max(m, 1e-30);
}

// Logits rather than softmax probabilities: differences show before saturation.
const graph = buildMobileNetV2({ alpha: 0.35, resolution: 96, softmax: false });
const model = modelOf(graph, 11);
const x = input(96 * 96 * 3, 5);

t.test('per-layer plan matches the float64 reference interpreter', async (t) => {
  const ex = await Executor.create(model, planGraph(graph, { chunks: 'none' }), { kernels: await loadKernels() });
  const want = interpret(graph, model.constants, x).get(graph.outputs[0]!)!;
  const got = ex.runFloat(x).output;
  t.ok(relDiff(got, want) < 1e-5, `relative difference ${relDiff(got, want).toExponential(2)}`);
});

const maxExpanded = Math.max(
  ...graph.ops.filter((o) => o.kind === 'dwconv2d').map((o) => graph.tensors[o.outputs[0]!]!.shape[3]!),
);
for (const chunks of [1, 2, 3, 4, 6, 8, 16, maxExpanded, 'auto'] as const) {
  t.test(`chunks ${chunks}: output equals t = 1, measured memory within the plan`, async (t) => {
    const base = (
      await Executor.create(model, planGraph(graph, { chunks: 1 }), { kernels: await loadKernels() })
    ).runFloat(x).output;
    const plan = planGraph(graph, { chunks });
    t.ok(
      plan.steps.some((s) => s.kind === 'block'),
      'plan has fused blocks',
    );
    const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
    const a = ex.runFloat(x).output;
    const b = ex.runFloat(x).output; // the second run paints a different canary byte
    t.ok(relDiff(a, base) < 1e-5, `relative difference vs t=1 ${relDiff(a, base).toExponential(2)}`);
    t.same(Array.from(a), Array.from(b), 'runs are repeatable');
    const m = ex.memoryReport();
    t.equal(m.arenaBytes, plan.arenaBytes, 'arena created = plan arena');
    t.ok(
      m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
      `measured ${m.measuredPeakBytes} <= arena ${m.arenaBytes}`,
    );
    // A chain: arena = lower bound, so the touched bytes cannot exceed the planned peak.
    t.ok(
      m.measuredPeakBytes <= m.plannedPeakBytes,
      `measured ${m.measuredPeakBytes} <= planned peak ${m.plannedPeakBytes}`,
    );
    t.ok(
      m.wasmMemoryBytes <= m.weightsBytes + m.arenaBytes + 65536 + 65536,
      `WebAssembly memory ${m.wasmMemoryBytes} ≤ weights + arena + 64 KiB + page rounding`,
    );
  });
}

t.test('debug build with range checks runs every chunk count and agrees with release', async (t) => {
  for (const chunks of ['none', 1, 3, 'auto'] as const) {
    const plan = planGraph(graph, { chunks });
    const rel = (await Executor.create(model, plan, { kernels: await loadKernels() })).runFloat(x).output;
    const dbg = (
      await Executor.create(model, plan, { kernels: await loadKernels({ debug: true }), debug: true })
    ).runFloat(x).output;
    t.same(Array.from(dbg), Array.from(rel), `chunks ${chunks}: debug = release bit for bit`);
  }
});

t.test('a corrupted plan (two live tensors at one offset) is refused before running', async (t) => {
  const plan = planGraph(graph, { chunks: 'none' });
  // Point a mid-network tensor at another tensor's offset that is live at the same time:
  // verifyPlan must refuse it before any kernel runs.
  const bad: Plan = {
    ...plan,
    buffers: plan.buffers.map((b) => ({ ...b })),
    tensorOffsets: new Map(plan.tensorOffsets),
  };
  const victim = bad.buffers.find((b) => b.tensor >= 0 && b.lastStep > b.firstStep + 1 && b.aliasOf === undefined)!;
  const other = bad.buffers.find(
    (b) =>
      b !== victim &&
      b.tensor >= 0 &&
      b.firstStep <= victim.lastStep &&
      b.lastStep >= victim.firstStep &&
      b.offset !== victim.offset,
  )!;
  victim.offset = other.offset;
  bad.tensorOffsets.set(victim.tensor, other.offset);
  await t.rejects(
    Executor.create(model, bad, { kernels: await loadKernels() }),
    PlanVerificationError,
    'overlapping buffers refused',
  );
});

t.test("the debug range guard rejects kernel ranges outside the step's buffers", async (t) => {
  const regions = [
    {
      reads: [
        [0, 100],
        [200, 300],
      ] as [number, number][],
      writes: [[200, 300]] as [number, number][],
    },
  ];
  const check = rangeChecker(
    regions,
    () => 0,
    () => 'conv',
  );
  const r = (start: number, bytes: number, rows = 1, stride = bytes) => ({ operand: 'y', start, bytes, rows, stride });
  t.doesNotThrow(() => check('f32_add', { reads: [r(0, 100), r(200, 100)], writes: [r(200, 100)] }));
  t.throws(
    () => check('f32_add', { reads: [r(0, 101)], writes: [] }),
    RangeViolationError,
    'read one byte past a buffer',
  );
  t.throws(
    () => check('f32_add', { reads: [], writes: [r(0, 4)] }),
    /step 0 \(conv\): f32_add writes operand 'y' at \[0, 4\)/,
    'write into a read-only input',
  );
  t.throws(
    () => check('copy_strided', { reads: [], writes: [r(200, 10, 3, 46)] }),
    RangeViolationError,
    'strided rows past the end',
  );
  t.doesNotThrow(() => check('copy_strided', { reads: [], writes: [r(200, 10, 3, 40)] }));
});

t.test('an arena one tensor too small is refused before running', async (t) => {
  const plan = planGraph(graph, { chunks: 6 });
  const largest = Math.max(...plan.buffers.map((b) => b.bytes));
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - largest }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
  );
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - 4 }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
    'even 4 bytes short',
  );
});
