// q8_conv2d and q8_dwconv3x3 against the scalar reference of the README arithmetic, on both
// builds, uint8 (one nonzero weight zero point) and int8 (per-channel weights and zero
// points): the 3x3/2 stem shape with TF SAME padding (odd pixel bottom/right,
// padded with the input zero point), other kernels, strides and dilations (DeepLab uses
// dilation 2), channel counts and widths around the SIMD widths (8-channel groups, 4-pixel
// blocks, channel tails below and above 8).
import t from 'tap';
import {
  refQConv2d,
  refQDepthwiseConv2d,
  dtypeRange,
  type QConvParams,
  type QDType,
} from '../../src/reference/q8_ops.js';
import {
  foldQ8Bias,
  foldQ8DepthwiseBias,
  packQ8Conv,
  packQ8Depthwise,
  padQ8DepthwiseScales,
  padQ8Scales,
  q8DepthwisePairBytes,
  q8KernelZeroPoint,
  q8OutputParams,
  type QWeights,
} from '../../src/kernels/q8_pack.js';
import { convOutSize, samePadding } from '../../planner/shapes.js';
import { Arena, BUILDS, kernelsFor } from '../kernels/harness.js';
import { byteMismatch, DTYPES, putBytes, qArray, qWeights, randInts, readQ, spreadScales } from './helpers.js';

interface Geometry {
  H: number;
  W: number;
  C: number;
  OC: number;
  k: number;
  s: number;
  d: number;
  same: boolean;
}

function params(dtype: QDType, g: Geometry, channels: number, K: number, seed: number, w: QWeights, zw: number[]) {
  const [qmin, qmax] = dtypeRange(dtype);
  const pad = g.same
    ? samePadding(g.H, g.W, [g.k, g.k], [g.s, g.s], [g.d, g.d])
    : { top: 0, bottom: 0, left: 0, right: 0 };
  const zx = randInts(1, qmin, qmax, seed)[0]!;
  const scale = spreadScales(channels, K, seed + 2);
  const zOut = randInts(1, qmin + 40, qmax - 40, seed + 3)[0]!;
  // ReLU6-like clamp: lo at the zero point, hi inside the range.
  const lo = zOut,
    hi = Math.min(qmax, zOut + 70);
  const p: QConvParams = {
    stride: [g.s, g.s],
    dilation: [g.d, g.d],
    pad,
    zx,
    zw,
    scale,
    zOut,
    lo,
    hi,
    outDtype: dtype,
  };
  const OH = convOutSize(g.H, g.k, g.s, g.d, pad.top, pad.bottom);
  const OW = convOutSize(g.W, g.k, g.s, g.d, pad.left, pad.right);
  return { p, OH, OW, rq: q8OutputParams(zOut, lo, hi, undefined, q8KernelZeroPoint(w, zw)) };
}

const convCases: Geometry[] = [
  { H: 17, W: 19, C: 3, OC: 32, k: 3, s: 2, d: 1, same: true }, // the stem (odd sizes: padding on both sides)
  { H: 16, W: 16, C: 3, OC: 9, k: 3, s: 2, d: 1, same: true }, // even sizes: bottom/right only
  { H: 9, W: 13, C: 1, OC: 1, k: 3, s: 2, d: 1, same: true },
  { H: 8, W: 11, C: 5, OC: 17, k: 3, s: 1, d: 1, same: true },
  { H: 10, W: 9, C: 8, OC: 8, k: 3, s: 1, d: 2, same: true },
  { H: 7, W: 12, C: 4, OC: 3, k: 2, s: 1, d: 1, same: false },
  { H: 6, W: 7, C: 16, OC: 24, k: 1, s: 1, d: 1, same: false },
  { H: 12, W: 5, C: 7, OC: 33, k: 5, s: 2, d: 1, same: true },
];
// Output channels around the 8-channel panels, and inputs whose kernel rows (kw·C bytes)
// fall below, on and above the 8-byte steps.
for (const OC of [1, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33])
  convCases.push({ H: 7, W: 10, C: 3, OC, k: 3, s: 2, d: 1, same: true });
for (const C of [1, 2, 4, 5, 6, 8, 11, 16, 19]) convCases.push({ H: 6, W: 9, C, OC: 12, k: 3, s: 1, d: 1, same: true });

const dwCases: Geometry[] = [];
for (const C of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 49])
  dwCases.push({ H: 6, W: 9, C, OC: C, k: 3, s: 1, d: 1, same: true });
