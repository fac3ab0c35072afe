// q8 packers: one byte per weight in the layouts written out from their definitions (the
// rotated 8-input blocks, then pairs), nothing but padding added, uint8 bytes kept as in the
// file and int8 bytes stored with their zero point subtracted, padding that adds nothing,
// and clear errors for weights the kernels cannot take.
import t from 'tap';
import {
  packQ8Conv,
  packQ8ConvLength,
  packQ8Depthwise,
  packQ8Gemm,
  packQ8GemmLength,
  q8DepthwiseStride,
  q8KernelZeroPoint,
  q8OutputParams,
} from '../../src/kernels/q8_pack.js';
import { buildQNet } from './qnet.js';
import { q8UnsupportedOps } from '../../src/executor/lower.js';

// w[n][k] = (7n + 3k) mod 251 + 1: distinct enough to name its source, never 0 (padding).
const gemmW = (N: number, K: number) =>
  Uint8Array.from({ length: N * K }, (_, i) => ((7 * Math.floor(i / K) + 3 * (i % K)) % 251) + 1);

/**
 * Where packQ8Gemm puts w[n][k] in a run of L inputs, spelled out: in block b = k div 8, step
 * r, channel j holds pair (j + r) mod 4 of the block (so pair q sits at step (q − j) mod 4);
 * after the blocks, pair p of the rest holds channel j's two bytes at 2j.
 */
function expectedOffset(j: number, k: number, L: number): number {
  const L8 = L - (L % 8);
  if (k < L8) {
    const b = Math.floor(k / 8),
      q = Math.floor((k % 8) / 2),
      r = (((q - (j % 4)) % 4) + 4) % 4;
    return 64 * b + 16 * r + 8 * Math.floor(j / 4) + 2 * (j % 4) + (k % 2);
  }
  return 8 * L8 + 16 * Math.floor((k - L8) / 2) + 2 * j + (k % 2);
}

t.test('packQ8Gemm: one byte per weight, rotated blocks of 8 inputs then pairs, zero padding', async (t) => {
  for (const [N, K] of [
    [8, 8],
    [8, 16],
    [16, 24],
    [11, 13],
    [3, 5],
    [9, 1],
    [17, 33],
  ] as const) {
    const w = gemmW(N, K);
    const p = packQ8Gemm(w, N, K, [100]);
    t.ok(p instanceof Uint8Array, 'uint8 weights stay uint8');
    t.equal(p.length, packQ8GemmLength(N, K));
    t.equal(p.length, Math.ceil(N / 8) * 8 * Math.ceil(K / 2) * 2, 'one byte per weight, N and K padded to 8 and 2');
    const want = new Uint8Array(p.length); // padding 0: the GEMM takes zw·Σx out of the sum instead
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++)
        want[Math.floor(n / 8) * Math.ceil(K / 2) * 16 + expectedOffset(n % 8, k, K)] = w[n * K + k]!;
    t.same(Array.from(p), Array.from(want), `N=${N} K=${K}`);
  }
});

t.test('packQ8Gemm: a k-range on 8-input boundaries is the packed matrix of those columns', async (t) => {
  const N = 11,
    K = 29;
  const w = gemmW(N, K);
  const full = packQ8Gemm(w, N, K, [5]);
  const panel = Math.ceil(K / 2) * 16;
  for (const [k0, c] of [
    [0, 8],
    [8, 16],
    [16, 13],
    [24, 5],
  ] as const) {
    const part = packQ8Gemm(w, N, K, [5], 0, N, k0, c);
    const pp = Math.ceil(c / 2) * 16;
    for (let p = 0; p < 2; p++)
      t.same(
        Array.from(full.subarray(p * panel + 8 * k0, p * panel + 8 * k0 + pp)),
        Array.from(part.subarray(p * pp, (p + 1) * pp)),
        `columns [${k0}, ${k0 + c}), panel ${p}`,
      );
  }
});

