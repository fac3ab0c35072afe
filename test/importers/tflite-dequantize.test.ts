import t from 'tap';
import { validateGraph } from '../../planner/builder.js';
import type { Graph, Op } from '../../planner/ir.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { importTflite, loadTfliteFile } from '../../src/importers/tflite/index.js';
import type { LoadedModel } from '../../src/model.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { interpret } from '../../src/reference/interpreter.js';
import * as ref from '../../src/reference/ops.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';
import { tinyHeadModel, tinyQuantModel, writeTflite } from './tflite-writer.js';

function constantOf(m: LoadedModel, id: number): Float32Array {
  const c = m.constants.get(id);
  if (!(c instanceof Float32Array)) throw new Error(`constant ${id} is not float32`);
  return c;
}

function floatInput(m: LoadedModel, bytes: Uint8Array): Float32Array {
  const n = m.input.normalization;
  if (n.kind !== 'quantized') throw new Error('expected a quantized input');
  return Float32Array.from(bytes, (p) => n.scale * (p - n.zeroPoint));
}

function top(y: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: y.length }, (_, i) => i)
    .sort((a, b) => y[b]! - y[a]! || a - b)
    .slice(0, k);
}

function convs(g: Graph): Extract<Op, { kind: 'conv2d' | 'dwconv2d' }>[] {
  return g.ops.filter(
    (o): o is Extract<Op, { kind: 'conv2d' | 'dwconv2d' }> => o.kind === 'conv2d' || o.kind === 'dwconv2d',
  );
}

t.test(
  'tf2_mobilenet_v2_1.0_224_ptq: per-channel weights and biases against a hand computation',
  { skip: skipUnless('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite') },
  async (t) => {
    const q = await loadTfliteFile(fixturePath('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite'));
    const f = dequantizeModel(q);
    const [qConv, qDw] = convs(q.graph);
    const [fConv, fDw] = convs(f.graph);
    if (!qConv || !qDw || !fConv || !fDw || qConv.kind !== 'conv2d' || qDw.kind !== 'dwconv2d')
      throw new Error('expected conv then depthwise');

    // First conv: OHWI [32,3,3,3], int8, one scale per output channel (quantized_dimension 0).
    const wq = q.graph.tensors[qConv.weights]!;
    const raw = q.constants.get(qConv.weights) as Int8Array;
    const deq = constantOf(f, fConv.weights);
    t.same(wq.shape, [32, 3, 3, 3]);
    t.equal(wq.quant!.axis, 0);
    const s = wq.quant!.scale;
    t.ok(
      new Set([s[0], s[7], s[31]]).size === 3,
      'the chosen channels have different scales (per-tensor dequantization would fail)',
    );
    for (const c of [0, 7, 31]) {
      for (let ky = 0; ky < 3; ky++)
        for (let kx = 0; kx < 3; kx++)
          for (let ic = 0; ic < 3; ic++) {
            const i = ((c * 3 + ky) * 3 + kx) * 3 + ic;
            const want = Math.fround(s[c]! * (raw[i]! - wq.quant!.zeroPoint[c]!));
            if (deq[i] !== want) t.fail(`conv w[${c},${ky},${kx},${ic}] = ${deq[i]}, hand ${want}`);
          }
    }
    // Bias: s_in · s_w[c] · q[c], where s_in is the scale of the conv's input (the QUANTIZE output).
    const sIn = q.graph.tensors[qConv.inputs[0]!]!.quant!.scale[0]!;
    const bq = q.constants.get(qConv.bias) as Int32Array;
    const bFile = q.graph.tensors[qConv.bias]!.quant!.scale;
    const bDeq = constantOf(f, fConv.bias);
    for (const c of [0, 7, 31]) {
      t.equal(bDeq[c], Math.fround(sIn * s[c]! * bq[c]!), `bias[${c}] = s_in·s_w[c]·q`);
      t.ok(Math.abs(bFile[c]! / (sIn * s[c]!) - 1) < 1e-6, `bias[${c}]: the file's own bias scale is s_in·s_w[c]`);
    }

    // First depthwise: [1,3,3,32], one scale per channel along quantized_dimension 3.
    const dq = q.graph.tensors[qDw.weights]!;
    const draw = q.constants.get(qDw.weights) as Int8Array;
    const ddeq = constantOf(f, fDw.weights);
    const C = dq.shape[3]!;
    t.equal(dq.quant!.axis, 3);
    t.equal(dq.quant!.scale.length, C);
    for (const c of [0, 13, C - 1]) {
      for (let k = 0; k < 9; k++) {
        const i = k * C + c;
        const want = Math.fround(dq.quant!.scale[c]! * (draw[i]! - dq.quant!.zeroPoint[c]!));
        if (ddeq[i] !== want) t.fail(`dw w[${k},${c}] = ${ddeq[i]}, hand ${want}`);
      }
    }
    t.pass('hand-computed channels match');
  },
);

