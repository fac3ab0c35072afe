/**
 * The integer schedule: how the fused integer kernel (assembly/q8_block.ts) runs a
 * Section 5.1 block inside the memory the plan gave it: the block input x, the output y,
 * the expanded-chunk buffer E and the depthwise-chunk buffer D (one byte per element).
 *
 * The kernel computes the block's output in tiles: output rows [r0, r1) × columns
 * [q0, q1) × output channels [n0, n1). For each group of G inner channels a tile
 *   expands its window of E: the rows × columns its depthwise taps read (geometry.ts
 *     window; neighbouring tiles' windows overlap by the halo, which each recomputes),
 *     into E: reach_rows · reach_cols · G bytes;
 *   runs the depthwise into D: (r1 − r0)·(q1 − q0)·G bytes;
 *   adds the projection of those G channels to an int32 accumulator of
 *     (r1 − r0)·(q1 − q0)·(n1 − n0) words (the first group starts from the bias),
 * and after the last group requantizes the accumulator (plus the residual) into y. A tile
 * whose one group holds every inner channel (with unit 8) needs no accumulator: the
 * projection requantizes straight into y.
 *
 * The accumulator is not a planned buffer, so it goes where the tile leaves room: after
 * the tile's window in E, after its depthwise tile in D, or in the part of y that no
 * earlier tile has written (requantization reads each accumulator word before it writes
 * the byte that overlaps it). Preference order of tile shapes:
 *   A. bands of R output rows × all columns × all output channels;
 *   B. when not even one row fits: runs of pixels of one row;
 *   C. when not even one pixel fits: one pixel × a range of output channels (its inner
 *      channels are recomputed for each range): 8-channel panels, and when not even 8
 *      accumulators fit, fewer (the kernel's scalar projection path).
 * G is a multiple of the unit u = 8 (the GEMM panel width), or u = 1 when the buffers
 * cannot hold 8 channels of a tile's windows. Integer sums are exact, so any tiling gives
 * the same bytes; among the tilings that fit, each band takes the one with the lowest
 * estimated cost per output row (recomputed halo rows, accumulator traffic, per-group
 * overhead).
 *
 * With unit 8 the rolling window (ringPlan) competes with those tilings: bands of full rows
 * with every inner channel, E holding the band's expanded rows across bands so that no
 * expanded row is computed twice and no accumulator is needed (the float schedule's ring,
 * kept by moving the shared rows to the start of E). It wins where the tilings above need
 * halos or groups: the first blocks of a network, whose E and D are a few rows deep.
 */
import { type BlockGeometry, type ChunkBuffers, reach, rowWindow, windowPixels } from './geometry.js';

export const ACC_NONE = 0;
export const ACC_E = 1;
export const ACC_D = 2;
export const ACC_Y = 3;

export interface BlockTile {
  /** Output rows [r0, r1), columns [q0, q1), channels [n0, n1). */
  r0: number;
  r1: number;
  q0: number;
  q1: number;
  n0: number;
  n1: number;
  /** Inner channels per group. */
  G: number;
  /** Where the int32 accumulator lives (ACC_*), and its byte offset there. */
  acc: number;
  accOffset: number;
}

export interface IntegerSchedule {
  path: 'integer';
  /** Inner channels come in groups of a multiple of `unit` (the packed weights' unit). */
  unit: 1 | 8;
  /** Tiles covering the output once, in raster order (the order the kernel runs them). */
  tiles: BlockTile[];
  /**
   * Rolling window (ringSchedule): the tiles are bands of full rows with every inner channel,
   * and E keeps the previous band's expanded rows (every channel, full width): the rows two
   * bands share move to the start of E and are not expanded again.
   */
  rolling?: boolean;
}

export class TilingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TilingError';
  }
}

/** Bytes of an int8 / uint8 element of E and D. */
export const INTEGER_ELEMENT_BYTES = 1;

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Fixed cost of one group of one tile (kernel set-up), in multiply-add units. */
const GROUP_OVERHEAD = 4000;

/** Hard limits of one tiling attempt. */
interface Limits {
  eBytes: number;
  dBytes: number;
}

interface Candidate {
  G: number;
  acc: number;
  accOffset: number;
  cost: number;
}

/**
 * Best grouping for one tile shape: rows [r0,r1) × cols [q0,q1) × output channels [n0,n1),
 * with `yFree` bytes of y free from the tile's first output byte. undefined when nothing fits.
 */
