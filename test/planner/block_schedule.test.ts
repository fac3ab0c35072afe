// The block schedules of planner/block_schedule/, checked by brute force over small random
// geometries and every chunk size: each test replays its kernel's loops (assembly/fused.ts,
// assembly/q8_block.ts) on the schedule and checks that every output pixel gets every inner
// channel exactly once, that every expanded value a depthwise tap reads was computed and is
// still where the tap reads it (the float ring's slot, the integer tile's window), and that
// everything the kernel keeps (ring, band, windows, depthwise tiles, int32 accumulators) lies
// inside the plan's chunk buffers or in bytes of y no tile has written yet. No kernel runs here.
import t from 'tap';
import {
  ACC_D,
  ACC_E,
  ACC_NONE,
  ACC_Y,
  blockScheduler,
  chunkBuffers,
  colWindow,
  FLOAT_ELEMENT_BYTES,
  FLOAT_SCHEDULER,
  floatSchedule,
  INTEGER_ELEMENT_BYTES,
  INTEGER_SCHEDULER,
  integerSchedule,
  reach,
  rowWindow,
  scheduleForChunks,
  TilingError,
  type BlockGeometry,
  type ChunkBuffers,
  type FloatSchedule,
  type IntegerSchedule,
} from '../../planner/block_schedule/index.js';
import { randInts } from '../q8/helpers.js';

/** A random block: E up to maxSide² pixels, stride 1 or 2, dilation 1–3 at stride 1, SAME or VALID padding. */
function randomGeometry(seed: number, maxSide: number, maxCexp: number): BlockGeometry {
  const [h, w, s, dil, valid, cexp, cout, k] = randInts(8, 0, 1 << 20, seed);
  const sh = 1 + (s! % 2);
  const d = sh === 1 ? 1 + (dil! % 3) : 1;
  let He = 1 + (h! % maxSide),
    We = 1 + (w! % maxSide);
  const span = 2 * d + 1;
  const useValid = valid! % 4 === 0;
  if (useValid) {
    He = Math.max(He, span);
    We = Math.max(We, span);
  }
  const out = (n: number) => (useValid ? Math.floor((n - span) / sh) + 1 : Math.ceil(n / sh));
  const Hd = out(He),
    Wd = out(We);
  const pad = (n: number, o: number) => (useValid ? 0 : Math.floor(Math.max(0, (o - 1) * sh + span - n) / 2));
  return {
    He,
    We,
    Cexp: 1 + (cexp! % maxCexp),
    Hd,
    Wd,
    Cout: 1 + (cout! % 40),
    sh,
    sw: sh,
    dh: d,
    dw: d,
    pt: pad(He, Hd),
    pl: pad(We, Wd),
    expandK: 1 + (k! % 32),
    stem: false,
  };
}

const label = (g: BlockGeometry) =>
  `E ${g.He}x${g.We}x${g.Cexp} → D ${g.Hd}x${g.Wd} (s${g.sh} d${g.dh} pad ${g.pt},${g.pl}) → ${g.Cout}`;

/**
 * Replays f32_block_fused's loops: per group, per band, the expanded rows the band's window
 * needs go into ring slot r mod R (each computed once per group); the band's depthwise rows then
 * read their taps from the ring. Returns the first violation, or null.
 */
