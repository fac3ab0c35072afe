/**
 * verifyPlan catches every kind of broken plan, naming what is wrong; each
 * case corrupts one field of a valid plan.
 */
import t from 'tap';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import type { Plan } from '../../planner/plan.js';
import { planGraph, verifyPlan } from '../../planner/plan_graph.js';
import { GraphBuilder } from '../../planner/builder.js';

const g = buildMobileNetV2({ alpha: 0.35, resolution: 96 });

function clone(p: Plan): Plan {
  return {
    ...p,
    steps: p.steps.map((s) => ({ ...s })),
    buffers: p.buffers.map((b) => ({ ...b })),
    tensorOffsets: new Map(p.tensorOffsets),
  };
}

const chunked = planGraph(g, { chunks: 6 });
const perLayer = planGraph(g, { chunks: 'none' });

t.test('valid plans pass', async (t) => {
  t.doesNotThrow(() => verifyPlan(g, chunked));
  t.doesNotThrow(() => verifyPlan(g, perLayer));
});

t.test('two buffers live at once overlapping in bytes: both named', async (t) => {
  const p = clone(chunked);
  // Move block 1's depthwise scratch onto its input x.
  const step = p.steps.findIndex((s) => s.kind === 'block' && g.ops[s.expand]!.name === 'expanded_conv_1/expand');
  const s = p.steps[step]!;
  if (s.kind !== 'block') throw new Error('no block');
  const x = p.buffers.find((b) => b.tensor === g.ops[s.expand]!.inputs[0])!;
  p.buffers[s.depthwiseBuffer]!.offset = x.offset;
  t.throws(() => verifyPlan(g, p), { message: /buffers '.*' .* and '.*' .* overlap in bytes while both live at step/ });
  try {
    verifyPlan(g, p);
  } catch (e) {
    const msg = (e as Error).message;
    t.ok(msg.includes(x.name) && msg.includes('expanded_conv_1/depthwise_chunk'), msg);
  }
});

t.test('a buffer outside the arena', async (t) => {
  const p = clone(chunked);
  p.arenaBytes -= 16;
  t.throws(() => verifyPlan(g, p), /outside the arena/);
});

t.test('a lifetime one step too short', async (t) => {
  const p = clone(perLayer);
  const b = p.buffers.find((x) => x.aliasOf === undefined && x.tensor >= 0 && x.lastStep > x.firstStep + 1)!;
  b.lastStep -= 1;
  t.throws(() => verifyPlan(g, p), /lives at steps/);
});

t.test('tensorOffsets out of step with the buffers', async (t) => {
  const p = clone(chunked);
  const b = p.buffers.find((x) => x.tensor >= 0)!;
  p.tensorOffsets.set(b.tensor, b.offset + 16);
  t.throws(() => verifyPlan(g, p), /tensorOffsets gives/);
});

t.test('a materialized tensor without a buffer, and a fused-away tensor with one', async (t) => {
  const p = clone(chunked);
  const last = p.buffers.pop()!;
  t.ok(last.tensor >= 0, `dropped the buffer of '${last.name}'`);
  t.throws(() => verifyPlan(g, p), /is materialized but has no buffer/);
  const q = clone(chunked);
  const s = q.steps.find((x) => x.kind === 'block')!;
  if (s.kind !== 'block') throw new Error('no block');
  const e = g.ops[s.expand]!.outputs[0]!;
  q.buffers.push({
    name: 'E',
    tensor: e,
    bytes: 4,
    firstStep: 0,
    lastStep: 0,
    offset: 0,
    aliasOf: q.buffers[0]!.tensor,
  });
  t.throws(() => verifyPlan(g, q), /never materialized/);
});

t.test('sharing memory an op may not share', async (t) => {
  const p = clone(perLayer);
  // A conv output declared to live in its input's memory.
  const conv = g.ops.find((op) => op.kind === 'conv2d' && op.name.endsWith('/project'))!;
  const out = p.buffers.find((b) => b.tensor === conv.outputs[0])!;
  const inp = p.buffers.find((b) => b.tensor === conv.inputs[0])!;
  out.aliasOf = inp.tensor;
  out.offset = inp.offset;
  p.tensorOffsets.set(out.tensor, inp.offset);
  t.throws(() => verifyPlan(g, p), /which that op may not do/);
});

t.test('in-place add over a tensor still needed later', async (t) => {
  // x → conv → a; s = add(a, x); out = concat(s, x): x is read after the add.
  const b = new GraphBuilder('reuse');
  const x = b.input('x', [1, 4, 4, 8]);
  const w = b.constant('w', [8, 1, 1, 8]);
  const a = b.op({
    kind: 'conv2d',
    name: 'conv',
    inputs: [x],
    kernel: [1, 1],
    stride: [1, 1],
    dilation: [1, 1],
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
    act: 'none',
    weights: w,
    bias: -1,
  });
  const sum = b.op({ kind: 'add', name: 'add', inputs: [a, x], act: 'none' });
  b.output(b.op({ kind: 'concat', name: 'cat', inputs: [sum, x], axis: 3, act: 'none' }));
  const graph = b.finish();
  const plan = planGraph(graph, { chunks: 'none' });
  verifyPlan(graph, plan);
  const sumBuf = plan.buffers.find((q) => q.tensor === sum)!;
  t.equal(sumBuf.aliasOf, a, 'the add writes over the conv output, which dies there');
  // Forge: write over x instead, which the concat still reads.
  const p = clone(plan);
  const forged = p.buffers.find((q) => q.tensor === sum)!;
  const xb = p.buffers.find((q) => q.tensor === x)!;
  const ab = p.buffers.find((q) => q.tensor === a)!;
  ab.lastStep = 1; // a's group is now a alone
  forged.aliasOf = x;
  forged.offset = xb.offset;
  p.tensorOffsets.set(sum, xb.offset);
  t.throws(() => verifyPlan(graph, p), /'add' writes in place over 'x', which is still needed until step 2/);
});

t.test('steps: an op twice, an op missing, a wrong chunk count, a wrong scratch size, a wrong peak', async (t) => {
  const twice = clone(perLayer);
  twice.steps[1] = { ...twice.steps[0]! };
  t.throws(() => verifyPlan(g, twice), /runs at steps|never run/);
  const missing = clone(perLayer);
  missing.steps.pop();
  t.throws(() => verifyPlan(g, missing), /never run/);
  const chunks = clone(chunked);
  const bi = chunks.steps.findIndex((s) => s.kind === 'block');
  const b = chunks.steps[bi]!;
  if (b.kind !== 'block') throw new Error('no block');
  chunks.steps[bi] = { ...b, chunks: b.chunks + 1 };
  t.throws(() => verifyPlan(g, chunks), /chunks of/);
  const scratch = clone(chunked);
  const sb = scratch.steps[bi]!;
  if (sb.kind !== 'block') throw new Error('no block');
  scratch.buffers[sb.expandBuffer]!.bytes -= 4;
  t.throws(() => verifyPlan(g, scratch), /expand chunk/);
  const peak = clone(chunked);
  peak.peakBytes -= 4;
  t.throws(() => verifyPlan(g, peak), /peakBytes/);
  const order = clone(perLayer);
  [order.steps[0], order.steps[1]] = [order.steps[1]!, order.steps[0]!];
  t.throws(() => verifyPlan(g, order), /reads/);
});
