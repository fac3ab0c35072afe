// The fused inverted-residual block kernel (f32_block_fused, assembly/fused.ts) against the
// unfused block computed with the scalar references (expansion → ReLU6 → depthwise → ReLU6 →
// projection [+ residual]), on both builds. Every call goes through the harness: each
// manifest range must lie inside the buffer the test allocated for it (the scratch buffers
// are allocated at exactly the plan's chunk sizes, c·H_e·W_e and c·H_d·W_d floats), and no
// byte outside the manifest's write ranges may change.
import t from 'tap';
import { refAdd, refConv2d, refDepthwiseConv2d } from '../../src/reference/ops.js';
import { packFusedBlock } from '../../src/kernels/pack.js';
import {
  chunkBuffers,
  FLOAT_ELEMENT_BYTES,
  floatSchedule,
  ringRowsFor,
  type BlockGeometry,
} from '../../planner/block_schedule/index.js';
import { Arena, BUILDS, kernelsFor, maxAbs, mismatch, rand, tfPad } from './harness.js';

interface BlockCase {
  H: number;
  W: number;
  Cin: number;
  Cexp: number;
  Cout: number;
  /** Depthwise stride and dilation (both axes). */
  s: number;
  dil: number;
  /** Expansion is the 3x3 stride-2 stem conv (SAME) instead of a 1x1. */
  stem: boolean;
  /** Add the block input (needs s = 1, Cin = Cout, no stem). */
  residual: boolean;
  /** Depthwise padding (default SAME; VALID shrinks the output, as a folded ZeroPadding can). */
  pad?: 'SAME' | 'VALID';
}

const label = (c: BlockCase) =>
  `${c.stem ? 'stem ' : ''}${c.H}x${c.W}x${c.Cin}→${c.Cexp}→${c.Cout} s${c.s} d${c.dil}${c.residual ? ' +res' : ''}${c.pad === 'VALID' ? ' VALID' : ''}`;

interface Prepared {
  c: BlockCase;
  x: Float32Array;
  weights: Parameters<typeof packFusedBlock>[0];
  he: number;
  we: number;
  eTop: number;
  eLeft: number;
  oh: number;
  ow: number;
  dTop: number;
  dLeft: number;
  want: Float32Array;
  geom: BlockGeometry;
}

/** The float schedule with chunks of c channels (the plan's buffers for that chunk size). */
const scheduleFor = (geom: BlockGeometry, c: number) => floatSchedule(geom, chunkBuffers(geom, c, FLOAT_ELEMENT_BYTES));

/** A geometry from the fields the float schedule reads (the rest: a 1x1, stride-1 block). */
const geometry = (g: Pick<BlockGeometry, 'He' | 'We' | 'Cexp' | 'Hd' | 'Wd' | 'sh' | 'dh'>): BlockGeometry => ({
  Cout: 8,
  sw: g.sh,
  dw: g.dh,
  pt: 0,
  pl: 0,
  expandK: 8,
  stem: false,
  ...g,
});

