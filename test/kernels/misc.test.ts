// Pools, add, softmax, resize, argmax and strided copy against the scalar references,
// on both builds, every call checked against its manifest write ranges.
import t from 'tap';
import {
  refAdd,
  refArgMax,
  refAvgPool,
  refConcat,
  refGlobalAvgPool,
  refResizeBilinear,
  refSoftmax,
} from '../../src/reference/ops.js';
import { ACTS, Arena, BUILDS, kernelsFor, mismatch, rand, tfPad } from './harness.js';

const CH = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33];

for (const build of BUILDS) {
  t.test(`global_avgpool [${build.name}]`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const bad: string[] = [];
    for (const C of [...CH, 1280])
      for (const HW of [1, 2, 7, 49]) {
        a.reset();
        const x = rand(HW * C, C * 100 + HW);
        const xp = a.put('x', x),
          yp = a.alloc('y', C * 4);
        a.call('f32_global_avgpool', [xp, HW, C, yp]);
        const err = mismatch(a.read(yp, C), refGlobalAvgPool({ h: 1, w: HW, c: C, data: x }));
        if (err) bad.push(`HW=${HW} C=${C}: ${err}`);
      }
    t.same(bad, []);
  });

  t.test(`avgpool_generic [${build.name}]: windows, strides, SAME (padding not counted) / VALID`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const bad: string[] = [];
    let n = 0;
    for (const [k, s] of [
      [2, 2],
      [3, 1],
      [3, 2],
      [7, 7],
      [5, 3],
    ] as const)
      for (const pad of ['SAME', 'VALID'] as const) {
        for (const C of [1, 3, 4, 5, 8, 17, 33])
          for (const W of [1, 4, 7, 9, 14]) {
            const H = 3 + (n % 6);
            const py = tfPad(H, k, s, 1, pad),
              px = tfPad(W, k, s, 1, pad);
            if (py.out < 1 || px.out < 1) continue;
            a.reset();
            const act = ACTS[n++ % 2]!;
            const x = rand(H * W * C, n).map((v) => v * 8);
            const xp = a.put('x', x),
              yp = a.alloc('y', py.out * px.out * C * 4);
            a.call('f32_avgpool_generic', [
              xp,
              H,
              W,
              C,
              yp,
              py.out,
              px.out,
              k,
              k,
              s,
              s,
              py.before,
              px.before,
              act.lo,
              act.hi,
            ]);
            const want = refAvgPool({ h: H, w: W, c: C, data: x }, k, k, {
              stride: [s, s],
              act: act.act,
              pad: { top: py.before, bottom: py.after, left: px.before, right: px.after },
            });
            const err = mismatch(a.read(yp, want.data.length), want.data);
            if (err) bad.push(`${H}x${W}x${C} k${k} s${s} ${pad}: ${err}`);
          }
      }
    t.same(bad.slice(0, 5), [], `${n} cases`);
  });

  t.test(`add [${build.name}]: lengths around the SIMD width, clamp, y aliasing a or b`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const bad: string[] = [];
    for (const n of [...CH, 63, 64, 65, 1000])
      for (const act of ACTS)
        for (const alias of ['none', 'a', 'b'] as const) {
          a.reset();
          const x = rand(n, n).map((v) => v * 5),
            z = rand(n, n + 1).map((v) => v * 5);
          const ap = a.put('a', x),
            bp = a.put('b', z);
          const yp = alias === 'a' ? ap : alias === 'b' ? bp : a.alloc('y', n * 4);
          a.call('f32_add', [ap, bp, yp, n, act.lo, act.hi]);
          const err = mismatch(a.read(yp, n), refAdd(x, z, act.act));
          if (err) bad.push(`n=${n} ${act.act} alias=${alias}: ${err}`);
        }
    t.same(bad, []);
  });

  t.test(`softmax [${build.name}]: lengths, beta, large logits, y aliasing x`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const bad: string[] = [];
    for (const n of [1, 2, 3, 4, 5, 7, 8, 17, 33, 1000, 1001])
      for (const beta of [1, 0.5, 2.5])
        for (const alias of [false, true]) {
          a.reset();
          const x = rand(n, n * 3).map((v, i) => v * 20 + (i % 7 === 0 ? 60 : 0));
          const xp = a.put('x', x),
            yp = alias ? xp : a.alloc('y', n * 4);
          a.call('f32_softmax', [xp, n, yp, beta]);
          const err = mismatch(a.read(yp, n), refSoftmax(x, n, beta));
          if (err) bad.push(`n=${n} beta=${beta} alias=${alias}: ${err}`);
        }
    t.same(bad, []);
  });

  t.test(`resize_bilinear [${build.name}]: up/down, align_corners, half_pixel_centers, legacy`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const bad: string[] = [];
    for (const [H, W, OH, OW] of [
      [4, 5, 9, 11],
      [9, 11, 4, 5],
      [1, 1, 3, 2],
      [3, 3, 1, 1],
      [7, 7, 16, 13],
      [65, 3, 129, 5],
      [2, 8, 2, 8],
    ] as const) {
      for (const C of [1, 3, 4, 7, 21]) {
        for (const [ac, hp] of [
          [0, 0],
          [1, 0],
          [0, 1],
        ] as const) {
          a.reset();
          const x = rand(H * W * C, H * W * C + ac + 2 * hp).map((v) => v * 4);
          const xp = a.put('x', x),
            yp = a.alloc('y', OH * OW * C * 4);
          a.call('f32_resize_bilinear', [xp, H, W, C, yp, OH, OW, ac, hp]);
          const want = refResizeBilinear({ h: H, w: W, c: C, data: x }, OH, OW, ac === 1, hp === 1);
          const err = mismatch(a.read(yp, want.data.length), want.data);
          if (err) bad.push(`${H}x${W}x${C}→${OH}x${OW} ac=${ac} hp=${hp}: ${err}`);
        }
      }
    }
    t.same(bad.slice(0, 5), []);
  });

  t.test(`argmax_channels [${build.name}]: the first maximum wins ties`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const C of [1, 2, 3, 4, 5, 21, 33, 1001])
      for (const P of [1, 3, 17]) {
        a.reset();
        // Quantized values so that ties are frequent.
        const x = rand(P * C, P * C).map((v) => Math.round(v * 3));
        const xp = a.put('x', x),
          yp = a.alloc('y', P * 4);
        a.call('f32_argmax_channels', [xp, P, C, yp]);
        t.same(Array.from(a.readI32(yp, P)), Array.from(refArgMax(x, C)), `P=${P} C=${C}`);
      }
  });

  t.test(`argmax_channels [${build.name}]: outBytes 1, 4 and 8 write uint8, int32 and int64 ids`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const [C, P] of [
      [21, 17],
      [256, 3],
      [1001, 2],
    ] as const)
      for (const outBytes of C <= 256 ? [1, 4, 8] : [4, 8]) {
        a.reset();
        const x = rand(P * C, P * C + outBytes).map((v) => Math.round(v * 3));
        const xp = a.put('x', x),
          yp = a.alloc('y', P * outBytes);
        a.call('f32_argmax_channels', [xp, P, C, yp, outBytes]);
        const buf = a.k.memory.buffer.slice(yp, yp + P * outBytes);
        const got =
          outBytes === 1
            ? Array.from(new Uint8Array(buf))
            : outBytes === 4
              ? Array.from(new Int32Array(buf))
              : Array.from(new BigInt64Array(buf), Number);
        t.same(got, Array.from(refArgMax(x, C)), `P=${P} C=${C} outBytes=${outBytes}`);
      }
    if (build.debug) {
      const xp = a.put('x', rand(2 * 300, 1)),
        yp = a.alloc('y', 2);
      t.throws(() => a.k.f32_argmax_channels(xp, 2, 300, yp, 1), /f32_argmax_channels: bad outBytes/);
    }
  });

  t.test(`copy_strided [${build.name}]: concatenation along channels equals refConcat`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    for (const [P, parts] of [
      [7, [3, 5, 1]],
      [12, [16, 24]],
      [1, [1, 2, 3, 4]],
      [5, [33, 31, 32]],
    ] as const) {
      a.reset();
      const total = parts.reduce((s, c) => s + c, 0);
      const datas = parts.map((c, i) => rand(P * c, 40 + i));
      const yp = a.alloc('y', P * total * 4);
      let off = 0;
      datas.forEach((d, i) => {
        const c = parts[i]!;
        const sp = a.put(`part${i}`, d);
        a.call('copy_strided', [sp, yp + off * 4, P, c * 4, c * 4, total * 4]);
        off += c;
      });
      const want = refConcat(
        datas.map((d, i) => ({ shape: [1, 1, P, parts[i]!], data: d })),
        3,
      );
      t.same(Array.from(a.read(yp, P * total)), Array.from(want), `P=${P} parts=${parts.join('+')}`);
    }
  });
}
