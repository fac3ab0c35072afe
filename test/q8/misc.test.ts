// q8_add, q8_global_avgpool, q8_mean, q8_softmax and q8_requantize against the scalar
// reference, on both builds, uint8 and int8, lengths and channel counts around the SIMD
// widths. ADD in place (y aliasing an input) is how the executor may run it.
import t from 'tap';
import {
  addParams,
  dtypeRange,
  meanScale,
  refQAdd,
  refQAvgPool,
  refQGlobalAvgPool,
  refQMean,
  refQRequantize,
  refQSoftmax,
  roundedAverage,
} from '../../src/reference/q8_ops.js';
import { Arena, BUILDS, kernelsFor } from '../kernels/harness.js';
import { samePadding } from '../../planner/shapes.js';
import { byteMismatch, DTYPES, putBytes, qArray, randInts, readQ } from './helpers.js';

const LENGTHS = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100];

for (const build of BUILDS) {
  t.test(`q8_add [${build.name}]: fixed-point requantizing add, also in place`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 1;
    for (const { dtype, sg } of DTYPES) {
      const [qmin, qmax] = dtypeRange(dtype);
      for (const n of LENGTHS) {
        for (const [sa, sb, so] of [
          [0.4015, 0.2758, 0.4322],
          [0.02, 0.35, 0.3],
          [0.1, 0.1, 0.05],
        ] as const) {
          seed++;
          const x = qArray(dtype, n, seed),
            y = qArray(dtype, n, seed + 100);
          const [za, zb, zo] = randInts(3, qmin + 30, qmax - 30, seed + 200);
          const { ma, mb, shift } = addParams(sa, sb, so);
          const want = refQAdd(x, y, {
            za: za!,
            sa,
            zb: zb!,
            sb,
            sOut: so,
            zOut: zo!,
            lo: qmin + 2,
            hi: qmax - 1,
            outDtype: dtype,
          });
          a.reset();
          const ap = putBytes(a, 'a', x),
            bp = putBytes(a, 'b', y),
            yp = a.alloc('y', n);
          a.call('q8_add', [ap, bp, yp, n, za!, zb!, ma, mb, shift, zo!, qmin + 2, qmax - 1, sg]);
          const m1 = byteMismatch(readQ(a, dtype, yp, n), want);
          a.call('q8_add', [ap, bp, ap, n, za!, zb!, ma, mb, shift, zo!, qmin + 2, qmax - 1, sg]);
          const m2 = byteMismatch(readQ(a, dtype, ap, n), want);
          if (m1 || m2) t.fail(`${dtype} n=${n} scales ${sa},${sb},${so}: ${m1 ?? ''} ${m2 ? `in place: ${m2}` : ''}`);
        }
      }
    }
    t.pass('all lengths');
  });

  t.test(`q8_global_avgpool and q8_mean [${build.name}]`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 50;
    for (const { dtype, sg } of DTYPES) {
      const [qmin, qmax] = dtypeRange(dtype);
      for (const C of [1, 3, 8, 9, 17, 33]) {
        for (const [h, w] of [
          [7, 7],
          [1, 1],
          [2, 3],
          [5, 4],
          [33, 33],
        ] as const) {
          seed++;
          const x = qArray(dtype, h * w * C, seed);
          const img = { h, w, c: C, data: x };
          a.reset();
          const xp = putBytes(a, 'x', x),
            yp = a.alloc('y', C);
          a.call('q8_global_avgpool', [xp, h * w, C, yp, qmin, qmax, sg]);
          t.equal(
            byteMismatch(readQ(a, dtype, yp, C), refQGlobalAvgPool(img, qmin, qmax, dtype)),
            null,
            `avgpool ${dtype} ${h}x${w}x${C}`,
          );
          const zx = randInts(1, qmin, qmax, seed + 7)[0]!;
          const s = meanScale(0.0235294, 0.0190778, h * w);
          a.call('q8_mean', [xp, h * w, C, yp, zx, s, -100, qmin, qmax, sg]);
          t.equal(
            byteMismatch(readQ(a, dtype, yp, C), refQMean(img, zx, s, -100, qmin, qmax, dtype)),
            null,
            `mean ${dtype} ${h}x${w}x${C}`,
          );
        }
      }
    }
  });

  t.test(`q8_avgpool [${build.name}]: windows with padding not counted`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 600;
    for (const { dtype, sg } of DTYPES) {
      const [qmin, qmax] = dtypeRange(dtype);
      for (const [H, W, C, k, s, same] of [
        [7, 7, 5, 3, 2, true],
        [6, 9, 17, 2, 2, false],
        [5, 5, 8, 3, 1, true],
        [9, 4, 3, 4, 3, true],
        [4, 4, 33, 4, 1, false],
      ] as const) {
        seed++;
        const x = qArray(dtype, H * W * C, seed);
        const pad = same ? samePadding(H, W, [k, k], [s, s]) : { top: 0, bottom: 0, left: 0, right: 0 };
        const want = refQAvgPool({ h: H, w: W, c: C, data: x }, k, k, [s, s], pad, qmin + 5, qmax - 5, dtype);
        a.reset();
        const xp = putBytes(a, 'x', x),
          yp = a.alloc('y', want.data.length);
        a.call('q8_avgpool', [xp, H, W, C, yp, want.h, want.w, k, k, s, s, pad.top, pad.left, qmin + 5, qmax - 5, sg]);
        t.equal(
          byteMismatch(readQ(a, dtype, yp, want.data.length), want.data),
          null,
          `${dtype} ${H}x${W}x${C} k${k} s${s} ${same ? 'SAME' : 'VALID'}`,
        );
      }
    }
  });

  t.test(`q8_softmax and q8_requantize [${build.name}]`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 70;
    for (const { dtype, sg } of DTYPES) {
      const [qmin, qmax] = dtypeRange(dtype);
      const zOut = dtype === 'u8' ? 0 : -128;
      for (const n of [1, 2, 5, 16, 17, 1001]) {
        for (const sIn of [0.0988925, 0.063365, 0.5]) {
          seed++;
          const x = qArray(dtype, n, seed);
          a.reset();
          const xp = putBytes(a, 'x', x),
            yp = a.alloc('y', n);
          a.call('q8_softmax', [xp, n, yp, Math.fround(-Math.fround(sIn)), 1 / 256, zOut, sg]);
          t.equal(
            byteMismatch(readQ(a, dtype, yp, n), refQSoftmax(x, n, sIn, 1, 1 / 256, zOut, dtype)),
            null,
            `softmax ${dtype} n=${n} s_in=${sIn}`,
          );
        }
      }
      for (const n of LENGTHS) {
        for (const out of DTYPES) {
          for (const [sIn, sOut] of [
            [0.0078431, 0.0078431],
            [0.0124224, 0.0352094],
            [0.05, 0.02],
          ] as const) {
            seed++;
            const x = qArray(dtype, n, seed);
            const [oMin, oMax] = dtypeRange(out.dtype);
            const zx = randInts(1, qmin, qmax, seed + 1)[0]!,
              zy = randInts(1, oMin, oMax, seed + 2)[0]!;
            a.reset();
            const xp = putBytes(a, 'x', x),
              yp = a.alloc('y', n);
            const m = Math.fround(Math.fround(sIn) / Math.fround(sOut));
            a.call('q8_requantize', [xp, n, yp, zx, m, zy, sg, out.sg]);
            t.equal(
              byteMismatch(readQ(a, out.dtype, yp, n), refQRequantize(x, zx, sIn, sOut, zy, out.dtype)),
              null,
              `requantize ${dtype}→${out.dtype} n=${n}`,
            );
          }
        }
      }
    }
  });
}

t.test('rounded average: half away from zero, as (sum + 24) / 49 for 7x7', async (t) => {
  let bad = 0;
  for (let s = 0; s <= 49 * 255; s++) if (roundedAverage(s, 49) !== Math.floor((s + 24) / 49)) bad++;
  t.equal(bad, 0, 'every 7x7 sum of uint8 values');
  t.equal(roundedAverage(-24, 49), 0);
  t.equal(roundedAverage(-25, 49), -1);
  t.equal(roundedAverage(5, 2), 3);
  t.equal(roundedAverage(-5, 2), -3);
});