function prepare(c: BlockCase, seed: number): Prepared {
  const kExp = c.stem ? 9 * c.Cin : c.Cin;
  const x = rand(c.H * c.W * c.Cin, seed);
  const weights = {
    expand: rand(c.Cexp * kExp, seed + 1),
    expandBias: rand(c.Cexp, seed + 2),
    depthwise: rand(9 * c.Cexp, seed + 3),
    depthwiseBias: rand(c.Cexp, seed + 4),
    project: rand(c.Cout * c.Cexp, seed + 5),
    projectBias: rand(c.Cout, seed + 6),
  };
  const ey = c.stem ? tfPad(c.H, 3, 2, 1, 'SAME') : { out: c.H, before: 0, after: 0 };
  const ex = c.stem ? tfPad(c.W, 3, 2, 1, 'SAME') : { out: c.W, before: 0, after: 0 };
  const e = refConv2d(
    { h: c.H, w: c.W, c: c.Cin, data: x },
    weights.expand,
    c.Cexp,
    c.stem ? 3 : 1,
    c.stem ? 3 : 1,
    weights.expandBias,
    {
      stride: c.stem ? [2, 2] : [1, 1],
      dilation: [1, 1],
      act: 'relu6',
      pad: { top: ey.before, bottom: ey.after, left: ex.before, right: ex.after },
    },
  );
  const dy = tfPad(e.h, 3, c.s, c.dil, c.pad ?? 'SAME'),
    dx = tfPad(e.w, 3, c.s, c.dil, c.pad ?? 'SAME');
  const d = refDepthwiseConv2d(e, weights.depthwise, 3, 3, 1, weights.depthwiseBias, {
    stride: [c.s, c.s],
    dilation: [c.dil, c.dil],
    act: 'relu6',
    pad: { top: dy.before, bottom: dy.after, left: dx.before, right: dx.after },
  });
  let want = refConv2d(d, weights.project, c.Cout, 1, 1, weights.projectBias, {
    stride: [1, 1],
    dilation: [1, 1],
    act: 'none',
    pad: { top: 0, bottom: 0, left: 0, right: 0 },
  }).data;
  if (c.residual) want = refAdd(want, x, 'none');
  return {
    c,
    x,
    weights,
    he: e.h,
    we: e.w,
    eTop: ey.before,
    eLeft: ex.before,
    oh: d.h,
    ow: d.w,
    dTop: dy.before,
    dLeft: dx.before,
    want,
    geom: {
      He: e.h,
      We: e.w,
      Cexp: c.Cexp,
      Hd: d.h,
      Wd: d.w,
      Cout: c.Cout,
      sh: c.s,
      sw: c.s,
      dh: c.dil,
      dw: c.dil,
      pt: dy.before,
      pl: dx.before,
      expandK: kExp,
      stem: c.stem,
    },
  };
}

/**
 * Runs the kernel with a schedule; eFloats/dFloats are the scratch buffers' sizes (the
 * harness refuses a call whose manifest ranges leave them). Returns a mismatch or null.
 */
function run(
  a: Arena,
  p: Prepared,
  sched: { g: number; ring: number; band: number },
  eFloats: number,
  dFloats: number,
): string | null {
  const c = p.c;
  a.reset();
  const xp = a.put('x', p.x);
  const wp = a.put('w', packFusedBlock(p.weights, c.Cin, c.Cexp, c.Cout, c.stem, sched.g));
  const yp = a.alloc('y', p.oh * p.ow * c.Cout * 4);
  const ep = a.alloc('e', eFloats * 4);
  const dp = a.alloc('d', dFloats * 4);
  a.call('f32_block_fused', [
    xp,
    c.H,
    c.W,
    c.Cin,
    c.stem ? 1 : 0,
    p.he,
    p.we,
    p.eTop,
    p.eLeft,
    c.Cexp,
    c.s,
    c.s,
    c.dil,
    c.dil,
    p.dTop,
    p.dLeft,
    yp,
    p.oh,
    p.ow,
    c.Cout,
    wp,
    c.residual ? xp : 0,
    -Infinity,
    Infinity,
    ep,
    dp,
    sched.g,
    sched.ring,
    sched.band,
  ]);
  return mismatch(a.read(yp, p.want.length), p.want, maxAbs(p.want));
}

