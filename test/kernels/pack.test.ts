// Packers: layouts written out element by element from their definitions, slices, lengths,
// and clear errors for inconsistent arguments.
import t from 'tap';
import {
  packConv,
  packConv3x3,
  packConv3x3Length,
  packDepthwise3x3,
  packDepthwise3x3Length,
  packFullyConnected,
  packFullyConnectedLength,
  packGemm1x1,
  packGemm1x1Length,
} from '../../src/kernels/pack.js';

// w[n][k] = 100·n + k, so every packed value names its source.
const gemmW = (N: number, K: number) =>
  Float32Array.from({ length: N * K }, (_, i) => 100 * Math.floor(i / K) + (i % K));

t.test('packGemm1x1: panels of 8 channels, K groups of 8, zero past the slice', async (t) => {
  const p = packGemm1x1(gemmW(11, 5), 11, 5, 2, 9, 1, 3);
  t.equal(p.length, packGemm1x1Length(9, 3));
  t.equal(p.length, 2 * 8 * 3);
  for (let panel = 0; panel < 2; panel++)
    for (let k = 0; k < 3; k++)
      for (let j = 0; j < 8; j++) {
        const n = panel * 8 + j;
        t.equal(p[(panel * 3 + k) * 8 + j], n < 9 ? 100 * (2 + n) + (1 + k) : 0, `panel ${panel} k ${k} j ${j}`);
      }
});

t.test('packConv / packConv3x3 / packFullyConnected are the GEMM layout with K = kh·kw·C', async (t) => {
  const w = gemmW(13, 27);
  t.same(packConv3x3(w, 13, 3, 5, 8), packGemm1x1(w, 13, 27, 5, 8));
  t.same(packConv(w, 13, 3, 3, 3), packGemm1x1(w, 13, 27));
  t.equal(packConv3x3Length(8, 3), packGemm1x1Length(8, 27));
  t.same(packFullyConnected(w, 13, 27, 8, 5), packGemm1x1(w, 13, 27, 8, 5));
  t.equal(packFullyConnectedLength(13, 27), 16 * 27);
});

t.test('packDepthwise3x3: groups of 4 channels × 9 taps, zero past the slice', async (t) => {
  const C = 10;
  const w = Float32Array.from({ length: 9 * C }, (_, i) => 100 * Math.floor(i / C) + (i % C)); // 100·tap + c
  const p = packDepthwise3x3(w, C, 3, 6);
  t.equal(p.length, packDepthwise3x3Length(6));
  t.equal(p.length, 2 * 9 * 4);
  for (let g = 0; g < 2; g++)
    for (let tap = 0; tap < 9; tap++)
      for (let j = 0; j < 4; j++) {
        const c = g * 4 + j;
        t.equal(p[(g * 9 + tap) * 4 + j], c < 6 ? 100 * tap + 3 + c : 0);
      }
});

t.test('packers name the problem on bad arguments', async (t) => {
  t.throws(() => packGemm1x1(new Float32Array(10), 3, 4), /packGemm1x1: weights have 10 floats, expected N·K = 3·4/);
  t.throws(() => packGemm1x1(new Float32Array(12), 3, 4, 2, 2), /output channels.*\[2, 4\) is not inside \[0, 3\)/);
  t.throws(() => packGemm1x1(new Float32Array(12), 3, 4, 0, 3, 1, 0), /input channels/);
  t.throws(() => packDepthwise3x3(new Float32Array(17), 2), /packDepthwise3x3: weights have 17 floats/);
  t.throws(
    () => packConv(new Float32Array(5), 1, 3, 3, 1),
    /packConv: weights have 5 floats, expected OC·kh·kw·C = 1·3·3·1/,
  );
});
