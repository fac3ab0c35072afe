// The resize → arg-max graph pass: which graphs it rewrites, the graph it returns (valid,
// tensor ids kept, the input untouched), and what the planner then sees.
import t from 'tap';
import { GraphBuilder, validateGraph } from '../../planner/builder.js';
import { findResizeArgmax, fuseResizeArgmax } from '../../planner/fuse_resize_argmax.js';
import { planGraph, verifyPlan } from '../../planner/plan_graph.js';
import { liveBytesPerStep } from '../../planner/lifetimes.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { tensorBytes, type Graph, type Quantization } from '../../planner/ir.js';

function head(
  opts: {
    classes?: number;
    axis?: number;
    extraReader?: boolean;
    resizeIsOutput?: boolean;
    idsRead?: boolean;
    outQuant?: Quantization;
    dtype?: 'f32' | 'u8';
  } = {},
): Graph {
  const dtype = opts.dtype ?? 'f32';
  const q: Quantization | undefined = dtype === 'u8' ? { scale: [0.2], zeroPoint: [36], axis: 0 } : undefined;
  const g = new GraphBuilder('head');
  const x = g.input('logits', [1, 5, 6, opts.classes ?? 21], dtype, q);
  const r = g.op(
    {
      kind: 'resize_bilinear',
      name: 'resize',
      inputs: [x],
      size: [17, 21],
      alignCorners: true,
      halfPixelCenters: false,
    },
    { quant: opts.outQuant ?? q },
  );
  const a = g.op({ kind: 'argmax', name: 'argmax', inputs: [r], axis: opts.axis ?? 3 }, { dtype: 'i64' });
  g.output(opts.idsRead ? g.op({ kind: 'reshape', name: 'flat', inputs: [a] }, { shape: [1, 17 * 21] }) : a);
  if (opts.extraReader) g.output(g.op({ kind: 'softmax', name: 'softmax', inputs: [r], beta: 1 }));
  if (opts.resizeIsOutput) g.output(r);
  return g.finish();
}

t.test('a resize read only by an arg-max over channels becomes one resize_argmax op', async (t) => {
  for (const [classes, dtype] of [
    [21, 'f32'],
    [256, 'u8'],
    [257, 'f32'],
    [300, 'u8'],
  ] as const) {
    const g = head({ classes, dtype });
    const before = JSON.stringify(g);
    const { graph: f, fused } = fuseResizeArgmax(g);
    t.equal(JSON.stringify(g), before, 'the input graph is not modified');
    validateGraph(f);
    t.equal(fused.length, 1);
    t.same(
      f.ops.map((o) => o.kind),
      ['resize_argmax'],
    );
    const op = f.ops[0]!;
    t.match(op, {
      kind: 'resize_argmax',
      name: 'resize+argmax',
      inputs: [g.inputs[0]],
      outputs: g.outputs,
      size: [17, 21],
      alignCorners: true,
      halfPixelCenters: false,
    });
    const ids = f.tensors[op.outputs[0]!]!;
    t.same(ids.shape, [1, 17, 21]);
    t.equal(ids.dtype, classes <= 256 ? 'u8' : 'i32', `${classes} classes: ${ids.dtype} class ids`);
    t.equal(f.tensors.length, g.tensors.length, 'tensor ids unchanged');
    const dropped = f.tensors[fused[0]!.droppedTensor]!;
    t.same(
      [dropped.name, dropped.producer, dropped.consumers],
      ['resize:0', -1, []],
      'the resized scores are never written',
    );
    t.same(f.tensors[g.inputs[0]!]!.consumers, [0]);
    t.same(findResizeArgmax(f), [], 'nothing left to fuse');
  }
});

t.test('graphs the pass leaves alone', async (t) => {
  const cases: [string, Graph][] = [
    ['arg-max over another axis', head({ axis: 2 })],
    ['resized scores read by another op', head({ extraReader: true })],
    ['resized scores are a graph output', head({ resizeIsOutput: true })],
    ['class ids read by another op', head({ idsRead: true })],
    ['the resize requantizes', head({ dtype: 'u8', outQuant: { scale: [0.1], zeroPoint: [36], axis: 0 } })],
    ['a classifier', buildMobileNetV2({ alpha: 0.35, resolution: 96 })],
    ['DeepLab ending at the resized logits', buildDeepLabV3({ alpha: 0.5, resolution: 65, argmax: false })],
  ];
  for (const [what, g] of cases) {
    const r = fuseResizeArgmax(g);
    t.equal(r.graph, g, `${what}: the same graph`);
    t.same(r.fused, []);
  }
});

t.test('DeepLab: the planner sees the class map, not the resized scores', async (t) => {
  const g = buildDeepLabV3();
  const { graph: f, fused } = fuseResizeArgmax(g);
  t.equal(fused.length, 1, 'only the final resize: the image-pooling resize feeds a concat');
  t.equal(f.ops.length, g.ops.length - 1);
  validateGraph(f);
  const scores = 513 * 513 * 21 * 4;
  for (const chunks of ['none', 'auto'] as const) {
    const plain = planGraph(g, { chunks });
    const plan = planGraph(f, { chunks });
    verifyPlan(f, plan);
    t.notOk(
      plan.buffers.some((b) => b.tensor === fused[0]!.droppedTensor),
      `${chunks}: no buffer for the resized scores`,
    );
    t.ok(
      plain.buffers.some((b) => b.tensor === fused[0]!.droppedTensor && b.bytes === scores),
      `${chunks}: unfused, they take ${scores} bytes`,
    );
    t.ok(
      plan.peakBytes < plain.peakBytes || chunks === 'none',
      `${chunks}: peak ${plan.peakBytes} vs ${plain.peakBytes} unfused`,
    );
    // The fused step: the logits in, one byte of class id per pixel out, nothing else live.
    const step = plan.steps.findIndex((s) => s.kind === 'op' && f.ops[s.op]!.kind === 'resize_argmax');
    const op = f.ops[(plan.steps[step] as { op: number }).op]!;
    const live = liveBytesPerStep(plan.buffers, plan.steps.length)[step]!;
    t.equal(
      live,
      tensorBytes(f.tensors[op.inputs[0]!]!) + 513 * 513,
      `${chunks}: live at the fused step = 33x33x21 logits + 513x513 class ids`,
    );
  }
  // Chunked, the largest step is no longer the head's.
  const auto = planGraph(f, { chunks: 'auto' });
  t.ok(auto.peakBytes < scores / 2, `chunked peak ${auto.peakBytes} < half of the resized scores alone`);
});
