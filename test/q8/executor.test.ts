// The integer executor on small random quantized MobileNetV2-like networks: every plan (op
// by op, every chunk count, auto, a tight budget) gives the bytes of the scalar reference
// interpreter, uint8 and int8; the memory it touches stays inside the plan; the debug
// build's range guard accepts every kernel call; and the fused block's tilings cover the
// output exactly once with accumulators only in free memory.
import t from 'tap';
import { planGraph } from '../../planner/plan_graph.js';
import { detectBlocks } from '../../planner/blocks.js';
import { ArenaTooSmallError, Executor } from '../../src/executor/executor.js';
import { lowerPlanQ8 } from '../../src/executor/lower.js';
import { interpretQ8 } from '../../src/reference/q8_interpreter.js';
import {
  ACC_D,
  ACC_E,
  ACC_NONE,
  ACC_Y,
  integerSchedule,
  type BlockGeometry,
  type ChunkBuffers,
} from '../../planner/block_schedule/index.js';
import { buildQNet, type QNetSpec } from './qnet.js';
import { byteMismatch, qArray, randInts } from './helpers.js';
import { strayWrites } from './step_writes.js';
import { loadKernels } from '../../src/kernels/node_loader.js';

const specs: QNetSpec[] = [
  {
    dtype: 'u8',
    size: [29, 27],
    stem: 16,
    first: { out: 8 },
    seed: 1,
    blocks: [
      { expand: 36, out: 12, stride: 2 },
      { expand: 60, out: 12, stride: 1 },
      { expand: 72, out: 20, stride: 2 },
      { expand: 100, out: 20, stride: 1, dilation: 2 },
      { expand: 120, out: 24, stride: 1 },
    ],
    head: { conv: 40, classes: 17 },
  },
  {
    dtype: 'i8',
    size: [24, 24],
    stem: 8,
    first: { out: 8 },
    seed: 2,
    blocks: [
      { expand: 48, out: 16, stride: 2 },
      { expand: 96, out: 16, stride: 1 },
      { expand: 96, out: 24, stride: 2 },
      { expand: 144, out: 24, stride: 1 },
      { expand: 144, out: 40, stride: 2 },
    ],
    head: { conv: 64, classes: 10 },
  },
  {
    // 3x3 feature maps: at one inner channel per chunk the accumulators of the last pixels
    // only fit a few channels at a time (the tiling's last resort, the scalar projection).
    dtype: 'u8',
    size: [11, 11],
    stem: 8,
    first: { out: 8 },
    seed: 3,
    blocks: [
      { expand: 24, out: 16, stride: 2 },
      { expand: 50, out: 30, stride: 1 },
      { expand: 90, out: 30, stride: 1 },
    ],
  },
];

