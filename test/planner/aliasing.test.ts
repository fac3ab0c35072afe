/**
 * The aliasing pass: reshape never copies (its output is its input's memory);
 * an add writes over an input only when that input dies at the add.
 */
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { GraphBuilder } from '../../planner/builder.js';
import { tensorBytes } from '../../planner/ir.js';
import { planGraphReport, verifyPlan } from '../../planner/plan_graph.js';

const VALID = { top: 0, bottom: 0, left: 0, right: 0 };

t.test('reshape shares its input memory, even of a graph input and into a graph output', async (t) => {
  const b = new GraphBuilder('reshapes');
  const x = b.input('x', [1, 4, 4, 8]);
  const r0 = b.op({ kind: 'reshape', name: 'r0', inputs: [x] }, { shape: [1, 8, 4, 4] });
  const w = b.constant('w', [16, 1, 1, 4]);
  const a = b.op({
    kind: 'conv2d',
    name: 'conv',
    inputs: [r0],
    kernel: [1, 1],
    stride: [1, 1],
    dilation: [1, 1],
    pad: VALID,
    act: 'none',
    weights: w,
    bias: -1,
  });
  const r1 = b.op({ kind: 'reshape', name: 'r1', inputs: [a] }, { shape: [1, 512] });
  b.output(r1);
  const g = b.finish();
  const r = planGraphReport(g, { chunks: 'none' });
  verifyPlan(g, r.plan);
  const off = r.plan.tensorOffsets;
  t.equal(off.get(r0), off.get(x), 'r0 at x');
  t.equal(off.get(r1), off.get(a), 'r1 at a');
  t.equal(r.plan.buffers.find((q) => q.tensor === r0)!.aliasOf, x);
  t.equal(r.plan.buffers.find((q) => q.tensor === r1)!.aliasOf, a);
  // Steps: r0, conv, r1. Live: x | x + a | a. The reshapes add nothing.
  const X = tensorBytes(g.tensors[x]!);
  const A = tensorBytes(g.tensors[a]!);
  t.same(r.stepBytes, [X, X + A, A]);
  t.equal(r.plan.peakBytes, X + A);
  t.equal(r.plan.buffers.filter((q) => q.aliasOf === undefined).length, 2, 'two physical buffers');
  const owner = r.plan.buffers.find((q) => q.tensor === a)!;
  t.equal(owner.lastStep, 2, "a's memory lives until the graph ends, through its reshape");
});

t.test('add writes in place over an input that dies there, never over one still needed', async (t) => {
  const b = new GraphBuilder('adds');
  const x = b.input('x', [1, 4, 4, 8]);
  const w = b.constant('w', [8, 1, 1, 8]);
  const conv = (name: string, i: number) =>
    b.op({
      kind: 'conv2d',
      name,
      inputs: [i],
      kernel: [1, 1],
      stride: [1, 1],
      dilation: [1, 1],
      pad: VALID,
      act: 'none',
      weights: w,
      bias: -1,
    });
  const a = conv('a', x);
  const s1 = b.op({ kind: 'add', name: 's1', inputs: [x, a], act: 'none' }); // x is read again by s2: s1 may only take a
  const s2 = b.op({ kind: 'add', name: 's2', inputs: [s1, x], act: 'none' }); // both die here: takes s1 (first input)
  const c = conv('c', s2);
  const s3 = b.op({ kind: 'add', name: 's3', inputs: [s2, c], act: 'none' }); // s2 is a graph output: takes c
  b.output(s2);
  b.output(s3);
  const g = b.finish();
  const r = planGraphReport(g, { chunks: 'none', order: 'given' });
  verifyPlan(g, r.plan);
  const alias = (id: number) => r.plan.buffers.find((q) => q.tensor === id)!.aliasOf;
  t.equal(alias(s1), a, 's1 over a');
  t.equal(alias(s2), a, 's2 over s1 (whose memory is a)');
  t.equal(alias(s3), c, 's3 over c, since s2 is an output');
  // Live at s1: x + a (the output adds nothing).
  const T = tensorBytes(g.tensors[x]!);
  t.same(r.stepBytes, [2 * T, 2 * T, 2 * T, 2 * T, 2 * T]);
});

t.test('MobileNetV2 op by op: every residual add writes over the block input', async (t) => {
  const g = buildMobileNetV2({ alpha: 0.35, resolution: 96 });
  const r = planGraphReport(g, { chunks: 'none' });
  verifyPlan(g, r.plan);
  const adds = g.ops.filter((op) => op.kind === 'add');
  t.equal(adds.length, 10);
  for (const op of adds) {
    const buf = r.plan.buffers.find((q) => q.tensor === op.outputs[0])!;
    t.equal(buf.aliasOf !== undefined, true, `${op.name} in place`);
    t.equal(
      r.plan.tensorOffsets.get(op.outputs[0]!),
      r.plan.tensorOffsets.get(op.inputs[0]!),
      `${op.name} at its input x`,
    );
  }
});