t.test(
  'tf2_mobilenet_v2_1.0_224_ptq: the float graph drops QUANTIZE and every quantization',
  { skip: skipUnless('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite') },
  async (t) => {
    const q = await loadTfliteFile(fixturePath('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite'));
    const f = dequantizeModel(q);
    validateGraph(f.graph);
    t.equal(f.graph.ops.length, q.graph.ops.length - 2, 'two QUANTIZE ops removed');
    t.notOk(f.graph.ops.some((o) => o.kind === 'quantize' || o.kind === 'dequantize'));
    t.notOk(
      f.graph.tensors.some((x) => x.quant || x.dtype !== 'f32'),
      'all tensors float32, unquantized',
    );
    t.same(f.input, q.input, 'input normalization kept');
    t.equal(f.graph.ops[0]!.inputs[0], f.graph.inputs[0], 'the first conv reads the graph input directly');
    t.equal(f.graph.ops.at(-1)!.kind, 'softmax', 'the softmax output is the graph output');
    t.equal(f.graph.ops.at(-1)!.outputs[0], f.graph.outputs[0]);
  },
);

t.test('a tiny Builder-written model: dequantized graph equals a hand-assembled float computation', async (t) => {
  const { model, weights: w } = tinyQuantModel(3);
  const m = dequantizeModel(importTflite(writeTflite(model), 'tiny.tflite'));
  validateGraph(m.graph);
  const f = Math.fround;
  // Scales and zero points exactly as tinyQuantModel writes them (float32 in the file).
  const sIn = f(1 / 128),
    sConv = f(0.02),
    sAct1 = f(6 / 255),
    sDw = [0.011, 0.017, 0.023, 0.005].map(f),
    sAct2 = f(0.05),
    sFc = f(0.03);
  const convW = Float32Array.from(w.conv, (q) => sConv * (q - 120));
  const convB = Float32Array.from(w.convBias, (q) => sIn * sConv * q);
  const dwW = Float32Array.from(w.dw, (q, i) => sDw[i % 4]! * q);
  const dwB = Float32Array.from(w.dwBias, (q, c) => sAct1 * sDw[c]! * q);
  const fcW = Float32Array.from(w.fc, (q) => sFc * (q - 128));
  const fcB = Float32Array.from(w.fcBias, (q) => sAct2 * sFc * q);
  const pixels = Uint8Array.from({ length: 48 }, (_, i) => (i * 37 + 11) % 256);
  const x = floatInput(m, pixels);
  // SAME 3x3 stride 2 on 4x4: (2−1)·2 + 3 − 4 = 1 pixel of padding, at the bottom/right.
  const a = ref.refConv2d({ h: 4, w: 4, c: 3, data: x }, convW, 2, 3, 3, convB, {
    stride: [2, 2],
    dilation: [1, 1],
    pad: { top: 0, bottom: 1, left: 0, right: 1 },
    act: 'relu6',
  });
  const b = ref.refDepthwiseConv2d(a, dwW, 3, 3, 2, dwB, {
    stride: [1, 1],
    dilation: [1, 1],
    pad: { top: 1, bottom: 1, left: 1, right: 1 },
    act: 'none',
  });
  const p = ref.refGlobalAvgPool(b);
  const l = ref.refFullyConnected(p, fcW, 3, fcB, 'none');
  const want = ref.refSoftmax(l, 3, 1);
  const got = interpret(m.graph, m.constants, x).get(m.graph.outputs[0]!)!;
  t.equal(got.length, 3);
  for (let i = 0; i < 3; i++) t.ok(Math.abs(got[i]! - want[i]!) < 1e-6, `prob[${i}] ${got[i]} vs ${want[i]}`);
  t.ok(Math.max(...want) < 0.99, 'the test input exercises the network (the softmax is not saturated)');
});

