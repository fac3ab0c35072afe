// q8_gemm, q8_gemm_acc + q8_requant_acc and the fully-connected use of q8_gemm against the
// scalar reference of the README arithmetic (a 1x1 conv over a 1×M image is the GEMM), on
// both builds, uint8 (one nonzero weight zero point, subtracted in registers) and int8
// (per-channel weights and zero points), with channel counts, reduction lengths and row
// counts below, at and above the SIMD widths (8-channel panels, 8-byte weight loads,
// k-pairs, 4-row blocks). Every call is checked against its manifest.
import t from 'tap';
import {
  refQConv2d,
  refQAdd,
  addParams,
  dtypeRange,
  requantize,
  type QConvParams,
  type QDType,
} from '../../src/reference/q8_ops.js';
import {
  foldQ8Bias,
  packQ8Gemm,
  packQ8GemmLength,
  padQ8Scales,
  q8KernelZeroPoint,
  q8OutputParams,
} from '../../src/kernels/q8_pack.js';
import { Arena, BUILDS, kernelsFor } from '../kernels/harness.js';
import { byteMismatch, DTYPES, putBytes, qArray, qWeights, randInts, readQ, spreadScales } from './helpers.js';

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33];

interface Case {
  dtype: QDType;
  sg: number;
  M: number;
  K: number;
  N: number;
  seed: number;
}

function data(c: Case) {
  const { dtype, M, K, N, seed } = c;
  const x = qArray(dtype, M * K, seed);
  const { w, zw } = qWeights(dtype, N * K, N, (i) => Math.floor(i / K), seed + 1);
  const [qmin, qmax] = dtypeRange(dtype);
  const zx = randInts(1, qmin, qmax, seed + 2)[0]!;
  const bias = Int32Array.from(randInts(N, -20000, 20000, seed + 4));
  const scale = spreadScales(N, K, seed + 5);
  const zOut = randInts(1, qmin + 60, qmax - 60, seed + 6)[0]!;
  return { x, w, zx, zw, kz: q8KernelZeroPoint(w, zw), bias, scale, zOut, qmin, qmax };
}

function reference(c: Case, d: ReturnType<typeof data>, lo: number, hi: number) {
  const p: QConvParams = {
    stride: [1, 1],
    dilation: [1, 1],
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
    zx: d.zx,
    zw: d.zw,
    scale: d.scale,
    zOut: d.zOut,
    lo,
    hi,
    outDtype: c.dtype,
  };
  return refQConv2d({ h: 1, w: c.M, c: c.K, data: d.x }, d.w, c.N, 1, 1, d.bias, p).data;
}

/** q8_gemm of case c on data d with output clamp [lo, hi] (contiguous rows): the output bytes. */
function runGemm(a: Arena, c: Case, d: ReturnType<typeof data>, lo: number, hi: number) {
  a.reset();
  const xp = putBytes(a, 'x', d.x);
  const wp = putBytes(a, 'w', packQ8Gemm(d.w, c.N, c.K, d.zw));
  const bp = putBytes(a, 'b', foldQ8Bias(d.bias, d.w, c.N, c.K, d.zw, d.zx));
  const sp = putBytes(a, 's', padQ8Scales(d.scale, c.N));
  const rq = putBytes(a, 'rq', q8OutputParams(d.zOut, lo, hi, undefined, d.kz));
  const yp = a.alloc('y', c.M * c.N);
  a.call('q8_gemm', [xp, c.M, c.K, c.K, wp, c.N, bp, sp, yp, c.N, rq, 0, 0, c.sg]);
  return readQ(a, c.dtype, yp, c.M * c.N);
}

function cases(seed0: number): Case[] {
  const out: Case[] = [];
  let seed = seed0;
  for (const { dtype, sg } of DTYPES) {
    for (const K of SIZES)
      for (const N of [1, 3, 7, 8, 9, 15, 16, 17, 24, 33]) out.push({ dtype, sg, M: 5, K, N, seed: seed++ });
    for (const M of SIZES) out.push({ dtype, sg, M, K: 7, N: 11, seed: seed++ });
    // Long reductions: many 8-input steps, then pair and odd tails.
    for (const K of [64, 65, 66, 70, 71, 96, 160]) out.push({ dtype, sg, M: 6, K, N: 12, seed: seed++ });
  }
  return out;
}