function checkFloat(g: BlockGeometry, s: FloatSchedule, buffers: ChunkBuffers): string | null {
  const { groupChannels: gc, groups, ringRows: R, bandRows: b } = s;
  if (gc < 1 || groups !== Math.ceil(g.Cexp / gc)) return `groups ${groups} of ${gc} do not partition ${g.Cexp}`;
  if (R * g.We * gc * 4 > buffers.expandBytes || s.expandBytesUsed > buffers.expandBytes)
    return `ring of ${R} rows × ${gc} channels exceeds E (${buffers.expandBytes} bytes)`;
  if (b * g.Wd * gc * 4 > buffers.depthwiseBytes || s.depthwiseBytesUsed > buffers.depthwiseBytes)
    return `band of ${b} rows × ${gc} channels exceeds D (${buffers.depthwiseBytes} bytes)`;
  if (s.expandBytesUsed !== Math.min(R, g.He) * g.We * gc * 4 || s.depthwiseBytesUsed !== b * g.Wd * gc * 4)
    return 'bytes used are not the ring and the band';
  const channels = new Uint8Array(g.Cexp);
  for (let c0 = 0; c0 < g.Cexp; c0 += gc) {
    for (let c = c0; c < Math.min(g.Cexp, c0 + gc); c++) channels[c]!++;
    // One group: the ring's contents and how often each expanded row and output row is made.
    const slot = new Int32Array(R).fill(-1);
    const computed = new Uint8Array(g.He);
    const produced = new Uint8Array(g.Hd);
    let done = -1;
    for (let o0 = 0; o0 < g.Hd; o0 += b) {
      const nb = Math.min(b, g.Hd - o0);
      const [top, end] = rowWindow(g, o0, o0 + nb);
      for (let r = Math.max(done + 1, top); r < end; r++) {
        slot[r % R] = r;
        computed[r]!++;
      }
      done = Math.max(done, end - 1);
      for (let oy = o0; oy < o0 + nb; oy++) {
        produced[oy]!++;
        for (let ky = 0; ky < 3; ky++) {
          const iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.He) continue;
          if (slot[iy % R] !== iy)
            return `group at ${c0}: output row ${oy} reads expanded row ${iy}, ring slot ${iy % R} holds ${slot[iy % R]}`;
        }
      }
    }
    const twice = computed.findIndex((n) => n > 1);
    if (twice >= 0) return `group at ${c0}: expanded row ${twice} computed ${computed[twice]} times`;
    const missed = produced.findIndex((n) => n !== 1);
    if (missed >= 0) return `group at ${c0}: output row ${missed} made ${produced[missed]} times`;
  }
  const c = channels.findIndex((n) => n !== 1);
  return c >= 0 ? `inner channel ${c} in ${channels[c]} groups` : null;
}

/**
 * Replays q8_block's loops: per tile, per group of inner channels, the tile's window of E (rows
 * from `rows`: the kernel's window arithmetic unless a test breaks it), its depthwise tile in D
 * and its accumulator. Checks every (pixel, output channel) of y is made by exactly one tile
 * that runs every inner channel once, every tap inside the image lies in the tile's window, and
 * the window, depthwise tile and accumulator fit where they live.
 */
