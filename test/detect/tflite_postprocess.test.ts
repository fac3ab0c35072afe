// TFLite_Detection_PostProcess: imported from tiny SSD models written with the flatbuffers
// Builder, and `lowwater detect` end to end against a computation written out in the test.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as flex from 'flatbuffers/js/flexbuffers.js';
import sharp from 'sharp';
import { importTflite } from '../../src/importers/tflite/index.js';
import { dequantizeModel } from '../../src/importers/dequantize.js';
import { run } from '../../src/cli/main.js';
import { decodeImage, resizeForModel } from '../../src/preprocess/image.js';
import { gridAnchors } from '../../src/detect/index.js';
import { bytesOf, writeTflite, type TinyModel, type TinyOp } from '../importers/tflite-writer.js';
import { bruteForceNms, rng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'lowwater-detect-'));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, { stdout: (s) => (out += s + '\n'), stderr: (s) => (err += s + '\n') });
  return { code, out, err };
}

// Float options are float32 values, as TFLite's exporter writes them (and what keeps the JS
// encoder from putting a 4-byte float in an 8-byte slot: see flexbuffers.test.ts).
const OPTIONS = {
  max_detections: 3,
  max_classes_per_detection: 1,
  nms_score_threshold: Math.fround(0.3),
  nms_iou_threshold: 0.5,
  num_classes: 2,
  y_scale: 10,
  x_scale: 10,
  h_scale: 5,
  w_scale: 5,
};

const OPCODES = { CONV_2D: 0, RESHAPE: 1, LOGISTIC: 2, CUSTOM: 3, ADD: 4 };

interface TinySsd {
  model: TinyModel;
  boxW: number[];
  boxB: number[];
  clsW: number[];
  clsB: number[];
  anchors: Float32Array;
}

/**
 * input [1,2,2,3] f32 ─ 1x1 conv (4) ─ RESHAPE [1,4,4] ─────────────────┐
 *                    └ 1x1 conv (3) ─ RESHAPE [1,4,3] ─ LOGISTIC ─ TFLite_Detection_PostProcess ─ 4 outputs
 *                                                         anchors [4,4] ┘
 * One anchor per location of the 2x2 grid; scores: background + 2 classes.
 */