function bestGroup(
  g: BlockGeometry,
  lim: Limits,
  u: number,
  r0: number,
  r1: number,
  q0: number,
  q1: number,
  n0: number,
  n1: number,
  yFree: number,
  yStart: number,
): Candidate | undefined {
  const R = r1 - r0;
  const Wt = q1 - q0;
  const N = n1 - n0;
  const win = windowPixels(g, r0, r1, q0, q1);
  const pix = R * Wt;
  const accBytes = 4 * pix * N;
  const units = Math.ceil(g.Cexp / u);
  let best: Candidate | undefined;
  // Largest group first: fewer groups are never more expensive, so the first fit is the best G.
  for (let m = units; m >= 1; m--) {
    const G = Math.min(g.Cexp, m * u);
    const e = win * G;
    const d = pix * G;
    if (e > lim.eBytes || d > lim.dBytes) continue;
    const groups = Math.ceil(g.Cexp / G);
    // The direct projection (no accumulator) reads the 8-channel panels of unit 8 from a panel start.
    const direct = groups === 1 && u === 8;
    if (direct && n0 % 8 !== 0) continue;
    let acc = ACC_NONE;
    let accOffset = 0;
    if (!direct) {
      // Word-aligned when there is room (WASM loads need no alignment, so tight buffers pack).
      if (lim.eBytes - align4(e) >= accBytes) {
        acc = ACC_E;
        accOffset = align4(e);
      } else if (lim.dBytes - align4(d) >= accBytes) {
        acc = ACC_D;
        accOffset = align4(d);
      } else if (yFree >= accBytes) {
        acc = ACC_Y;
        accOffset = yStart;
      } else if (lim.eBytes - e >= accBytes) {
        acc = ACC_E;
        accOffset = e;
      } else if (lim.dBytes - d >= accBytes) {
        acc = ACC_D;
        accOffset = d;
      } else continue;
    }
    // Cost in multiply-adds: the expansion of the window (halo rows/cols recomputed, 8-wide
    // panels padded), depthwise, projection, accumulator read-modify-write per extra group.
    const padded = Math.ceil(G / 8) * 8 * (groups - 1) + Math.ceil((g.Cexp - G * (groups - 1)) / 8) * 8;
    const cost =
      win * padded * g.expandK +
      pix * g.Cexp * 9 * (G < 8 ? 4 : 1) +
      pix * g.Cexp * N +
      (groups > 1 ? groups * pix * N * 4 : 0) +
      groups * GROUP_OVERHEAD;
    best = { G, acc, accOffset, cost };
    break;
  }
  return best;
}

/**
 * Tiles covering output rows [rowLo, rowHi) (default: all), and their modelled cost. An
 * accumulator placed in y stays inside those rows' bytes, so tilings of disjoint row ranges
 * never touch each other's output (threads run them at once).
 */
function plan(
  g: BlockGeometry,
  lim: Limits,
  u: 1 | 8,
  rowLo = 0,
  rowHi = g.Hd,
): { tiles: BlockTile[]; cost: number } | undefined {
  const tiles: BlockTile[] = [];
  let total = 0;
  const rowBytes = g.Wd * g.Cout;
  const yBytes = rowHi * rowBytes;
  let r0 = rowLo;
  while (r0 < rowHi) {
    // A: bands of full rows.
    let pick: { R: number; c: Candidate } | undefined;
    for (let R = 1; R <= rowHi - r0; R++) {
      const c = bestGroup(g, lim, u, r0, r0 + R, 0, g.Wd, 0, g.Cout, yBytes - r0 * rowBytes, r0 * rowBytes);
      // Larger bands need more of every buffer: once nothing fits, nothing bigger will.
      if (!c) break;
      if (!pick || c.cost / R < pick.c.cost / pick.R) pick = { R, c };
    }
    if (pick) {
      total += pick.c.cost;
      tiles.push({
        r0,
        r1: r0 + pick.R,
        q0: 0,
        q1: g.Wd,
        n0: 0,
        n1: g.Cout,
        G: pick.c.G,
        acc: pick.c.acc,
        accOffset: pick.c.accOffset,
      });
      r0 += pick.R;
      continue;
    }
    // B: runs of pixels of row r0.
    let q0 = 0;
    while (q0 < g.Wd) {
      let run: { Wt: number; c: Candidate } | undefined;
      for (let Wt = 1; Wt <= g.Wd - q0; Wt++) {
        const start = (r0 * g.Wd + q0) * g.Cout;
        const c = bestGroup(g, lim, u, r0, r0 + 1, q0, q0 + Wt, 0, g.Cout, yBytes - start, start);
        if (!c) break;
        if (!run || c.cost / Wt < run.c.cost / run.Wt) run = { Wt, c };
      }
      if (run) {
        total += run.c.cost;
        tiles.push({
          r0,
          r1: r0 + 1,
          q0,
          q1: q0 + run.Wt,
          n0: 0,
          n1: g.Cout,
          G: run.c.G,
          acc: run.c.acc,
          accOffset: run.c.accOffset,
        });
        q0 += run.Wt;
        continue;
      }
      // C: one pixel, output channels in ranges of 8 (panel-aligned; fewer, as a last resort).
      let n0 = 0;
      while (n0 < g.Cout) {
        let got: { n1: number; c: Candidate } | undefined;
        const start = (r0 * g.Wd + q0) * g.Cout + n0;
        const step = n0 % 8 === 0 ? 8 : 1;
        for (let n1 = Math.min(g.Cout, n0 + step); ; n1 = Math.min(g.Cout, n1 + step)) {
          const c = bestGroup(g, lim, u, r0, r0 + 1, q0, q0 + 1, n0, n1, yBytes - start, start);
          if (!c) break;
          got = { n1, c };
          if (n1 === g.Cout) break;
        }
        if (!got && step === 8) {
          // Not even 8 accumulators fit: take as many single channels as do.
          for (let n1 = n0 + 1; n1 < Math.min(g.Cout, n0 + 8) + 1; n1++) {
            const c = bestGroup(g, lim, u, r0, r0 + 1, q0, q0 + 1, n0, n1, yBytes - start, start);
            if (!c) break;
            got = { n1, c };
          }
        }
        if (!got) return undefined;
        total += got.c.cost;
        tiles.push({
          r0,
          r1: r0 + 1,
          q0,
          q1: q0 + 1,
          n0,
          n1: got.n1,
          G: got.c.G,
          acc: got.c.acc,
          accOffset: got.c.accOffset,
        });
        n0 = got.n1;
      }
      q0 += 1;
    }
    r0 += 1;
  }
  return { tiles, cost: total };
}

