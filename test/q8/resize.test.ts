// q8_resize_bilinear, q8_resize_argmax, q8_argmax and q8_convert against the scalar reference
// (src/reference/q8_ops.ts, itself checked against TFLite in tflite_tiny_ops.test.ts), on both
// builds, uint8 and int8. The fused resize + arg-max must give the class ids of the reference
// resize followed by the reference arg-max: random bytes and few-level bytes (ties between
// classes: the first maximum wins), align_corners both ways, half-pixel centres, channel counts
// around the 8-lane width, and more than 256 classes (int32 ids).
import t from 'tap';
import {
  convertMultiplier,
  dtypeRange,
  refQArgMax,
  refQConvert,
  refQResizeBilinear,
  type QDType,
} from '../../src/reference/q8_ops.js';
import { Arena, BUILDS, kernelsFor } from '../kernels/harness.js';
import { byteMismatch, DTYPES, putBytes, qArray, randInts, readQ } from './helpers.js';

type Case = [number, number, number, number, number, boolean, boolean];
// h, w, c, outH, outW, alignCorners, halfPixelCenters
const CASES: Case[] = [
  [33, 33, 21, 129, 129, true, false],
  [1, 1, 256, 33, 33, true, false],
  [33, 33, 21, 33, 33, true, false],
  [5, 7, 3, 17, 9, true, false],
  [4, 6, 5, 9, 3, false, true],
  [3, 3, 4, 8, 8, false, false],
  [6, 4, 1, 6, 4, false, false],
  [2, 9, 7, 5, 20, false, true],
  [7, 5, 8, 13, 11, true, false],
  [5, 5, 9, 7, 7, false, true],
  [4, 3, 15, 9, 5, false, false],
  [4, 3, 16, 9, 5, true, false],
  [3, 4, 17, 6, 6, true, false],
  [9, 9, 33, 4, 5, false, true],
  [3, 5, 24, 8, 11, false, true],
  [5, 6, 26, 11, 9, false, true],
  [4, 4, 32, 7, 10, true, false],
  [3, 3, 300, 5, 4, true, false],
];

/** Bytes of few levels (many ties between classes) or uniform bytes. */
function qData(dtype: QDType, n: number, seed: number, levels: number): Uint8Array | Int8Array {
  if (levels >= 256) return qArray(dtype, n, seed);
  const [lo] = dtypeRange(dtype);
  const v = randInts(n, 0, levels - 1, seed).map((k) => lo + 10 + k * 37);
  return dtype === 'u8' ? Uint8Array.from(v) : Int8Array.from(v);
}

const diffCount = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = a.length === b.length ? 0 : -1;
  for (let i = 0; i < b.length && d >= 0; i++) if (a[i] !== b[i]) d++;
  return d;
};