function tinySsd(
  opts: {
    options?: Record<string, unknown> | null;
    u8Anchors?: boolean;
    logistic?: boolean;
    postInputs?: number[];
    extraReader?: boolean;
  } = {},
): TinySsd {
  const r = rng(42);
  const vals = (n: number, s: number) => Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const boxW = vals(4 * 3, 0.8);
  const boxB = vals(4, 0.3);
  const clsW = vals(3 * 3, 1.5);
  const clsB = [0, 0.5, -0.2];
  const anchors = gridAnchors([[2, 2]], [[{ scale: 0.6, aspectRatio: 1 }]]);
  const logistic = opts.logistic ?? true;
  const anchorTensor = opts.u8Anchors
    ? {
        name: 'anchors',
        shape: [4, 4],
        type: 3,
        data: bytesOf.u8(Array.from(anchors, (a) => Math.round(a / (1 / 200)))),
        quant: { scale: [1 / 200], zeroPoint: [0] },
      }
    : { name: 'anchors', shape: [4, 4], type: 0, data: bytesOf.f32(Array.from(anchors)) };
  const conv = (x: number, w: number, b: number, y: number): TinyOp => ({
    opcode: OPCODES.CONV_2D,
    inputs: [x, w, b],
    outputs: [y],
    options: { type: 1, fields: { 0: ['i8', 1], 1: ['i32', 1], 2: ['i32', 1], 3: ['i8', 0] } },
  });
  const options = opts.options === null ? undefined : flex.encode(opts.options ?? OPTIONS);
  const ops: TinyOp[] = [
    conv(0, 1, 2, 3),
    { opcode: OPCODES.RESHAPE, inputs: [3, 4], outputs: [5] },
    conv(0, 6, 7, 8),
    { opcode: OPCODES.RESHAPE, inputs: [8, 9], outputs: [10] },
    ...(logistic ? [{ opcode: OPCODES.LOGISTIC, inputs: [10], outputs: [11] }] : []),
    {
      opcode: OPCODES.CUSTOM,
      inputs: opts.postInputs ?? [5, logistic ? 11 : 10, 12],
      outputs: [13, 14, 15, 16],
      ...(options ? { customOptions: options } : {}),
    },
    ...(opts.extraReader ? [{ opcode: OPCODES.ADD, inputs: [15, 15], outputs: [17] }] : []),
  ];
  const model: TinyModel = {
    opcodes: [
      { deprecated: 3 },
      { deprecated: 22 },
      { deprecated: 14 },
      { deprecated: 32, custom: 'TFLite_Detection_PostProcess' },
      { deprecated: 0 },
    ],
    tensors: [
      { name: 'input', shape: [1, 2, 2, 3], type: 0 },
      { name: 'box/w', shape: [4, 1, 1, 3], type: 0, data: bytesOf.f32(boxW) },
      { name: 'box/b', shape: [4], type: 0, data: bytesOf.f32(boxB) },
      { name: 'box/map', shape: [1, 2, 2, 4], type: 0 },
      { name: 'box/shape', shape: [3], type: 2, data: bytesOf.i32([1, 4, 4]) },
      { name: 'raw_outputs/box_encodings', shape: [1, 4, 4], type: 0 },
      { name: 'cls/w', shape: [3, 1, 1, 3], type: 0, data: bytesOf.f32(clsW) },
      { name: 'cls/b', shape: [3], type: 0, data: bytesOf.f32(clsB) },
      { name: 'cls/map', shape: [1, 2, 2, 3], type: 0 },
      { name: 'cls/shape', shape: [3], type: 2, data: bytesOf.i32([1, 4, 3]) },
      { name: 'raw_outputs/class_predictions', shape: [1, 4, 3], type: 0 },
      { name: 'convert_scores', shape: [1, 4, 3], type: 0 },
      anchorTensor,
      { name: 'TFLite_Detection_PostProcess', shape: [1, 3, 4], type: 0 },
      { name: 'TFLite_Detection_PostProcess:1', shape: [1, 3], type: 0 },
      { name: 'TFLite_Detection_PostProcess:2', shape: [1, 3], type: 0 },
      { name: 'TFLite_Detection_PostProcess:3', shape: [1], type: 0 },
      ...(opts.extraReader ? [{ name: 'reader', shape: [1, 3], type: 0 }] : []),
    ],
    ops,
    inputs: [0],
    outputs: opts.extraReader ? [13, 14, 15, 16, 17] : [13, 14, 15, 16],
  };
  return { model, boxW, boxB, clsW, clsB, anchors };
}

t.test('the custom op is lifted out: the graph ends at box encodings and class logits', async (t) => {
  const m = importTflite(writeTflite(tinySsd().model), 'tiny_ssd.tflite');
  const g = m.graph;
  t.same(
    g.ops.map((o) => o.kind),
    ['conv2d', 'reshape', 'conv2d', 'reshape'],
    'no LOGISTIC, no custom op',
  );
  t.same(
    g.outputs.map((o) => [g.tensors[o]!.name, g.tensors[o]!.shape]),
    [
      ['raw_outputs/box_encodings', [1, 4, 4]],
      ['raw_outputs/class_predictions', [1, 4, 3]],
    ],
  );
  const spec = m.detectionPostProcess!;
  t.ok(spec, 'post-process recorded');
  t.same(spec.options, {
    maxDetections: 3,
    maxClassesPerDetection: 1,
    detectionsPerClass: 100,
    useRegularNms: false,
    scoreThreshold: Math.fround(0.3),
    iouThreshold: 0.5,
    numClasses: 2,
    scales: { y: 10, x: 10, h: 5, w: 5 },
  });
  t.same([spec.boxesOutput, spec.scoresOutput, spec.scoreSigmoid], [0, 1, true]);
  t.same(spec.anchors, tinySsd().anchors);
  t.notOk(spec.boxesGrid || spec.scoresGrid, 'float tensors: no grids');
  const f = dequantizeModel(m);
  t.same(f.detectionPostProcess, spec, 'the float path keeps the post-process');

  const q = importTflite(writeTflite(tinySsd({ u8Anchors: true }).model), 'tiny_u8.tflite').detectionPostProcess!;
  const max = Math.max(...Array.from(q.anchors, (a, i) => Math.abs(a - tinySsd().anchors[i]!)));
  t.ok(max <= 1 / 400 + 1e-7, `uint8 anchors dequantized (scale 1/200, max error ${max})`);

  const noSigmoid = importTflite(
    writeTflite(tinySsd({ logistic: false }).model),
    'tiny_nolog.tflite',
  ).detectionPostProcess!;
  t.equal(noSigmoid.scoreSigmoid, false, 'scores fed directly: no sigmoid');
});