function checkInteger(
  g: BlockGeometry,
  s: IntegerSchedule,
  buffers: ChunkBuffers,
  rows: typeof rowWindow = rowWindow,
): string | null {
  const cover = new Uint8Array(g.Hd * g.Wd * g.Cout);
  let prevFirst = -1;
  for (const tl of s.tiles) {
    const tile = JSON.stringify(tl);
    if (s.rolling) {
      // The rolling window: full-width bands with every channel, windows moving down, E
      // holding a band's window rows at full width.
      const [er0, er1] = rows(g, tl.r0, tl.r1);
      if (tl.q0 !== 0 || tl.q1 !== g.Wd || tl.n0 !== 0 || tl.n1 !== g.Cout || tl.G !== g.Cexp || tl.acc !== ACC_NONE)
        return `rolling tile ${tile} is not a full band with every channel`;
      if (er0 < prevFirst) return `rolling tile ${tile}: its window starts above the previous one`;
      prevFirst = er0;
      if ((er1 - er0) * g.We * g.Cexp > buffers.expandBytes) return `rolling tile ${tile}: its rows exceed E`;
    }
    if (!(tl.r0 < tl.r1 && tl.q0 < tl.q1 && tl.n0 < tl.n1) || tl.r1 > g.Hd || tl.q1 > g.Wd || tl.n1 > g.Cout)
      return `tile ${tile} is empty or outside y`;
    if (tl.G < 1 || (tl.G % s.unit !== 0 && tl.G !== g.Cexp)) return `tile ${tile}: G not a multiple of ${s.unit}`;
    const channels = new Uint8Array(g.Cexp);
    for (let g0 = 0; g0 < g.Cexp; g0 += tl.G) for (let c = g0; c < Math.min(g.Cexp, g0 + tl.G); c++) channels[c]!++;
    if (channels.some((n) => n !== 1)) return `tile ${tile}: inner channels not each in one group`;
    const [er0, er1] = rows(g, tl.r0, tl.r1);
    const [ec0, ec1] = colWindow(g, tl.q0, tl.q1);
    for (let r = tl.r0; r < tl.r1; r++)
      for (let q = tl.q0; q < tl.q1; q++) {
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++) {
            const iy = r * g.sh - g.pt + ky * g.dh,
              ix = q * g.sw - g.pl + kx * g.dw;
            if (iy < 0 || iy >= g.He || ix < 0 || ix >= g.We) continue;
            if (iy < er0 || iy >= er1 || ix < ec0 || ix >= ec1)
              return `tile ${tile}: pixel (${r},${q}) reads E (${iy},${ix}) outside its window [${er0},${er1})×[${ec0},${ec1})`;
          }
      }
    const win = (er1 - er0) * (ec1 - ec0) * tl.G;
    const pix = (tl.r1 - tl.r0) * (tl.q1 - tl.q0);
    if (win > buffers.expandBytes || pix * tl.G > buffers.depthwiseBytes) return `tile ${tile}: windows exceed E or D`;
    const acc = 4 * pix * (tl.n1 - tl.n0);
    const groups = Math.ceil(g.Cexp / tl.G);
    if (tl.acc === ACC_NONE && (groups > 1 || s.unit === 1)) return `tile ${tile}: several groups, no accumulator`;
    if (tl.acc === ACC_E && (tl.accOffset < win || tl.accOffset + acc > buffers.expandBytes))
      return `tile ${tile}: accumulator overlaps the window or leaves E`;
    if (tl.acc === ACC_D && (tl.accOffset < pix * tl.G || tl.accOffset + acc > buffers.depthwiseBytes))
      return `tile ${tile}: accumulator overlaps the depthwise tile or leaves D`;
    if (tl.acc === ACC_Y) {
      // Only over bytes no earlier tile wrote, from this tile's own first output byte on.
      const first = (tl.r0 * g.Wd + tl.q0) * g.Cout + tl.n0;
      if (tl.accOffset < first || tl.accOffset + acc > cover.length)
        return `tile ${tile}: y accumulator outside y's tail`;
      for (let i = tl.accOffset; i < tl.accOffset + acc; i++)
        if (cover[i]) return `tile ${tile}: y accumulator over written bytes`;
    }
    for (let r = tl.r0; r < tl.r1; r++)
      for (let q = tl.q0; q < tl.q1; q++) for (let n = tl.n0; n < tl.n1; n++) cover[(r * g.Wd + q) * g.Cout + n]!++;
  }
  const bad = cover.findIndex((v) => v !== 1);
  return bad >= 0 ? `output byte ${bad} made ${cover[bad]} times` : null;
}

t.test(
  'float schedule: ring, band and groups cover the block, every tap reads a live ring row, inside E and D',
  async (t) => {
    let n = 0,
      fails = 0;
    const shapes = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const g = randomGeometry(seed, 20, 40);
      for (let c = 1; c <= g.Cexp; c++) {
        const buffers = chunkBuffers(g, c, FLOAT_ELEMENT_BYTES);
        const s = floatSchedule(g, buffers);
        n++;
        if (s.groups > 1) shapes.add('groups');
        if (s.bandRows > 1) shapes.add('bands');
        if (s.ringRows < g.He) shapes.add('ring smaller than E');
        const msg = checkFloat(g, s, buffers);
        if (msg) {
          fails++;
          if (fails <= 5) t.fail(`${label(g)}, c = ${c}: ${msg}`);
        }
      }
    }
    t.equal(fails, 0, `${n} schedules`);
    t.same(
      [...shapes].sort(),
      ['bands', 'groups', 'ring smaller than E'],
      'groups, bands and a wrapping ring are exercised',
    );
  },
);

