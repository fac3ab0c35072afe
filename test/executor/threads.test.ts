/**
 * One inference split across threads (executor threads > 1, the kernels' threads build on
 * a shared memory): outputs equal one thread's, byte for byte, on the integer path (uint8
 * and int8) and on the float path (the split keeps each output element's summation order),
 * for random small MobileNetV2-like networks under several chunkings and budgets, and for
 * the MobileNetV2 fixtures and the bundled float model on real images; the integer outputs
 * also equal the scalar reference interpreter. The extra threads' arena growth is what the
 * memory report says, and the measured peak grows by no more than two blocks' chunk
 * scratch. Streamed plans, debug mode and the single-thread kernels are refused with
 * messages that name what to change.
 */
import t from 'tap';
import { planGraph, planGraphWithStream } from '../../planner/plan_graph.js';
import { streamChain, stageRows } from '../../planner/stream/stages.js';
import { smallestStreamConfig } from '../../planner/stream/config.js';
import { splitChannels, splitRows } from '../../planner/threads.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import { Executor } from '../../src/executor/executor.js';
import { startNodeThreads } from '../../src/executor/node_threads.js';
import { loadKernels, loadThreadKernels } from '../../src/kernels/node_loader.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { classifyMany, loadModel, UsageError } from '../../src/index.js';
import { buildQNet, type QNetSpec } from '../q8/qnet.js';
import { qArray } from '../q8/helpers.js';
import { fixturePath, skipUnless } from '../helpers/fixtures.js';
import type { Plan } from '../../planner/plan.js';
import type { LoadedModel } from '../../src/model.js';

const specs: QNetSpec[] = [
  {
    dtype: 'u8',
    size: [29, 27],
    stem: 16,
    first: { out: 8 },
    seed: 11,
    blocks: [
      { expand: 36, out: 12, stride: 2 },
      { expand: 60, out: 12, stride: 1 },
      { expand: 72, out: 20, stride: 2 },
      { expand: 100, out: 20, stride: 1, dilation: 2 },
      { expand: 120, out: 24, stride: 1 },
    ],
    head: { conv: 40, classes: 17 },
  },
  {
    dtype: 'i8',
    size: [24, 20],
    stem: 8,
    first: { out: 8 },
    seed: 12,
    blocks: [
      { expand: 48, out: 16, stride: 2 },
      { expand: 96, out: 16, stride: 1 },
      { expand: 96, out: 24, stride: 2 },
      { expand: 144, out: 24, stride: 1 },
    ],
    head: { conv: 64, classes: 10 },
  },
  {
    // Fewer output rows than threads in the last blocks (3 rows, 4 threads): empty shares.
    dtype: 'i8',
    size: [11, 13],
    stem: 8,
    first: { out: 8 },
    seed: 13,
    blocks: [
      { expand: 24, out: 16, stride: 2 },
      { expand: 50, out: 16, stride: 1, dilation: 2 },
      { expand: 90, out: 30, stride: 2 },
    ],
    head: { conv: 32, classes: 7 },
  },
];

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

async function threaded(model: LoadedModel, plan: Plan, count: number): Promise<Executor> {
  return Executor.create(model, plan, {
    kernels: await loadThreadKernels(),
    threads: { count, start: startNodeThreads },
  });
}

