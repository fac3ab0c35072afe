// TFLite_Detection_PostProcess semantics on hand-computed cases; the op's inputs from graph outputs.
import t from 'tap';
import {
  centerSizeToCorners,
  detectionPostProcess,
  postProcessInputs,
  type DetectionPostProcessOptions,
} from '../../src/detect/index.js';
import type { DetectionPostProcessSpec } from '../../src/model.js';

/*
 * Three anchors, zero encodings (boxes = anchors):
 *   B0 [0, 0, .5, .5], B1 [.05, .05, .55, .55] (IoU with B0 = .2025/.2975 ≈ .68), B2 [.5, .5, 1, 1].
 * Scores (background, c0, c1): B0 (0, .9, .1), B1 (0, .2, .8), B2 (0, .6, .7).
 */
const anchors = Float32Array.of(0.25, 0.25, 0.5, 0.5, 0.3, 0.3, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5);
const enc = new Float32Array(12);
const scores = Float32Array.of(0, 0.9, 0.1, 0, 0.2, 0.8, 0, 0.6, 0.7);
const base: DetectionPostProcessOptions = {
  maxDetections: 10,
  maxClassesPerDetection: 1,
  detectionsPerClass: 100,
  useRegularNms: false,
  scoreThreshold: 0.3,
  iouThreshold: 0.5,
  numClasses: 2,
  scales: { y: 10, x: 10, h: 5, w: 5 },
};
const rows = (d: { box: number; classId: number; score: number }[]) =>
  d.map((x) => [x.box, x.classId, Math.round(x.score * 100) / 100]);

t.test('class-agnostic NMS: B1 loses to B0 whatever its class', async (t) => {
  const d = detectionPostProcess(enc, 4, scores, 3, anchors, base);
  t.same(rows(d), [
    [0, 0, 0.9],
    [2, 1, 0.7],
  ]);
  t.same(
    [d[0]!.ymin, d[0]!.xmin, d[0]!.ymax, d[0]!.xmax],
    Array.from(centerSizeToCorners(anchors.subarray(0, 4))),
    'decoded corners reported',
  );
  // Two classes per kept box (rows below the threshold included, as TFLite does).
  t.same(rows(detectionPostProcess(enc, 4, scores, 3, anchors, { ...base, maxClassesPerDetection: 2 })), [
    [0, 0, 0.9],
    [0, 1, 0.1],
    [2, 1, 0.7],
    [2, 0, 0.6],
  ]);
  t.same(rows(detectionPostProcess(enc, 4, scores, 3, anchors, { ...base, maxDetections: 1 })), [[0, 0, 0.9]]);
});

t.test('per-class NMS: B1 survives in its own class; the best maxDetections overall', async (t) => {
  const o = { ...base, useRegularNms: true };
  t.same(rows(detectionPostProcess(enc, 4, scores, 3, anchors, o)), [
    [0, 0, 0.9],
    [1, 1, 0.8],
    [2, 1, 0.7],
    [2, 0, 0.6],
  ]);
  t.same(rows(detectionPostProcess(enc, 4, scores, 3, anchors, { ...o, maxDetections: 3 })), [
    [0, 0, 0.9],
    [1, 1, 0.8],
    [2, 1, 0.7],
  ]);
  t.same(rows(detectionPostProcess(enc, 4, scores, 3, anchors, { ...o, detectionsPerClass: 1 })), [
    [0, 0, 0.9],
    [1, 1, 0.8],
  ]);
  // Without a background column the class ids are the columns.
  const noBg = Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.6, 0.7);
  t.same(
    rows(detectionPostProcess(enc, 4, noBg, 2, anchors, o)),
    rows(detectionPostProcess(enc, 4, scores, 3, anchors, o)),
  );
  t.throws(() => detectionPostProcess(enc, 4, scores.subarray(3), 3, anchors, o), /2 score rows but 3 anchors/);
  t.throws(() => detectionPostProcess(enc.subarray(4), 4, scores, 3, anchors, o), /2 box encodings but 3 anchors/);
});

t.test("op inputs from graph outputs: the folded sigmoid, then the file's uint8 grids", async (t) => {
  const spec: DetectionPostProcessSpec = {
    options: base,
    anchors,
    boxesOutput: 1,
    scoresOutput: 0,
    scoreSigmoid: true,
    boxesGrid: { quant: { scale: [0.05], zeroPoint: [128], axis: 0 }, dtype: 'u8' },
    scoresGrid: { quant: { scale: [1 / 256], zeroPoint: [0], axis: 0 }, dtype: 'u8' },
  };
  const logits = Float32Array.of(0, 2, -3, 100);
  const boxes = Float32Array.of(0.12, -0.07, 100, -0.026);
  const r = postProcessInputs(spec, [logits, boxes]);
  // sigmoid(0) = .5 → 128/256; sigmoid(2) = .8808 → 225/256; sigmoid(−3) = .0474 → 12/256; sigmoid(100) → 255/256 (clamped).
  t.same(
    Array.from(r.scores),
    [128, 225, 12, 255].map((q) => Math.fround(q / 256)),
  );
  // Boxes on the 0.05 grid around 128: 0.12 → 2·0.05, −0.07 → −1·0.05, 100 → (255 − 128)·0.05, −0.026 → −1·0.05 (rint half even of −0.52).
  t.same(
    Array.from(r.boxes),
    [2, -1, 127, -1].map((q) => Math.fround(0.05 * q)),
  );
  const plain = postProcessInputs(
    { ...spec, scoreSigmoid: false, boxesGrid: undefined, scoresGrid: undefined } as DetectionPostProcessSpec,
    [logits, boxes],
  );
  t.same(
    [Array.from(plain.scores), Array.from(plain.boxes)],
    [Array.from(logits), Array.from(boxes)],
    'no sigmoid, no grids: as given',
  );
  t.throws(() => postProcessInputs(spec, [logits]), /box encodings are output 1/);
});