for (const spec of specs) {
  const model = buildQNet(spec);
  const g = model.graph;
  const inT = g.tensors[g.inputs[0]!]!;
  const input = qArray(
    spec.dtype,
    inT.shape.reduce((a, b) => a * b, 1),
    spec.seed + 100,
  );
  const want = interpretQ8(g, model.constants, input).get(g.outputs[0]!)!;
  const maxExpanded = Math.max(...detectBlocks(g).map((b) => b.expandedChannels));

  t.test(`${spec.dtype} network: every plan gives the reference bytes, within its memory`, async (t) => {
    t.ok(detectBlocks(g).length === spec.blocks.length + 1, 'every block is fused');
    for (const chunks of ['none', 1, 2, 3, 4, 6, 8, 16, maxExpanded, 'auto'] as const) {
      const plan = planGraph(g, { chunks });
      const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
      t.ok(ex.integer, 'runs on the integer path');
      const a = ex.runQuantized(input);
      const b = ex.runQuantized(input); // second run: another canary byte
      t.equal(byteMismatch(a.output, want), null, `chunks ${chunks}: output equals the reference interpreter`);
      t.same(Array.from(b.output), Array.from(a.output), `chunks ${chunks}: repeatable`);
      const m = ex.memoryReport();
      t.equal(m.arenaBytes, plan.arenaBytes);
      // Odd byte sizes leave alignment gaps, so the arena (not the live-bytes peak) bounds the touched memory here;
      // strayWrites checks each step against its own buffers byte by byte.
      t.ok(
        m.measuredPeakBytes > 0 && m.measuredPeakBytes <= m.arenaBytes,
        `chunks ${chunks}: measured ${m.measuredPeakBytes} ≤ arena ${m.arenaBytes}`,
      );
      t.same(await strayWrites(model, plan, input), [], `chunks ${chunks}: every step writes only its own buffers`);
    }
  });

  t.test(`${spec.dtype} network (${spec.size.join('x')}): the tilings reach their fallbacks`, async (t) => {
    const kinds = new Set<string>();
    for (const chunks of [16, maxExpanded] as const) {
      for (const b of lowerPlanQ8(model, planGraph(g, { chunks })).blocks) {
        for (const tl of b.tiling.tiles) {
          if (tl.acc === ACC_Y) kinds.add('accumulator in y');
          if (tl.acc === ACC_E || tl.acc === ACC_D) kinds.add('accumulator in E/D');
          if (
            tl.q1 - tl.q0 < g.tensors[g.ops[detectBlocks(g).find((x) => x.name)!.project]!.outputs[0]!]!.shape[2]! &&
            tl.r1 - tl.r0 === 1
          )
            kinds.add('short tiles');
          if (tl.n0 % 8 !== 0) kinds.add('unaligned channel range');
        }
        if (b.tiling.unit === 1) kinds.add('unit 1');
      }
    }
    t.ok(kinds.has('accumulator in y') && kinds.has('accumulator in E/D'), [...kinds].join(', '));
    if (spec.size[0] === 11)
      t.ok(kinds.has('unaligned channel range') && kinds.has('unit 1'), 'the last-resort paths run in this network');
  });

  t.test(`${spec.dtype} network: debug build with range checks agrees, also under a tight budget`, async (t) => {
    const minimum = planGraph(g, { chunks: maxExpanded }).peakBytes;
    for (const opts of [
      { chunks: 'none' as const },
      { chunks: 3 },
      { chunks: maxExpanded },
      { chunks: 'auto' as const, budgetBytes: minimum + 256 },
    ]) {
      const plan = planGraph(g, opts);
      const ex = await Executor.create(model, plan, { kernels: await loadKernels({ debug: true }), debug: true });
      t.equal(
        byteMismatch(ex.runQuantized(input).output, want),
        null,
        `${JSON.stringify(opts)}: debug build, range guard on`,
      );
    }
  });
}

t.test('runFloat is refused on the integer path; wrong input sizes and short arenas are refused', async (t) => {
  const model = buildQNet(specs[0]!);
  const plan = planGraph(model.graph, { chunks: 6 });
  const ex = await Executor.create(model, plan, { kernels: await loadKernels() });
  t.throws(() => ex.runFloat(new Float32Array(29 * 27 * 3)), /integer path/);
  t.throws(() => ex.runQuantized(new Uint8Array(5)), /needs 2349/);
  // Integer tensors are sized by their own dtype: one byte short of the largest buffer is refused before running.
  const largest = Math.max(...plan.buffers.map((b) => b.bytes));
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - largest }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
  );
  await t.rejects(
    Executor.create(model, { ...plan, arenaBytes: plan.arenaBytes - 1 }, { kernels: await loadKernels() }),
    ArenaTooSmallError,
    'even 1 byte short',
  );
});

/** Checks a tiling: exact cover, windows and accumulators inside the buffers, y accumulators only over unwritten bytes. */
const reach = (o0: number, o1: number, s: number, d: number, p: number, n: number) =>
  Math.max(0, Math.min(n, (o1 - 1) * s - p + 2 * d + 1) - Math.max(0, o0 * s - p));

/** A block's geometry with the chunk buffers its tiles must fit (bytes), as the tests write them. */
type Case = BlockGeometry & { eBytes: number; dBytes: number; preferred?: { eBytes: number; dBytes: number } };

const buffersOf = (g: Case): ChunkBuffers => ({
  expandBytes: g.eBytes,
  depthwiseBytes: g.dBytes,
  ...(g.preferred ? { preferred: { expandBytes: g.preferred.eBytes, depthwiseBytes: g.preferred.dBytes } } : {}),
});
const planBlockTiles = (g: Case) => integerSchedule(g, buffersOf(g));