for (const build of BUILDS) {
  t.test(`q8_resize_bilinear and q8_resize_argmax [${build.name}] against the reference`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 1;
    for (const { dtype, sg } of DTYPES) {
      for (const [h, w, c, oh, ow, align, half] of CASES) {
        for (const levels of [3, 256]) {
          const x = qData(dtype, h * w * c, seed++, levels);
          const P = oh * ow;
          const label = `${dtype} ${h}x${w}x${c} → ${oh}x${ow} align ${align} half ${half} ${levels} levels`;
          const resized = refQResizeBilinear({ h, w, c, data: x }, oh, ow, align, half, dtype).data;
          const want = refQArgMax(resized, c);
          a.reset();
          const xp = putBytes(a, 'x', x);
          if (P * c <= 1 << 20) {
            const rp = a.alloc('resized', P * c);
            a.call('q8_resize_bilinear', [xp, h, w, c, rp, oh, ow, align ? 1 : 0, half ? 1 : 0, sg]);
            t.equal(byteMismatch(readQ(a, dtype, rp, P * c), resized), null, `${label}: resize`);
          }
          const wide = c > 256 ? 1 : 0;
          const yp = a.alloc('ids', P * (wide ? 4 : 1));
          a.call('q8_resize_argmax', [xp, h, w, c, yp, oh, ow, align ? 1 : 0, half ? 1 : 0, wide, sg]);
          const got = wide ? a.readI32(yp, P) : new Uint8Array(a.u8.slice(yp, yp + P));
          t.equal(diffCount(got, want), 0, `${label}: fused class ids${wide ? ' (int32)' : ''}`);
          if (!wide) {
            // The same classes as int32 ids.
            const yw = a.alloc('ids32', P * 4);
            a.call('q8_resize_argmax', [xp, h, w, c, yw, oh, ow, align ? 1 : 0, half ? 1 : 0, 1, sg]);
            t.equal(diffCount(a.readI32(yw, P), want), 0, `${label}: fused class ids (int32)`);
          }
          if (levels < 256 && c > 1 && h * w > 1) t.ok(new Set(want).size > 1, `${label}: several classes win`);
        }
      }
    }
  });

  t.test(`q8_argmax [${build.name}]: first maximum, ids as 1, 4 or 8 bytes`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 500;
    for (const { dtype, sg } of DTYPES) {
      for (const [P, C] of [
        [1, 1],
        [7, 21],
        [33, 5],
        [10, 300],
      ] as const) {
        for (const levels of [2, 256]) {
          const x = qData(dtype, P * C, seed++, levels);
          const want = refQArgMax(x, C);
          for (const outBytes of C > 256 ? [4, 8] : [1, 4, 8]) {
            a.reset();
            const xp = putBytes(a, 'x', x),
              yp = a.alloc('y', P * outBytes);
            a.call('q8_argmax', [xp, P, C, yp, outBytes, sg]);
            const mem = a.k.memory.buffer.slice(yp, yp + P * outBytes);
            const got =
              outBytes === 1
                ? new Uint8Array(mem)
                : outBytes === 4
                  ? new Int32Array(mem)
                  : Array.from(new BigInt64Array(mem), Number);
            t.equal(diffCount(got, want), 0, `${dtype} ${P}x${C} ${levels} levels, ${outBytes}-byte ids`);
          }
        }
      }
    }
  });

  t.test(
    `q8_convert [${build.name}]: XNNPACK's fixed-point requantization within one type, also in place`,
    async (t) => {
      const a = new Arena(await kernelsFor(build.debug));
      let seed = 900;
      for (const { dtype, sg } of DTYPES) {
        const [qmin, qmax] = dtypeRange(dtype);
        for (const n of [1, 7, 8, 9, 16, 17, 100, 256]) {
          for (const [sIn, sOut] of [
            [0.012422441, 0.035209369],
            [0.05, 0.02],
            [0.3, 0.0071],
            [0.0235, 0.0321],
          ] as const) {
            const x = qArray(dtype, n, seed++);
            const [zx, zy] = randInts(2, qmin, qmax, seed++);
            const m = convertMultiplier(sIn, sOut)!;
            const want = refQConvert(x, zx!, sIn, sOut, zy!, dtype);
            a.reset();
            const xp = putBytes(a, 'x', x),
              yp = a.alloc('y', n);
            a.call('q8_convert', [xp, n, yp, zx!, m, zy!, sg]);
            const m1 = byteMismatch(readQ(a, dtype, yp, n), want);
            a.call('q8_convert', [xp, n, xp, zx!, m, zy!, sg]);
            const m2 = byteMismatch(readQ(a, dtype, xp, n), want);
            if (m1 || m2) t.fail(`${dtype} n=${n} ${sIn}/${sOut}: ${m1 ?? ''} ${m2 ? `in place: ${m2}` : ''}`);
          }
        }
      }
      t.pass('all lengths and ratios');
      t.equal(convertMultiplier(1, 1000), null, "ratio below 2^-8: not XNNPACK's convert");
      t.equal(convertMultiplier(200, 1), null, 'ratio above 2^7');
    },
  );
}
