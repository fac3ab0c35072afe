/**
 * Work decomposition of a fused integer inverted-residual block (assembly/q8_block.ts)
 * inside the memory the plan gave it: the block input x, the output y, the
 * expanded-chunk buffer E and the depthwise-chunk buffer D (Section 5.1).
 *
 * The projection's int32 accumulator is not a planned buffer, so the output is made in
 * tiles whose accumulator fits somewhere free: after the tile's E window in E, after its
 * D tile in D, or in the part of y that no earlier tile has written (requantization reads
 * each accumulator before it writes the byte that overlaps it). Preference order:
 *   A. bands of R output rows × all columns × all output channels;
 *   B. when not even one row fits: runs of pixels of one row;
 *   C. when not even one pixel fits: one pixel × a range of output channels (its
 *      inner channels are recomputed for each range): 8-channel panels, and when not
 *      even 8 accumulators fit, fewer (the kernel's scalar projection path).
 * Within a tile, inner channels go in groups of G (a multiple of the unit u = 8, or
 * u = 1 when the buffers cannot hold 8 channels of a tile's windows); with unit 8, one
 * group holding every inner channel needs no accumulator at all. Integer sums are exact, so any tiling
 * gives the same bytes; among the tilings that fit, each band takes the one with the
 * lowest estimated cost per output row (recomputed halo rows, accumulator traffic,
 * per-group overhead).
 */

export interface BlockGeometry {
  /** Expanded tensor E (depthwise input) and depthwise output D; Cout = y channels. */
  He: number;
  We: number;
  Cexp: number;
  Hd: number;
  Wd: number;
  Cout: number;
  /** Depthwise stride, dilation and top/left padding. */
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  /** Multiply-adds per expanded value (C_in for a 1x1 expansion, kh·kw·C_in for the stem conv). */
  expandK: number;
  /** Bytes of the two planned chunk buffers. */
  eBytes: number;
  dBytes: number;
  /**
   * Bytes of E and D the tiles try to stay within first (ops/block.ts: below the float
   * schedule's high-water, src/executor/float_high_water.ts); the whole buffers are the
   * fallback when no tiling fits them.
   */
  preferred?: { eBytes: number; dBytes: number };
}

export const ACC_NONE = 0;
export const ACC_E = 1;
export const ACC_D = 2;
export const ACC_Y = 3;

export interface BlockTile {
  r0: number;
  r1: number;
  q0: number;
  q1: number;
  n0: number;
  n1: number;
  /** Inner channels per group. */
  G: number;
  acc: number;
  accOffset: number;
}

export interface BlockTiling {
  unit: 1 | 8;
  tiles: BlockTile[];
}

export class TilingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TilingError';
  }
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** Fixed cost of one group of one tile (kernel set-up), in multiply-add units. */
const GROUP_OVERHEAD = 4000;

