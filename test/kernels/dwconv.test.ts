// Depthwise 3x3 kernels (s1, s2, generic with dilation) against refDepthwiseConv2d, on both
// builds, every call checked against its manifest write ranges.
import t, { type Test } from 'tap';
import { refDepthwiseConv2d } from '../../src/reference/ops.js';
import { packDepthwise3x3 } from '../../src/kernels/pack.js';
import { ACTS, Arena, BUILDS, kernelsFor, maxAbs, mismatch, rand, tfPad } from './harness.js';

const CH = [...Array.from({ length: 17 }, (_, i) => i + 1), 31, 32, 33];
const WIDTHS = Array.from({ length: 17 }, (_, i) => i + 1);

interface DwCase {
  H: number;
  W: number;
  C: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** TF padding mode, or explicit [top, bottom, left, right] (negative = a band of rows). */
  pad: 'SAME' | 'VALID' | [number, number, number, number];
  bias: boolean;
  act: (typeof ACTS)[number];
  kernel: 'f32_dwconv3x3_s1' | 'f32_dwconv3x3_s2' | 'f32_dwconv3x3_generic';
  /** Channel slice [cStart, cCount) run alone (a chunk of expanded channels). */
  slice?: [number, number];
}

const label = (c: DwCase) =>
  `${c.kernel} ${c.H}x${c.W}x${c.C}${c.slice ? `[${c.slice[0]}+${c.slice[1]}]` : ''} s${c.sh},${c.sw} d${c.dh},${c.dw} ${c.pad} bias=${c.bias} ${c.act.act}`;

function outSize(n: number, s: number, d: number, a: number, b: number): number {
  return Math.floor((n + a + b - (2 * d + 1)) / s) + 1;
}

function runDw(a: Arena, c: DwCase, seed: number): string | null {
  let top: number, bottom: number, left: number, right: number;
  if (Array.isArray(c.pad)) [top, bottom, left, right] = c.pad;
  else {
    const py = tfPad(c.H, 3, c.sh, c.dh, c.pad),
      px = tfPad(c.W, 3, c.sw, c.dw, c.pad);
    [top, bottom, left, right] = [py.before, py.after, px.before, px.after];
  }
  const OH = outSize(c.H, c.sh, c.dh, top, bottom),
    OW = outSize(c.W, c.sw, c.dw, left, right);
  if (OH < 1 || OW < 1) return null;
  a.reset();
  const [c0, cn] = c.slice ?? [0, c.C];
  const x = rand(c.H * c.W * c.C, seed),
    w = rand(9 * c.C, seed + 1),
    b = rand(c.C, seed + 2);
  // The reference sees the whole tensor; the kernel only the channel slice (contiguous copy).
  const full = refDepthwiseConv2d({ h: c.H, w: c.W, c: c.C, data: x }, w, 3, 3, 1, c.bias ? b : null, {
    stride: [c.sh, c.sw],
    dilation: [c.dh, c.dw],
    act: c.act.act,
    pad: { top, bottom, left, right },
  });
  const P = OH * OW;
  const want = new Float32Array(P * cn);
  for (let p = 0; p < P; p++) want.set(full.data.subarray(p * c.C + c0, p * c.C + c0 + cn), p * cn);
  const xs = new Float32Array(c.H * c.W * cn);
  for (let p = 0; p < c.H * c.W; p++) xs.set(x.subarray(p * c.C + c0, p * c.C + c0 + cn), p * cn);
  const xp = a.put('x', xs);
  const wp = a.put('w', packDepthwise3x3(w, c.C, c0, cn));
  const bp = c.bias ? a.put('b', b.subarray(c0, c0 + cn)) : 0;
  const yp = a.alloc('y', P * cn * 4);
  const tail = [wp, bp, c.act.lo, c.act.hi];
  if (c.kernel === 'f32_dwconv3x3_generic')
    a.call(c.kernel, [xp, c.H, c.W, cn, yp, OH, OW, c.sh, c.sw, c.dh, c.dw, top, left, ...tail]);
  else a.call(c.kernel, [xp, c.H, c.W, cn, yp, OH, OW, top, left, ...tail]);
  return mismatch(a.read(yp, P * cn), want, maxAbs(full.data));
}

function sweep(t: Test, a: Arena, cases: DwCase[]): void {
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const err = runDw(a, c, i * 5 + 3);
    if (err) bad.push(`${label(c)}: ${err}`);
  });
  t.same(bad.slice(0, 5), [], `${cases.length} cases`);
}

