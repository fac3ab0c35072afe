// tfjs layers-model importer on synthetic models: literal parsing, weight
// decoding, folding, clear errors, and live agreement with TensorFlow.js on
// models that tfjs itself serialized (a Sequential wrapping a functional model).
import t from 'tap';
import vm from 'node:vm';
import { validateGraph } from '../../planner/builder.js';
import { importTfjsLayersModel } from '../../src/importers/tfjs/importer.js';
import { JsLiteralError, parseJsLiteral, readUmdExport } from '../../src/importers/tfjs/jsliteral.js';
import { decodeWeights, parseWeightsManifest, TfjsModelError } from '../../src/importers/tfjs/weights.js';
import { interpret } from '../../src/reference/interpreter.js';
import { skipWithout } from '../helpers/fixtures.js';
import {
  loadTfjs,
  maxAbsDiff,
  NO_TFJS,
  randomWeights,
  rng,
  tfjsArtifacts,
  tfjsPredict,
  type Tf,
} from './tfjs_support.js';

t.test('JS literal parser agrees with a JS engine on minified data literals', async (t) => {
  const cases = [
    `{a:1,"b c":'x\\'y',c:[!0,!1,null,.5,-.25,1e-3,-2E+2,0,10],d:{e:"\\u00e9\\x41\\n\\t\\\\",f:[]},g:{},7:"seven",h:"\\u{1F600}"}`,
    `[ 1 , [ [ ] ] , { "k" : true , 'l' : false } ]`,
    `"a\\
b"`,
    `{keras_version:"2.2.4",shape:[null,224,224,3],min:-.87334511607301,scale:.006666756611244351}`,
  ];
  for (const src of cases) {
    const { value, end } = parseJsLiteral(src, 0);
    t.equal(end, src.length, `consumed all of ${src.slice(0, 30)}`);
    t.same(value, vm.runInNewContext(`(${src})`, {}), src.slice(0, 40));
  }
  // __proto__ stays an own data property, as in JSON.parse.
  const p = parseJsLiteral('{__proto__:{x:1}}', 0).value as Record<string, unknown>;
  t.same(Object.keys(p), ['__proto__']);
  t.equal(Object.getPrototypeOf(p), Object.prototype);
});

t.test('JS literal parser rejects code with the byte offset', async (t) => {
  t.throws(() => parseJsLiteral('{a:foo()}', 0, 'f.js'), {
    name: 'JsLiteralError',
    message: /f\.js: at byte offset 3: 'foo\(\)' is not a data literal/,
  });
  t.throws(() => parseJsLiteral('{a:1', 0, 'f.js'), /byte offset 4: expected ',' or '}'/);
  t.throws(() => parseJsLiteral('"abc', 0, 'f.js'), /unterminated string/);
  t.throws(() => parseJsLiteral('[1,2', 0, 'f.js'), JsLiteralError);
  t.throws(() => parseJsLiteral('0x10', 0, 'f.js'), /unsupported number literal/);
  t.throws(() => parseJsLiteral('['.repeat(600), 0, 'f.js'), /nested deeper/);
});

t.test('readUmdExport finds the entry module of a browserify standalone bundle', async (t) => {
  const wrap = (body: string) =>
    '!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{(window).x=e()}}(function(){return function e(h,n,d){return m}' +
    `({1:[function(q,r,s){${body}},{}]},{},[1])(1)});`;
  t.equal(readUmdExport(wrap('r.exports="QUJD"'), 'shard.min.js'), 'QUJD');
  t.same(readUmdExport(wrap('r.exports={a:[1,!0]}'), 'model.min.js'), { a: [1, true] });
  t.throws(
    () => readUmdExport(wrap('r.exports="QUJD";steal()'), 'x.min.js'),
    /x\.min\.js: at byte offset \d+: entry module does more than export one literal/,
  );
  t.throws(() => readUmdExport(wrap('s.exports="QUJD"'), 'x.min.js'), /does not start with 'r\.exports='/);
  t.throws(() => readUmdExport('module.exports = 1', 'x.js'), /not a browserify bundle/);
});

