// The streamed resize + arg-max head: bit-identical to the WASM kernels it replaces.
import t from 'tap';
import { GraphBuilder } from '../../planner/builder.js';
import { planGraph } from '../../planner/plan_graph.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { randomConstants } from '../../models/random_weights.js';
import { Executor } from '../../src/executor/executor.js';
import type { LoadedModel } from '../../src/model.js';
import { classMapFromOutput, classMapSha256, fuseResizeArgmax, resizeArgmax, resizeArgmaxWorkBytes } from '../../src/segment/index.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const modelOf = (graph: LoadedModel['graph'], seed = 1): LoadedModel => {
  const s = graph.tensors[graph.inputs[0]!]!.shape;
  return { source: graph.name, format: 'tflite', graph, constants: randomConstants(graph, seed), input: { height: s[1]!, width: s[2]!, channels: s[3]!, normalization: { kind: 'affine', scale: 1 / 127.5, offset: -1 } } };
};

t.test('resizeArgmax equals the f32 resize kernel followed by the arg-max kernel', async (t) => {
  const cases: [number, number, number, number, number, boolean, boolean][] = [
    // h, w, c, outH, outW, alignCorners, halfPixelCenters
    [33, 33, 21, 129, 129, true, false],
    [5, 7, 3, 17, 9, true, false],
    [4, 6, 5, 9, 3, false, true],
    [3, 3, 4, 8, 8, false, false],
    [1, 1, 2, 4, 4, true, false],
    [6, 4, 1, 6, 4, false, false],
    [2, 9, 7, 5, 20, false, true],
  ];
  let seed = 1;
  for (const [h, w, c, outH, outW, alignCorners, halfPixelCenters] of cases) {
    const g = new GraphBuilder('head');
    const x = g.input('logits', [1, h, w, c]);
    const r = g.op({ kind: 'resize_bilinear', name: 'resize', inputs: [x], size: [outH, outW], alignCorners, halfPixelCenters });
    g.output(g.op({ kind: 'argmax', name: 'argmax', inputs: [r], axis: 3 }));
    const graph = g.finish();
    const model: LoadedModel = { source: 'head', format: 'tflite', graph, constants: new Map(), input: { height: h, width: w, channels: c, normalization: { kind: 'affine', scale: 1, offset: 0 } } };
    const ex = await Executor.create(model, planGraph(graph));
    for (let k = 0; k < 3; k++) {
      const rand = rng(seed++);
      // k = 0: coarse values (many exact ties between classes); else continuous.
      const logits = Float32Array.from({ length: h * w * c }, () => (k === 0 ? Math.round(rand() * 3) : (rand() - 0.5) * 20));
      const want = classMapFromOutput(ex.runFloat(logits).outputs[0]!, [1, outH, outW]);
      const got = resizeArgmax(logits, { h, w, c, outH, outW, alignCorners, halfPixelCenters });
      t.same([got.width, got.height], [outW, outH]);
      const diff = got.ids.reduce((n, v, i) => n + (v !== want.ids[i] ? 1 : 0), 0);
      t.equal(diff, 0, `${h}x${w}x${c} → ${outH}x${outW} align ${alignCorners} half ${halfPixelCenters} case ${k}: identical class maps`);
    }
  }
  t.equal(resizeArgmaxWorkBytes({ h: 33, w: 33, c: 21, outH: 513, outW: 513, alignCorners: true, halfPixelCenters: false }), 2 * 513 * 21 * 4);
  t.throws(() => resizeArgmax(new Float32Array(5), { h: 2, w: 2, c: 2, outH: 2, outW: 2, alignCorners: false, halfPixelCenters: false }), /5 values for 2x2x2/);
});

t.test('a DeepLab graph split before its head gives the same class map with a fraction of the arena', async (t) => {
  const graph = buildDeepLabV3({ alpha: 0.5, resolution: 129 });
  const model = modelOf(graph, 3);
  const head = fuseResizeArgmax(model)!;
  t.ok(head, 'the graph ends with resize → arg-max');
  t.same(head.params, { h: 9, w: 9, c: 21, outH: 129, outW: 129, alignCorners: true, halfPixelCenters: false });
  const tg = head.model.graph;
  t.equal(tg.ops.length, graph.ops.length - 2);
  t.same(tg.tensors[tg.outputs[0]!]!.shape, [1, 9, 9, 21], 'the truncated graph ends at the logits');
  t.equal(head.model.constants.size, model.constants.size, 'every constant kept');
  const full = await Executor.create(model, planGraph(graph));
  const cut = await Executor.create(head.model, planGraph(tg));
  const r = rng(5);
  for (let k = 0; k < 2; k++) {
    const x = Float32Array.from({ length: 129 * 129 * 3 }, () => r() * 2 - 1);
    const a = classMapFromOutput(full.runFloat(x).outputs[0]!, [1, 129, 129]);
    const b = head.classMap(cut.runFloat(x).outputs[0] as Float32Array);
    t.equal(classMapSha256(b), classMapSha256(a), `input ${k}: identical class maps`);
    t.ok(new Set(a.ids).size > 1, `input ${k}: ${new Set(a.ids).size} classes present`);
  }
  t.ok(cut.plan.peakBytes < full.plan.peakBytes / 2, `peak ${cut.plan.peakBytes} vs ${full.plan.peakBytes}`);
  t.equal(fuseResizeArgmax(modelOf(buildMobileNetV2({ alpha: 0.35, resolution: 96 }))), null, 'a classifier has no such head');
  t.equal(fuseResizeArgmax(modelOf(buildDeepLabV3({ alpha: 0.5, resolution: 65, argmax: false }))), null, 'no arg-max: nothing to stream');
});