t.test('splitRows: contiguous, in order, sizes within one', async (t) => {
  for (const [rows, threads] of [
    [7, 2],
    [14, 3],
    [3, 4],
    [112, 2],
  ] as const) {
    const parts = splitRows(rows, threads);
    t.equal(parts.length, threads);
    t.equal(parts[0]![0], 0);
    t.equal(parts[threads - 1]![1], rows);
    for (let i = 1; i < threads; i++) t.equal(parts[i]![0], parts[i - 1]![1], `${rows} rows / ${threads}: part ${i}`);
    const sizes = parts.map(([a, b]) => b - a);
    t.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${rows}/${threads}: sizes ${sizes.join(',')}`);
  }
  // A one-row GEMM's channels: panel-aligned starts, the last part ends at n.
  t.same(splitChannels(1001, 2), [
    [0, 504],
    [504, 1001],
  ]);
  t.same(splitChannels(10, 3), [
    [0, 8],
    [8, 10],
    [10, 10],
  ]);
});

for (const spec of specs) {
  const model = buildQNet(spec);
  const g = model.graph;
  const inT = g.tensors[g.inputs[0]!]!;
  const n = inT.shape.reduce((a, b) => a * b, 1);
  const inputs = [qArray(spec.dtype, n, spec.seed + 100), qArray(spec.dtype, n, spec.seed + 200)];
  const plans: [string, Plan][] = [
    ['chunks auto', planGraph(g)],
    ['chunks none (op by op)', planGraph(g, { chunks: 'none' })],
    ['3 chunks per block', planGraph(g, { chunks: 3 })],
  ];
  // The smallest whole-tensor plan: the tightest chunk buffers, where the integer tiles are smallest.
  const smallest = planGraph(g, { chunks: 'auto', budgetBytes: 1 << 30 });
  plans.push(['smallest', smallest]);

  t.test(
    `${spec.dtype} ${spec.size.join('x')}: 2, 3 and 4 threads give one thread's bytes (integer path)`,
    async (t) => {
      const one = await loadKernels({});
      for (const [name, plan] of plans) {
        const single = await Executor.create(model, plan, { kernels: one });
        for (const count of [2, 3, 4]) {
          const ex = await threaded(model, plan, count);
          try {
            for (const input of inputs) {
              const want = single.runQuantized(input).output;
              const ref = interpretQ8(g, model.constants, input).get(g.outputs[0]!)!;
              t.same(Array.from(want), Array.from(ref), `${name}: one thread = the reference interpreter`);
              const got = ex.runQuantized(input).output;
              t.ok(bytes(got).equals(bytes(want)), `${name}, ${count} threads: the same bytes`);
            }
            const m = ex.memoryReport();
            t.equal(m.threads.count, count);
            t.ok(m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes, 'measured peak within the arena');
            t.equal(m.arenaBytes, plan.arenaBytes + m.threads.extraBytes, 'arena = plan + extra regions');
          } finally {
            await ex.close();
          }
        }
      }
    },
  );

  t.test(
    `${spec.dtype} ${spec.size.join('x')}: the float path on 2 and 3 threads gives one thread's bits`,
    async (t) => {
      const fmodel = dequantizeModel(model);
      const kernels = await loadKernels({});
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = ((inputs[0]![i]! * 37) % 255) / 127.5 - 1;
      for (const [name, plan] of [
        ['chunks auto', planGraph(fmodel.graph)],
        ['2 chunks per block', planGraph(fmodel.graph, { chunks: 2 })],
        ['chunks none', planGraph(fmodel.graph, { chunks: 'none' })],
      ] as const) {
        const want = (await Executor.create(fmodel, plan, { kernels })).runFloat(x).output;
        for (const count of [2, 3]) {
          const ex = await threaded(fmodel, plan, count);
          try {
            const got = ex.runFloat(x).output;
            t.ok(bytes(got).equals(bytes(want)), `${name}, ${count} threads: the same float32 bits`);
          } finally {
            await ex.close();
          }
        }
      }
    },
  );
}

t.test('streamed plans, debug mode and the single-thread kernels are refused', async (t) => {
  const model = buildQNet(specs[0]!);
  const g = model.graph;
  const rows = streamChain(g).map((s) => stageRows(g, s));
  const configs = smallestStreamConfig(rows, 'integer', true)!;
  const streamed = planGraphWithStream(g, { stages: configs.length, configs }).plan;
  await t.rejects(
    threaded(model, streamed, 2),
    /2 threads: threads split whole-tensor plans only; this plan is row-streamed/,
  );
  await t.rejects(
    Executor.create(model, planGraph(g), {
      kernels: await loadThreadKernels(),
      debug: true,
      threads: { count: 2, start: startNodeThreads },
    }),
    /run debug with threads 1/,
  );
  await t.rejects(
    Executor.create(model, planGraph(g), {
      kernels: await loadKernels({}),
      threads: { count: 2, start: startNodeThreads },
    }),
    /not the threads build \(build\/lowwater\.threads\.wasm/,
  );
  await t.rejects(loadModel(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'), { threads: 0 }), UsageError);
  await t.rejects(
    classifyMany([fixturePath('images', 'cat.png')], { threads: 2, jobs: 2 }).next(),
    /threads 2 with classifyMany: .*give jobs instead/,
  );
  await t.rejects(
    loadModel(undefined, { threads: 2, stream: 'on' }),
    /threads 2 with stream 'on' \(--stream\): threads split whole-tensor plans only/,
  );
});

const images = ['grace_hopper.png', 'cat.png', 'parrot.jpg'].map((f) => fixturePath('images', f));

for (const [name, file, options] of [
  ['MobileNetV2 uint8', 'mobilenet_v2_1.0_224_quant.tflite', {}],
  ['MobileNetV2 int8', 'tf2_mobilenet_v2_1.0_224_ptq.tflite', {}],
  ['MobileNetV2 uint8 on the float path', 'mobilenet_v2_1.0_224_quant.tflite', { float: true }],
] as const) {
  t.test(`${name}: 2 threads give one thread's bytes`, { skip: skipUnless('models', file) }, async (t) => {
    const src = fixturePath('models', file);
    const one = await loadModel(src, options);
    const two = await loadModel(src, { ...options, threads: 2 });
    try {
      for (const image of images) {
        const [a, b] = [await one.classify(image), await two.classify(image)];
        t.ok(bytes(b.output).equals(bytes(a.output)), `${image}: the same output bytes`);
        t.same(b.top, a.top);
      }
      const [m1, m2] = [one.memory(), two.memory()];
      t.equal(m2.threads.count, 2);
      t.equal(m1.threads.extraBytes, 0);
      t.ok(
        m2.measuredPeakBytes - m1.measuredPeakBytes <= 2 * m2.threads.largestBlockScratchBytes,
        `measured peak grows by ${m2.measuredPeakBytes - m1.measuredPeakBytes} B ≤ 2 × the largest block's chunk scratch (${m2.threads.largestBlockScratchBytes} B)`,
      );
      t.ok(
        m2.threads.extraBytes <= 2 * m2.threads.largestBlockScratchBytes,
        `arena growth ${m2.threads.extraBytes} B ≤ 2 × ${m2.threads.largestBlockScratchBytes} B`,
      );
    } finally {
      one.dispose();
      two.dispose();
    }
  });
}

t.test("the bundled float model (nsfwjs): 2 threads give one thread's float32 bits", async (t) => {
  const one = await loadModel();
  const two = await loadModel(undefined, { threads: 2 });
  try {
    for (const image of images) {
      const [a, b] = [await one.classify(image), await two.classify(image)];
      t.ok(bytes(b.output).equals(bytes(a.output)), `${image}: the same float32 bits`);
    }
  } finally {
    one.dispose();
    two.dispose();
  }
});

t.test(
  'DeepLabv3 (uint8, dilated blocks, a segmentation head): 2 threads give one thread’s class map',
  { skip: skipUnless('models', 'deeplabv3_mnv2_dm05_pascal_quant.tflite') },
  async (t) => {
    const src = fixturePath('models', 'deeplabv3_mnv2_dm05_pascal_quant.tflite');
    const one = await loadModel(src);
    const two = await loadModel(src, { threads: 2 });
    try {
      const image = fixturePath('images', 'bird.png');
      const [a, b] = [await one.segment(image), await two.segment(image)];
      t.ok(Buffer.from(b.classMap).equals(Buffer.from(a.classMap)), 'the same class map');
      t.equal(b.maskSha256, a.maskSha256);
      t.equal(two.memory().threads.count, 2);
    } finally {
      one.dispose();
      two.dispose();
    }
  },
);