t.test(
  'weights: uint8/uint16 give min + scale*q rounded to float32; float16, float32, int32 decode exactly',
  async (t) => {
    const u8 = [0, 1, 128, 255];
    const u16 = [0, 40000, 65535];
    const f16 = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000];
    const f16Want = [1, -2, 0.333251953125, 2 ** -24, 65504, -0];
    const f32 = [1.5, -0.1, 3e-30, 7];
    const i32 = [-5, 123456789];
    const q8 = { min: -0.87334511607301, scale: 0.006666756611244351 };
    const q16 = { min: 0.25, scale: 1 / 3 };
    const manifest = [
      {
        paths: ['a'],
        weights: [
          { name: 'w/f32', shape: [2, 2], dtype: 'float32' },
          { name: 'w/u8', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8', ...q8 } },
        ],
      },
      {
        paths: ['b', 'c'],
        weights: [
          { name: 'w/u16', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', ...q16 } },
          { name: 'w/f16', shape: [6], dtype: 'float32', quantization: { dtype: 'float16' } },
          { name: 'w/i32', shape: [2], dtype: 'int32' },
        ],
      },
    ];
    const bytes = new Uint8Array(16 + 4 + 6 + 12 + 8);
    const dv = new DataView(bytes.buffer);
    f32.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    u8.forEach((v, i) => dv.setUint8(16 + i, v));
    u16.forEach((v, i) => dv.setUint16(20 + 2 * i, v, true));
    f16.forEach((v, i) => dv.setUint16(26 + 2 * i, v, true));
    i32.forEach((v, i) => dv.setInt32(38 + 4 * i, v, true));
    const w = decodeWeights(parseWeightsManifest(manifest, 'm.json'), bytes, 'm.json');
    t.same(Array.from(w.get('w/f32')!.data), f32.map(Math.fround));
    t.same(
      Array.from(w.get('w/u8')!.data),
      u8.map((q) => Math.fround(q8.min + q8.scale * q)),
    );
    t.same(
      Array.from(w.get('w/u16')!.data),
      u16.map((q) => Math.fround(q16.min + q16.scale * q)),
    );
    t.same(Array.from(w.get('w/f16')!.data), f16Want);
    t.ok(Object.is(w.get('w/f16')!.data[5], -0), 'float16 -0 keeps its sign');
    t.same(Array.from(w.get('w/i32')!.data), i32);
    t.same(
      [...w.values()].map((x) => x.byteOffset),
      [0, 16, 20, 26, 38],
    );

    t.throws(
      () => decodeWeights(parseWeightsManifest(manifest, 'm.json'), bytes.subarray(1), 'm.json'),
      /m\.json: weight data is 45 bytes but the manifest describes 46 bytes/,
    );
    t.throws(
      () =>
        parseWeightsManifest(
          [{ paths: [], weights: [{ name: 'k', shape: [1], dtype: 'float32', quantization: { dtype: 'int4' } }] }],
          'm.json',
        ),
      /weight 'k': quantization dtype "int4"/,
    );
    t.throws(
      () =>
        parseWeightsManifest(
          [
            {
              paths: [],
              weights: [{ name: 'k', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', min: 0 } }],
            },
          ],
          'm.json',
        ),
      /weight 'k': uint8 quantization needs finite numbers 'min' and 'scale'/,
    );
    t.throws(
      () => parseWeightsManifest([{ paths: [], weights: [{ name: 'k', shape: [1], dtype: 'string' }] }], 'm.json'),
      /weight 'k': dtype 'string' is not supported/,
    );
  },
);

/** A hand-written Keras functional config (the Keras 2 `model_config` wrapper, as in nsfwjs). */
function kerasModel(layers: object[], output: string, inputShape = [null, 6, 6, 3]): object {
  return {
    modelTopology: {
      keras_version: '2.2.4',
      model_config: {
        class_name: 'Model',
        config: {
          name: 'm',
          layers: [
            {
              name: 'in',
              class_name: 'InputLayer',
              config: { batch_input_shape: inputShape, name: 'in' },
              inbound_nodes: [],
            },
            ...layers,
          ],
          input_layers: [['in', 0, 0]],
          output_layers: [[output, 0, 0]],
        },
      },
    },
  };
}
const node = (name: string, className: string, config: object, ...inputs: string[]) => ({
  name,
  class_name: className,
  config: { name, ...config },
  inbound_nodes: [inputs.map((i) => [i, 0, 0, {}])],
});
const conv = (name: string, input: string, padding: string, filters = 4) =>
  node(
    name,
    'Conv2D',
    { filters, kernel_size: [3, 3], strides: [2, 2], padding, use_bias: false, activation: 'linear' },
    input,
  );

function withWeights(model: object, specs: { name: string; shape: number[] }[]): [object, Uint8Array] {
  const { groups, data } = randomWeights(specs, 'float32', 5);
  return [{ ...model, weightsManifest: groups }, data];
}

t.test('an unknown layer class is a clear error naming the class and the layer', async (t) => {
  const [m, d] = withWeights(kerasModel([node('sep', 'SeparableConv2D', { filters: 4 }, 'in')], 'sep'), []);
  t.throws(() => importTfjsLayersModel(m, d, 'x/model.json'), {
    name: 'TfjsModelError',
    message:
      /^x\/model\.json: SeparableConv2D layer 'sep': layer class 'SeparableConv2D' is not supported \(supported: InputLayer, ZeroPadding2D, Conv2D/,
  });
  const [m2, d2] = withWeights(kerasModel([node('mp', 'MaxPooling2D', { pool_size: [2, 2] }, 'in')], 'mp'), []);
  t.throws(
    () => importTfjsLayersModel(m2, d2, 'y.json'),
    /MaxPooling2D layer 'mp': layer class 'MaxPooling2D' is not supported/,
  );
});

t.test('ZeroPadding2D folds only into valid convolutions; anything else is a clear error', async (t) => {
  const pad = node(
    'pad',
    'ZeroPadding2D',
    {
      padding: [
        [0, 1],
        [2, 3],
      ],
    },
    'in',
  );
  const k = [{ name: 'c/kernel', shape: [3, 3, 3, 4] }];
  // Folded: the conv reads the model input directly with the ZeroPadding2D's padding; no tensor has the padded size.
  const [ok, okd] = withWeights(kerasModel([pad, conv('c', 'pad', 'valid')], 'c'), k);
  const g = importTfjsLayersModel(ok, okd, 'ok.json').graph;
  validateGraph(g);
  t.equal(g.ops.length, 1);
  const op = g.ops[0]!;
  t.equal(op.kind, 'conv2d');
  if (op.kind === 'conv2d') t.same(op.pad, { top: 0, bottom: 1, left: 2, right: 3 });
  t.same(op.inputs, g.inputs);
  t.notOk(
    g.tensors.some((x) => x.shape[1] === 7 || x.shape[2] === 11),
    'no padded copy',
  );

  const [same, sd] = withWeights(kerasModel([pad, conv('c', 'pad', 'same')], 'c'), k);
  t.throws(
    () => importTfjsLayersModel(same, sd, 's.json'),
    /ZeroPadding2D layer 'pad': is read by Conv2D layer 'c' with padding 'same'/,
  );
  const [add, ad] = withWeights(kerasModel([pad, node('sum', 'Add', {}, 'pad', 'pad')], 'sum'), []);
  t.throws(
    () => importTfjsLayersModel(add, ad, 'a.json'),
    /ZeroPadding2D layer 'pad': is read by Add layer 'sum'; ZeroPadding2D must be followed only by a Conv2D or DepthwiseConv2D with padding 'valid'/,
  );
  const [out, od] = withWeights(kerasModel([pad], 'pad'), []);
  t.throws(() => importTfjsLayersModel(out, od, 'o.json'), /ZeroPadding2D layer 'pad': is a model output/);
});

t.test('activations that cannot be fused are clear errors', async (t) => {
  const [m, d] = withWeights(kerasModel([node('r', 'ReLU', { max_value: 6 }, 'in')], 'r'), []);
  t.throws(
    () => importTfjsLayersModel(m, d, 'r.json'),
    /ReLU layer 'r': reads a model input; lowwater fuses relu6 into the Conv2D, DepthwiseConv2D, Dense or Add before it/,
  );
  const k = [{ name: 'c/kernel', shape: [3, 3, 3, 4] }];
  const [m2, d2] = withWeights(
    kerasModel([conv('c', 'in', 'same'), node('r', 'ReLU', {}, 'c'), node('sum', 'Add', {}, 'c', 'r')], 'sum'),
    k,
  );
  t.throws(
    () => importTfjsLayersModel(m2, d2, 'r.json'),
    /ReLU layer 'r': cannot be fused: the output of Conv2D layer 'c' is also used without the activation/,
  );
  const [m3, d3] = withWeights(kerasModel([node('r', 'ReLU', { max_value: 4 }, 'in')], 'r'), []);
  t.throws(() => importTfjsLayersModel(m3, d3, 'r.json'), /ReLU layer 'r': max_value 4 is not supported/);
});

t.test('missing or mis-shaped weights name the layer and the weight', async (t) => {
  const [m, d] = withWeights(kerasModel([conv('c', 'in', 'same')], 'c'), [{ name: 'c/kernel', shape: [3, 3, 3, 5] }]);
  t.throws(
    () => importTfjsLayersModel(m, d, 'w.json'),
    /Conv2D layer 'c': weight 'c\/kernel' has shape \[3,3,3,5\], the layer config needs \[3,3,3,4\]/,
  );
  const [m2, d2] = withWeights(kerasModel([conv('c', 'in', 'same')], 'c'), []);
  t.throws(
    () => importTfjsLayersModel(m2, d2, 'w.json'),
    /Conv2D layer 'c': weight 'kernel' is not in the weights manifest/,
  );
  t.throws(
    () => importTfjsLayersModel({ format: 'graph-model', modelTopology: {} }, new Uint8Array(0), 'g.json'),
    /tfjs graph model/,
  );
});

t.test(
  'Keras 2 config forms: Sequential as a bare layer list, a functional model nested in a functional model',
  async (t) => {
    const convCfg = {
      filters: 4,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      use_bias: true,
      activation: 'relu',
    };
    const seq = {
      modelTopology: {
        class_name: 'Sequential',
        config: [
          { class_name: 'Conv2D', config: { name: 'c', batch_input_shape: [null, 5, 5, 3], ...convCfg } },
          { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
        ],
      },
    };
    const [m, d] = withWeights(seq, [
      { name: 'c/kernel', shape: [3, 3, 3, 4] },
      { name: 'c/bias', shape: [4] },
    ]);
    const g = importTfjsLayersModel(m, d, 'seq.json').graph;
    validateGraph(g);
    t.same(
      g.ops.map((o) => `${o.kind}:${o.name}`),
      ['conv2d:c', 'global_avgpool:gap'],
    );
    t.same(g.tensors[g.inputs[0]!]!.shape, [1, 5, 5, 3]);

    // Keras refers to a nested model's call as node 1 (node 0 is its own construction).
    const inner = {
      name: 'inner',
      class_name: 'Model',
      config: {
        name: 'inner',
        layers: [
          {
            name: 'inner_in',
            class_name: 'InputLayer',
            config: { batch_input_shape: [null, 5, 5, 3], name: 'inner_in' },
            inbound_nodes: [],
          },
          node('c', 'Conv2D', convCfg, 'inner_in'),
        ],
        input_layers: [['inner_in', 0, 0]],
        output_layers: [['c', 0, 0]],
      },
      inbound_nodes: [[['in', 0, 0, {}]]],
    };
    const outer = kerasModel(
      [
        inner,
        { ...node('drop', 'Dropout', { rate: 0.5 }), inbound_nodes: [[['inner', 1, 0, {}]]] },
        node('gap', 'GlobalAveragePooling2D', {}, 'drop'),
      ],
      'gap',
      [null, 5, 5, 3],
    );
    const [m2, d2] = withWeights(outer, [
      { name: 'c/kernel', shape: [3, 3, 3, 4] },
      { name: 'c/bias', shape: [4] },
    ]);
    const g2 = importTfjsLayersModel(m2, d2, 'nested.json').graph;
    validateGraph(g2);
    t.same(
      g2.ops.map((o) => `${o.kind}:${o.name}`),
      ['conv2d:inner/c', 'global_avgpool:gap'],
    );
    t.same(g2.ops[0]!.inputs, g2.inputs, 'the nested InputLayer is bound to the outer input');
    t.same(g2.ops[1]!.inputs, g2.ops[0]!.outputs, 'Dropout is the identity');
    const shared = kerasModel(
      [{ ...conv('c', 'in', 'same'), inbound_nodes: [[['in', 0, 0, {}]], [['in', 0, 0, {}]]] }],
      'c',
    );
    const [m3, d3] = withWeights(shared, [{ name: 'c/kernel', shape: [3, 3, 3, 4] }]);
    t.throws(
      () => importTfjsLayersModel(m3, d3, 'shared.json'),
      /Conv2D layer 'c': is called 2 times; shared layers are not supported/,
    );
  },
);

// ---- Live agreement with TensorFlow.js on models tfjs serialized itself ----

function keyedInput(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r());
}

/** A MobileNetV2-like functional block built with the tfjs API, wrapped in a Sequential head. */
function buildNested(tf: Tf, softmax = true): Tf {
  const L = tf.layers;
  const inp = tf.input({ shape: [13, 11, 3] });
  let x = L.zeroPadding2d({
    padding: [
      [0, 1],
      [0, 1],
    ],
    name: 'stem_pad',
  }).apply(inp);
  x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'stem' }).apply(x);
  x = L.batchNormalization({ epsilon: 1e-3, name: 'stem_bn' }).apply(x);
  const r1 = L.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x);
  let e = L.conv2d({ filters: 16, kernelSize: 1, padding: 'same', useBias: false, name: 'expand' }).apply(r1);
  e = L.batchNormalization({ epsilon: 1e-5, name: 'expand_bn' }).apply(e);
  e = L.reLU({ maxValue: 6, name: 'expand_relu' }).apply(e);
  let d = L.depthwiseConv2d({ kernelSize: 3, strides: 1, padding: 'same', useBias: false, name: 'dw' }).apply(e);
  d = L.batchNormalization({ name: 'dw_bn' }).apply(d);
  d = L.reLU({ maxValue: 6, name: 'dw_relu' }).apply(d);
  let p = L.conv2d({ filters: 8, kernelSize: 1, padding: 'same', useBias: false, name: 'project' }).apply(d);
  p = L.batchNormalization({ name: 'project_bn' }).apply(p);
  const a = L.add({ name: 'residual' }).apply([r1, p]);
  // Stride 2 'same' on a 6x5 plane: TF puts the odd pixel at the bottom/right.
  const d2 = L.depthwiseConv2d({
    kernelSize: 3,
    strides: 2,
    padding: 'same',
    depthMultiplier: 2,
    useBias: true,
    activation: 'relu',
    name: 'dw2',
  }).apply(a);
  const c3 = L.conv2d({
    filters: 12,
    kernelSize: 3,
    padding: 'same',
    dilationRate: 2,
    useBias: true,
    activation: 'relu6',
    name: 'dilated',
  }).apply(d2);
  const base = tf.model({ inputs: inp, outputs: c3, name: 'base' });
  return tf.sequential({
    name: 'head',
    layers: [
      base,
      L.averagePooling2d({ poolSize: [3, 3], padding: 'valid', name: 'pool' }),
      L.flatten({ name: 'flat' }),
      L.dropout({ rate: 0.5, name: 'drop' }),
      L.dense({ units: 6, activation: 'relu', name: 'fc1' }),
      L.dense({ units: 4, activation: softmax ? 'softmax' : 'linear', name: 'fc2' }),
    ],
  });
}

/** Other layer forms: standalone BN, ReLU after Add, windowed avg pool, GAP, Reshape, Activation layers, 3-input Add. */
function buildOdds(tf: Tf, softmax = true): Tf {
  const L = tf.layers;
  const inp = tf.input({ shape: [7, 6, 4] });
  const bn = L.batchNormalization({ name: 'in_bn' }).apply(inp);
  const c = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }).apply(bn);
  const s = L.add({ name: 'sum3' }).apply([inp, c, bn]);
  const r = L.activation({ activation: 'relu', name: 'sum_relu' }).apply(s);
  const lin = L.activation({ activation: 'linear', name: 'lin' }).apply(r);
  const ap = L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'ap' }).apply(lin);
  const ap2 = L.averagePooling2d({ poolSize: [8, 8], strides: [8, 8], padding: 'same', name: 'ap_all' }).apply(ap);
  const rs = L.reshape({ targetShape: [4], name: 'rs' }).apply(ap2);
  const fc = L.dense({ units: 5, useBias: false, name: 'fc' }).apply(rs);
  const rs2 = L.reshape({ targetShape: [1, -1], name: 'rs2' }).apply(fc);
  const sm = L.activation({ activation: softmax ? 'softmax' : 'linear', name: 'sm' }).apply(rs2);
  return tf.model({ inputs: inp, outputs: sm, name: 'odds' });
}