t.test(
  'DEQUANTIZE, RESIZE_BILINEAR, MEAN, FC keep_num_dims, CONCATENATION, SQUEEZE, ARG_MAX: import and float run',
  async (t) => {
    const { model, fc } = tinyHeadModel();
    const q = importTflite(writeTflite(model), 'head.tflite');
    const g = q.graph;
    t.same(
      g.ops.map((o) => o.kind),
      ['dequantize', 'resize_bilinear', 'global_avgpool', 'fully_connected', 'reshape', 'concat', 'reshape', 'argmax'],
      'FC with keep_num_dims becomes FC + reshape',
    );
    const [, resize, mean, , , concat, , argmax] = g.ops;
    t.same(resize?.kind === 'resize_bilinear' && [resize.size, resize.alignCorners, resize.halfPixelCenters], [
      [3, 3],
      false,
      true,
    ]);
    t.same(mean?.kind === 'global_avgpool' && mean.keepDims, true);
    t.same([concat?.kind === 'concat' && concat.axis, concat?.inputs.length], [3, 2], 'axis −1 stored as 3');
    t.same(argmax?.kind === 'argmax' && [argmax.axis, g.tensors[argmax.outputs[0]!]!.dtype], [1, 'i32']);
    t.same(
      g.outputs.map((o) => g.tensors[o]!.name),
      ['argmax', 'squeezed'],
    );
    t.equal(g.tensors[g.ops[3]!.outputs[0]!]!.name, 'fc/fc', 'the FC result is an intermediate [1,2] tensor');

    const f = dequantizeModel(q);
    t.same(
      f.graph.ops.map((o) => o.kind),
      ['resize_bilinear', 'global_avgpool', 'fully_connected', 'reshape', 'concat', 'reshape', 'argmax'],
      'DEQUANTIZE removed',
    );
    const pixels = Uint8Array.from([0, 255, 127, 30, 200, 90, 255, 0, 60, 128, 10, 240]);
    const x = floatInput(f, pixels);
    t.equal(x[2], 0, 'zero point 127 maps to 0');
    const values = interpret(f.graph, f.constants, x);
    const r = ref.refResizeBilinear({ h: 2, w: 2, c: 3, data: x }, 3, 3, false, true);
    const logits = ref.refFullyConnected(ref.refGlobalAvgPool(r), Float32Array.from(fc), 2, null, 'none');
    const want = [logits[0]!, logits[1]!, logits[0]!, logits[1]!];
    const got = values.get(f.graph.outputs[1]!)!;
    t.same(Array.from(got), want.map(Math.fround), 'squeezed concat of the FC output with itself');
    t.same(Array.from(values.get(f.graph.outputs[0]!)!), [logits[0]! >= logits[1]! ? 0 : 1], 'argmax (first maximum)');
  },
);

const CLASSIFIERS: [string, string[]][] = [
  ['mobilenet_v2_1.0_224_quant', ['images/cat.png', 'images/grace_hopper.png']],
  ['tf2_mobilenet_v2_1.0_224_ptq', ['images/cat.png']],
];

for (const [name, images] of CLASSIFIERS) {
  t.test(
    `${name}: dequantized float path in the reference interpreter agrees with TFLite`,
    { skip: skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const m = dequantizeModel(await loadTfliteFile(fixturePath('models', `${name}.tflite`)));
      const reference = readReference(`${name}.json`);
      for (const image of images) {
        const r = reference.results.find((x: { image: string }) => x.image === image);
        const input = await loadModelInput(fixturePath(image), m.input.width, m.input.height);
        t.equal(input.sha256, r.input_sha256, `${image}: same input bytes as the reference`);
        const y = interpret(m.graph, m.constants, floatInput(m, input.bytes)).get(m.graph.outputs[0]!)!;
        const ours = top(y, 5);
        const theirs = r.top5.map((e: { index: number }) => e.index) as number[];
        t.equal(ours[0], theirs[0], `${image}: top-1 ${ours[0]} (reference ${theirs[0]})`);
        const shared = ours.filter((i) => theirs.includes(i)).length;
        t.ok(shared >= 4, `${image}: top-5 [${ours}] shares ${shared} of the reference's [${theirs}]`);
      }
    },
  );
}

t.test(
  'deeplabv3_mnv2_pascal_quant: float path class counts within 0.5% of TFLite',
  { skip: skipUnless('models', 'deeplabv3_mnv2_pascal_quant.tflite') },
  async (t) => {
    const m = dequantizeModel(await loadTfliteFile(fixturePath('models', 'deeplabv3_mnv2_pascal_quant.tflite')));
    const reference = readReference('deeplabv3_mnv2_pascal_quant.json');
    const r = reference.results[0];
    const input = await loadModelInput(fixturePath(r.image), m.input.width, m.input.height);
    t.equal(input.sha256, r.input_sha256);
    const classes = interpret(m.graph, m.constants, floatInput(m, input.bytes)).get(m.graph.outputs[0]!)!;
    const total = classes.length;
    t.equal(total, 513 * 513);
    const labels = ['background', 'aeroplane', 'bicycle', 'bird'];
    const counts = new Map<number, number>();
    for (const c of classes) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const [label, n] of Object.entries(r.argmax_class_pixel_counts as Record<string, number>)) {
      const got = counts.get(labels.indexOf(label)) ?? 0;
      t.ok(Math.abs(got - n) / total <= 0.005, `${label}: ${got} pixels vs TFLite ${n}`);
    }
  },
);