t.test('int8 weights: stored as w − zw per channel, refused when that leaves a byte', async (t) => {
  const w = Int8Array.from([-128, 127, 5, -3, 0, 1]); // 2 channels × 3
  const p = packQ8Gemm(w, 2, 3, [0, 2]);
  t.ok(p instanceof Int8Array);
  t.equal(p[expectedOffset(0, 0, 3)], -128);
  t.equal(p[expectedOffset(0, 1, 3)], 127);
  t.equal(p[expectedOffset(1, 0, 3)], -3 - 2);
  t.equal(p[expectedOffset(1, 2, 3)], 1 - 2);
  t.equal(q8KernelZeroPoint(w, [0, 2]), 0, 'the kernels subtract nothing from int8 weights');
  t.throws(() => packQ8Gemm(w, 2, 3, [1, 0]), /int8 weight -128 of channel 0 minus its zero point does not fit a byte/);
});

t.test('uint8 weights: one zero point, given to the kernels in rq word 11', async (t) => {
  const w = gemmW(3, 4);
  t.equal(q8KernelZeroPoint(w, [77]), 77);
  t.equal(q8KernelZeroPoint(w, [77, 77, 77]), 77, 'per-channel zero points that agree are one');
  t.throws(() => q8KernelZeroPoint(w, [77, 78, 77]), /uint8 weights with per-channel zero points/);
  t.throws(() => packQ8Gemm(w, 3, 4, [1, 2, 3]), /per-channel zero points/);
  t.equal(q8OutputParams(3, 0, 255, undefined, 77)[11], 77);
  t.equal(q8OutputParams(3, 0, 255)[11], 0);
});

t.test('packQ8Conv: segments are runs of their own; padding holds zw (the kernel subtracts it)', async (t) => {
  for (const [OC, k, C, d] of [
    [13, 3, 3, 1], // the stem: 3 segments of 9
    [8, 3, 5, 2], // dilated: 9 segments of 5
    [4, 1, 16, 1],
  ] as const) {
    const K = k * k * C;
    const w = gemmW(OC, K);
    const zw = 200;
    const p = packQ8Conv(w, OC, k, k, C, [zw], 0, OC, d);
    t.equal(p.length, packQ8ConvLength(OC, k, k, C, d));
    const segs = d === 1 ? k : k * k,
      L = K / segs;
    const segBytes = Math.ceil(L / 2) * 16;
    t.equal(p.length, Math.ceil(OC / 8) * segs * segBytes);
    const want = new Uint8Array(p.length).fill(zw);
    for (let o = 0; o < OC; o++)
      for (let s = 0; s < segs; s++)
        for (let e = 0; e < L; e++)
          want[Math.floor(o / 8) * segs * segBytes + s * segBytes + expectedOffset(o % 8, e, L)] =
            w[o * K + s * L + e]!;
    t.same(Array.from(p), Array.from(want), `OC=${OC} ${k}x${k}x${C} dilation ${d}`);
  }
});

t.test('packQ8Depthwise: byte tap pairs, pair 4 padded with the zero weight', async (t) => {
  const C = 21;
  const w = Uint8Array.from({ length: 9 * C }, (_, i) => (i % 250) + 1);
  const p = packQ8Depthwise(w, C, [9], 4, 13);
  const Cw = q8DepthwiseStride(13);
  t.equal(p.length, 5 * Cw * 2);
  for (let pair = 0; pair < 5; pair++)
    for (let c = 0; c < Cw; c++)
      for (let h = 0; h < 2; h++) {
        const tap = 2 * pair + h;
        const want = c < 13 && tap < 9 ? w[tap * C + 4 + c]! : 9;
        if (p[(pair * Cw + c) * 2 + h] !== want) t.fail(`pair ${pair} channel ${c} tap ${h}`);
      }
  const s = packQ8Depthwise(
    Int8Array.from(w, (v) => v - 128),
    C,
    new Array(C).fill(0),
  );
  t.ok(s instanceof Int8Array);
  t.equal(s[1 * 2 + 0], w[1]! - 128, 'int8: tap 0 of channel 1');
});