/** Rows of E a band of output rows [r0, r1) reads (rowWindow), as the rolling window holds them. */
function bandRows(g: BlockGeometry, r0: number, r1: number): number {
  return reach(r0, r1, g.sh, g.dh, g.pt, g.He);
}

/**
 * The rolling-window schedule: bands of R output rows × all columns × all output channels,
 * one group of every inner channel, the projection straight into y. E holds the band's
 * window of expanded rows at full width (bandRows · We · Cexp bytes) and keeps it for the
 * next band, which expands only the rows below it: every expanded row is computed once (no
 * halo recompute, no accumulator), at the price of a copy of the shared rows per band. R is
 * the tallest band whose window and depthwise rows fit. undefined when one row does not fit.
 */
function ringPlan(g: BlockGeometry, lim: Limits): { tiles: BlockTile[]; cost: number } | undefined {
  const fits = (R: number) => {
    let rows = 0;
    for (let r0 = 0; r0 < g.Hd; r0 += R) rows = Math.max(rows, bandRows(g, r0, Math.min(g.Hd, r0 + R)));
    return rows * g.We * g.Cexp <= lim.eBytes && R * g.Wd * g.Cexp <= lim.dBytes;
  };
  let R = 0;
  for (let r = g.Hd; r >= 1; r--)
    if (fits(r)) {
      R = r;
      break;
    }
  if (R === 0) return undefined;
  const tiles: BlockTile[] = [];
  const Cexp8 = Math.ceil(g.Cexp / 8) * 8;
  let cost = g.He * g.We * Cexp8 * g.expandK;
  let prevEnd = -1;
  for (let r0 = 0; r0 < g.Hd; r0 += R) {
    const r1 = Math.min(g.Hd, r0 + R);
    const [e0, e1] = rowWindow(g, r0, r1);
    const pix = (r1 - r0) * g.Wd;
    // Shared rows are copied (a byte costs about a quarter of a multiply-add).
    const shared = Math.max(0, prevEnd - e0);
    cost += pix * g.Cexp * 9 + pix * g.Cexp * g.Cout + GROUP_OVERHEAD + (shared * g.We * g.Cexp) / 4;
    prevEnd = e1;
    tiles.push({ r0, r1, q0: 0, q1: g.Wd, n0: 0, n1: g.Cout, G: g.Cexp, acc: ACC_NONE, accOffset: 0 });
  }
  return { tiles, cost };
}

/** The cheaper of the tiled plan and the rolling window (ties: the tiled plan, which needs no copies). */
function best8(g: BlockGeometry, lim: Limits): IntegerSchedule | undefined {
  const tiled = plan(g, lim, 8);
  const ring = ringPlan(g, lim);
  if (ring && (!tiled || ring.cost < tiled.cost)) return { path: 'integer', unit: 8, tiles: ring.tiles, rolling: true };
  return tiled ? { path: 'integer', unit: 8, tiles: tiled.tiles } : undefined;
}