t.test('bad post-process ops are refused with the operator named', async (t) => {
  const imp = (o: Parameters<typeof tinySsd>[0]) => () => importTflite(writeTflite(tinySsd(o).model), 'bad.tflite');
  t.throws(imp({ options: null }), /operator 5 \(CUSTOM 'TFLite_Detection_PostProcess'\): has no custom_options/);
  t.throws(imp({ options: { ...OPTIONS, num_classes: 5 } }), /3 columns for num_classes 5/);
  const { nms_iou_threshold: _d, ...noIou } = OPTIONS;
  t.throws(imp({ options: noIou }), /custom option 'nms_iou_threshold' is missing/);
  t.throws(imp({ postInputs: [5, 11] }), /has 2 inputs, expected 3/);
  t.throws(imp({ postInputs: [5, 11, 3] }), /anchors have shape \[1,2,2,4\], expected \[4, 4\]/);
  t.throws(imp({ extraReader: true }), /is read by another operator/);
  // Another custom op is still unsupported.
  const other = tinySsd({ logistic: false });
  other.model.opcodes[3] = { deprecated: 32, custom: 'MyOp' };
  t.throws(
    () => importTflite(writeTflite(other.model), 'other.tflite'),
    /operator 4 \(CUSTOM \(32\)\): custom op 'MyOp' is not supported/,
  );
});

/** What the model computes, written out: 1x1 convs, sigmoid, the decoder formula, then NMS by definition. */
function expectedDetections(s: TinySsd, x: Float32Array): { classId: number; score: number; box: number[] }[] {
  const conv = (w: number[], b: number[], oc: number) => {
    const y = new Float64Array(4 * oc);
    for (let p = 0; p < 4; p++)
      for (let o = 0; o < oc; o++) {
        let acc = b[o]!;
        for (let c = 0; c < 3; c++) acc += w[o * 3 + c]! * x[p * 3 + c]!;
        y[p * oc + o] = acc;
      }
    return y;
  };
  const enc = conv(s.boxW, s.boxB, 4);
  const scores = conv(s.clsW, s.clsB, 3).map((v) => 1 / (1 + Math.exp(-v)));
  const boxes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [ya, xa, ha, wa] = Array.from(s.anchors.subarray(4 * i, 4 * i + 4));
    const yc = (enc[4 * i]! / 10) * ha! + ya!;
    const xc = (enc[4 * i + 1]! / 10) * wa! + xa!;
    const h = Math.exp(enc[4 * i + 2]! / 5) * ha!;
    const w = Math.exp(enc[4 * i + 3]! / 5) * wa!;
    boxes.push(yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2);
  }
  // Class-agnostic: each box's best real class (columns 1, 2).
  const best = Array.from({ length: 4 }, (_, i) => (scores[3 * i + 2]! > scores[3 * i + 1]! ? 1 : 0));
  const bestScore = best.map((c, i) => scores[3 * i + 1 + c]!);
  return bruteForceNms(
    boxes,
    bestScore,
    OPTIONS.nms_iou_threshold,
    OPTIONS.nms_score_threshold,
    OPTIONS.max_detections,
  ).map((i) => ({ classId: best[i]!, score: bestScore[i]!, box: boxes.slice(4 * i, 4 * i + 4) }));
}