const CASES: BlockCase[] = [
  // MobileNetV2-like: t = 6, residual, channel counts on and around the SIMD widths.
  { H: 9, W: 7, Cin: 8, Cexp: 48, Cout: 8, s: 1, dil: 1, stem: false, residual: true },
  { H: 10, W: 11, Cin: 5, Cexp: 13, Cout: 9, s: 2, dil: 1, stem: false, residual: false },
  { H: 11, W: 10, Cin: 4, Cexp: 24, Cout: 4, s: 1, dil: 1, stem: false, residual: true },
  { H: 8, W: 9, Cin: 3, Cexp: 17, Cout: 16, s: 2, dil: 1, stem: false, residual: false },
  { H: 7, W: 5, Cin: 9, Cexp: 33, Cout: 17, s: 1, dil: 1, stem: false, residual: false },
  { H: 6, W: 6, Cin: 16, Cexp: 7, Cout: 3, s: 1, dil: 1, stem: false, residual: false },
  { H: 5, W: 8, Cin: 1, Cexp: 1, Cout: 1, s: 1, dil: 1, stem: false, residual: true },
  { H: 4, W: 4, Cin: 2, Cexp: 4, Cout: 5, s: 2, dil: 1, stem: false, residual: false },
  // Tiny images: every pixel is a border pixel.
  { H: 1, W: 1, Cin: 3, Cexp: 8, Cout: 3, s: 1, dil: 1, stem: false, residual: true },
  { H: 2, W: 3, Cin: 5, Cexp: 12, Cout: 6, s: 2, dil: 1, stem: false, residual: false },
  { H: 3, W: 1, Cin: 8, Cexp: 9, Cout: 8, s: 1, dil: 1, stem: false, residual: true },
  // Dilation (DeepLab's atrous MobileNetV2 blocks), also with stride 2.
  { H: 11, W: 9, Cin: 4, Cexp: 12, Cout: 4, s: 1, dil: 2, stem: false, residual: true },
  { H: 13, W: 12, Cin: 6, Cexp: 10, Cout: 7, s: 1, dil: 4, stem: false, residual: false },
  { H: 12, W: 13, Cin: 3, Cexp: 8, Cout: 5, s: 2, dil: 2, stem: false, residual: false },
  // VALID depthwise padding: the output loses the border rows and columns.
  { H: 9, W: 10, Cin: 4, Cexp: 12, Cout: 6, s: 1, dil: 1, stem: false, residual: false, pad: 'VALID' },
  { H: 11, W: 8, Cin: 5, Cexp: 9, Cout: 3, s: 2, dil: 1, stem: false, residual: false, pad: 'VALID' },
  // The first layer: conv 3x3/2 as the expansion (Section 5.1 treats conv 3x3/2 + block 0 this way).
  { H: 13, W: 15, Cin: 3, Cexp: 16, Cout: 8, s: 1, dil: 1, stem: true, residual: false },
  { H: 16, W: 14, Cin: 3, Cexp: 12, Cout: 5, s: 2, dil: 1, stem: true, residual: false },
  { H: 9, W: 10, Cin: 1, Cexp: 5, Cout: 9, s: 1, dil: 1, stem: true, residual: false },
  { H: 2, W: 2, Cin: 3, Cexp: 8, Cout: 4, s: 1, dil: 1, stem: true, residual: false },
];

for (const build of BUILDS) {
  t.test(
    `f32_block_fused [${build.name}]: every t = 1..C_exp equals the unfused reference, inside the plan's chunk buffers`,
    async (t) => {
      const a = new Arena(await kernelsFor(build.debug));
      CASES.forEach((c, i) => {
        const p = prepare(c, 100 + i * 10);
        const bad: string[] = [];
        let groupsSeen = new Set<number>();
        for (let chunks = 1; chunks <= c.Cexp; chunks++) {
          const cc = Math.ceil(c.Cexp / chunks);
          const s = scheduleFor(p.geom, cc);
          groupsSeen.add(s.groups);
          const err = run(
            a,
            p,
            { g: s.groupChannels, ring: s.ringRows, band: s.bandRows },
            cc * p.he * p.we,
            cc * p.oh * p.ow,
          );
          if (err)
            bad.push(`t=${chunks} (c=${cc}, g=${s.groupChannels}, ring ${s.ringRows}, band ${s.bandRows}): ${err}`);
        }
        t.same(bad.slice(0, 3), [], `${label(c)}: ${c.Cexp} chunk counts, group counts ${[...groupsSeen].join(',')}`);
        groupsSeen = new Set();
      });
    },
  );

  t.test(
    `f32_block_fused [${build.name}]: any group size, band and ring (≥ the rows a band reads) gives the same result`,
    async (t) => {
      const a = new Arena(await kernelsFor(build.debug));
      for (const i of [0, 1, 3, 11, 13, 15, 16, 17]) {
        const c = CASES[i]!;
        const p = prepare(c, 100 + i * 10);
        const bad: string[] = [];
        let n = 0;
        for (const g of new Set([1, 2, 3, 4, 5, 8, 9, c.Cexp - 1, c.Cexp].filter((v) => v >= 1 && v <= c.Cexp))) {
          for (let band = 1; band <= p.oh; band++) {
            const r = ringRowsFor(p.geom, band);
            for (const ring of new Set([r, r + 1, p.he, p.he + 3])) {
              if (ring < r) continue;
              n++;
              const err = run(a, p, { g, ring, band }, Math.min(ring, p.he) * p.we * g, band * p.ow * g);
              if (err) bad.push(`g=${g} band ${band} ring ${ring}: ${err}`);
            }
          }
        }
        t.same(bad.slice(0, 3), [], `${label(c)}: ${n} schedules`);
      }
    },
  );
}

