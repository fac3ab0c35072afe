// Dense convolution kernels (f32_conv3x3_s2, the stem; f32_conv2d_generic) against
// refConv2d, on both builds, every call checked against its manifest write ranges.
import t, { type Test } from 'tap';
import { refConv2d } from '../../src/reference/ops.js';
import { packConv, packConv3x3 } from '../../src/kernels/pack.js';
import { ACTS, Arena, BUILDS, kernelsFor, mismatch, rand, tfPad } from './harness.js';

const CH = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33];
const WIDTHS = Array.from({ length: 17 }, (_, i) => i + 1);

interface ConvCase {
  H: number;
  W: number;
  C: number;
  OC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** TF padding mode, or explicit [top, bottom, left, right] (negative = a band of rows). */
  pad: 'SAME' | 'VALID' | [number, number, number, number];
  bias: boolean;
  act: (typeof ACTS)[number];
  /** Output-channel slice [ocStart, ocStart + ocCount) computed alone (first-layer trick). */
  slice?: [number, number];
}

const label = (c: ConvCase) =>
  `${c.H}x${c.W}x${c.C}→${c.OC}${c.slice ? `[${c.slice[0]}+${c.slice[1]}]` : ''} k${c.kh}x${c.kw} s${c.sh},${c.sw} d${c.dh},${c.dw} ${c.pad} bias=${c.bias} ${c.act.act}`;

/** Runs the case through the stem kernel when it is a 3x3/2 dilation-1 conv and `stem`, else the generic one. */
function runConv(a: Arena, c: ConvCase, seed: number, stem: boolean): string | null {
  let py: { out: number; before: number; after: number }, px: typeof py;
  if (Array.isArray(c.pad)) {
    const [top, bottom, left, right] = c.pad;
    const o = (n: number, k: number, s: number, d: number, a: number, b: number) =>
      Math.floor((n + a + b - ((k - 1) * d + 1)) / s) + 1;
    py = { out: o(c.H, c.kh, c.sh, c.dh, top, bottom), before: top, after: bottom };
    px = { out: o(c.W, c.kw, c.sw, c.dw, left, right), before: left, after: right };
  } else {
    py = tfPad(c.H, c.kh, c.sh, c.dh, c.pad);
    px = tfPad(c.W, c.kw, c.sw, c.dw, c.pad);
  }
  if (py.out < 1 || px.out < 1) return null;
  a.reset();
  const x = rand(c.H * c.W * c.C, seed),
    w = rand(c.OC * c.kh * c.kw * c.C, seed + 1),
    b = rand(c.OC, seed + 2);
  const [o0, on] = c.slice ?? [0, c.OC];
  const full = refConv2d({ h: c.H, w: c.W, c: c.C, data: x }, w, c.OC, c.kh, c.kw, c.bias ? b : null, {
    stride: [c.sh, c.sw],
    dilation: [c.dh, c.dw],
    act: c.act.act,
    pad: { top: py.before, bottom: py.after, left: px.before, right: px.after },
  });
  const P = py.out * px.out;
  const want = new Float32Array(P * on);
  for (let p = 0; p < P; p++) want.set(full.data.subarray(p * c.OC + o0, p * c.OC + o0 + on), p * on);
  const xp = a.put('x', x);
  const wp = a.put('w', stem ? packConv3x3(w, c.OC, c.C, o0, on) : packConv(w, c.OC, c.kh, c.kw, c.C, o0, on));
  const bp = c.bias ? a.put('b', b.subarray(o0, o0 + on)) : 0;
  const yp = a.alloc('y', P * on * 4);
  if (stem) {
    a.call('f32_conv3x3_s2', [
      xp,
      c.H,
      c.W,
      c.C,
      yp,
      py.out,
      px.out,
      on,
      py.before,
      px.before,
      wp,
      bp,
      c.act.lo,
      c.act.hi,
    ]);
  } else {
    a.call('f32_conv2d_generic', [
      xp,
      c.H,
      c.W,
      c.C,
      yp,
      py.out,
      px.out,
      on,
      c.kh,
      c.kw,
      c.sh,
      c.sw,
      c.dh,
      c.dw,
      py.before,
      px.before,
      wp,
      bp,
      c.act.lo,
      c.act.hi,
    ]);
  }
  return mismatch(a.read(yp, P * on), want, Math.max(...Array.from(full.data, Math.abs)));
}