function checkTiling(g: Case): string | null {
  const { tiles, unit } = planBlockTiles(g);
  const cover = new Uint8Array(g.Hd * g.Wd * g.Cout);
  for (const tl of tiles) {
    if (tl.G % unit !== 0 && tl.G !== g.Cexp && tl.G < g.Cexp) return `G ${tl.G} not a multiple of unit ${unit}`;
    const win = reach(tl.r0, tl.r1, g.sh, g.dh, g.pt, g.He) * reach(tl.q0, tl.q1, g.sw, g.dw, g.pl, g.We) * tl.G;
    const pix = (tl.r1 - tl.r0) * (tl.q1 - tl.q0);
    if (win > g.eBytes || pix * tl.G > g.dBytes) return `tile ${JSON.stringify(tl)} windows exceed the buffers`;
    const acc = 4 * pix * (tl.n1 - tl.n0);
    const groups = Math.ceil(g.Cexp / tl.G);
    if ((groups > 1 || unit === 1) && tl.acc === ACC_NONE) return 'no accumulator with several groups or unit 1';
    if (tl.acc === ACC_E && (tl.accOffset < win || tl.accOffset + acc > g.eBytes))
      return `E accumulator ${JSON.stringify(tl)} overlaps or overflows`;
    if (tl.acc === ACC_D && (tl.accOffset < pix * tl.G || tl.accOffset + acc > g.dBytes))
      return `D accumulator ${JSON.stringify(tl)} overlaps or overflows`;
    // First output byte of the tile: every byte from there on must still be unwritten.
    const first = (tl.r0 * g.Wd + tl.q0) * g.Cout + tl.n0;
    if (tl.acc === ACC_Y) {
      if (tl.accOffset < first || tl.accOffset + acc > cover.length)
        return `y accumulator ${JSON.stringify(tl)} outside the free tail`;
      for (let i = tl.accOffset; i < tl.accOffset + acc; i++)
        if (cover[i]) return `y accumulator ${JSON.stringify(tl)} over written bytes`;
    }
    for (let r = tl.r0; r < tl.r1; r++)
      for (let c = tl.q0; c < tl.q1; c++) for (let n = tl.n0; n < tl.n1; n++) cover[(r * g.Wd + c) * g.Cout + n]++;
  }
  const bad = cover.findIndex((v) => v !== 1);
  return bad >= 0 ? `output byte ${bad} covered ${cover[bad]} times` : null;
}

/** Highest byte of E and of D any tile touches (windows and accumulators). */
function touched(g: Case): { e: number; d: number } {
  let e = 0,
    d = 0;
  for (const tl of planBlockTiles(g).tiles) {
    const pix = (tl.r1 - tl.r0) * (tl.q1 - tl.q0);
    e = Math.max(e, reach(tl.r0, tl.r1, g.sh, g.dh, g.pt, g.He) * reach(tl.q0, tl.q1, g.sw, g.dw, g.pl, g.We) * tl.G);
    d = Math.max(d, pix * tl.G);
    const acc = 4 * pix * (tl.n1 - tl.n0);
    if (tl.acc === ACC_E) e = Math.max(e, tl.accOffset + acc);
    if (tl.acc === ACC_D) d = Math.max(d, tl.accOffset + acc);
  }
  return { e, d };
}