t.test("debug build: a ring that cannot hold a band's rows is refused", async (t) => {
  const a = new Arena(await kernelsFor(true));
  const c = CASES[0]!;
  const p = prepare(c, 7);
  // A band of 2 rows at stride 1 reads 4 expanded rows; a ring of 3 would overwrite a live row.
  t.throws(() => run(a, p, { g: 8, ring: 3, band: 2 }, 4 * p.we * 8, 2 * p.ow * 8), /f32_block_fused: bad schedule/);
});

t.test("floatSchedule: uses at most the plan's chunk buffers, fewest groups first", async (t) => {
  // MobileNetV2 1.0/224 stem block at one channel per chunk: a 3-row ring of all 32 channels
  // (3·112·32 floats) fits in the 112·112-float chunk buffer, so one group runs.
  const stem = geometry({ Cexp: 32, He: 112, We: 112, Hd: 112, Wd: 112, sh: 1, dh: 1 });
  const s = scheduleFor(stem, 1);
  t.equal(s.groups, 1);
  t.equal(s.ringRows, 3);
  t.equal(s.bandRows, 1);
  t.ok(s.expandBytesUsed <= 112 * 112 * 4 && s.depthwiseBytesUsed <= 112 * 112 * 4);
  // 7x7 block with 960 channels at t = 16 (60 per chunk): 3 rows of g channels in 60·49 floats → g ≤ 140.
  const late = geometry({ Cexp: 960, He: 7, We: 7, Hd: 7, Wd: 7, sh: 1, dh: 1 });
  const l = scheduleFor(late, 60);
  t.ok(
    l.groupChannels <= 140 && l.groups === Math.ceil(960 / l.groupChannels) && l.groups <= 16,
    `g ${l.groupChannels}, ${l.groups} groups`,
  );
  t.ok(l.expandBytesUsed <= 60 * 49 * 4 && l.depthwiseBytesUsed <= 60 * 49 * 4);
  // Every chunk size of a stride-2, dilation-2 block stays inside its buffers, and more channels per chunk never means more groups.
  const g2 = geometry({ Cexp: 37, He: 19, We: 23, Hd: 10, Wd: 12, sh: 2, dh: 2 });
  let prev = Infinity;
  for (let cc = 1; cc <= 37; cc++) {
    const x = scheduleFor(g2, cc);
    t.ok(x.expandBytesUsed <= cc * 19 * 23 * 4 && x.depthwiseBytesUsed <= cc * 10 * 12 * 4, `c=${cc} inside`);
    t.ok(x.ringRows >= ringRowsFor(g2, x.bandRows), `c=${cc} ring holds a band`);
    t.ok(x.groups <= prev, `c=${cc}: ${x.groups} groups`);
    prev = x.groups;
  }
  t.throws(() => scheduleFor(g2, 0), /cannot hold/);
});
