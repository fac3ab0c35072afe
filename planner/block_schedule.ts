/**
 * How the fused block kernel (assembly/fused.ts) runs a Section 5.1 block inside the
 * plan's two chunk buffers. Shared by the executor (which passes the schedule to the
 * kernel and packs weights per group) and the cost model (block_cost.ts), so the planner
 * estimates the schedule that really runs.
 *
 * The plan gives a block with chunks of c channels two scratch buffers: c·H_e·W_e
 * elements for the expanded chunk and c·H_d·W_d for the depthwise chunk. The kernel does
 * not have to use them as c-channel images. It runs the expanded channels in groups of g
 * and, within a group, keeps only a ring of R expanded rows (g channels each) and a band
 * of b depthwise output rows; a band of b rows needs R = (b − 1)·s + 2·d + 1 expanded rows
 * (stride s, dilation d, vertically). So a group of g channels fits when
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
import type { DepthwiseConv2DOp, Graph } from './ir.js';
import type { BlockStep } from './plan.js';

/**
 * Ring + band bytes the schedule aims to stay under: inside the per-core L2 of current x86 and
 * ARM cores (256 KiB to 2 MiB). Measured on MobileNetV2's blocks, bands from 1 row to this
 * size run within a few percent of each other; the whole 4.8 MB expanded tensor of block 1
 * (per-layer) is 5–10% slower.
 */
export const WORKING_SET_TARGET = 256 * 1024;

export interface FusedBlockGeometry {
  /** C_exp, and the expanded tensor's [H_e, W_e] (the depthwise input). */
  expandedChannels: number;
  expandedSize: readonly [number, number];
  /** The depthwise output's [H_d, W_d]. */
  depthwiseSize: readonly [number, number];
  /** Vertical stride and dilation of the depthwise 3x3. */
  strideH: number;
  dilationH: number;
  /** Bytes per element of the scratch (4 for f32). */
  elementBytes: number;
}

export interface FusedSchedule {
  /** Expanded channels per group (the last group may have fewer). */
  groupChannels: number;
  groups: number;
  /** Expanded rows kept per group (≥ H_e: the whole expanded image). */
  ringRows: number;
  /** Depthwise output rows per band. */
  bandRows: number;
  /** Bytes of the expanded-chunk and depthwise-chunk buffers the kernel touches. */
  expandBytesUsed: number;
  depthwiseBytesUsed: number;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Expanded rows a band of b output rows reads (all of them when that exceeds H_e). */
export function ringRowsFor(
  g: Pick<FusedBlockGeometry, 'expandedSize' | 'strideH' | 'dilationH'>,
  bandRows: number,
): number {
  return Math.min(g.expandedSize[0], (bandRows - 1) * g.strideH + 2 * g.dilationH + 1);
}

/** The kernel's schedule for a block given chunks of `chunkChannels` channels (the plan's scratch sizes). */
export function fusedBlockSchedule(
  geom: FusedBlockGeometry,
  chunkChannels: number,
  workingSetTarget = WORKING_SET_TARGET,
): FusedSchedule {
  const C = geom.expandedChannels;
  const [he, we] = geom.expandedSize;
  const [hd, wd] = geom.depthwiseSize;
  if (!(Number.isInteger(chunkChannels) && chunkChannels >= 1 && chunkChannels <= C)) {
    throw new Error(`fused block schedule: chunk channels ${chunkChannels} not in 1..${C}`);
  }
  // Capacities in elements.
  const eCap = chunkChannels * he * we;
  const dCap = chunkChannels * hd * wd;
  const r1 = ringRowsFor(geom, 1);
  const gMax = Math.min(C, Math.floor(eCap / (r1 * we)), Math.floor(dCap / wd));
  const groups0 = Math.ceil(C / gMax);
  let g = Math.ceil(C / groups0);
  for (const m of [8, 4]) {
    if (roundUp(g, m) <= gMax) {
      g = Math.min(C, roundUp(g, m));
      break;
    }
  }
  const groups = Math.ceil(C / g);
  const bytes = geom.elementBytes;
  let band = 1;
  for (let b = 2; b <= hd; b++) {
    const r = ringRowsFor(geom, b);
    if (r * we * g > eCap || b * wd * g > dCap) break;
    if ((r * we + b * wd) * g * bytes > workingSetTarget) break;
    band = b;
  }
  const ring = ringRowsFor(geom, band);
  return {
    groupChannels: g,
    groups,
    ringRows: ring,
    bandRows: band,
    expandBytesUsed: ring * we * g * bytes,
    depthwiseBytesUsed: band * wd * g * bytes,
  };
}

/** The float kernel's schedule of a plan's block step (E and D shapes and the depthwise stride read from the graph). */
export function blockStepSchedule(graph: Graph, step: BlockStep): FusedSchedule {
  const dw = graph.ops[step.depthwise] as DepthwiseConv2DOp;
  const e = graph.tensors[dw.inputs[0]!]!.shape;
  const d = graph.tensors[dw.outputs[0]!]!.shape;
  return fusedBlockSchedule(
    {
      expandedChannels: e[3]!,
      expandedSize: [e[1]!, e[2]!],
      depthwiseSize: [d[1]!, d[2]!],
      strideH: dw.stride[0],
      dilationH: dw.dilation[0],
      elementBytes: 4,
    },
    step.chunkChannels,
  );
}