/** Rows (or columns) of E the depthwise taps of outputs [o0, o1) reach, clipped to [0, n). */
function reach(o0: number, o1: number, s: number, d: number, p: number, n: number): number {
  const a = Math.max(0, o0 * s - p);
  const b = Math.min(n, (o1 - 1) * s - p + 2 * d + 1);
  return Math.max(0, b - a);
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
  const win = reach(r0, r1, g.sh, g.dh, g.pt, g.He) * reach(q0, q1, g.sw, g.dw, g.pl, g.We);
  const pix = R * Wt;
  const accBytes = 4 * pix * N;
  const units = Math.ceil(g.Cexp / u);
  let best: Candidate | undefined;
  // Largest group first: fewer groups are never more expensive, so the first fit is the best G.
  for (let m = units; m >= 1; m--) {
    const G = Math.min(g.Cexp, m * u);
    const e = win * G;
    const d = pix * G;
    if (e > g.eBytes || d > g.dBytes) continue;
    const groups = Math.ceil(g.Cexp / G);
    // The direct projection (no accumulator) reads the 8-channel panels of unit 8 from a panel start.
    const direct = groups === 1 && u === 8;
    if (direct && n0 % 8 !== 0) continue;
    let acc = ACC_NONE;
    let accOffset = 0;
    if (!direct) {
      // Word-aligned when there is room (WASM loads need no alignment, so tight buffers pack).
      if (g.eBytes - align4(e) >= accBytes) {
        acc = ACC_E;
        accOffset = align4(e);
      } else if (g.dBytes - align4(d) >= accBytes) {
        acc = ACC_D;
        accOffset = align4(d);
      } else if (yFree >= accBytes) {
        acc = ACC_Y;
        accOffset = yStart;
      } else if (g.eBytes - e >= accBytes) {
        acc = ACC_E;
        accOffset = e;
      } else if (g.dBytes - d >= accBytes) {
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
 * Multiply-adds a tiling computes (no panel padding): each tile expands the window of E its
 * depthwise taps reach, so halo rows and columns shared by neighbouring tiles are computed once
 * per tile, and a pixel split into output-channel ranges (C) recomputes its inner channels per range.
 */
export function tilingMultiplyAdds(g: BlockGeometry, tiles: readonly BlockTile[]): number {
  let macs = 0;
  for (const t of tiles) {
    const win = reach(t.r0, t.r1, g.sh, g.dh, g.pt, g.He) * reach(t.q0, t.q1, g.sw, g.dw, g.pl, g.We);
    const pix = (t.r1 - t.r0) * (t.q1 - t.q0);
    macs += win * g.Cexp * g.expandK + pix * g.Cexp * 9 + pix * g.Cexp * (t.n1 - t.n0);
  }
  return macs;
}

function plan(g: BlockGeometry, u: 1 | 8): BlockTile[] | undefined {
  const tiles: BlockTile[] = [];
  const rowBytes = g.Wd * g.Cout;
  const yBytes = g.Hd * rowBytes;
  let r0 = 0;
  while (r0 < g.Hd) {
    // A: bands of full rows.
    let pick: { R: number; c: Candidate } | undefined;
    for (let R = 1; R <= g.Hd - r0; R++) {
      const c = bestGroup(g, u, r0, r0 + R, 0, g.Wd, 0, g.Cout, yBytes - r0 * rowBytes, r0 * rowBytes);
      // Larger bands need more of every buffer: once nothing fits, nothing bigger will.
      if (!c) break;
      if (!pick || c.cost / R < pick.c.cost / pick.R) pick = { R, c };
    }
    if (pick) {
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
        const c = bestGroup(g, u, r0, r0 + 1, q0, q0 + Wt, 0, g.Cout, yBytes - start, start);
        if (!c) break;
        if (!run || c.cost / Wt < run.c.cost / run.Wt) run = { Wt, c };
      }
      if (run) {
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
          const c = bestGroup(g, u, r0, r0 + 1, q0, q0 + 1, n0, n1, yBytes - start, start);
          if (!c) break;
          got = { n1, c };
          if (n1 === g.Cout) break;
        }
        if (!got && step === 8) {
          // Not even 8 accumulators fit: take as many single channels as do.
          for (let n1 = n0 + 1; n1 < Math.min(g.Cout, n0 + 8) + 1; n1++) {
            const c = bestGroup(g, u, r0, r0 + 1, q0, q0 + 1, n0, n1, yBytes - start, start);
            if (!c) break;
            got = { n1, c };
          }
        }
        if (!got) return undefined;
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
  return tiles;
}

/**
 * Tiles covering the block's output exactly once, in raster order, within E and D
 * (within g.preferred first, when given).
 * Throws TilingError (with the sizes) when some pixel cannot place even one output
 * channel's accumulator (4 bytes) with one inner channel: the planner would have to
 * give the block that much more scratch.
 */
export function planBlockTiles(g: BlockGeometry): BlockTiling {
  if (g.preferred) {
    const t8 = plan(
      { ...g, eBytes: Math.min(g.eBytes, g.preferred.eBytes), dBytes: Math.min(g.dBytes, g.preferred.dBytes) },
      8,
    );
    if (t8) return { unit: 8, tiles: t8 };
  }
  const t8 = plan(g, 8);
  if (t8) return { unit: 8, tiles: t8 };
  const t1 = plan(g, 1);
  if (t1) return { unit: 1, tiles: t1 };
  throw new TilingError(
    `block E ${g.He}x${g.We}x${g.Cexp} → D ${g.Hd}x${g.Wd}, y ${g.Cout} channels: chunk buffers of ${g.eBytes} and ${g.dBytes} bytes cannot hold ` +
      'the windows of one pixel with one inner channel plus one int32 accumulator next to them, and y has no free bytes left for it',
  );
}