t.test('float schedule check catches a ring too small for its band', async (t) => {
  // A band of 2 rows at stride 1 reads 4 expanded rows; a ring of 3 has lost the first by the time it is read.
  const g: BlockGeometry = {
    ...randomGeometry(3, 12, 8),
    He: 12,
    We: 5,
    Hd: 12,
    Wd: 5,
    sh: 1,
    sw: 1,
    dh: 1,
    dw: 1,
    pt: 1,
    pl: 1,
  };
  const buffers = chunkBuffers(g, g.Cexp, FLOAT_ELEMENT_BYTES);
  const good = floatSchedule(g, buffers);
  t.equal(checkFloat(g, good, buffers), null);
  const gc = good.groupChannels;
  const bad: FloatSchedule = {
    ...good,
    bandRows: 2,
    ringRows: 3,
    expandBytesUsed: 3 * 5 * gc * 4,
    depthwiseBytesUsed: 2 * 5 * gc * 4,
  };
  t.match(checkFloat(g, bad, buffers), /ring slot/);
});

t.test(
  'integer schedule: tiles cover y once with every inner channel, read only their windows, fit E, D and y',
  async (t) => {
    let n = 0,
      fails = 0;
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const g = randomGeometry(1000 + seed, 16, 60);
      for (let c = 1; c <= g.Cexp; c += Math.max(1, Math.floor(g.Cexp / 12))) {
        const buffers = chunkBuffers(g, c, INTEGER_ELEMENT_BYTES);
        let msg: string | null;
        try {
          const s = integerSchedule(g, buffers);
          msg = checkInteger(g, s, buffers);
          for (const tl of s.tiles) {
            if (tl.r1 - tl.r0 > 1 && tl.q1 - tl.q0 === g.Wd) kinds.add('bands');
            if (tl.q1 - tl.q0 < g.Wd) kinds.add('pixel runs');
            if (tl.n1 - tl.n0 < g.Cout) kinds.add('channel ranges');
            kinds.add(['no accumulator', 'accumulator in E', 'accumulator in D', 'accumulator in y'][tl.acc]!);
          }
          if (s.unit === 1) kinds.add('unit 1');
          if (s.rolling) kinds.add('rolling window');
          const touched = INTEGER_SCHEDULER.touched(g, s);
          if (touched.expandBytes > buffers.expandBytes || touched.depthwiseBytes > buffers.depthwiseBytes)
            msg ??= `touches ${JSON.stringify(touched)} beyond the buffers`;
        } catch (e) {
          // Refusing is allowed only when some pixel cannot place one int32 next to its one-channel windows.
          msg = (e as Error).message;
          let room = Infinity;
          for (let r = 0; r < g.Hd; r++)
            for (let q = 0; q < g.Wd; q++) {
              const win = reach(r, r + 1, g.sh, g.dh, g.pt, g.He) * reach(q, q + 1, g.sw, g.dw, g.pl, g.We);
              room = Math.min(room, Math.max(buffers.expandBytes - win, buffers.depthwiseBytes - 1));
            }
          if (e instanceof TilingError && room < 4) msg = null;
          else msg = `refused although every pixel has ${room} bytes next to its windows: ${msg}`;
        }
        n++;
        if (msg) {
          fails++;
          if (fails <= 5) t.fail(`${label(g)}, c = ${c}: ${msg}`);
        }
      }
    }
    t.equal(fails, 0, `${n} schedules`);
    t.ok(
      [
        'bands',
        'pixel runs',
        'channel ranges',
        'accumulator in E',
        'accumulator in D',
        'accumulator in y',
        'no accumulator',
        'rolling window',
      ].every((k) => kinds.has(k)),
      `exercised: ${[...kinds].sort().join(', ')}`,
    );
  },
);

