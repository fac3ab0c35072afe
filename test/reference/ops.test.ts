// Sanity of the scalar reference ops against identities a wrong index would break.
import t from 'tap';
import * as ref from '../../src/reference/ops.js';

function seq(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = ((s >>> 8) / (1 << 24)) * 2 - 1;
  }
  return a;
}
const same = { top: 1, bottom: 1, left: 1, right: 1 };

t.test('conv2d: centre-tap identity kernel reproduces the input; channel permutation permutes', async (t) => {
  const x = { h: 5, w: 7, c: 3, data: seq(5 * 7 * 3) };
  const w = new Float32Array(3 * 3 * 3 * 3);
  const perm = [2, 0, 1];
  for (let o = 0; o < 3; o++) w[((o * 3 + 1) * 3 + 1) * 3 + perm[o]!] = 1;
  const y = ref.refConv2d(x, w, 3, 3, 3, null, { stride: [1, 1], dilation: [1, 1], pad: same, act: 'none' });
  t.same([y.h, y.w, y.c], [5, 7, 3]);
  let bad = 0;
  for (let i = 0; i < 35; i++) for (let o = 0; o < 3; o++) if (y.data[i * 3 + o] !== x.data[i * 3 + perm[o]!]) bad++;
  t.equal(bad, 0);
});

t.test('conv2d stride 2 picks every other pixel; dilation 2 reaches two pixels away', async (t) => {
  const x = { h: 6, w: 6, c: 1, data: seq(36, 3) };
  const w = new Float32Array(9);
  w[0] = 1; // top-left tap
  const y = ref.refConv2d(x, w, 1, 3, 3, null, {
    stride: [2, 2],
    dilation: [2, 2],
    pad: { top: 2, bottom: 2, left: 2, right: 2 },
    act: 'none',
  });
  t.same([y.h, y.w], [3, 3]);
  for (let oy = 0; oy < 3; oy++)
    for (let ox = 0; ox < 3; ox++) {
      const iy = oy * 2 - 2,
        ix = ox * 2 - 2;
      const want = iy >= 0 && ix >= 0 ? x.data[iy * 6 + ix]! : 0;
      t.equal(y.data[oy * 3 + ox], want, `(${oy},${ox})`);
    }
});

t.test('depthwise with multiplier 2 and relu6 clamps', async (t) => {
  const x = { h: 2, w: 2, c: 2, data: Float32Array.from([1, -1, 2, 5, 3, 4, -2, 8]) };
  const w = new Float32Array(9 * 4);
  for (let o = 0; o < 4; o++) w[4 * 4 + o] = o + 1; // centre tap, scale o+1
  const y = ref.refDepthwiseConv2d(x, w, 3, 3, 2, null, { stride: [1, 1], dilation: [1, 1], pad: same, act: 'relu6' });
  t.same(Array.from(y.data.subarray(0, 4)), [1, 2, 0, 0]);
  t.same(Array.from(y.data.subarray(4, 8)), [2, 4, 6, 6]);
});

t.test('softmax sums to one; argmax picks the first maximum', async (t) => {
  const p = ref.refSoftmax(Float32Array.from([1, 2, 3, 3]), 4, 1);
  t.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  t.same(Array.from(ref.refArgMax(Float32Array.from([1, 3, 3, 0]), 4)), [1]);
});

t.test('resize_bilinear: identity at the same size; align_corners keeps the corners', async (t) => {
  const x = { h: 4, w: 5, c: 2, data: seq(40, 9) };
  t.same(Array.from(ref.refResizeBilinear(x, 4, 5, false, true).data), Array.from(x.data));
  const up = ref.refResizeBilinear(x, 9, 11, true, false);
  t.equal(up.data[0], x.data[0]);
  t.equal(up.data[(9 * 11 - 1) * 2 + 1], x.data[39]);
  // Half-pixel upsampling by 2 of a row [a, b]: TF gives a, a+(b-a)/4, a+3(b-a)/4, b.
  const row = ref.refResizeBilinear({ h: 1, w: 2, c: 1, data: Float32Array.from([0, 4]) }, 1, 4, false, true);
  t.same(Array.from(row.data), [0, 1, 3, 4]);
});

t.test('avgpool excludes padding from the count; global average is the mean', async (t) => {
  const x = { h: 2, w: 2, c: 1, data: Float32Array.from([1, 2, 3, 4]) };
  const y = ref.refAvgPool(x, 3, 3, { stride: [1, 1], pad: same, act: 'none' });
  t.same(Array.from(y.data), [2.5, 2.5, 2.5, 2.5]);
  t.same(Array.from(ref.refGlobalAvgPool(x)), [2.5]);
});