/**
 * The integer kernel's schedule of a block in chunk buffers `buffers` (bytes, one byte per
 * element): tiles covering the block's output exactly once, in raster order, within E and D
 * (within buffers.preferred first, when given).
 * Throws TilingError (with the sizes) when some pixel cannot place even one output
 * channel's accumulator (4 bytes) with one inner channel: the planner would have to
 * give the block that much more scratch.
 */
export function integerSchedule(g: BlockGeometry, buffers: ChunkBuffers): IntegerSchedule {
  const whole: Limits = { eBytes: buffers.expandBytes, dBytes: buffers.depthwiseBytes };
  const pref = buffers.preferred;
  if (pref) {
    const t8 = best8(g, {
      eBytes: Math.min(whole.eBytes, pref.expandBytes),
      dBytes: Math.min(whole.dBytes, pref.depthwiseBytes),
    });
    if (t8) return t8;
  }
  const t8 = best8(g, whole);
  if (t8) return t8;
  const t1 = plan(g, whole, 1);
  if (t1) return { path: 'integer', unit: 1, tiles: t1.tiles };
  throw new TilingError(
    `block E ${g.He}x${g.We}x${g.Cexp} → D ${g.Hd}x${g.Wd}, y ${g.Cout} channels: chunk buffers of ${whole.eBytes} and ${whole.dBytes} bytes cannot hold ` +
      'the windows of one pixel with one inner channel plus one int32 accumulator next to them, and y has no free bytes left for it',
  );
}

/**
 * The schedule of output rows [r0, r1) only, in unit `unit` (the unit the block's weights
 * were packed in), within `buffers` (their preferred limits first): one thread's share
 * of a block split across threads. undefined when no tiling in that unit fits.
 */
export function integerScheduleRows(
  g: BlockGeometry,
  buffers: ChunkBuffers,
  r0: number,
  r1: number,
  unit: 1 | 8,
): IntegerSchedule | undefined {
  const whole: Limits = { eBytes: buffers.expandBytes, dBytes: buffers.depthwiseBytes };
  const pref = buffers.preferred;
  const tiled =
    (pref &&
      plan(
        g,
        { eBytes: Math.min(whole.eBytes, pref.expandBytes), dBytes: Math.min(whole.dBytes, pref.depthwiseBytes) },
        unit,
        r0,
        r1,
      )) ||
    plan(g, whole, unit, r0, r1);
  return tiled ? { path: 'integer', unit, tiles: tiled.tiles } : undefined;
}

/** Bytes of E and of D a tile touches in its group of G channels: its windows and, there, its accumulator. */
export function tileBytes(
  g: BlockGeometry,
  t: BlockTile,
  rolling = false,
): { expandBytes: number; depthwiseBytes: number } {
  const pix = (t.r1 - t.r0) * (t.q1 - t.q0);
  // The rolling window holds the band's rows at E's full width.
  if (rolling) return { expandBytes: bandRows(g, t.r0, t.r1) * g.We * g.Cexp, depthwiseBytes: pix * g.Cexp };
  const acc = 4 * pix * (t.n1 - t.n0);
  let e = windowPixels(g, t.r0, t.r1, t.q0, t.q1) * t.G;
  let d = pix * t.G;
  if (t.acc === ACC_E) e = Math.max(e, t.accOffset + acc);
  if (t.acc === ACC_D) d = Math.max(d, t.accOffset + acc);
  return { expandBytes: e, depthwiseBytes: d };
}

/**
 * Multiply-adds a tiling computes (no panel padding): each tile expands the window of E its
 * depthwise taps reach, so halo rows and columns shared by neighbouring tiles are computed once
 * per tile, and a pixel split into output-channel ranges (C) recomputes its inner channels per
 * range. A rolling schedule expands each row of E once.
 */
export function tilingMultiplyAdds(g: BlockGeometry, tiles: readonly BlockTile[], rolling = false): number {
  let macs = 0;
  let prevEnd = -1;
  for (const t of tiles) {
    let win = windowPixels(g, t.r0, t.r1, t.q0, t.q1);
    if (rolling) {
      // Rows the previous band expanded are kept, not recomputed.
      const [e0, e1] = rowWindow(g, t.r0, t.r1);
      win = Math.max(0, e1 - Math.max(e0, prevEnd)) * g.We;
      prevEnd = e1;
    }
    const pix = (t.r1 - t.r0) * (t.q1 - t.q0);
    macs += win * g.Cexp * g.expandK + pix * g.Cexp * 9 + pix * g.Cexp * (t.n1 - t.n0);
  }
  return macs;
}