t.test(
  'integer schedule check catches a window short of a tap, an accumulator over its window, a gap in y',
  async (t) => {
    const g: BlockGeometry = {
      He: 8,
      We: 8,
      Cexp: 24,
      Hd: 8,
      Wd: 8,
      Cout: 5,
      sh: 1,
      sw: 1,
      dh: 1,
      dw: 1,
      pt: 1,
      pl: 1,
      expandK: 4,
      stem: false,
    };
    const wide = chunkBuffers(g, g.Cexp, INTEGER_ELEMENT_BYTES);
    const band = (r0: number, r1: number) => ({
      r0,
      r1,
      q0: 0,
      q1: 8,
      n0: 0,
      n1: 5,
      G: 24,
      acc: ACC_NONE,
      accOffset: 0,
    });
    const two: IntegerSchedule = { path: 'integer', unit: 8, tiles: [band(0, 4), band(4, 8)] };
    t.equal(checkInteger(g, two, wide), null, 'two bands, each with its halo row');
    const short: typeof rowWindow = (geom, r0, r1) => {
      const [a, b] = rowWindow(geom, r0, r1);
      return [a, Math.max(a, b - 1)];
    };
    t.match(checkInteger(g, two, wide, short), /reads E \(4,0\) outside its window \[0,4\)/, 'a window one row short');
    const acc = { ...band(4, 8), G: 8, acc: ACC_E, accOffset: 0 };
    t.match(checkInteger(g, { ...two, tiles: [band(0, 4), acc] }, wide), /overlaps the window/);
    t.match(checkInteger(g, { ...two, tiles: [band(0, 4)] }, wide), /made 0 times/);
  },
);

/** Highest byte of E and of D any tile touches (windows and accumulators). */
const touched = (g: BlockGeometry, s: IntegerSchedule) => INTEGER_SCHEDULER.touched(g, s);

t.test(
  'integer schedule with preferred limits: inside them when some tiling fits, else the whole-buffer tiling',
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
      const g: BlockGeometry = {
        He: H,
        We: W,
        Cexp: 1 + (cexpUnits! % 200),
        Hd,
        Wd,
        Cout: 1 + (cout! % 90),
        sh,
        sw: sh,
        dh: 1,
        dw: 1,
        pt: Math.floor(Math.max(0, (Hd - 1) * sh + 3 - H) / 2),
        pl: Math.floor(Math.max(0, (Wd - 1) * sh + 3 - W) / 2),
        expandK: 16,
        stem: false,
      };
      const whole = chunkBuffers(g, 1 + (tight! % g.Cexp), INTEGER_ELEMENT_BYTES);
      // Preferred sizes from 1/16 of a buffer to all of it.
      const preferred = {
        expandBytes: Math.ceil((whole.expandBytes * (1 + (pe! % 16))) / 16),
        depthwiseBytes: Math.ceil((whole.depthwiseBytes * (1 + (pd! % 16))) / 16),
      };
      let msg: string | null = null;
      try {
        const sched = integerSchedule(g, { ...whole, preferred });
        msg = checkInteger(g, sched, whole);
        const u = touched(g, sched);
        if (u.expandBytes <= preferred.expandBytes && u.depthwiseBytes <= preferred.depthwiseBytes) inside++;
        else if (JSON.stringify(sched) === JSON.stringify(integerSchedule(g, whole))) fellBack++;
        else
          msg ??= `touches ${JSON.stringify(u)} beyond ${JSON.stringify(preferred)} and is not the whole-buffer tiling`;
      } catch (e) {
        // Refusal only where the whole buffers refuse too.
        try {
          integerSchedule(g, whole);
          msg = `refused with preferred sizes but not without: ${(e as Error).message}`;
        } catch {
          msg = null;
        }
      }
      if (msg) {
        fails++;
        t.fail(`${label(g)}: ${msg}`);
      }
    }
    t.equal(fails, 0, `${inside} tilings inside the preferred sizes, ${fellBack} on the whole buffers`);
    t.ok(inside > 100 && fellBack > 0, 'both cases exercised');
  },
);

t.test('one interface: each path scheduler schedules in its own element size', async (t) => {
  const g = randomGeometry(42, 20, 64);
  const c = Math.max(1, g.Cexp >> 2);
  t.same(scheduleForChunks(g, 'float', c), floatSchedule(g, chunkBuffers(g, c, 4)));
  t.same(scheduleForChunks(g, 'integer', c), integerSchedule(g, chunkBuffers(g, c, 1)));
  t.equal(blockScheduler('float'), FLOAT_SCHEDULER);
  t.equal(blockScheduler('integer').elementBytes, 1);
  const f = FLOAT_SCHEDULER.schedule(g, chunkBuffers(g, c, 4));
  t.same(FLOAT_SCHEDULER.touched(g, f), { expandBytes: f.expandBytesUsed, depthwiseBytes: f.depthwiseBytesUsed });
});
