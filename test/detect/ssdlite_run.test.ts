// SSDLite planned with the exact order search, run by the executor, and post-processed:
// the parts together (no trained SSDLite weights exist in the fixtures).
import t from 'tap';
import { planGraph, planGraphReport, verifyPlan } from '../../planner/plan_graph.js';
import { buildSSDLite, ssdliteFeatureMaps } from '../../models/generators/ssdlite.js';
import { randomConstants } from '../../models/random_weights.js';
import { Executor } from '../../src/executor/executor.js';
import { interpret } from '../../src/reference/interpreter.js';
import type { DetectionPostProcessSpec, LoadedModel } from '../../src/model.js';
import { detectionsOf, ssdAnchors } from '../../src/detect/index.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const F = 4;

t.test('SSDLite 320: exact order; peaks by hand', async (t) => {
  const g = buildSSDLite();
  for (const chunks of ['none', 'auto'] as const) {
    const r = planGraphReport(g, { chunks });
    verifyPlan(g, r.plan);
    t.match(r.plan.orderAlgorithm, /^exact/, `${chunks}: ${r.plan.orderAlgorithm}`);
    t.ok(r.order.exact, `${chunks}: peak ${r.plan.peakBytes} is the proven minimum`);
    t.ok(r.plan.peakBytes <= r.givenOrderPeakBytes);
  }
  // Op by op the largest step is block 1's depthwise (96 channels, 160x160 → 80x80), as in the
  // classifier: the heads at strides 16 and 32 are far smaller.
  t.equal(planGraph(g, { chunks: 'none' }).peakBytes, (160 * 160 * 96 + 80 * 80 * 96) * F);
  // With chunks, the stem's 3x3 conv (input 320x320x3) feeds a fused block; the peak is under a quarter.
  t.ok(planGraph(g, { chunks: 'auto' }).peakBytes * 4 <= planGraph(g, { chunks: 'none' }).peakBytes);
});

t.test(
  'a small SSDLite runs in the arena: outputs match the reference interpreter; detections from its anchors',
  async (t) => {
    const g = buildSSDLite({ alpha: 0.35, resolution: 128, classes: 4 });
    const s = g.tensors[g.inputs[0]!]!.shape;
    const constants = randomConstants(g, 11);
    const anchors = ssdAnchors(ssdliteFeatureMaps(g));
    t.equal(anchors.length / 4, g.tensors[g.outputs[0]!]!.shape[1], 'one anchor per box encoding');
    const post: DetectionPostProcessSpec = {
      options: {
        maxDetections: 10,
        maxClassesPerDetection: 1,
        detectionsPerClass: 100,
        useRegularNms: false,
        scoreThreshold: 0.5,
        iouThreshold: 0.6,
        numClasses: 3,
        scales: { y: 10, x: 10, h: 5, w: 5 },
      },
      anchors,
      boxesOutput: 0,
      scoresOutput: 1,
      scoreSigmoid: true,
    };
    const model: LoadedModel = {
      source: g.name,
      format: 'tflite',
      graph: g,
      constants,
      input: {
        height: s[1]!,
        width: s[2]!,
        channels: 3,
        normalization: { kind: 'affine', scale: 1 / 127.5, offset: -1 },
      },
      detectionPostProcess: post,
    };
    let seed = 17;
    const x = Float32Array.from(
      { length: 128 * 128 * 3 },
      () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1,
    );
    const ref = interpret(g, constants, x);
    for (const chunks of ['none', 'auto'] as const) {
      const ex = await Executor.create(model, planGraph(g, { chunks }), { kernels: await loadKernels() });
      const run = ex.runFloat(x);
      g.outputs.forEach((id, i) => {
        const want = ref.get(id)! as Float32Array;
        const got = run.outputs[i] as Float32Array;
        const scale = Math.max(...Array.from(want, Math.abs));
        const d = Math.max(...Array.from(got, (v, k) => Math.abs(v - want[k]!)));
        t.ok(
          d <= 1e-4 * scale,
          `${chunks}: output ${g.tensors[id]!.name} within 1e-4 of the reference (max diff ${d.toExponential(2)}, scale ${scale.toFixed(2)})`,
        );
      });
      const dets = detectionsOf(model, run.outputs);
      t.ok(dets.length > 0 && dets.length <= 10, `${chunks}: ${dets.length} detections`);
      for (const d of dets)
        if (!(d.score >= 0.5 && d.classId >= 0 && d.classId < 3 && d.ymin < d.ymax && d.xmin < d.xmax))
          t.fail(`bad detection ${JSON.stringify(d)}`);
      const m = ex.memoryReport();
      t.ok(m.measuredPeakBytes <= m.arenaBytes, `${chunks}: measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`);
    }
  },
);