for (const build of BUILDS) {
  t.test(`q8_gemm [${build.name}]: requantized output equals the reference byte for byte`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let bad = 0;
    for (const c of cases(100)) {
      const d = data(c);
      const lo = d.qmin + 10,
        hi = d.qmax - 5; // an activation clamp inside the range
      const m = byteMismatch(runGemm(a, c, d, lo, hi), reference(c, d, lo, hi));
      if (m) {
        bad++;
        t.fail(`${c.dtype} M=${c.M} K=${c.K} N=${c.N}: ${m}`);
      }
    }
    t.equal(bad, 0);
  });

  t.test(`q8_gemm [${build.name}]: sums scaled far outside the output range clamp exactly`, async (t) => {
    // Multipliers from 1e-4 to 1e4: scaled sums reach ±1e8 and beyond, past the 2^22 within
    // which the magic-bias addition rounds, on both sides (below −1.5·2^23 they are negative
    // floats), and some channels stay in range; every byte must still be the reference's.
    const a = new Arena(await kernelsFor(build.debug));
    let bad = 0,
      seed = 900;
    const reached = new Set<string>();
    for (const { dtype, sg } of DTYPES) {
      for (const [M, K, N] of [
        [5, 24, 16],
        [7, 70, 24],
      ] as const) {
        const c: Case = { dtype, sg, M, K, N, seed: seed++ };
        const d = data(c);
        d.scale = Array.from({ length: N }, (_, n) => Math.fround(10 ** (-4 + (8 * n) / (N - 1))));
        for (const [lo, hi] of [
          [d.qmin, d.qmax],
          [d.qmin + 10, d.qmax - 5],
        ] as const) {
          const want = reference(c, d, lo, hi);
          const m = byteMismatch(runGemm(a, c, d, lo, hi), want);
          if (m) {
            bad++;
            t.fail(`${c.dtype} M=${M} K=${K} N=${N} [${lo}, ${hi}]: ${m}`);
          }
          if (want.includes(lo)) reached.add(`${c.dtype} lo`);
          if (want.includes(hi)) reached.add(`${c.dtype} hi`);
        }
      }
    }
    t.equal(bad, 0);
    t.equal(reached.size, 2 * DTYPES.length, `clamps reached: ${[...reached].join(', ')}`);
  });

  t.test(`q8_gemm [${build.name}]: strided rows and the fused residual ADD`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const { dtype, sg } of DTYPES) {
      for (const [M, K, N] of [
        [1, 5, 9],
        [3, 16, 24],
        [6, 24, 17],
        [9, 33, 8],
      ] as const) {
        const c: Case = { dtype, sg, M, K, N, seed: M * 31 + K };
        const d = data(c);
        const res = qArray(dtype, M * N, c.seed + 9);
        const [zRes, zY] = randInts(2, d.qmin + 20, d.qmax - 20, c.seed + 10);
        const sP = 0.05,
          sRes = 0.031,
          sY = 0.06;
        const { ma, mb, shift } = addParams(sP, sRes, sY);
        const P = reference(c, d, d.qmin, d.qmax);
        const want = refQAdd(P, res, {
          za: d.zOut,
          sa: sP,
          zb: zRes!,
          sb: sRes,
          sOut: sY,
          zOut: zY!,
          lo: d.qmin + 3,
          hi: d.qmax - 3,
          outDtype: dtype,
        });
        a.reset();
        const xs = K + 3,
          ys = N + 5,
          rs = N + 2;
        const xb = new Uint8Array(M * xs);
        for (let m = 0; m < M; m++) xb.set(new Uint8Array(d.x.buffer, m * K, K), m * xs);
        const rb = new Uint8Array(M * rs);
        for (let m = 0; m < M; m++) rb.set(new Uint8Array(res.buffer, m * N, N), m * rs);
        const xp = putBytes(a, 'x', xb);
        const wp = putBytes(a, 'w', packQ8Gemm(d.w, N, K, d.zw));
        const bp = putBytes(a, 'b', foldQ8Bias(d.bias, d.w, N, K, d.zw, d.zx));
        const sp = putBytes(a, 's', padQ8Scales(d.scale, N));
        const rq = putBytes(
          a,
          'rq',
          q8OutputParams(
            d.zOut,
            d.qmin,
            d.qmax,
            {
              zRes: zRes!,
              mP: ma,
              mRes: mb,
              shift,
              zY: zY!,
              loY: d.qmin + 3,
              hiY: d.qmax - 3,
            },
            d.kz,
          ),
        );
        const rp = putBytes(a, 'res', rb);
        const yp = a.alloc('y', M * ys);
        a.call('q8_gemm', [xp, M, K, xs, wp, N, bp, sp, yp, ys, rq, rp, rs, sg]);
        const got = readQ(a, dtype, yp, M * ys);
        const rows = dtype === 'u8' ? new Uint8Array(M * N) : new Int8Array(M * N);
        for (let m = 0; m < M; m++) rows.set(got.subarray(m * ys, m * ys + N), m * N);
        t.equal(byteMismatch(rows, want), null, `${dtype} M=${M} K=${K} N=${N}`);
      }
    }
  });

  t.test(`q8_gemm_acc + q8_requant_acc [${build.name}]: partial sums over k-slices equal one pass`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const { dtype, sg } of DTYPES) {
      for (const [M, K, N, slice] of [
        [5, 24, 17, 8],
        [7, 33, 9, 16],
        [4, 17, 24, 8],
        [2, 9, 3, 1],
        [6, 10, 8, 2],
      ] as const) {
        const c: Case = { dtype, sg, M, K, N, seed: 7 * M + K + N };
        const d = data(c);
        const want = reference(c, d, d.qmin, d.qmax);
        a.reset();
        const wFull = putBytes(a, 'w', packQ8Gemm(d.w, N, K, d.zw));
        const ps = packQ8GemmLength(8, K);
        const bp = putBytes(a, 'b', foldQ8Bias(d.bias, d.w, N, K, d.zw, d.zx));
        const sp = putBytes(a, 's', padQ8Scales(d.scale, N));
        const rq = putBytes(a, 'rq', q8OutputParams(d.zOut, d.qmin, d.qmax, undefined, d.kz));
        // x columns of each slice as their own [M][slice] matrix (the block's depthwise chunk).
        const accp = a.alloc('acc', M * N * 4);
        for (let k0 = 0; k0 < K; k0 += slice) {
          const kc = Math.min(slice, K - k0);
          const xs = new Uint8Array(M * kc);
          for (let m = 0; m < M; m++) xs.set(new Uint8Array(d.x.buffer, m * K + k0, kc), m * kc);
          const xp = putBytes(a, `x${k0}`, xs);
          // slices of a multiple of 8 inputs are k-ranges of the whole packed matrix (8·k0 bytes
          // into each panel, as the chunked block's projection reads them); others pack their own
          const wp =
            slice % 8 === 0 ? wFull + 8 * k0 : putBytes(a, `w${k0}`, packQ8Gemm(d.w, N, K, d.zw, 0, N, k0, kc));
          a.call('q8_gemm_acc', [
            xp,
            M,
            kc,
            kc,
            wp,
            slice % 8 === 0 ? ps : packQ8GemmLength(8, kc),
            N,
            bp,
            accp,
            N * 4,
            k0 === 0 ? 1 : 0,
            d.kz,
            sg,
          ]);
        }
        const yp = a.alloc('y', M * N);
        a.call('q8_requant_acc', [accp, M, N, N * 4, sp, yp, N, rq, 0, 0, sg]);
        t.equal(
          byteMismatch(readQ(a, dtype, yp, M * N), want),
          null,
          `${dtype} M=${M} K=${K} N=${N} slices of ${slice}`,
        );
      }
    }
  });

  t.test(`q8_requant_acc [${build.name}]: in place over its own accumulators (the block's y tail)`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const { dtype, sg } of DTYPES) {
      const M = 6,
        N = 13;
      const acc = Int32Array.from(randInts(M * N, -300000, 300000, 77));
      const scale = spreadScales(N, 64, 78);
      const [qmin, qmax] = dtypeRange(dtype);
      a.reset();
      const region = putBytes(a, 'y', acc);
      const sp = putBytes(a, 's', padQ8Scales(scale, N));
      const rq = putBytes(a, 'rq', q8OutputParams(5, qmin, qmax));
      a.call('q8_requant_acc', [region, M, N, N * 4, sp, region, N, rq, 0, 0, sg]);
      const want = Array.from(acc, (v, i) => requantize(v, scale[i % N]!, 5, qmin, qmax));
      t.equal(byteMismatch(readQ(a, dtype, region, M * N), want), null, dtype);
    }
  });
}
