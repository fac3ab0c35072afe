// The fused resize_argmax head through the executor, against the graph as built:
//  - integer path: random quantized networks with a DeepLab-style head (image pooling, resize,
//    QUANTIZE, concat, logits, resize, ARG_MAX int64) give the class ids of the q8 reference
//    interpreter (unfused) under every plan, fused and unfused, uint8 and int8, align_corners
//    and half-pixel; every step writes only its own buffers; the debug build's range guard
//    accepts every call;
//  - float path: a generated Mobile DeepLabv3 gives the same class map fused and unfused
//    (bit-identical kernels), in a fraction of the arena.
import t from 'tap';
import { planGraph } from '../../planner/plan_graph.js';
import { fuseResizeArgmax } from '../../planner/fuse_resize_argmax.js';
import { buildDeepLabV3 } from '../../models/generators/deeplab.js';
import { randomConstants } from '../../models/random_weights.js';
import { Executor } from '../../src/executor/executor.js';
import { prepareRun } from '../../src/run_setup.js';
import type { LoadedModel } from '../../src/model.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { classMapFromOutput, classMapSha256 } from '../../src/segment/index.js';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { qArray } from '../q8/helpers.js';
import { strayWrites } from '../q8/step_writes.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const specs: QNetSpec[] = [
  {
    dtype: 'u8',
    size: [37, 45],
    stem: 16,
    first: { out: 8 },
    seed: 11,
    blocks: [
      { expand: 36, out: 12, stride: 2 },
      { expand: 48, out: 16, stride: 2 },
      { expand: 64, out: 16, stride: 1, dilation: 2 },
      { expand: 80, out: 24, stride: 1, dilation: 2 },
    ],
    seg: { branch: 24, classes: 21, alignCorners: true, halfPixelCenters: false },
  },
  {
    dtype: 'i8',
    size: [33, 29],
    stem: 8,
    first: { out: 8 },
    seed: 12,
    blocks: [
      { expand: 40, out: 16, stride: 2 },
      { expand: 48, out: 16, stride: 1, dilation: 2 },
    ],
    seg: { branch: 16, classes: 9, alignCorners: false, halfPixelCenters: true },
  },
];

for (const spec of specs) {
  const model = buildQNet(spec);
  const g = model.graph;
  const n = g.tensors[g.inputs[0]!]!.shape.reduce((a, b) => a * b, 1);
  t.test(
    `${spec.dtype} network with a segmentation head (align ${spec.seg!.alignCorners}, half-pixel ${spec.seg!.halfPixelCenters}): every plan gives the reference class ids`,
    async (t) => {
      const fused: LoadedModel = { ...model, graph: fuseResizeArgmax(g).graph };
      t.equal(
        fused.graph.ops.filter((o) => o.kind === 'resize_argmax').length,
        1,
        'the final resize and arg-max are fused; the image-pooling resize is not',
      );
      const classes = new Set<number>();
      for (let k = 0; k < 2; k++) {
        const input = qArray(spec.dtype, n, spec.seed * 10 + k);
        const want = interpretQ8(g, model.constants, input).get(g.outputs[0]!)!;
        for (const c of want) classes.add(c);
        for (const [what, m] of [
          ['fused', fused],
          ['unfused', model],
        ] as const) {
          for (const chunks of ['none', 2, 'auto'] as const) {
            const plan = planGraph(m.graph, { chunks });
            const ex = await Executor.create(m, plan, {
              kernels: await loadKernels({ debug: chunks === 2 }),
              debug: chunks === 2,
            });
            const out = ex.runQuantized(input).output;
            t.same(
              Array.from(out),
              Array.from(want),
              `input ${k}, ${what}, chunks ${chunks}: class ids equal the reference`,
            );
            t.equal(
              out instanceof Uint8Array ? 'u8' : 'i32',
              what === 'fused' ? 'u8' : 'i32',
              `${what}: ${what === 'fused' ? 'one byte per class id' : 'int64 ids read as int32'}`,
            );
            if (k === 0)
              t.same(
                await strayWrites(m, plan, input),
                [],
                `${what}, chunks ${chunks}: every step writes only its own buffers`,
              );
          }
        }
      }
      t.ok(classes.size > 1, `${classes.size} classes win somewhere (class boundaries are interpolated)`);
    },
  );
}

t.test(
  'float path: a generated DeepLab gives the same class map fused and unfused, in a fraction of the arena',
  async (t) => {
    const graph = buildDeepLabV3({ alpha: 0.5, resolution: 129 });
    const s = graph.tensors[graph.inputs[0]!]!.shape;
    const model: LoadedModel = {
      source: graph.name,
      format: 'tflite',
      graph,
      constants: randomConstants(graph, 3),
      input: {
        height: s[1]!,
        width: s[2]!,
        channels: 3,
        normalization: { kind: 'affine', scale: 1 / 127.5, offset: -1 },
      },
    };
    const fused = await prepareRun(model, { kernels: await loadKernels() });
    const plain = await prepareRun(model, { kernels: await loadKernels(), fuseResizeArgmax: false });
    t.ok(
      fused.model.graph.ops.some((o) => o.kind === 'resize_argmax'),
      'prepareRun fuses by default',
    );
    t.notOk(plain.model.graph.ops.some((o) => o.kind === 'resize_argmax'));
    let seed = 5;
    for (let k = 0; k < 2; k++) {
      const x = Float32Array.from(
        { length: 129 * 129 * 3 },
        () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1,
      );
      const a = classMapFromOutput(plain.executor.runFloat(x).outputs[0]!, [1, 129, 129]);
      const b = classMapFromOutput(fused.executor.runFloat(x).outputs[0]!, [1, 129, 129]);
      t.equal(await classMapSha256(b), await classMapSha256(a), `input ${k}: identical class maps`);
      t.ok(new Set(a.ids).size > 1, `input ${k}: ${new Set(a.ids).size} classes present`);
    }
    const fm = fused.executor.memoryReport(),
      pm = plain.executor.memoryReport();
    t.ok(
      fm.measuredPeakBytes < pm.measuredPeakBytes / 2,
      `measured peak ${fm.measuredPeakBytes} vs ${pm.measuredPeakBytes} with the resized scores`,
    );
  },
);
