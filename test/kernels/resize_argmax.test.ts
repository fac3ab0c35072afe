// f32_resize_argmax: the class ids of f32_resize_bilinear's scores, without them. Checked
// against the unfused kernels (f32_resize_bilinear then f32_argmax_channels) for bit-identical
// class ids, on both builds: random logits and coarse ones (many exact ties: the first maximum
// must win) and NaN / ±Infinity scores, align_corners both ways, half-pixel centres, channel counts around the 4-lane
// width, up- and downscaling, and more than 256 classes (int32 ids).
import t from 'tap';
import { Arena, BUILDS, kernelsFor, rand } from './harness.js';

type Case = [number, number, number, number, number, boolean, boolean];
// h, w, c, outH, outW, alignCorners, halfPixelCenters
const CASES: Case[] = [
  [33, 33, 21, 129, 129, true, false],
  [5, 7, 3, 17, 9, true, false],
  [4, 6, 5, 9, 3, false, true],
  [3, 3, 4, 8, 8, false, false],
  [1, 1, 2, 4, 4, true, false],
  [6, 4, 1, 6, 4, false, false],
  [2, 9, 7, 5, 20, false, true],
  [7, 5, 8, 13, 11, true, false],
  [5, 5, 9, 7, 7, false, true],
  [4, 3, 16, 9, 5, false, false],
  [3, 4, 17, 6, 6, true, false],
  [9, 9, 33, 4, 5, false, true],
  [3, 3, 300, 5, 4, true, false],
];

for (const build of BUILDS) {
  t.test(`f32_resize_argmax [${build.name}] equals f32_resize_bilinear + f32_argmax_channels`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    let seed = 1;
    for (const [h, w, c, oh, ow, align, half] of CASES) {
      for (const kind of ['coarse', 'random', 'special'] as const) {
        const coarse = kind === 'coarse';
        const x = rand(h * w * c, seed++).map((v) => (coarse ? Math.round(v * 1.5) : v * 10));
        // NaN and ±Infinity scores (the kernel redoes a pixel with a NaN in class order, as argmaxChannels decides).
        if (kind === 'special') for (let i = 0; i < x.length; i += 7) x[i] = [NaN, Infinity, -Infinity][i % 3]!;
        const P = oh * ow;
        const wide = c > 256 ? 1 : 0;
        a.reset();
        const xp = a.put('x', x);
        const rp = a.alloc('resized', P * c * 4);
        const ip = a.alloc('ids', P * 4);
        const fp = a.alloc('fused', P * (wide ? 4 : 1));
        a.call('f32_resize_bilinear', [xp, h, w, c, rp, oh, ow, align ? 1 : 0, half ? 1 : 0]);
        a.call('f32_argmax_channels', [rp, P, c, ip]);
        a.call('f32_resize_argmax', [xp, h, w, c, fp, oh, ow, align ? 1 : 0, half ? 1 : 0, wide]);
        const want = a.readI32(ip, P);
        const got = wide ? a.readI32(fp, P) : new Uint8Array(a.u8.slice(fp, fp + P));
        let diff = 0;
        for (let i = 0; i < P; i++) if (got[i] !== want[i]) diff++;
        const label = `${h}x${w}x${c} → ${oh}x${ow} align ${align} half ${half} ${coarse ? 'coarse (ties)' : kind}`;
        t.equal(diff, 0, `${label}: identical class ids${wide ? ' (int32)' : ''}`);
        if (coarse && c > 1 && h * w > 1) t.ok(new Set(want).size > 1, `${label}: several classes win`);
      }
    }
  });
}
