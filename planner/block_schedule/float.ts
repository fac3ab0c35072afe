/**
 * The float schedule: how the fused float32 kernel (assembly/fused.ts) runs a Section 5.1
 * block inside the plan's two chunk buffers.
 *
 * The plan gives a block with chunks of c channels c·H_e·W_e elements of E and c·H_d·W_d
 * of D. The kernel does not have to use them as c-channel images. It runs the expanded
 * channels in groups of g and, within a group, keeps only a ring of R expanded rows (g
 * channels each) and a band of b depthwise output rows. Expanded row r lives in ring slot
 * r mod R, computed just before the first band that reads it; a band of b output rows reads
 * span(b) = (b − 1)·s + 2·d + 1 consecutive rows (geometry.ts), so R = min(H_e, span(b))
 * keeps every row a band reads until the band is done, and each expanded row is computed
 * once per group. Each band is projected straight into its rows of y (the first group
 * writes y, later groups add to it). A group of g channels fits when
 *
 *   R·W_e·g ≤ c·H_e·W_e   and   b·W_d·g ≤ c·H_d·W_d.
 *
 * With b = 1 this allows g up to about c·H_e/3 ≥ c: the early, large blocks run all their
 * expanded channels in one group (y written once, full-width GEMMs) even at one channel
 * per chunk, because a few rows of all channels are smaller than the whole image of one.
 * Fewer groups is always better (each extra group re-reads and re-writes y), so g is the
 * largest that fits (balanced across groups, rounded to the GEMM panel width 8 or the
 * depthwise SIMD width 4 when that still fits); then b is the largest that fits and keeps
 * the ring and band inside WORKING_SET_TARGET bytes (so they stay in the L2 cache).
 */
import { span, type BlockGeometry, type ChunkBuffers } from './geometry.js';

/**
 * Ring + band bytes the schedule aims to stay under: inside the per-core L2 of current x86 and
 * ARM cores (256 KiB to 2 MiB). Measured on MobileNetV2's blocks, bands from 1 row to this
 * size run within a few percent of each other; the whole 4.8 MB expanded tensor of block 1
 * (per-layer) is 5–10% slower.
 */
export const WORKING_SET_TARGET = 256 * 1024;

/** Bytes of a float32 element of E and D. */
export const FLOAT_ELEMENT_BYTES = 4;

export interface FloatSchedule {
  path: 'float';
  /** Expanded channels per group (the last group may have fewer). */
  groupChannels: number;
  groups: number;
  /** Expanded rows kept per group (= H_e: the whole expanded image). */
  ringRows: number;
  /** Depthwise output rows per band. */
  bandRows: number;
  /** Bytes of the expanded-chunk and depthwise-chunk buffers the kernel touches: R·W_e·g and b·W_d·g elements. */
  expandBytesUsed: number;
  depthwiseBytesUsed: number;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Expanded rows a band of b output rows reads (all of them when that exceeds H_e). */
export function ringRowsFor(g: Pick<BlockGeometry, 'He' | 'sh' | 'dh'>, bandRows: number): number {
  return Math.min(g.He, span(bandRows, g.sh, g.dh));
}

/** The float kernel's schedule of a block in chunk buffers `buffers` (bytes, float32 elements). */
export function floatSchedule(
  geom: BlockGeometry,
  buffers: ChunkBuffers,
  workingSetTarget = WORKING_SET_TARGET,
): FloatSchedule {
  const bytes = FLOAT_ELEMENT_BYTES;
  const { Cexp: C, We: we, Hd: hd, Wd: wd } = geom;
  // Capacities in elements.
  const eCap = Math.floor(buffers.expandBytes / bytes);
  const dCap = Math.floor(buffers.depthwiseBytes / bytes);
  const r1 = ringRowsFor(geom, 1);
  const gMax = Math.min(C, Math.floor(eCap / (r1 * we)), Math.floor(dCap / wd));
  if (!(gMax >= 1))
    throw new Error(
      `float block schedule: chunk buffers of ${buffers.expandBytes} and ${buffers.depthwiseBytes} bytes cannot hold ` +
        `${r1} expanded rows of ${we} and one depthwise row of ${wd} floats of one channel`,
    );
  const groups0 = Math.ceil(C / gMax);
  let g = Math.ceil(C / groups0);
  for (const m of [8, 4]) {
    if (roundUp(g, m) <= gMax) {
      g = Math.min(C, roundUp(g, m));
      break;
    }
  }
  const groups = Math.ceil(C / g);
  let band = 1;
  for (let b = 2; b <= hd; b++) {
    const r = ringRowsFor(geom, b);
    if (r * we * g > eCap || b * wd * g > dCap) break;
    if ((r * we + b * wd) * g * bytes > workingSetTarget) break;
    band = b;
  }
  const ring = ringRowsFor(geom, band);
  return {
    path: 'float',
    groupChannels: g,
    groups,
    ringRows: ring,
    bandRows: band,
    expandBytesUsed: ring * we * g * bytes,
    depthwiseBytesUsed: band * wd * g * bytes,
  };
}
