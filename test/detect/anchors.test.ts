// SSD anchors and the center-size box coder, against hand-computed cases.
import t from 'tap';
import { buildSSDLite, ssdliteFeatureMaps } from '../../models/generators/ssdlite.js';
import {
  centerSizeToCorners,
  decodeCenterSizeBoxes,
  encodeCenterSizeBoxes,
  gridAnchors,
  ssdAnchors,
  ssdBoxSpecs,
} from '../../src/detect/index.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6) =>
  a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) <= eps);

t.test('box specs: scales from 0.2 to 0.95, three boxes in the lowest layer, the interpolated extra box', async (t) => {
  const specs = ssdBoxSpecs();
  t.same(
    specs.map((l) => l.length),
    [3, 6, 6, 6, 6, 6],
  );
  t.same(specs[0], [
    { scale: 0.1, aspectRatio: 1 },
    { scale: 0.2, aspectRatio: 2 },
    { scale: 0.2, aspectRatio: 0.5 },
  ]);
  // s_k = 0.2 + 0.15·k
  const layerScales = specs.slice(1).map((l) => l[0]!.scale);
  t.ok(close(layerScales, [0.35, 0.5, 0.65, 0.8, 0.95], 1e-12), `scales ${layerScales}`);
  t.same(
    specs[1]!.slice(0, 5).map((s) => s.aspectRatio),
    [1, 2, 0.5, 3, 0.3333],
    'the pipeline config order of aspect ratios',
  );
  t.ok(Math.abs(specs[1]![5]!.scale - Math.sqrt(0.35 * 0.5)) < 1e-12, 'extra box at √(s_1·s_2)');
  t.ok(Math.abs(specs[5]![5]!.scale - Math.sqrt(0.95 * 1.0)) < 1e-12, 'last layer: √(s_5·1)');
  t.equal(specs[5]![5]!.aspectRatio, 1);
  t.same(
    ssdBoxSpecs({ reduceBoxesInLowestLayer: false, interpolatedScaleAspectRatio: 0 }).map((l) => l.length),
    [5, 5, 5, 5, 5, 5],
  );
  t.same(ssdBoxSpecs({ numLayers: 2, scales: [0.3, 0.6], aspectRatios: [1] }), [
    [
      { scale: 0.1, aspectRatio: 1 },
      { scale: 0.3, aspectRatio: 2 },
      { scale: 0.3, aspectRatio: 0.5 },
    ],
    [
      { scale: 0.6, aspectRatio: 1 },
      { scale: Math.sqrt(0.6), aspectRatio: 1 },
    ],
  ]);
  t.throws(() => ssdBoxSpecs({ numLayers: 3, scales: [0.1, 0.2] }), /2 scales for 3 layers/);
  t.throws(() => ssdBoxSpecs({ aspectRatios: [1, 0] }), /aspect ratio 0/);
});

t.test('grid anchors: centres at half strides, row-major then box spec, h = s/√a, w = s·√a', async (t) => {
  const a = gridAnchors([[2, 2]], [[{ scale: 0.5, aspectRatio: 2 }]]);
  const h = 0.5 / Math.SQRT2;
  const w = 0.5 * Math.SQRT2;
  t.ok(close(a, [0.25, 0.25, h, w, 0.25, 0.75, h, w, 0.75, 0.25, h, w, 0.75, 0.75, h, w]), `${Array.from(a)}`);
  // Non-square grid: strides 1/2 × 1/3.
  const b = gridAnchors(
    [[2, 3]],
    [
      [
        { scale: 1, aspectRatio: 1 },
        { scale: 0.5, aspectRatio: 1 },
      ],
    ],
  );
  t.equal(b.length, 2 * 3 * 2 * 4);
  t.ok(close(b.subarray(0, 8), [0.25, 1 / 6, 1, 1, 0.25, 1 / 6, 0.5, 0.5]), 'two boxes of location (0, 0)');
  t.ok(close(b.subarray(8 * 5, 8 * 5 + 4), [0.75, 5 / 6, 1, 1]), 'location (1, 2)');
  // A non-square image: the base anchor is normalized to the shorter side (height 300 of 300x600).
  const c = gridAnchors([[1, 1]], [[{ scale: 0.4, aspectRatio: 1 }]], { imageSize: [300, 600] });
  t.ok(close(c, [0.5, 0.5, 0.4, 0.2]), `${Array.from(c)}`);
  t.throws(() => gridAnchors([[0, 2]], [[{ scale: 1, aspectRatio: 1 }]]), /feature map 0 has size 0x2/);
  t.throws(() => gridAnchors([[1, 1]], []), /1 feature maps but 0 box spec lists/);
});