const tf = await loadTfjs();
const skipTf = skipWithout(tf ? false : NO_TFJS);

t.test(
  'live: models serialized by tfjs import and agree with TensorFlow.js (all weight storages)',
  { skip: skipTf },
  async (t) => {
    // Compared on the logits (last layer linear), where a wrong weight or padding shows; then once with the softmax.
    const cases: [string, (softmax: boolean) => Tf, number[]][] = [
      ['Sequential wrapping a functional MobileNetV2 block', (s) => buildNested(tf, s), [13, 11, 3]],
      ['functional model with standalone BN, ReLU after Add, pools, Reshape', (s) => buildOdds(tf, s), [7, 6, 4]],
    ];
    for (const [what, build, shape] of cases) {
      for (const softmax of [false, true]) {
        const model = build(softmax);
        const art = await tfjsArtifacts(tf, model);
        model.dispose();
        for (const storage of ['float32', 'uint8', 'uint16', 'float16'] as const) {
          const { groups, data } = randomWeights(art.weightSpecs, storage, 11, 0.5);
          const x = keyedInput(
            shape.reduce((a, b) => a * b, 1),
            3,
          );
          const want = await tfjsPredict(tf, art.modelTopology, groups, data, x, [1, ...shape]);
          const m = importTfjsLayersModel(
            { modelTopology: art.modelTopology, weightsManifest: groups, format: 'layers-model' },
            data,
            `${what}.json`,
          );
          validateGraph(m.graph);
          const got = interpret(m.graph, m.constants, x).get(m.graph.outputs[0]!)!;
          const diff = maxAbsDiff(got, want);
          const scale = Math.max(...want.map(Math.abs));
          const spread = Math.max(...want) - Math.min(...want);
          const label = `${what}, ${storage} weights, ${softmax ? 'softmax' : 'logits'}`;
          t.ok(
            diff <= 1e-5 * Math.max(1, scale),
            `${label}: max abs diff vs tfjs ${diff.toExponential(2)} (outputs span ${spread.toFixed(3)})`,
          );
          if (!softmax)
            t.ok(spread > 0.1, `${label}: the logits differ from each other, so the comparison can see errors`);
        }
      }
    }
  },
);