function sweep(t: Test, a: Arena, cases: ConvCase[], stem: boolean): void {
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const err = runConv(a, c, i * 7 + 1, stem);
    if (err) bad.push(`${label(c)}: ${err}`);
  });
  t.same(bad.slice(0, 5), [], `${cases.length} cases`);
}

const stemCase = (o: Partial<ConvCase>): ConvCase => ({
  H: 9,
  W: 11,
  C: 3,
  OC: 16,
  kh: 3,
  kw: 3,
  sh: 2,
  sw: 2,
  dh: 1,
  dw: 1,
  pad: 'SAME',
  bias: true,
  act: ACTS[1],
  ...o,
});

for (const build of BUILDS) {
  t.test(`conv3x3_s2 [${build.name}]: widths, heights, channels, output channels, SAME/VALID`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const cases: ConvCase[] = [];
    let n = 0;
    for (const pad of ['SAME', 'VALID'] as const) {
      for (const W of WIDTHS)
        for (const H of [1, 2, 3, 4, 7, 10])
          cases.push(stemCase({ W, H, pad, OC: [16, 24, 32, 5][n % 4]!, act: ACTS[n++ % 2]! }));
      for (const C of CH)
        for (const W of [5, 12, 17])
          cases.push(stemCase({ C, W, H: 6, pad, OC: 8 + (C % 3), bias: C % 4 !== 0, act: ACTS[n++ % 2]! }));
      for (const OC of [...CH, 48])
        cases.push(stemCase({ OC, W: 16, H: 8, pad, bias: OC % 5 !== 0, act: ACTS[n++ % 2]! }));
    }
    sweep(t, a, cases, true);
  });

  t.test(
    `conv3x3_s2 [${build.name}]: output-channel slices (Section 5.1 first layer) equal the full layer's channels`,
    async (t) => {
      const a = new Arena(await kernelsFor(build.debug));
      const cases: ConvCase[] = [];
      for (const [OC, o0, on] of [
        [32, 0, 8],
        [32, 8, 8],
        [32, 16, 16],
        [48, 40, 8],
        [24, 3, 13],
        [16, 15, 1],
      ] as const) {
        cases.push(stemCase({ H: 17, W: 15, OC, slice: [o0, on] }));
        cases.push(stemCase({ H: 224 / 8, W: 224 / 8, OC, slice: [o0, on], pad: 'SAME' }));
      }
      sweep(t, a, cases, true);
    },
  );

  t.test(`conv2d_generic [${build.name}]: kernels, strides, dilations, channels, SAME/VALID`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const cases: ConvCase[] = [];
    let n = 0;
    for (const pad of ['SAME', 'VALID'] as const) {
      for (const [kh, kw] of [
        [1, 1],
        [3, 3],
        [5, 5],
        [1, 3],
        [3, 1],
        [2, 2],
        [7, 7],
      ] as const) {
        for (const [sh, sw] of [
          [1, 1],
          [2, 2],
          [1, 2],
          [3, 3],
        ] as const) {
          for (const [dh, dw] of [
            [1, 1],
            [2, 2],
            [1, 3],
          ] as const) {
            const C = CH[n % CH.length]!,
              OC = CH[(n * 7) % CH.length]!;
            cases.push({
              H: 5 + (n % 9),
              W: 1 + (n % 17),
              C,
              OC,
              kh,
              kw,
              sh,
              sw,
              dh,
              dw,
              pad,
              bias: n % 3 !== 0,
              act: ACTS[n % 2]!,
            });
            n++;
          }
        }
      }
      for (const C of CH)
        for (const OC of [1, 8, 9, 33])
          cases.push({
            H: 6,
            W: 9,
            C,
            OC,
            kh: 3,
            kw: 3,
            sh: 1,
            sw: 1,
            dh: 1,
            dw: 1,
            pad,
            bias: true,
            act: ACTS[n++ % 2]!,
          });
    }
    // Explicit paddings: asymmetric, wider than the kernel, and negative (a band of rows).
    for (const pad of [
      [2, 0, 0, 2],
      [3, 3, 3, 3],
      [-1, 1, -2, 1],
      [-2, 0, 1, -1],
    ] as [number, number, number, number][]) {
      for (const [kh, s] of [
        [3, 1],
        [3, 2],
        [1, 1],
        [5, 2],
      ] as const) {
        cases.push({
          H: 11,
          W: 13,
          C: 5,
          OC: 9,
          kh,
          kw: kh,
          sh: s,
          sw: s,
          dh: 1,
          dw: 1,
          pad,
          bias: true,
          act: ACTS[n++ % 2]!,
        });
      }
    }
    sweep(t, a, cases, false);
  });
}
