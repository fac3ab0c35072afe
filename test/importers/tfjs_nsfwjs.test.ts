// The MobileNetV2 shipped in the npm package nsfwjs (a devDependency), imported
// by the tfjs importer: structure against our own MobileNetV2 builder, weight
// dequantization, BatchNorm and ZeroPadding2D folding checked against the raw
// Keras weights, and the whole network against TensorFlow.js's probabilities
// (the fixture reference, and tfjs run live).
import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildMobileNetV2 } from '../../models/mobilenet_v2.js';
import { validateGraph } from '../../planner/builder.js';
import type { Graph, Op } from '../../planner/ir.js';
import type { LoadedModel } from '../../src/model.js';
import {
  findNsfwjsPackage,
  loadNsfwjsMobileNetV2,
  ModelNotAvailableError,
  NSFWJS_CLASSES,
  readNsfwjsModelFiles,
} from '../../src/importers/tfjs/nsfwjs.js';
import { decodeWeights, parseWeightsManifest, type WeightGroup } from '../../src/importers/tfjs/weights.js';
import { loadModelInput } from '../../src/preprocess/image.js';
import { interpret } from '../../src/reference/interpreter.js';
import { refConv2d, refDepthwiseConv2d } from '../../src/reference/ops.js';
import { fixturePath, readReference, skipUnless, skipWithout } from '../helpers/fixtures.js';
import { loadTfjs, maxAbsDiff, rng } from './tfjs_support.js';

// nsfwjs is a devDependency: without it these tests skip with the loader's own message (fail under CI).
let model: LoadedModel | null = null;
let raw: { modelJson: Record<string, unknown>; weights: Uint8Array } | null = null;
let skipNsfw: false | string = false;
try {
  model = await loadNsfwjsMobileNetV2();
  const pkg = findNsfwjsPackage();
  raw = readNsfwjsModelFiles(pkg.root, pkg.version);
} catch (e) {
  if (!(e instanceof ModelNotAvailableError)) throw e;
  skipNsfw = skipWithout(e.message);
}
const REF = 'nsfwjs_mobilenet_v2.json';
const skipRef = skipNsfw || skipUnless('reference', REF);

/** lowwater's output per image (the reference interpreter is slow; the live test reuses these). */
const ours = new Map<string, Float32Array>();
async function runOurs(image: string): Promise<{ x: Float32Array; y: Float32Array; sha256: string }> {
  const input = await loadModelInput(fixturePath(image), 224, 224);
  const x = Float32Array.from(input.bytes, (v) => v * model!.input.normalization.scale);
  let y = ours.get(image);
  if (!y) {
    y = interpret(model!.graph, model!.constants, x).get(model!.graph.outputs[0]!)! as Float32Array;
    ours.set(image, y);
  }
  return { x, y, sha256: input.sha256 };
}

interface KLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, object][][];
}
const kerasLayers = (): KLayer[] => (raw!.modelJson.modelTopology as any).model_config.config.layers as KLayer[];
const groups = (): WeightGroup[] => parseWeightsManifest(raw!.modelJson.weightsManifest, 'nsfwjs');
const opNamed = (g: Graph, name: string): Op => {
  const op = g.ops.find((o) => o.name === name);
  if (!op) throw new Error(`no op '${name}'`);
  return op;
};