for (const build of BUILDS) {
  for (const s of [1, 2] as const) {
    const kernel = s === 1 ? ('f32_dwconv3x3_s1' as const) : ('f32_dwconv3x3_s2' as const);
    t.test(`${kernel} [${build.name}]: channels × widths × heights, SAME/VALID, bias, clamp`, async (t) => {
      const a = new Arena(await kernelsFor(build.debug));
      const cases: DwCase[] = [];
      let n = 0;
      const base = { sh: s, sw: s, dh: 1, dw: 1, kernel };
      for (const pad of ['SAME', 'VALID'] as const) {
        for (const C of CH)
          for (const W of WIDTHS) {
            cases.push({ ...base, H: [1, 2, 3, 5, 8][n % 5]!, W, C, pad, bias: n % 4 !== 0, act: ACTS[n % 2]! });
            n++;
          }
        for (const H of [1, 2, 3, 4, 5, 6, 7, 9, 16])
          for (const C of [1, 4, 8, 13, 32]) {
            cases.push({ ...base, H, W: 9, C, pad, bias: true, act: ACTS[n++ % 2]! });
          }
      }
      sweep(t, a, cases);
    });
  }

  t.test(`dwconv3x3 [${build.name}]: channel slices equal the full layer's channels`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const cases: DwCase[] = [];
    for (const kernel of ['f32_dwconv3x3_s1', 'f32_dwconv3x3_s2'] as const) {
      const s = kernel === 'f32_dwconv3x3_s1' ? 1 : 2;
      for (const [C, c0, cn] of [
        [144, 0, 24],
        [144, 24, 24],
        [96, 40, 17],
        [33, 32, 1],
        [32, 5, 13],
      ] as const) {
        cases.push({
          H: 9,
          W: 10,
          C,
          sh: s,
          sw: s,
          dh: 1,
          dw: 1,
          pad: 'SAME',
          bias: true,
          act: ACTS[1],
          kernel,
          slice: [c0, cn],
        });
      }
    }
    sweep(t, a, cases);
  });

  t.test(`dwconv3x3_generic [${build.name}]: dilation, mixed strides, explicit and negative padding`, async (t) => {
    const a = new Arena(await kernelsFor(build.debug));
    const cases: DwCase[] = [];
    let n = 0;
    for (const [sh, sw] of [
      [1, 1],
      [2, 2],
      [1, 2],
      [2, 1],
      [3, 3],
    ] as const) {
      for (const [dh, dw] of [
        [1, 1],
        [2, 2],
        [4, 4],
        [1, 3],
      ] as const) {
        for (const pad of ['SAME', 'VALID'] as const) {
          for (const C of [1, 3, 4, 8, 9, 17, 32]) {
            cases.push({
              H: 4 + (n % 11),
              W: 1 + (n % 17),
              C,
              sh,
              sw,
              dh,
              dw,
              pad,
              bias: n % 3 !== 0,
              act: ACTS[n % 2]!,
              kernel: 'f32_dwconv3x3_generic',
            });
            n++;
          }
        }
      }
    }
    // Explicit paddings: asymmetric, larger than the kernel, and negative (a band of rows
    // that starts below the window's first row: the kernel must read only inside x).
    for (const pad of [
      [2, 0, 0, 2],
      [3, 3, 3, 3],
      [-1, 1, -2, 1],
      [-3, 0, 1, -1],
      [0, 5, 5, 0],
    ] as [number, number, number, number][]) {
      for (const C of [1, 5, 8, 33]) {
        cases.push({
          H: 9,
          W: 8,
          C,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          pad,
          bias: true,
          act: ACTS[n++ % 2]!,
          kernel: 'f32_dwconv3x3_generic',
        });
        cases.push({
          H: 9,
          W: 8,
          C,
          sh: 1,
          sw: 1,
          dh: 1,
          dw: 1,
          pad,
          bias: true,
          act: ACTS[1],
          kernel: 'f32_dwconv3x3_s1',
        });
        cases.push({
          H: 9,
          W: 8,
          C,
          sh: 2,
          sw: 2,
          dh: 1,
          dw: 1,
          pad,
          bias: false,
          act: ACTS[0],
          kernel: 'f32_dwconv3x3_s2',
        });
      }
    }
    sweep(t, a, cases);
  });
}