for (const W of [1, 2, 3, 4, 5, 6, 11]) dwCases.push({ H: 5, W, C: 12, OC: 12, k: 3, s: 2, d: 1, same: true });
dwCases.push({ H: 14, W: 14, C: 16, OC: 16, k: 3, s: 2, d: 1, same: true });
dwCases.push({ H: 15, W: 13, C: 20, OC: 20, k: 3, s: 2, d: 1, same: true });
dwCases.push({ H: 11, W: 12, C: 9, OC: 9, k: 3, s: 1, d: 2, same: true }); // DeepLab's atrous depthwise
dwCases.push({ H: 9, W: 9, C: 24, OC: 24, k: 3, s: 1, d: 4, same: true });
dwCases.push({ H: 7, W: 8, C: 10, OC: 10, k: 3, s: 1, d: 1, same: false });

for (const build of BUILDS) {
  t.test(`q8_conv2d [${build.name}]: equals the reference byte for byte`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 300;
    for (const { dtype, sg } of DTYPES) {
      for (const g of convCases) {
        seed += 10;
        const K = g.k * g.k * g.C;
        const { w, zw } = qWeights(dtype, g.OC * K, g.OC, (i) => Math.floor(i / K), seed + 5);
        const { p, OH, OW, rq } = params(dtype, g, g.OC, K, seed, w, zw);
        const x = qArray(dtype, g.H * g.W * g.C, seed + 4);
        const bias = Int32Array.from(randInts(g.OC, -30000, 30000, seed + 6));
        const want = refQConv2d({ h: g.H, w: g.W, c: g.C, data: x }, w, g.OC, g.k, g.k, bias, p).data;
        a.reset();
        const xp = putBytes(a, 'x', x);
        const wp = putBytes(a, 'w', packQ8Conv(w, g.OC, g.k, g.k, g.C, p.zw, 0, g.OC, g.d));
        const bp = putBytes(a, 'b', foldQ8Bias(bias, w, g.OC, K, p.zw, p.zx));
        const sp = putBytes(a, 's', padQ8Scales(p.scale, g.OC));
        const rqp = putBytes(a, 'rq', rq);
        const yp = a.alloc('y', OH * OW * g.OC);
        a.call('q8_conv2d', [
          xp,
          g.H,
          g.W,
          g.C,
          yp,
          OH,
          OW,
          g.OC,
          g.k,
          g.k,
          g.s,
          g.s,
          g.d,
          g.d,
          p.pad.top,
          p.pad.left,
          wp,
          bp,
          sp,
          rqp,
          p.zx,
          sg,
        ]);
        t.equal(byteMismatch(readQ(a, dtype, yp, OH * OW * g.OC), want), null, `${dtype} ${JSON.stringify(g)}`);
      }
    }
  });

  t.test(`q8_dwconv3x3 [${build.name}]: equals the reference byte for byte`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 900;
    for (const { dtype, sg } of DTYPES) {
      for (const g of dwCases) {
        seed += 10;
        const { w, zw } = qWeights(dtype, 9 * g.C, g.C, (i) => i % g.C, seed + 5);
        const { p, OH, OW, rq } = params(dtype, g, g.C, 9, seed, w, zw);
        const x = qArray(dtype, g.H * g.W * g.C, seed + 4);
        const bias = Int32Array.from(randInts(g.C, -3000, 3000, seed + 6));
        const want = refQDepthwiseConv2d({ h: g.H, w: g.W, c: g.C, data: x }, w, 3, 3, bias, p).data;
        a.reset();
        const xp = putBytes(a, 'x', x);
        const wp = putBytes(a, 'w', packQ8Depthwise(w, g.C, p.zw));
        const bp = putBytes(a, 'b', foldQ8DepthwiseBias(bias, w, g.C, p.zw, p.zx));
        const sp = putBytes(a, 's', padQ8DepthwiseScales(p.scale, g.C));
        const rqp = putBytes(a, 'rq', rq);
        const yp = a.alloc('y', OH * OW * g.C);
        a.call('q8_dwconv3x3', [
          xp,
          g.H,
          g.W,
          g.C,
          yp,
          OH,
          OW,
          g.s,
          g.s,
          g.d,
          g.d,
          p.pad.top,
          p.pad.left,
          wp,
          q8DepthwisePairBytes(g.C),
          bp,
          sp,
          rqp,
          p.zx,
          sg,
        ]);
        t.equal(byteMismatch(readQ(a, dtype, yp, OH * OW * g.C), want), null, `${dtype} ${JSON.stringify(g)}`);
      }
    }
  });
}