t.test('the graph validates and its backbone is the MobileNetV2 our builder makes', { skip: skipNsfw }, async (t) => {
  const g = model!.graph;
  validateGraph(g);
  const backbone = buildMobileNetV2({ alpha: 1.0, resolution: 224, classes: 0 });
  // Signature of every conv/dwconv/add: geometry, weight shape, activation, and which of these ops feed it.
  const signatures = (gr: Graph): string[] => {
    const body = gr.ops.filter((o) => o.kind === 'conv2d' || o.kind === 'dwconv2d' || o.kind === 'add');
    const pos = new Map(body.map((o, i) => [o.outputs[0]!, i]));
    return body.map((o) => {
      const from = o.inputs.map((x) => pos.get(x) ?? (gr.inputs.includes(x) ? -1 : -2)).sort((a, b) => a - b);
      if (o.kind === 'add') return `add act=${o.act} from=${from}`;
      const w = gr.tensors[o.weights]!.shape;
      return `${o.kind} k=${o.kernel} s=${o.stride} pad=${JSON.stringify(o.pad)} w=[${w}] act=${o.act} from=${from}`;
    });
  };
  const count = (gr: Graph, kind: string) => gr.ops.filter((o) => o.kind === kind).length;
  for (const kind of ['conv2d', 'dwconv2d', 'add'])
    t.equal(count(g, kind), count(backbone, kind), `${kind}: ${count(g, kind)} ops, as buildMobileNetV2 gives`);
  t.same(
    signatures(g),
    signatures(backbone),
    'same ops, shapes, SAME-equivalent paddings, activations and residual wiring',
  );
  t.equal(count(g, 'conv2d'), 35, "35 convolutions (MobileNetV2's first conv, 16 expand, 17 project, last 1x1)");

  // Head: AveragePooling2D(7) over the 7x7 plane → global average, Flatten, Dense 256 relu, Dense 128 relu, Dense 5 + softmax.
  const head = g.ops
    .slice(-6)
    .map((o) => (o.kind === 'fully_connected' ? `fc ${g.tensors[o.weights]!.shape} ${o.act}` : o.kind));
  t.same(head, ['global_avgpool', 'reshape', 'fc 256,1280 relu', 'fc 128,256 relu', 'fc 5,128 none', 'softmax']);
  t.same(g.tensors[g.outputs[0]!]!.shape, [1, 5]);
  t.same(model!.labels, [...NSFWJS_CLASSES]);
  t.same(model!.input, {
    height: 224,
    width: 224,
    channels: 3,
    normalization: { kind: 'affine', scale: 1 / 255, offset: 0 },
  });
  t.equal(model!.format, 'tfjs');
  // Every constant is float32 data of its tensor's size.
  let bad = 0;
  for (const x of g.tensors)
    if (x.constant && (model!.constants.get(x.id)?.length ?? -1) !== x.shape.reduce((a, b) => a * b, 1)) bad++;
  t.equal(bad, 0, 'every constant has data of its size');
});

t.test(
  'ZeroPadding2D folds into the stride-2 convolutions: pad top/left 0, bottom/right 1, no padded copies',
  { skip: skipNsfw },
  async (t) => {
    const g = model!.graph;
    const pads = kerasLayers().filter((l) => l.class_name === 'ZeroPadding2D');
    t.ok(pads.length >= 5, `${pads.length} ZeroPadding2D layers in the Keras model`);
    for (const zp of pads) {
      t.same(
        zp.config.padding,
        [
          [0, 1],
          [0, 1],
        ],
        `${zp.name} is ZeroPadding2D(((0,1),(0,1)))`,
      );
      const consumer = kerasLayers().find((l) => l.inbound_nodes.some((n) => n.some((r) => r[0] === zp.name)))!;
      t.equal(consumer.config.padding, 'valid');
      const op = opNamed(g, consumer.name);
      if (op.kind !== 'conv2d' && op.kind !== 'dwconv2d') throw new Error(`${consumer.name} is ${op.kind}`);
      t.same(op.pad, { top: 0, bottom: 1, left: 0, right: 1 }, `${consumer.name}: padding from ${zp.name}`);
      t.same(op.stride, [2, 2]);
      // The op reads the tensor the ZeroPadding2D read (an even-sized plane), not a padded copy.
      const src = zp.inbound_nodes[0]![0]![0];
      const inTensor = g.tensors[op.inputs[0]!]!;
      const srcOp = g.ops.find((o) => o.outputs[0] === inTensor.id);
      t.ok(
        inTensor.shape[1]! % 2 === 0 && inTensor.shape[2]! % 2 === 0,
        `${consumer.name} reads a ${inTensor.shape[1]}x${inTensor.shape[2]} plane`,
      );
      t.ok(
        src === 'input_1' ? g.inputs.includes(inTensor.id) : srcOp !== undefined && inTensor.name.startsWith(src),
        `${consumer.name} reads '${src}' directly (tensor '${inTensor.name}')`,
      );
    }
    const stride2 = g.ops.filter((o) => (o.kind === 'conv2d' || o.kind === 'dwconv2d') && o.stride[0] === 2);
    t.equal(stride2.length, pads.length, 'every stride-2 convolution got its padding from a ZeroPadding2D');
    const sizes = new Set(g.tensors.filter((x) => !x.constant && x.shape.length === 4).map((x) => x.shape[1]));
    t.same(
      [...sizes].sort((a, b) => a! - b!),
      [1, 7, 14, 28, 56, 112, 224],
      'no tensor has a padded (odd) size',
    );
  },
);