t.test('SSDLite at 300x300: the 1917 anchors of the released TF models, first and last by hand', async (t) => {
  const g = buildSSDLite({ resolution: 300 });
  const maps = ssdliteFeatureMaps(g);
  t.same(maps, [
    [19, 19],
    [10, 10],
    [5, 5],
    [3, 3],
    [2, 2],
    [1, 1],
  ]);
  const anchors = ssdAnchors(maps);
  t.equal(anchors.length / 4, 1917);
  t.equal(anchors.length / 4, g.tensors[g.outputs[0]!]!.shape[1], 'one anchor per box encoding of the graph');
  // First location of the 19x19 map: (0.1, 1), (0.2, 2), (0.2, 1/2) at centre 0.5/19.
  const c = 0.5 / 19;
  t.ok(
    close(anchors.subarray(0, 12), [
      c,
      c,
      0.1,
      0.1,
      c,
      c,
      0.2 / Math.SQRT2,
      0.2 * Math.SQRT2,
      c,
      c,
      0.2 * Math.SQRT2,
      0.2 / Math.SQRT2,
    ]),
    `${Array.from(anchors.subarray(0, 12))}`,
  );
  // Second location: one stride to the right.
  t.ok(close(anchors.subarray(12, 14), [c, 3 * c]));
  // First anchor of the 10x10 map (after 19·19·3 = 1083): scale 0.35, ratio 1.
  t.ok(close(anchors.subarray(4 * 1083, 4 * 1083 + 4), [0.05, 0.05, 0.35, 0.35]));
  // Last anchor: the 1x1 map's interpolated box √0.95.
  const s = Math.sqrt(0.95);
  t.ok(close(anchors.subarray(anchors.length - 4), [0.5, 0.5, s, s]));
  // Box of ratio 0.3333 on the 5x5 map (scale 0.5): h = 0.5/√0.3333, w = 0.5·√0.3333.
  const at = 4 * (1083 + 600 + 4);
  t.ok(close(anchors.subarray(at, at + 4), [0.1, 0.1, 0.5 / Math.sqrt(0.3333), 0.5 * Math.sqrt(0.3333)]));
  // At 320x320 the anchor count matches the graph too (20x20 first map).
  const g320 = buildSSDLite();
  t.equal(ssdAnchors(ssdliteFeatureMaps(g320)).length / 4, g320.tensors[g320.outputs[0]!]!.shape[1]);
  // The generator's anchors per location are the graph builder's default.
  t.same(
    ssdBoxSpecs().map((l) => l.length),
    [3, 6, 6, 6, 6, 6],
  );
  t.same(ssdliteFeatureMaps(buildSSDLite({ lite: false, resolution: 300 })), maps, 'SSD heads read the same maps');
});

t.test('center-size decoding: hand-computed boxes, scales, code size', async (t) => {
  const anchor = [0.5, 0.5, 0.2, 0.4];
  t.ok(close(decodeCenterSizeBoxes([0, 0, 0, 0], anchor), [0.4, 0.3, 0.6, 0.7]), 'zero encoding = the anchor');
  // ty = 1 → yc = 0.5 + 1/10·0.2 = 0.52; tx = −2 → xc = 0.5 − 2/10·0.4 = 0.42;
  // th = 5·ln 2 → h = 2·0.2 = 0.4; tw = 0 → w = 0.4.
  const d = decodeCenterSizeBoxes([1, -2, 5 * Math.LN2, 0], anchor);
  t.ok(close(d, [0.32, 0.22, 0.72, 0.62]), `${Array.from(d)}`);
  // Unit scales: yc = 0.5 + 0.1·0.2 = 0.52, xc = 0.5 + 0.1·0.4 = 0.54, h = 2·0.2, w = 0.4.
  t.ok(
    close(decodeCenterSizeBoxes([0.1, 0.1, Math.LN2, 0], anchor, { y: 1, x: 1, h: 1, w: 1 }), [0.32, 0.34, 0.72, 0.74]),
    'unit scales',
  );
  // Code size 6: the extra values (keypoints) are skipped.
  t.ok(
    close(
      decodeCenterSizeBoxes([1, -2, 5 * Math.LN2, 0, 9, 9, 0, 0, 0, 0, 9, 9], [...anchor, ...anchor], undefined, 6),
      [0.32, 0.22, 0.72, 0.62, 0.4, 0.3, 0.6, 0.7],
    ),
  );
  t.ok(close(centerSizeToCorners(anchor), [0.4, 0.3, 0.6, 0.7]));
  t.throws(() => decodeCenterSizeBoxes([0, 0, 0], anchor), /not a multiple of the code size 4/);
  t.throws(() => decodeCenterSizeBoxes([0, 0, 0, 0, 0, 0, 0, 0], anchor), /2 boxes but 1 anchors/);
  t.throws(() => decodeCenterSizeBoxes([0, 0, 0, 0], anchor, { y: 0, x: 1, h: 1, w: 1 }), /y_scale 0/);
});

t.test('decoding inverts encoding on random boxes', async (t) => {
  let seed = 5;
  const r = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const n = 200;
  const anchors = new Float32Array(4 * n);
  const corners = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    anchors.set([r(), r(), 0.05 + r() * 0.5, 0.05 + r() * 0.5], 4 * i);
    const [y, x, h, w] = [r(), r(), 0.01 + r(), 0.01 + r()];
    corners.set([y - h / 2, x - w / 2, y + h / 2, x + w / 2], 4 * i);
  }
  const back = decodeCenterSizeBoxes(encodeCenterSizeBoxes(corners, anchors), anchors);
  t.ok(close(back, corners, 1e-5), 'float32 round trip within 1e-5');
});
