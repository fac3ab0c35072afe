// f32_gemm_1x1 and f32_fully_connected against the scalar reference (a 1x1 conv2d over
// a 1×M image is exactly the GEMM), on both builds, with every call checked against
// its manifest write ranges (see harness.ts).
import t from 'tap';
import { refAdd, refConv2d, refFullyConnected, activate } from '../../src/reference/ops.js';
import { packFullyConnected, packGemm1x1 } from '../../src/kernels/pack.js';
import { ACTS, Arena, BUILDS, kernelsFor, mismatch, rand } from './harness.js';
import type { Activation } from '../../planner/ir.js';

const CH = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33];

interface GemmCase {
  M: number;
  K: number;
  N: number;
  bias: boolean;
  res: boolean;
  accumulate: boolean;
  act: Activation;
  lo: number;
  hi: number;
}

/** Reference: clamp((accumulate ? y0 : bias) + x·Wᵀ + res). */
function refGemm(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  y0: Float32Array | null,
  res: Float32Array | null,
  M: number,
  K: number,
  N: number,
  act: Activation,
): Float32Array {
  const p = {
    stride: [1, 1] as [number, number],
    dilation: [1, 1] as [number, number],
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
    act: 'none' as Activation,
  };
  let y = refConv2d({ h: 1, w: M, c: K, data: x }, w, N, 1, 1, y0 ? null : bias, p).data;
  if (y0) y = refAdd(y, y0, 'none');
  if (res) y = refAdd(y, res, 'none');
  return y.map((v) => activate(v, act));
}

function label(c: GemmCase): string {
  return `M=${c.M} K=${c.K} N=${c.N} bias=${c.bias} acc=${c.accumulate} res=${c.res} act=${c.act}`;
}

function runCase(a: Arena, c: GemmCase, seed: number): string | null {
  const { M, K, N } = c;
  a.reset();
  const x = rand(M * K, seed),
    w = rand(N * K, seed + 1),
    b = rand(N, seed + 2).map((v) => v * 3);
  const res = c.res ? rand(M * N, seed + 3) : null;
  const y0 = c.accumulate ? rand(M * N, seed + 4) : null;
  const xp = a.put('x', x);
  const wp = a.put('w', packGemm1x1(w, N, K));
  const bp = c.bias ? a.put('b', b) : 0;
  const rp = res ? a.put('res', res) : 0;
  const yp = y0 ? a.put('y', y0) : a.alloc('y', M * N * 4);
  a.call('f32_gemm_1x1', [xp, M, K, wp, bp, yp, N, c.lo, c.hi, rp, c.accumulate ? 1 : 0]);
  const want = refGemm(x, w, c.bias ? b : null, y0, res, M, K, N, c.act);
  return mismatch(a.read(yp, M * N), want);
}