t.test(
  'dequantized weights equal min + scale*q, and reach the graph unchanged where nothing is folded',
  { skip: skipNsfw },
  async (t) => {
    const gs = groups();
    const decoded = decodeWeights(gs, raw!.weights, 'nsfwjs');
    let off = 0;
    let mismatches = 0;
    let checked = 0;
    const notU8: string[] = [];
    for (const w of gs.flatMap((g) => g.weights)) {
      const q = w.quantization!;
      if (q.dtype !== 'uint8') notU8.push(w.name);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const d = decoded.get(w.name)!.data;
      for (let i = 0; i < n; i++) {
        if (d[i] !== Math.fround(q.min! + q.scale! * raw!.weights[off + i]!)) mismatches++;
        checked++;
      }
      off += n;
    }
    t.same(notU8, [], 'every weight is stored as uint8');
    t.equal(off, raw!.weights.byteLength, 'the shard holds exactly the manifest weights');
    t.equal(mismatches, 0, `${checked} values of ${gs[0]!.weights.length} weights`);
    t.equal(checked, 2_619_461, 'all 2,619,461 parameters of the reference model (BN moving statistics included)');

    // Dense: kernel [K,N] transposed to [N,K]; bias unchanged.
    const g = model!.graph;
    for (const name of ['dense_1', 'dense_2', 'dense_3']) {
      const op = opNamed(g, name);
      if (op.kind !== 'fully_connected') throw new Error(name);
      const [n, k] = g.tensors[op.weights]!.shape as [number, number];
      const kernel = decoded.get(`${name}/kernel`)!.data;
      const w = model!.constants.get(op.weights)!;
      let bad = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) if (w[j * k + i] !== kernel[i * n + j]) bad++;
      t.equal(bad, 0, `${name}: [${k},${n}] kernel transposed exactly`);
      t.same(
        Array.from(model!.constants.get(op.bias) as Float32Array),
        Array.from(decoded.get(`${name}/bias`)!.data),
        `${name}: bias`,
      );
    }
  },
);