t.test('lowwater detect: runs the graph and the post-process; --json, --out, labels', async (t) => {
  const s = tinySsd();
  const modelFile = join(dir, 'tiny_ssd.tflite');
  writeFileSync(modelFile, writeTflite(s.model));
  const labels = join(dir, 'labels.txt');
  writeFileSync(labels, 'cat\ndog\n');
  let found = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const r = rng(seed);
    const image = join(dir, `img${seed}.png`);
    await sharp(Buffer.from(Array.from({ length: 7 * 5 * 3 }, () => Math.floor(r() * 256))), {
      raw: { width: 7, height: 5, channels: 3 },
    })
      .png()
      .toFile(image);
    const out = join(dir, `boxes${seed}.png`);
    const res = await cli(['detect', image, '--model', modelFile, '--labels', labels, '--json', '--out', out]);
    t.equal(res.code, 0, res.err);
    const j = JSON.parse(res.out);
    const x = Float32Array.from(resizeForModel(await decodeImage(image), 2, 2), (p) => p / 127.5 - 1);
    const want = expectedDetections(s, x);
    const got = j.results[0].detections as {
      classId: number;
      label: string;
      score: number;
      box: { ymin: number; xmin: number; ymax: number; xmax: number };
      pixels: { left: number; right: number };
    }[];
    t.equal(got.length, want.length, `image ${seed}: ${want.length} detections`);
    got.forEach((d, i) => {
      const w = want[i]!;
      t.equal(d.classId, w.classId);
      t.equal(d.label, ['cat', 'dog'][w.classId]);
      t.ok(Math.abs(d.score - w.score) < 1e-5, `score ${d.score} vs ${w.score}`);
      const box = [d.box.ymin, d.box.xmin, d.box.ymax, d.box.xmax];
      t.ok(
        box.every((v, k) => Math.abs(v - w.box[k]!) < 1e-5),
        `box ${box} vs ${w.box}`,
      );
      t.ok(
        Math.abs(d.pixels.left - Math.min(7, Math.max(0, d.box.xmin * 7))) < 1e-9,
        'pixel box in the original image',
      );
    });
    found += got.length;
    const meta = await sharp(out).metadata();
    t.same([meta.width, meta.height], [7, 5], 'boxes drawn over the original image');
    t.equal(j.postprocess.anchors, 4);
    t.equal(j.path, 'float32');
  }
  t.ok(found > 0, `${found} detections over the images`);
  const human = await cli([
    'detect',
    join(dir, 'img1.png'),
    '--model',
    modelFile,
    '--labels',
    labels,
    '--threshold',
    '0',
  ]);
  t.match(human.out, /img1\.png .*detections?/);
  const none = await cli(['detect', join(dir, 'img1.png'), '--model', modelFile, '--json', '--threshold', '2']);
  t.same(JSON.parse(none.out).results[0].detections, [], '--threshold above every score');
});

t.test('detect: usage errors and models without the post-process', { skip: false }, async (t) => {
  t.equal((await cli(['detect', '--help'])).code, 0);
  t.match((await cli(['detect', 'x.png'])).err, /detect needs --model FILE/);
  t.match((await cli(['detect', 'a.png', 'b.png', '--model', 'm.tflite', '--out', 'o.png'])).err, /needs \{name\}/);
  const plain = join(dir, 'plain.tflite');
  const s = tinySsd();
  s.model.ops = s.model.ops.slice(0, 2);
  s.model.outputs = [5];
  writeFileSync(plain, writeTflite(s.model));
  const res = await cli(['detect', join(dir, 'img1.png'), '--model', plain]);
  t.equal(res.code, 1);
  t.match(res.err, /has no TFLite_Detection_PostProcess op/);
});
