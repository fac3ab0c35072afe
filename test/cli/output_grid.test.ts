import t from 'tap';
import { quantizeLike } from '../../src/run_setup.js';
import { topK } from '../../src/api/model.js';

t.test('quantizeLike rounds to the uint8 output grid, half to even, clamped', async (t) => {
  const q = { scale: [1 / 256], zeroPoint: [0], axis: 0 };
  const got = quantizeLike(Float32Array.from([0.0008, 0.0025, 0.9993, 1.5 / 256, 2.5 / 256, -0.1, 2]), q, 'u8');
  t.same(
    Array.from(got, (v) => Math.round(v * 256)),
    [0, 1, 255, 2, 2, 0, 255],
  );
  const s = quantizeLike(Float32Array.from([0, -1, 1]), { scale: [1 / 128], zeroPoint: [-128], axis: 0 }, 'i8');
  t.same(
    Array.from(s, (v) => v * 128),
    [0, 0, 128],
    'int8 with zero point -128: -1 clamps to the lowest code',
  );
});

t.test('topK sorts by score and breaks ties by the lower index', async (t) => {
  const top = topK(Float32Array.from([0, 0.5, 0, 0.5, 0.9, 0]), 4, ['a', 'b', 'c', 'd', 'e', 'f']);
  t.same(
    top.map((e) => e.index),
    [4, 1, 3, 0],
  );
  t.same(top[0], { index: 4, label: 'e', score: Float32Array.from([0.9])[0] });
  t.equal(topK([1, 2], 5).length, 2);
  t.equal(topK([1, 2], 1)[0]!.label, 'class 1');
});