t.test(
  'BatchNorm folding: folded convs equal conv + BN computed from the raw Keras weights (float64)',
  { skip: skipNsfw },
  async (t) => {
    const g = model!.graph;
    const decoded = decodeWeights(groups(), raw!.weights, 'nsfwjs');
    const W = (n: string) => Float64Array.from(decoded.get(n)!.data);
    const layers = kerasLayers();
    const after = (name: string) => layers.find((l) => l.inbound_nodes.some((n) => n.some((r) => r[0] === name)));
    const rnd = rng(17);
    // First conv (3x3/2 after ZeroPadding2D), a stride-2 depthwise after ZeroPadding2D, a SAME depthwise, a 1x1 expand, a linear project.
    for (const name of [
      'Conv1',
      'block_1_depthwise',
      'expanded_conv_depthwise',
      'block_5_expand',
      'block_2_project',
      'block_14_depthwise',
    ]) {
      const L = layers.find((l) => l.name === name)!;
      const depthwise = L.class_name === 'DepthwiseConv2D';
      const [kh, kw] = L.config.kernel_size as [number, number];
      const [sh, sw] = L.config.strides as [number, number];
      const kernel = W(`${name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`);
      const kshape = decoded.get(`${name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`)!.shape;
      const inC = kshape[2]!;
      const outC = depthwise ? inC : kshape[3]!;
      const bn = after(name)!;
      t.equal(bn.class_name, 'BatchNormalization', `${name} is followed by ${bn.name}`);
      const relu = after(bn.name);
      const relu6 = relu?.class_name === 'ReLU' && relu.config.max_value === 6;
      const eps = bn.config.epsilon as number;
      const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) =>
        W(`${bn.name}/${p}`),
      ) as [Float64Array, Float64Array, Float64Array, Float64Array];

      // Keras semantics, independently: explicit zero padding (ZeroPadding2D config, or TF SAME for k3 s1), valid conv, BN, ReLU6.
      const H = 9,
        Wd = 8;
      const x = Float32Array.from({ length: H * Wd * inC }, () => rnd() * 2 - 1);
      const zp = layers.find((l) => l.name === L.inbound_nodes[0]![0]![0])!;
      const [[pt, pb], [pl, pr]] =
        zp.class_name === 'ZeroPadding2D'
          ? (zp.config.padding as [[number, number], [number, number]])
          : L.config.padding === 'same'
            ? [
                [(kh - 1) / 2, (kh - 1) / 2],
                [(kw - 1) / 2, (kw - 1) / 2],
              ]
            : [
                [0, 0],
                [0, 0],
              ];
      const PH = H + pt + pb,
        PW = Wd + pl + pr;
      const px = (yy: number, xx: number, c: number) => {
        const iy = yy - pt,
          ix = xx - pl;
        return iy < 0 || ix < 0 || iy >= H || ix >= Wd ? 0 : x[(iy * Wd + ix) * inC + c]!;
      };
      const OH = Math.floor((PH - kh) / sh) + 1,
        OW = Math.floor((PW - kw) / sw) + 1;
      const want = new Float64Array(OH * OW * outC);
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++)
          for (let o = 0; o < outC; o++) {
            let acc = 0;
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                if (depthwise) acc += px(oy * sh + ky, ox * sw + kx, o) * kernel[(ky * kw + kx) * inC + o]!;
                else
                  for (let i = 0; i < inC; i++)
                    acc += px(oy * sh + ky, ox * sw + kx, i) * kernel[((ky * kw + kx) * inC + i) * outC + o]!;
              }
            let v = ((acc - mean[o]!) / Math.sqrt(variance[o]! + eps)) * gamma[o]! + beta[o]!;
            if (relu6) v = Math.min(Math.max(v, 0), 6);
            want[(oy * OW + ox) * outC + o] = v;
          }

      const op = opNamed(g, name);
      if (op.kind !== 'conv2d' && op.kind !== 'dwconv2d') throw new Error(name);
      t.equal(op.act, relu6 ? 'relu6' : 'none', `${name}: activation ${op.act}`);
      const img = { h: H, w: Wd, c: inC, data: x };
      const wts = model!.constants.get(op.weights) as Float32Array;
      const bias = model!.constants.get(op.bias) as Float32Array;
      const got =
        op.kind === 'conv2d'
          ? refConv2d(img, wts, outC, kh, kw, bias, op)
          : refDepthwiseConv2d(img, wts, kh, kw, 1, bias, op);
      t.same([got.h, got.w, got.c], [OH, OW, outC], `${name}: output ${OH}x${OW}x${outC}`);
      const live = want.filter((v) => v !== 0 && v !== 6).length / want.length;
      t.ok(
        live > 0.2,
        `${name}: ${(100 * live).toFixed(0)}% of the outputs are not clamped by the activation, so the comparison sees the fold`,
      );
      const diff = maxAbsDiff(got.data, want);
      const scale = Math.max(...want.map(Math.abs));
      t.ok(
        diff <= 1e-5 * Math.max(1, scale),
        `${name}: folded conv vs conv+BN${relu6 ? '+ReLU6' : ''}: max abs diff ${diff.toExponential(2)} (outputs up to ${scale.toFixed(2)})`,
      );
    }
  },
);

