// Non-maximum suppression against a brute-force reference on random boxes, and hand cases.
import t from 'tap';
import { iou, nmsClassAgnostic, nmsPerClass, nmsSingleClass, type Detection } from '../../src/detect/index.js';
import { bruteForceNms as bruteForce, randomBoxes, rng } from './helpers.js';

t.test('IoU by hand', async (t) => {
  const b = [0, 0, 1, 1, 0, 0.5, 1, 1.5, 2, 2, 3, 3, 0, 0, 0, 1, 0, 0, 1, 1];
  t.equal(iou(b, 0, 0), 1);
  t.equal(iou(b, 0, 1), 0.5 / 1.5);
  t.equal(iou(b, 0, 2), 0, 'disjoint');
  t.equal(iou(b, 0, 3), 0, 'zero area');
  t.equal(iou(b, 0, 4), 1, 'identical boxes');
});

t.test('single class: random boxes and scores match the brute force', async (t) => {
  let cases = 0;
  let suppressed = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const r = rng(seed);
    const n = 5 + Math.floor(r() * 60);
    const boxes = randomBoxes(r, n);
    // Coarse scores so that ties occur (equal scores: lower index first).
    const scores = Float32Array.from({ length: n }, () => Math.round(r() * 20) / 20);
    for (const iouT of [0.3, 0.5, 0.6, 1]) {
      for (const [scoreT, max] of [
        [0, 100],
        [0.5, 100],
        [0.3, 3],
        [-Infinity, 0],
      ] as const) {
        const got = nmsSingleClass(boxes, scores, { iouThreshold: iouT, scoreThreshold: scoreT, maxDetections: max });
        const want = bruteForce(boxes, scores, iouT, scoreT, max);
        if (JSON.stringify(got) !== JSON.stringify(want))
          t.fail(`seed ${seed} iou ${iouT} score ${scoreT} max ${max}: ${got} vs ${want}`);
        suppressed += scores.filter((s) => s >= scoreT).length - got.length;
        cases++;
      }
    }
  }
  t.ok(suppressed > 1000, `${cases} cases; ${suppressed} boxes suppressed or cut overall`);
});

t.test(
  'boundaries: a score equal to the threshold is kept; an IoU equal to the threshold does not suppress',
  async (t) => {
    // IoU of these two boxes is exactly 0.5.
    const b = [0, 0, 1, 1, 0, 0, 1, 0.5];
    t.same(nmsSingleClass(b, [0.9, 0.8], { iouThreshold: 0.5, scoreThreshold: 0.8, maxDetections: 10 }), [0, 1]);
    t.same(nmsSingleClass(b, [0.9, 0.8], { iouThreshold: 0.49, scoreThreshold: 0, maxDetections: 10 }), [0]);
    t.same(
      nmsSingleClass(b, [0.8, 0.9], { iouThreshold: 0.49, scoreThreshold: 0, maxDetections: 10 }),
      [1],
      'the better box wins',
    );
    t.same(nmsSingleClass(b, [0.9, 0.8], { iouThreshold: 0.5, scoreThreshold: 0.81, maxDetections: 10 }), [0]);
    t.throws(
      () => nmsSingleClass(b, [1, 1], { iouThreshold: 0, scoreThreshold: 0, maxDetections: 1 }),
      /IoU threshold 0/,
    );
    t.throws(
      () => nmsSingleClass(b, [1], { iouThreshold: 0.5, scoreThreshold: 0, maxDetections: 1 }),
      /2 boxes but 1 scores/,
    );
  },
);

/** Column c of a score matrix with `off` background columns first. */
const col = (s: ArrayLike<number>, n: number, stride: number, c: number) =>
  Float32Array.from({ length: n }, (_, i) => s[i * stride + c]!);

t.test('per class (regular NMS): brute force in every class, then the best overall', async (t) => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(100 + seed);
    const n = 10 + Math.floor(r() * 40);
    const classes = 1 + Math.floor(r() * 5);
    const off = seed % 2; // with and without a background column
    const stride = classes + off;
    const boxes = randomBoxes(r, n);
    const scores = Float32Array.from({ length: n * stride }, () => Math.round(r() * 50) / 50);
    const o = {
      iouThreshold: 0.5,
      scoreThreshold: 0.3,
      maxDetections: 1 + Math.floor(r() * 15),
      detectionsPerClass: 1 + Math.floor(r() * 6),
    };
    const got = nmsPerClass(boxes, scores, { numClasses: classes, stride }, o);
    const all: Detection[] = [];
    for (let c = 0; c < classes; c++) {
      const s = col(scores, n, stride, c + off);
      for (const b of bruteForce(boxes, s, o.iouThreshold, o.scoreThreshold, o.detectionsPerClass))
        all.push({ box: b, classId: c, score: s[b]! });
    }
    const want = all
      .map((d, i) => ({ d, i }))
      .sort((a, b) => b.d.score - a.d.score || a.i - b.i)
      .slice(0, o.maxDetections)
      .map((x) => x.d);
    t.same(got, want, `seed ${seed}: ${got.length} detections, ${classes} classes, background column ${off === 1}`);
  }
});

t.test("class-agnostic (fast NMS): one suppression on each box's best class, then its best classes", async (t) => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = rng(200 + seed);
    const n = 10 + Math.floor(r() * 40);
    const classes = 1 + Math.floor(r() * 6);
    const stride = classes + 1;
    const boxes = randomBoxes(r, n);
    const scores = Float32Array.from({ length: n * stride }, () => Math.round(r() * 50) / 50);
    const k = 1 + (seed % 3);
    const o = {
      iouThreshold: 0.45,
      scoreThreshold: 0.4,
      maxDetections: 1 + Math.floor(r() * 10),
      maxClassesPerDetection: k,
    };
    const got = nmsClassAgnostic(boxes, scores, { numClasses: classes, stride }, o);
    const ranked = Array.from({ length: n }, (_, b) => {
      const row = Array.from({ length: classes }, (_, c) => ({ c, s: scores[b * stride + 1 + c]! }));
      row.sort((x, y) => y.s - x.s || x.c - y.c);
      return row.slice(0, Math.min(k, classes));
    });
    const best = ranked.map((row) => row[0]!.s);
    const want: Detection[] = [];
    for (const b of bruteForce(boxes, best, o.iouThreshold, o.scoreThreshold, o.maxDetections))
      for (const { c, s } of ranked[b]!) want.push({ box: b, classId: c, score: s });
    t.same(got, want, `seed ${seed}: ${got.length} rows, k ${k}`);
  }
  t.throws(
    () =>
      nmsClassAgnostic(
        [0, 0, 1, 1],
        [0.5, 0.5, 0.5],
        { numClasses: 1, stride: 3 },
        { iouThreshold: 0.5, scoreThreshold: 0, maxDetections: 1, maxClassesPerDetection: 1 },
      ),
    /3 score columns for 1 classes/,
  );
});
