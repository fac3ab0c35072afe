import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGraph } from '../../planner/builder.js';
import { DTYPE_BYTES, tensorElements, type Graph } from '../../planner/ir.js';
import {
  importTflite,
  loadTfliteFile,
  readTfliteFile,
  TfliteFormatError,
  TfliteUnsupportedError,
} from '../../src/importers/tflite/index.js';
import { fixturePath, readReference, skipUnless } from '../helpers/fixtures.js';
import { bytesOf, tinyQuantModel, writeTflite, type TinyModel } from './tflite-writer.js';
import { constantEntries } from '../helpers/constants.js';

const MODELS = [
  'mobilenet_v2_1.0_224_quant',
  'tf2_mobilenet_v2_1.0_224_ptq',
  'mobilenet_v2_1.0_224_inat_bird_quant',
  'deeplabv3_mnv2_pascal_quant',
  'deeplabv3_mnv2_dm05_pascal_quant',
];

const DTYPE_OF: Record<string, string> = { UINT8: 'u8', INT8: 'i8', INT32: 'i32', INT64: 'i64', FLOAT32: 'f32' };

interface RefIo {
  shape: number[];
  dtype: string;
  name: string;
  quantization: { scale: number[]; zero_point: number[] };
}

/** Asserts that fn throws an error satisfying `ok`, showing the actual error otherwise. */
function throwsWith(t: Test, fn: () => unknown, ok: (e: unknown) => boolean, what: string): void {
  try {
    fn();
  } catch (e) {
    t.ok(ok(e), what, { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    return;
  }
  t.fail(`${what}: did not throw`);
}

function kinds(g: Graph): Record<string, number> {
  const k: Record<string, number> = {};
  for (const op of g.ops) k[op.kind] = (k[op.kind] ?? 0) + 1;
  return k;
}

for (const name of MODELS) {
  t.test(
    `${name}: imports, validates and matches the reference io`,
    { skip: skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const ref = readReference(`${name}.json`);
      const m = await loadTfliteFile(fixturePath('models', `${name}.tflite`));
      validateGraph(m.graph);
      const g = m.graph;
      t.equal(g.ops.length, ref.io.num_ops, 'one IR op per TFLite operator');
      const check = (ids: number[], refs: RefIo[], what: string) => {
        t.equal(ids.length, refs.length, `${what} count`);
        refs.forEach((r, k) => {
          const x = g.tensors[ids[k]!]!;
          t.equal(x.name, r.name, `${what} ${k} name`);
          t.same(x.shape, r.shape, `${what} ${k} shape`);
          t.equal(x.dtype, DTYPE_OF[r.dtype], `${what} ${k} dtype`);
          if (r.quantization.scale.length === 0) t.equal(x.quant, undefined, `${what} ${k} not quantized`);
          else
            t.same(
              x.quant,
              { scale: r.quantization.scale, zeroPoint: r.quantization.zero_point, axis: 0 },
              `${what} ${k} quantization`,
            );
        });
      };
      check(g.inputs, ref.io.inputs, 'input');
      check(g.outputs, ref.io.outputs, 'output');
      const q = ref.io.inputs[0].quantization;
      t.same(m.input, {
        height: ref.io.inputs[0].shape[1],
        width: ref.io.inputs[0].shape[2],
        channels: 3,
        normalization: { kind: 'quantized', scale: q.scale[0], zeroPoint: q.zero_point[0] },
      });
      // Every constant has exactly the bytes its shape and dtype need.
      for (const [id, data] of constantEntries(m)) {
        const c = g.tensors[id]!;
        t.ok(c.constant, `constant ${c.name}`);
        if (data.length !== tensorElements(c) || data.BYTES_PER_ELEMENT !== DTYPE_BYTES[c.dtype])
          t.fail(
            `constant ${c.name} has ${data.length} x ${data.BYTES_PER_ELEMENT}-byte values for ${c.shape} ${c.dtype}`,
          );
      }
      // Every op's weights are quantized the way the file says: per tensor (uint8 TF1 models) or per channel on the output axis (int8 TF2).
      for (const op of g.ops) {
        if (op.kind !== 'conv2d' && op.kind !== 'dwconv2d') continue;
        const w = g.tensors[op.weights]!;
        const perChannel = w.quant!.scale.length > 1;
        t.equal(perChannel, name.startsWith('tf2'), `${op.name}: per-channel weights only in the TF2 model`);
        if (perChannel) t.equal(w.quant!.axis, op.kind === 'conv2d' ? 0 : 3, `${op.name}: channel axis`);
        if (op.bias >= 0) t.equal(g.tensors[op.bias]!.dtype, 'i32', `${op.name}: int32 bias`);
      }
    },
  );
}

t.test(
  'mobilenet_v2_1.0_224_quant: op mix and TF SAME padding',
  { skip: skipUnless('models', 'mobilenet_v2_1.0_224_quant.tflite') },
  async (t) => {
    const { graph: g } = await loadTfliteFile(fixturePath('models', 'mobilenet_v2_1.0_224_quant.tflite'));
    t.same(kinds(g), { conv2d: 36, dwconv2d: 17, add: 10, global_avgpool: 1, reshape: 1, softmax: 1 });
    const first = g.ops[0]!;
    if (first.kind !== 'conv2d') throw new Error('first op is not a conv');
    // 224 → 112 with a 3x3 stride-2 SAME conv: total padding (112−1)·2 + 3 − 224 = 1, all of it bottom/right.
    t.same(
      [first.kernel, first.stride, first.pad, first.act],
      [[3, 3], [2, 2], { top: 0, bottom: 1, left: 0, right: 1 }, 'relu6'],
    );
    t.same(g.tensors[first.outputs[0]!]!.shape, [1, 112, 112, 32]);
    const pool = g.ops.find((o) => o.kind === 'global_avgpool')!;
    t.same(
      g.tensors[pool.inputs[0]!]!.shape,
      [1, 7, 7, 1280],
      'AVERAGE_POOL_2D 7x7 over 7x7 becomes a global average pool',
    );
    const sm = g.ops.at(-1)!;
    t.same(sm.kind === 'softmax' && sm.beta, 1);
  },
);

t.test(
  'tf2_mobilenet_v2_1.0_224_ptq: QUANTIZE at both ends, MEAN as a global pool',
  { skip: skipUnless('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite') },
  async (t) => {
    const { graph: g } = await loadTfliteFile(fixturePath('models', 'tf2_mobilenet_v2_1.0_224_ptq.tflite'));
    t.same(kinds(g), { quantize: 2, conv2d: 36, dwconv2d: 17, add: 10, global_avgpool: 1, reshape: 1, softmax: 1 });
    const [q0, qN] = [g.ops[0]!, g.ops.at(-1)!];
    t.same(
      [q0.kind, g.tensors[q0.outputs[0]!]!.dtype, g.tensors[q0.outputs[0]!]!.quant?.zeroPoint],
      ['quantize', 'i8', [-1]],
      'uint8 input requantized to int8',
    );
    t.same(
      [qN.kind, g.tensors[qN.inputs[0]!]!.dtype, g.tensors[qN.outputs[0]!]!.dtype],
      ['quantize', 'i8', 'u8'],
      'int8 softmax requantized to uint8',
    );
    const mean = g.ops.find((o) => o.kind === 'global_avgpool')!;
    const [mi, mo] = [g.tensors[mean.inputs[0]!]!, g.tensors[mean.outputs[0]!]!];
    t.same(mo.shape, [1, 1, 1, 1280], 'keep_dims');
    t.not(mi.quant!.scale[0], mo.quant!.scale[0], 'MEAN requantizes: its output keeps its own scale');
  },
);

for (const name of ['deeplabv3_mnv2_pascal_quant', 'deeplabv3_mnv2_dm05_pascal_quant']) {
  t.test(
    `${name}: atrous depthwise, image pooling head, resize and argmax`,
    { skip: skipUnless('models', `${name}.tflite`) },
    async (t) => {
      const { graph: g } = await loadTfliteFile(fixturePath('models', `${name}.tflite`));
      t.same(kinds(g), {
        conv2d: 38,
        dwconv2d: 17,
        add: 10,
        global_avgpool: 1,
        resize_bilinear: 3,
        quantize: 1,
        concat: 1,
        argmax: 1,
      });
      const dilated = g.ops.filter((o) => o.kind === 'dwconv2d' && o.dilation[0] === 2);
      t.equal(dilated.length, 3, 'the three stride-32 blocks run at output stride 16 with dilation 2');
      for (const o of dilated)
        if (o.kind === 'dwconv2d')
          t.same(
            [o.stride, o.pad],
            [[1, 1], { top: 2, bottom: 2, left: 2, right: 2 }],
            `${o.name}: SAME padding of a dilated 3x3`,
          );
      const pool = g.ops.find((o) => o.kind === 'global_avgpool')!;
      t.same(g.tensors[pool.inputs[0]!]!.shape.slice(0, 3), [1, 33, 33], 'image pooling over the 33x33 feature map');
      const resizes = g.ops.filter((o) => o.kind === 'resize_bilinear');
      t.same(
        resizes.map((o) => o.kind === 'resize_bilinear' && [o.size, o.alignCorners, o.halfPixelCenters]),
        [
          [[33, 33], true, false],
          [[33, 33], true, false],
          [[513, 513], true, false],
        ],
      );
      const concat = g.ops.find((o) => o.kind === 'concat')!;
      t.same([concat.kind === 'concat' && concat.axis, concat.inputs.length], [3, 2]);
      const am = g.ops.at(-1)!;
      t.same(
        [am.kind, am.kind === 'argmax' && am.axis, g.tensors[am.outputs[0]!]!.dtype, g.tensors[am.outputs[0]!]!.shape],
        ['argmax', 3, 'i64', [1, 513, 513]],
      );
    },
  );
}

t.test('a tiny model written with the flatbuffers Builder imports op by op', async (t) => {
  const { model } = tinyQuantModel();
  const bytes = writeTflite(model);
  const m = importTflite(bytes, 'tiny.tflite');
  validateGraph(m.graph);
  const g = m.graph;
  t.equal(g.name, 'tiny');
  t.same(kinds(g), { conv2d: 1, dwconv2d: 1, global_avgpool: 1, reshape: 1, fully_connected: 1, softmax: 1 });
  const [conv, dw] = g.ops;
  if (conv?.kind !== 'conv2d' || dw?.kind !== 'dwconv2d') throw new Error('unexpected ops');
  // 4 → 2 with 3x3 stride 2 SAME: total padding (2−1)·2 + 3 − 4 = 1, bottom/right.
  t.same([conv.pad, conv.stride, conv.act], [{ top: 0, bottom: 1, left: 0, right: 1 }, [2, 2], 'relu6']);
  t.same([dw.depthMultiplier, dw.pad, dw.act], [2, { top: 1, bottom: 1, left: 1, right: 1 }, 'none']);
  t.same(g.tensors[dw.weights]!.quant, {
    scale: [0.011, 0.017, 0.023, 0.005].map(Math.fround),
    zeroPoint: [0, 0, 0, 0],
    axis: 3,
  });
  t.same(g.tensors[g.outputs[0]!]!.shape, [1, 3]);
  t.equal(constantEntries(m).length, 6, 'weights and biases only; the reshape shape tensor is not a graph constant');
});

t.test('constants are views when aligned and copies when not', async (t) => {
  const bytes = writeTflite(tinyQuantModel().model);
  const aligned = importTflite(bytes, 'a.tflite');
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const odd = importTflite(shifted.subarray(1), 'b.tflite');
  for (const [id, a] of constantEntries(aligned)) {
    const b = odd.constants.get(id)!;
    t.same(
      Array.from(b as ArrayLike<number>),
      Array.from(a as ArrayLike<number>),
      `${aligned.graph.tensors[id]!.name} same values`,
    );
    if (a.BYTES_PER_ELEMENT > 1) {
      t.equal(a.buffer, bytes.buffer, 'aligned: a view of the file');
      t.not(b.buffer, shifted.buffer, 'unaligned: a copy');
    }
  }
});

function withOp(opcode: { deprecated: number; builtin?: number; custom?: string }): TinyModel {
  // op 0: a 1x1 average pool (supported), op 1: the op under test.
  return {
    opcodes: [{ deprecated: 1, builtin: 1 }, opcode],
    tensors: [
      { name: 'x', shape: [1, 2, 2, 1], type: 0 },
      { name: 'pooled', shape: [1, 2, 2, 1], type: 0 },
      { name: 'y', shape: [1, 2, 2, 1], type: 0 },
    ],
    ops: [
      {
        opcode: 0,
        inputs: [0],
        outputs: [1],
        options: { type: 5, fields: { 0: ['i8', 1], 1: ['i32', 1], 2: ['i32', 1], 3: ['i32', 1], 4: ['i32', 1] } },
      },
      { opcode: 1, inputs: [1], outputs: [2] },
    ],
    inputs: [0],
    outputs: [2],
  };
}

t.test('an unsupported op is named with its builtin number and operator index', async (t) => {
  const cases: [{ deprecated: number; builtin?: number; custom?: string }, RegExp][] = [
    [{ deprecated: 127, builtin: 150 }, /operator 1 \(GELU \(150\)\).*not supported/],
    [{ deprecated: 17 }, /operator 1 \(MAX_POOL_2D \(17\)\)/],
    [{ deprecated: 127, builtin: 400 }, /operator 1 \(UNKNOWN \(400\)\)/],
    [{ deprecated: 32, custom: 'MyCustomOp' }, /operator 1 \(CUSTOM \(32\)\): custom op 'MyCustomOp'/],
  ];
  for (const [code, re] of cases) {
    throwsWith(
      t,
      () => importTflite(writeTflite(withOp(code)), 'u.tflite'),
      (e: unknown) => e instanceof TfliteUnsupportedError && re.test(e.message),
      re.source,
    );
  }
  // The effective code is the larger of the two fields (schema 3a): new files store min(code, 127) in the int8 field.
  const ok = importTflite(writeTflite(withOp({ deprecated: 114, builtin: 114 })), 'q.tflite');
  t.equal(ok.graph.ops[1]!.kind, 'quantize', 'new-style file: both fields');
  const ext = importTflite(writeTflite(withOp({ deprecated: 0, builtin: 114 })), 'q.tflite');
  t.equal(ext.graph.ops[1]!.kind, 'quantize', 'only builtin_code set');
  const old = importTflite(writeTflite(withOp({ deprecated: 114 })), 'q.tflite');
  t.equal(old.graph.ops[1]!.kind, 'quantize', 'old file: only deprecated_builtin_code');
});

t.test('an unsupported fused activation is named', async (t) => {
  const m = withOp({ deprecated: 0 });
  m.ops[1] = { opcode: 1, inputs: [1, 1], outputs: [2], options: { type: 11, fields: { 0: ['i8', 4] } } }; // ADD with TANH
  t.throws(
    () => importTflite(writeTflite(m), 'act.tflite'),
    /operator 1 \(ADD \(0\)\): fused activation TANH is not supported/,
  );
});

t.test('valid models using features lowwater lacks are unsupported, not malformed', async (t) => {
  const isUnsupported = (re: RegExp) => (e: unknown) => e instanceof TfliteUnsupportedError && re.test(e.message);
  const bcast = withOp({ deprecated: 0 });
  bcast.tensors.push({ name: 'c', shape: [1, 1, 1, 1], type: 0 });
  bcast.inputs.push(3);
  bcast.ops[1] = { opcode: 1, inputs: [1, 3], outputs: [2], options: { type: 11, fields: {} } };
  throwsWith(
    t,
    () => importTflite(writeTflite(bcast), 'b.tflite'),
    isUnsupported(/operator 1 \(ADD \(0\)\): broadcasting ADD of \[1,2,2,1\] and \[1,1,1,1\]/),
    'broadcast ADD',
  );
  const batch = withOp({ deprecated: 114 });
  for (const x of batch.tensors) x.shape = [2, 2, 2, 1];
  throwsWith(
    t,
    () => importTflite(writeTflite(batch), 'b.tflite'),
    isUnsupported(/operator 0 \(AVERAGE_POOL_2D \(1\)\): input has batch 2/),
    'batch 2',
  );
  const { model } = tinyQuantModel();
  const int16 = structuredClone(model);
  int16.tensors[1]!.type = 7; // INT16 weights
  throwsWith(
    t,
    () => importTflite(writeTflite(int16), 'b.tflite'),
    isUnsupported(/tensor 1 'conv\/w' has type INT16/),
    'int16 weights',
  );
});

t.test('inconsistent models are format errors naming the operator', async (t) => {
  const { model } = tinyQuantModel();
  const badShape = structuredClone(model);
  badShape.tensors[3]!.shape = [1, 3, 3, 2]; // conv output declared 3x3, the rules give 2x2
  throwsWith(
    t,
    () => importTflite(writeTflite(badShape), 'bad.tflite'),
    (e: unknown) =>
      e instanceof TfliteFormatError &&
      /operator 0 \(CONV_2D \(3\)\).*declared output shape \[1,3,3,2\]/.test(e.message),
    'expected error',
  );
  const shortData = structuredClone(model);
  shortData.tensors[1]!.data = shortData.tensors[1]!.data!.subarray(0, 10);
  t.throws(() => importTflite(writeTflite(shortData), 'bad.tflite'), /needs 54 bytes but its buffer 1 holds 10/);
  const badIndex = structuredClone(model);
  badIndex.ops[1]!.inputs[0] = 99;
  t.throws(
    () => importTflite(writeTflite(badIndex), 'bad.tflite'),
    /operator 1 \(DEPTHWISE_CONV_2D \(4\)\): input: tensor index 99 is out of range/,
  );
  const order = structuredClone(model);
  [order.ops[0], order.ops[1]] = [order.ops[1]!, order.ops[0]!];
  t.throws(
    () => importTflite(writeTflite(order), 'bad.tflite'),
    /operator 0 .*reads tensor 3 'conv' before any operator writes it/,
  );
  const zp = structuredClone(model);
  zp.tensors[3]!.quant!.zeroPoint = [300];
  t.throws(() => importTflite(writeTflite(zp), 'bad.tflite'), /zero point 300 is outside the UINT8 range/);
  const axis = structuredClone(model);
  axis.tensors[4]!.quant!.axis = 0;
  t.throws(
    () => importTflite(writeTflite(axis), 'bad.tflite'),
    /4 per-channel scales along quantized_dimension 0 do not fit shape \[1,3,3,4\]/,
  );
  const unwritten = structuredClone(model);
  unwritten.outputs = [13, 6];
  unwritten.ops.pop();
  t.throws(
    () => importTflite(writeTflite(unwritten), 'bad.tflite'),
    /at byte \d+: subgraph output 13 'probs' is never written by an operator/,
  );
  const f16 = structuredClone(model);
  f16.tensors[0]!.type = 1;
  throwsWith(
    t,
    () => importTflite(writeTflite(f16), 'bad.tflite'),
    (e: unknown) => e instanceof TfliteUnsupportedError && /type FLOAT16/.test(e.message),
    'expected error',
  );
});

t.test('structural damage is reported with a byte offset', async (t) => {
  const bytes = writeTflite(tinyQuantModel().model);
  t.throws(
    () => importTflite(bytes.subarray(0, 6), 'x.tflite'),
    /x\.tflite: malformed TFLite file at byte 0: file is 6 bytes/,
  );
  const notTfl = bytes.slice();
  notTfl.set([0x54, 0x46, 0x4c, 0x32], 4);
  t.throws(() => importTflite(notTfl, 'x.tflite'), /at byte 4: file identifier is 'TFL2', expected 'TFL3'/);
  const rootPastEnd = bytes.slice();
  new DataView(rootPastEnd.buffer).setUint32(0, bytes.length + 100, true);
  throwsWith(
    t,
    () => importTflite(rootPastEnd, 'x.tflite'),
    (e: unknown) => e instanceof TfliteFormatError && e.offset >= 0 && /Model vtable offset/.test(e.message),
    'expected error',
  );
  const half = bytes.subarray(0, bytes.length >> 1);
  throwsWith(
    t,
    () => importTflite(half, 'x.tflite'),
    (e: unknown) => e instanceof TfliteFormatError && /at byte \d+: /.test(e.message),
    'expected error',
  );
});

t.test('the reader charges vector reads against the file size (no amplification)', async (t) => {
  // 2000 tensors that all share one shape vector of 30000 ints: 240 MB of reads from a 128 kB file.
  // Built by hand, in the forward-only offset order FlatBuffers requires:
  // vtables, Model{subgraphs}, [SubGraph], SubGraph{tensors}, [T × n], T{shape}, shape vector.
  const n = 2000;
  const big = 30000;
  const buf = new Uint8Array(128 + 4 * n + 4 * big);
  const dv = new DataView(buf.buffer);
  buf.set([0x54, 0x46, 0x4c, 0x33], 4);
  const vt = 8; // shared by SubGraph and Tensor: [vtable size 6, table size 8, field 0 at +4]
  (dv.setUint16(vt, 6, true), dv.setUint16(vt + 2, 8, true), dv.setUint16(vt + 4, 4, true));
  const mvt = 16; // Model: [10, 8, version absent, operator_codes absent, subgraphs at +4]
  (dv.setUint16(mvt, 10, true), dv.setUint16(mvt + 2, 8, true), dv.setUint16(mvt + 8, 4, true));
  const modelT = 32;
  const sgVec = 40;
  const sgT = 48;
  const tensorsVec = 56;
  const tensorT = tensorsVec + 4 + 4 * n;
  const shapeVec = tensorT + 8;
  const link = (at: number, target: number) => dv.setUint32(at, target - at, true);
  dv.setUint32(0, modelT, true);
  (dv.setInt32(modelT, modelT - mvt, true), link(modelT + 4, sgVec));
  (dv.setUint32(sgVec, 1, true), link(sgVec + 4, sgT));
  (dv.setInt32(sgT, sgT - vt, true), link(sgT + 4, tensorsVec));
  dv.setUint32(tensorsVec, n, true);
  for (let i = 0; i < n; i++) link(tensorsVec + 4 + 4 * i, tensorT);
  (dv.setInt32(tensorT, tensorT - vt, true), link(tensorT + 4, shapeVec));
  dv.setUint32(shapeVec, big, true);
  for (let i = 0; i < big; i++) dv.setInt32(shapeVec + 4 + 4 * i, 1, true);
  // The same structure with a short shape is fine: the guard only trips on amplification.
  const ok = buf.slice();
  new DataView(ok.buffer).setUint32(shapeVec, 4, true);
  t.equal(readTfliteFile(ok).tensors.length, n);
  t.throws(() => readTfliteFile(buf, 'hostile.tflite'), /more than 16x its size in data/);
});

t.test('loadTfliteFile names the file when it is missing or not a TFLite model', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lowwater-tflite-'));
  const missing = join(dir, 'nope.tflite');
  await t.rejects(loadTfliteFile(missing), { message: `cannot read TFLite model '${missing}': no such file` });
  const text = join(dir, 'notes.tflite');
  writeFileSync(text, 'this is not a model, just text\n');
  const err = await loadTfliteFile(text).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(
    err instanceof TfliteFormatError &&
      err.message.startsWith(`${text}: `) &&
      /at byte 4: not a TFLite model/.test(err.message),
    'names the file and the identifier',
    { err: String(err) },
  );
  const p = join(dir, 'tiny.tflite');
  writeFileSync(p, writeTflite(tinyQuantModel().model));
  const m = await loadTfliteFile(p);
  t.equal(m.source, p);
  t.equal(m.format, 'tflite');
  t.equal(m.graph.ops.length, readTfliteFile(readFileSync(p)).operators.length);
});

t.test('constants keep the exact stored values', async (t) => {
  const { model, weights } = tinyQuantModel(5);
  const m = importTflite(writeTflite(model), 'v.tflite');
  const byName = (n: string) => m.constants.get(m.graph.tensors.find((x) => x.name === n)!.id)!;
  t.same(Array.from(byName('conv/w') as Uint8Array), weights.conv);
  t.same(Array.from(byName('dw/w') as Int8Array), weights.dw);
  t.same(Array.from(byName('fc/b') as Int32Array), weights.fcBias);
  t.same(Array.from(bytesOf.i32([1, 4])), [1, 0, 0, 0, 4, 0, 0, 0], 'little-endian helper');
});