t.test(
  'the whole model matches the TensorFlow.js reference probabilities (uint8 half-pixel input / 255)',
  { skip: skipRef },
  async (t) => {
    const ref = readReference(REF);
    t.same(ref.classes, [...NSFWJS_CLASSES], 'class order');
    let worst = 0;
    let n = 0;
    for (const r of ref.results as {
      image: string;
      uint8_halfpixel_input: { input_sha256: string; probabilities: number[]; top1: string };
    }[]) {
      const { y, sha256 } = await runOurs(r.image);
      t.equal(sha256, r.uint8_halfpixel_input.input_sha256, `${r.image}: same input bytes as the reference`);
      const want = r.uint8_halfpixel_input.probabilities;
      const diff = maxAbsDiff(y, want);
      worst = Math.max(worst, diff);
      n++;
      t.ok(diff <= 1e-4, `${r.image}: max abs diff ${diff.toExponential(2)} over the 5 probabilities`);
      const top = Array.from(y).indexOf(Math.max(...y));
      t.equal(NSFWJS_CLASSES[top], r.uint8_halfpixel_input.top1, `${r.image}: top-1 ${NSFWJS_CLASSES[top]}`);
    }
    t.ok(n >= 3, `${n} images compared`);
    t.comment(`nsfwjs MobileNetV2 vs TensorFlow.js reference: max abs diff ${worst.toExponential(3)} over ${n} images`);
  },
);

const tf = skipRef ? null : await loadTfjs();
const skipLive = skipRef || skipWithout(tf ? false : '@tensorflow/tfjs is not installed (devDependency)');

t.test(
  'live: TensorFlow.js (cpu backend) runs the same model.json and weights on the same inputs',
  { skip: skipLive },
  async (t) => {
    // tfjs reads the model.json we decoded from the .min.js bundle; it dequantizes the weights itself.
    const gs = groups();
    const buf = raw!.weights.slice().buffer;
    const tfModel = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: raw!.modelJson.modelTopology,
        weightSpecs: gs.flatMap((g) => g.weights),
        weightData: buf,
      }),
    );
    const ref = readReference(REF);
    let worst = 0;
    for (const r of (ref.results as { image: string; uint8_halfpixel_input: { probabilities: number[] } }[]).slice(
      0,
      3,
    )) {
      const { x, y } = await runOurs(r.image);
      const xt = tf.tensor(x, [1, 224, 224, 3], 'float32');
      const yt = tfModel.predict(xt);
      const live = new Float32Array(await yt.data());
      xt.dispose();
      yt.dispose();
      const dLive = maxAbsDiff(y, live);
      worst = Math.max(worst, dLive);
      t.ok(dLive <= 1e-4, `${r.image}: lowwater vs live tfjs: max abs diff ${dLive.toExponential(2)}`);
      t.ok(
        maxAbsDiff(live, r.uint8_halfpixel_input.probabilities) <= 1e-6,
        `${r.image}: live tfjs reproduces the reference (diff ${maxAbsDiff(live, r.uint8_halfpixel_input.probabilities).toExponential(2)})`,
      );
    }
    tfModel.dispose();
    t.comment(`nsfwjs MobileNetV2 vs live TensorFlow.js: max abs diff ${worst.toExponential(3)}`);
  },
);

t.test(
  'without nsfwjs the loader throws ModelNotAvailableError saying it is a devDependency and how to get it',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lowwater-no-nsfwjs-'));
    const from = pathToFileURL(join(dir, 'x.js'));
    t.throws(() => findNsfwjsPackage(from), {
      name: 'ModelNotAvailableError',
      message: /nsfwjs, which is not installed.*devDependency.*npm ci/,
    });
    await t.rejects(loadNsfwjsMobileNetV2({ resolveFrom: from }), ModelNotAvailableError);
    // A package named nsfwjs without the bundled model files (another major version).
    const pkg = join(dir, 'node_modules', 'nsfwjs');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'nsfwjs', version: '9.0.0', main: 'dist/index.js' }),
    );
    writeFileSync(join(pkg, 'dist', 'index.js'), '');
    const found = findNsfwjsPackage(from);
    t.same(found.version, '9.0.0');
    t.throws(() => readNsfwjsModelFiles(found.root, found.version), {
      name: 'ModelNotAvailableError',
      message: /nsfwjs 9\.0\.0 at .* has no dist\/models\/mobilenet_v2\/model\.min\.js/,
    });
  },
);