t.test(
  'block tilings with preferred sizes: inside them when some tiling fits, else the whole-buffer tiling',
  async (t) => {
    let inside = 0,
      fellBack = 0,
      fails = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const [h, cexpUnits, cout, s, tight, pe, pd] = randInts(7, 0, 1 << 20, 1000 + seed);
      const H = 1 + (h! % 40),
        W = 1 + ((h! >> 6) % 40);
      const sh = 1 + (s! % 2);
      const Hd = Math.ceil(H / sh),
        Wd = Math.ceil(W / sh);
      const padT = Math.floor(Math.max(0, (Hd - 1) * sh + 3 - H) / 2),
        padL = Math.floor(Math.max(0, (Wd - 1) * sh + 3 - W) / 2);
      const Cexp = 1 + (cexpUnits! % 200),
        Cout = 1 + (cout! % 90);
      const c = 1 + (tight! % Cexp);
      const base: Case = {
        He: H,
        We: W,
        Cexp,
        Hd,
        Wd,
        Cout,
        sh,
        sw: sh,
        dh: 1,
        dw: 1,
        pt: padT,
        pl: padL,
        expandK: 16,
        stem: false,
        eBytes: c * H * W,
        dBytes: c * Hd * Wd,
      };
      // Preferred sizes from 1/16 of a buffer to all of it.
      const preferred = {
        eBytes: Math.ceil((base.eBytes * (1 + (pe! % 16))) / 16),
        dBytes: Math.ceil((base.dBytes * (1 + (pd! % 16))) / 16),
      };
      const g: Case = { ...base, preferred };
      let msg: string | null = null;
      try {
        msg = checkTiling(g);
        const u = touched(g);
        if (u.e <= preferred.eBytes && u.d <= preferred.dBytes) inside++;
        else if (JSON.stringify(planBlockTiles(g)) === JSON.stringify(planBlockTiles(base))) fellBack++;
        else
          msg = `touches E ${u.e} > ${preferred.eBytes} or D ${u.d} > ${preferred.dBytes} and is not the whole-buffer tiling`;
      } catch (e) {
        // Refusal only where the whole buffers refuse too.
        try {
          planBlockTiles(base);
          msg = `refused with preferred sizes but not without: ${(e as Error).message}`;
        } catch {
          msg = null;
        }
      }
      if (msg) {
        fails++;
        t.fail(`${JSON.stringify(g)}: ${msg}`);
      }
    }
    t.equal(fails, 0, `${inside} tilings inside the preferred sizes, ${fellBack} on the whole buffers`);
    t.ok(inside > 100 && fellBack > 0, 'both cases exercised');
  },
);

t.test('block tilings: exact cover, accumulators only in free memory (random geometries, tight buffers)', async (t) => {
  let n = 0;
  let fails = 0;
  const levels = new Set<string>();
  for (let seed = 1; seed <= 400; seed++) {
    const [h, cexpUnits, cout, s, dil, tight] = randInts(6, 0, 1 << 20, seed);
    const H = 1 + (h! % 20),
      W = 1 + ((h! >> 5) % 20);
    const sh = 1 + (s! % 2),
      dl = sh === 1 ? 1 + (dil! % 3) : 1;
    const Hd = Math.ceil(H / sh),
      Wd = Math.ceil(W / sh);
    const padT = Math.floor(Math.max(0, (Hd - 1) * sh + 2 * dl + 1 - H) / 2),
      padL = Math.floor(Math.max(0, (Wd - 1) * sh + 2 * dl + 1 - W) / 2);
    const Cexp = 1 + (cexpUnits! % 200),
      Cout = 1 + (cout! % 90);
    const c = 1 + (tight! % Math.min(Cexp, 24));
    const g: Case = {
      He: H,
      We: W,
      Cexp,
      Hd,
      Wd,
      Cout,
      sh,
      sw: sh,
      dh: dl,
      dw: dl,
      pt: padT,
      pl: padL,
      expandK: 16,
      stem: false,
      eBytes: c * H * W,
      dBytes: c * Hd * Wd,
    };
    let msg: string | null;
    try {
      msg = checkTiling(g);
      const { tiles } = planBlockTiles(g);
      if (tiles.some((x) => x.q1 - x.q0 < Wd)) levels.add('pixel runs');
      if (tiles.some((x) => x.n1 - x.n0 < Cout)) levels.add('channel ranges');
      if (tiles.some((x) => x.acc === ACC_Y)) levels.add('y');
    } catch (e) {
      msg = (e as Error).message;
      // Refusing is allowed only when some pixel cannot place one int32 next to its one-channel windows.
      let room = Infinity;
      for (let r = 0; r < Hd; r++)
        for (let q = 0; q < Wd; q++) {
          const win = reach(r, r + 1, sh, dl, padT, H) * reach(q, q + 1, sh, dl, padL, W);
          room = Math.min(room, Math.max(g.eBytes - win, g.dBytes - 1));
        }
      if (/cannot hold/.test(msg) && room < 4) msg = null;
      else msg = `refused although every pixel has ${room} bytes next to its windows: ${msg}`;
    }
    n++;
    if (msg) {
      fails++;
      t.fail(`${JSON.stringify(g)}: ${msg}`);
    }
  }
  t.equal(fails, 0, `${n} geometries`);
  t.same([...levels].sort(), ['channel ranges', 'pixel runs', 'y'], 'the fallbacks are exercised');
});