for (const build of BUILDS) {
  t.test(`gemm_1x1 [${build.name}]: K and N in 1..17, 31..33, M tails 1..7`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let n = 0;
    const bad: string[] = [];
    for (const K of CH)
      for (const N of CH)
        for (const M of [1, 4, 5, 7, ((K + N) % 7) + 2]) {
          const act = ACTS[n % 2]!;
          const c: GemmCase = { M, K, N, bias: n % 3 !== 0, res: n % 5 === 1, accumulate: n % 7 === 3, ...act };
          const err = runCase(a, c, ++n);
          if (err) bad.push(`${label(c)}: ${err}`);
        }
    t.same(bad.slice(0, 5), [], `${n} cases`);
  });

  t.test(`gemm_1x1 [${build.name}]: every bias/accumulate/residual/clamp combination`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let n = 100;
    for (const [M, K, N] of [
      [13, 19, 21],
      [6, 32, 40],
      [9, 96, 24],
      [3, 5, 3],
    ] as const) {
      for (const bias of [false, true])
        for (const accumulate of [false, true])
          for (const res of [false, true])
            for (const act of ACTS) {
              const c: GemmCase = { M, K, N, bias, accumulate, res, ...act };
              t.equal(runCase(a, c, ++n), null, label(c));
            }
    }
  });

  t.test(`gemm_1x1 [${build.name}]: N-slices and K-slices compose to the full layer`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const [M, K, N, kSplit, nSplit] of [
      [10, 37, 45, 16, 24],
      [5, 33, 17, 1, 9],
      [12, 96, 24, 40, 8],
      [7, 20, 30, 13, 7],
    ] as const) {
      a.reset();
      const x = rand(M * K, M + K),
        w = rand(N * K, N),
        b = rand(N, 7),
        res = rand(M * N, 11);
      const want = refGemm(x, w, b, null, res, M, K, N, 'relu6');
      // N-slices: each slice writes its own [M][nCount] buffer (a chunk of output channels).
      const xp = a.put('x', x);
      const rp = a.put('res', res);
      const got = new Float32Array(M * N);
      for (const [n0, nc] of [
        [0, nSplit],
        [nSplit, N - nSplit],
      ] as const) {
        const wp = a.put(`w[${n0}]`, packGemm1x1(w, N, K, n0, nc));
        const bp = a.put(`b[${n0}]`, b.subarray(n0, n0 + nc));
        const rsl = new Float32Array(M * nc);
        for (let m = 0; m < M; m++) rsl.set(res.subarray(m * N + n0, m * N + n0 + nc), m * nc);
        const rsp = a.put(`res[${n0}]`, rsl);
        const yp = a.alloc(`y[${n0}]`, M * nc * 4);
        a.call('f32_gemm_1x1', [xp, M, K, wp, bp, yp, nc, 0, 6, rsp, 0]);
        const ys = a.read(yp, M * nc);
        for (let m = 0; m < M; m++) got.set(ys.subarray(m * nc, (m + 1) * nc), m * N + n0);
      }
      t.equal(mismatch(got, want), null, `N-slices ${M}x${K}x${N} at ${nSplit}`);
      // K-slices: x comes in channel chunks [M][kCount] (the fused block's chunk buffer);
      // the first chunk writes bias + partial sums, the last adds the residual and clamps.
      const yp = a.alloc('y', M * N * 4);
      const chunks = [
        [0, kSplit],
        [kSplit, K - kSplit],
      ] as const;
      chunks.forEach(([k0, kc], i) => {
        const xc = new Float32Array(M * kc);
        for (let m = 0; m < M; m++) xc.set(x.subarray(m * K + k0, m * K + k0 + kc), m * kc);
        const xcp = a.put(`x[${k0}]`, xc);
        const wp = a.put(`wk[${k0}]`, packGemm1x1(w, N, K, 0, N, k0, kc));
        const bp = i === 0 ? a.put('bias', b) : 0;
        const last = i === chunks.length - 1;
        a.call('f32_gemm_1x1', [
          xcp,
          M,
          kc,
          wp,
          bp,
          yp,
          N,
          last ? 0 : -Infinity,
          last ? 6 : Infinity,
          last ? rp : 0,
          i === 0 ? 0 : 1,
        ]);
      });
      t.equal(mismatch(a.read(yp, M * N), want), null, `K-slices ${M}x${K}x${N} at ${kSplit}`);
    }
  });

  t.test(`fully_connected [${build.name}]: K and N sweeps, bias and clamp`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let n = 0;
    const bad: string[] = [];
    for (const K of [...CH, 64, 127])
      for (const N of [...CH, 100]) {
        a.reset();
        const act = ACTS[n % 2]!;
        const bias = n++ % 3 !== 1;
        const x = rand(K, n),
          w = rand(N * K, n + 1),
          b = rand(N, n + 2);
        const xp = a.put('x', x),
          wp = a.put('w', packFullyConnected(w, N, K)),
          bp = bias ? a.put('b', b) : 0;
        const yp = a.alloc('y', N * 4);
        a.call('f32_fully_connected', [xp, K, wp, bp, yp, N, act.lo, act.hi]);
        const err = mismatch(a.read(yp, N), refFullyConnected(x, w, N, bias ? b : null, act.act));
        if (err) bad.push(`K=${K} N=${N}: ${err}`);
      }
    t.same(bad.slice(0, 5), [], `${n} cases`);
  });
}