t.test('q8UnsupportedOps: weights the kernels cannot take run on the float path', async (t) => {
  const spec = {
    size: [8, 8] as [number, number],
    stem: 8,
    first: { out: 8 },
    seed: 1,
    blocks: [{ expand: 16, out: 8, stride: 1 }],
  };
  t.same(q8UnsupportedOps(buildQNet({ ...spec, dtype: 'u8' }).graph), []);
  t.same(q8UnsupportedOps(buildQNet({ ...spec, dtype: 'i8' }).graph), []);
  const u = buildQNet({ ...spec, dtype: 'u8' }).graph;
  const conv = u.ops.find((o) => o.kind === 'conv2d')! as { weights: number; name: string };
  const wq = u.tensors[conv.weights]!.quant!;
  wq.zeroPoint = Array.from({ length: 8 }, (_, i) => 100 + i);
  wq.scale = new Array<number>(8).fill(wq.scale[0]!);
  t.match(q8UnsupportedOps(u).join('\n'), /uint8 weights with per-channel zero points/);
  const s = buildQNet({ ...spec, dtype: 'i8' }).graph;
  const dw = s.ops.find((o) => o.kind === 'dwconv2d')! as { weights: number };
  s.tensors[dw.weights]!.quant!.zeroPoint[0] = 3;
  t.match(q8UnsupportedOps(s).join('\n'), /int8 weights with a nonzero zero point/);
});

t.test('packing into a destination (the blob’s place in memory) gives the bytes of a new array', async (t) => {
  const dirty = (n: number) => new Uint8Array(n + 32).fill(0xa5).subarray(16, 16 + n);
  for (const signed of [false, true]) {
    const [N, K] = [13, 21];
    const raw = gemmW(N, K);
    const w = signed ? Int8Array.from(raw, (v) => v - 128) : raw;
    const zw = signed ? Array.from({ length: N }, (_, n) => (n % 3) - 1) : [7];
    const cases: [string, number, (into?: Uint8Array) => Uint8Array | Int8Array][] = [
      ['packQ8Gemm', packQ8GemmLength(N, K), (into) => packQ8Gemm(w, N, K, zw, 0, N, 0, K, into)],
      ['packQ8Gemm (a slice)', packQ8GemmLength(5, K), (into) => packQ8Gemm(w, N, K, zw, 8, 5, 0, K, into)],
      ['packQ8Conv', packQ8ConvLength(N, 1, 3, 7), (into) => packQ8Conv(w, N, 1, 3, 7, zw, 0, N, 1, into)],
    ];
    for (const [name, length, pack] of cases) {
      const fresh = pack();
      const into = dirty(length);
      const packed = pack(into);
      t.equal(packed.buffer, into.buffer, `${name} ${signed ? 'int8' : 'uint8'}: written into the destination`);
      t.equal(packed.byteOffset, into.byteOffset, `${name}: at the destination's offset`);
      t.same(
        new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength),
        new Uint8Array(fresh.buffer, fresh.byteOffset, fresh.byteLength),
        `${name} ${signed ? 'int8' : 'uint8'}: the same bytes, padding included`,
      );
    }
    t.throws(() => packQ8Gemm(w, N, K, zw, 0, N, 0, K, dirty(7)), /destination holds 7 bytes/);
  }
  const C = 19;
  const dw = Uint8Array.from({ length: 9 * C }, (_, i) => (i * 5) % 256);
  const fresh = packQ8Depthwise(dw, C, [3]);
  const into = dirty(fresh.length);
  const packed = packQ8Depthwise(dw, C, [3], 0, C, into);
  t.equal(packed.buffer, into.buffer, 'packQ8Depthwise: written into the destination');
  t.same(new Uint8Array(packed.buffer, packed.byteOffset, packed.length), fresh, 'packQ8Depthwise: the same bytes');
});
