// The planner on Mobile DeepLabv3: exact order search, peaks against the architecture's arithmetic.
import t, { type Test } from 'tap';
import { planGraph, planGraphReport, verifyPlan } from '../../planner/plan_graph.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { randomConstants } from '../../models/random_weights.js';
import type { Graph } from '../../planner/ir.js';
import { loadTfliteFile } from '../../src/importers/tflite/index.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { fuseResizeArgmax } from '../../planner/fuse_resize_argmax.js';
import { Executor } from '../../src/executor/executor.js';
import type { LoadedModel } from '../../src/model.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const F = 4; // float32 bytes

/*
 * Mobile DeepLabv3, width 1, 513x513, output stride 16 (paper Section 6.3):
 * - op by op, the largest step is block 1's depthwise: its 96-channel expansion at 257x257
 *   (stride 2 after the stem) in, 96 channels at 129x129 out;
 * - with Section 5.1 chunks the blocks no longer materialize expansions, and the largest
 *   step is the head's end: 21 class scores resized to 513x513, then their int32 arg-max.
 */
const perLayerPeak = (257 * 257 * 96 + 129 * 129 * 96) * F;
const headPeak = 513 * 513 * 21 * F + 513 * 513 * 4;

function checkExact(t: Test, name: string, graph: Graph, chunks: 'none' | 'auto'): number {
  const r = planGraphReport(graph, { chunks });
  verifyPlan(graph, r.plan);
  t.match(r.plan.orderAlgorithm, /^exact/, `${name} ${chunks}: order by the exact search (${r.plan.orderAlgorithm})`);
  t.ok(
    r.order.exact,
    `${name} ${chunks}: peak ${r.plan.peakBytes} equals its proven lower bound ${r.order.lowerBoundBytes}`,
  );
  t.ok(
    r.plan.peakBytes <= r.givenOrderPeakBytes,
    `${name} ${chunks}: planned ${r.plan.peakBytes} ≤ given order ${r.givenOrderPeakBytes}`,
  );
  t.ok(r.plan.arenaBytes >= r.plan.peakBytes);
  return r.plan.peakBytes;
}

t.test('generated DeepLabv3 (1.0, 513, OS 16): exact order; per-layer and chunked peaks by hand', async (t) => {
  const g = buildDeepLabV3();
  t.equal(checkExact(t, 'DeepLab', g, 'none'), perLayerPeak, 'op by op: block 1 depthwise in + out');
  t.equal(checkExact(t, 'DeepLab', g, 'auto'), headPeak, 'chunked: resized scores + class map');
});

t.test(
  'fixture DeepLab files: the same peaks; the fused head removes the largest one',
  { skip: skipUnless('models', 'deeplabv3_mnv2_pascal_quant.tflite') },
  async (t) => {
    for (const name of ['deeplabv3_mnv2_pascal_quant', 'deeplabv3_mnv2_dm05_pascal_quant']) {
      const p = fixturePath('models', `${name}.tflite`);
      const m = dequantizeModel(await loadTfliteFile(p));
      const none = checkExact(t, name, m.graph, 'none');
      const auto = checkExact(t, name, m.graph, 'auto');
      if (name === 'deeplabv3_mnv2_pascal_quant') t.equal(none, perLayerPeak, 'the file has the paper architecture');
      else t.equal(none, headPeak, 'width 0.5: even op by op, the head is the largest step');
      t.equal(auto, headPeak);
      const fused = checkExact(t, `${name} fused head`, fuseResizeArgmax(m.graph).graph, 'auto');
      t.ok(fused < auto / 2, `fused resize_argmax: ${fused} B (class map included), under half of ${auto}`);
      // The uint8 graph as the file stores it (1 byte per activation), planned as it is.
      const q = (await loadTfliteFile(p)).graph;
      checkExact(t, `${name} uint8`, q, 'none');
      checkExact(t, `${name} uint8 fused head`, fuseResizeArgmax(q).graph, 'auto');
    }
  },
);

t.test('the planned DeepLab runs: chunked and per-layer plans give the same class map', async (t) => {
  const g = buildDeepLabV3({ alpha: 0.5, resolution: 97 });
  const s = g.tensors[g.inputs[0]!]!.shape;
  const model: LoadedModel = {
    source: g.name,
    format: 'tflite',
    graph: g,
    constants: randomConstants(g, 7),
    input: { height: s[1]!, width: s[2]!, channels: 3, normalization: { kind: 'affine', scale: 1, offset: 0 } },
  };

  let seed = 3;
  const x = Float32Array.from(
    { length: 97 * 97 * 3 },
    () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1,
  );
  const maps = [];
  for (const chunks of ['none', 'auto', 4] as const) {
    const ex = await Executor.create(model, planGraph(g, { chunks }), {
      kernels: await loadKernels({ debug: chunks === 'auto' }),
      debug: chunks === 'auto',
    });
    maps.push(Array.from(ex.runFloat(x).outputs[0]!));
  }
  const differ = (a: number[], b: number[]) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
  t.ok(
    differ(maps[0]!, maps[1]!) <= 2 && differ(maps[0]!, maps[2]!) <= 2,
    `class maps agree (${differ(maps[0]!, maps[1]!)}, ${differ(maps[0]!, maps[2]!)} pixels differ: float summation order)`,
  );
});