t.test('live: the nested model folds into the expected ops', { skip: skipTf }, async (t) => {
  const model = buildNested(tf);
  const art = await tfjsArtifacts(tf, model);
  model.dispose();
  const { groups, data } = randomWeights(art.weightSpecs, 'uint8', 2);
  const g = importTfjsLayersModel(
    { modelTopology: art.modelTopology, weightsManifest: groups },
    data,
    'nested.json',
  ).graph;
  t.same(
    g.ops.map((o) => `${o.kind}:${o.name}`),
    [
      'conv2d:base/stem',
      'conv2d:base/expand',
      'dwconv2d:base/dw',
      'conv2d:base/project',
      'add:base/residual',
      'dwconv2d:base/dw2',
      'conv2d:base/dilated',
      'global_avgpool:pool',
      'reshape:flat',
      'fully_connected:fc1',
      'fully_connected:fc2',
      'softmax:fc2/softmax',
    ],
  );
  const pads = g.ops.flatMap((o) => (o.kind === 'conv2d' || o.kind === 'dwconv2d' ? [[o.name, o.pad, o.act]] : []));
  t.same(pads, [
    ['base/stem', { top: 0, bottom: 1, left: 0, right: 1 }, 'relu6'],
    ['base/expand', { top: 0, bottom: 0, left: 0, right: 0 }, 'relu6'],
    ['base/dw', { top: 1, bottom: 1, left: 1, right: 1 }, 'relu6'],
    ['base/project', { top: 0, bottom: 0, left: 0, right: 0 }, 'none'],
    // 6x5 input, k3 s2 SAME: out 3x3, total pad 1 rows (bottom) and 2 columns (1/1).
    ['base/dw2', { top: 0, bottom: 1, left: 1, right: 1 }, 'relu'],
    ['base/dilated', { top: 2, bottom: 2, left: 2, right: 2 }, 'relu6'],
  ]);
});
