/**
 * What both block schedules know about a Section 5.1 block: the shapes of its expanded
 * tensor E, depthwise output D and output y, the depthwise 3x3's stride, dilation and
 * padding, and the two chunk buffers the plan gave it. Also the window arithmetic both
 * schedules rest on: which rows (or columns) of E the taps of a run of output rows read.
 *
 *   x ─ expand ─ E (H_e × W_e × C_exp) ─ depthwise 3x3 ─ D (H_d × W_d × C_exp) ─ project ─ y (H_d × W_d × C_out)
 *
 * Output rows [o0, o1) of the depthwise read the rows of E from o0·s − p to
 * (o1 − 1)·s − p + 2·d (stride s, dilation d, top padding p): a window of
 * span(o1 − o0) = (o1 − o0 − 1)·s + 2·d + 1 rows, fewer where it crosses the border
 * (padding rows are not stored). Columns likewise. Two neighbouring runs of output rows
 * share span(1) − s = 2·d + 1 − s rows of E: the halo, which the float schedule keeps in
 * its ring and the integer schedule recomputes.
 */
import type { Conv2DOp, DepthwiseConv2DOp, Graph } from '../ir.js';

export interface BlockGeometry {
  /** The expanded tensor E (the depthwise input): H_e × W_e × C_exp. */
  He: number;
  We: number;
  Cexp: number;
  /** The depthwise output D: H_d × W_d × C_exp; the block output y has C_out channels. */
  Hd: number;
  Wd: number;
  Cout: number;
  /** Depthwise stride, dilation and top/left padding, vertical then horizontal. */
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  /** Multiply-adds per expanded value: C_in for a 1x1 expansion, 9·C_in for the 3x3/2 stem conv. */
  expandK: number;
  /** The expansion is the network's 3x3/2 stem conv (a direct convolution), not a 1x1 GEMM. */
  stem: boolean;
}

/**
 * The plan's scratch for one block: the expanded-chunk buffer E and the depthwise-chunk
 * buffer D, in bytes. A plan with chunks of c channels gives c·H_e·W_e and c·H_d·W_d
 * elements (chunkBuffers); a schedule may use them any way that fits.
 */
export interface ChunkBuffers {
  expandBytes: number;
  depthwiseBytes: number;
  /**
   * Bytes of E and D to stay within when some schedule fits there (soft limits below the
   * hard ones): the integer schedule tries them first and falls back to the whole buffers.
   * Lowering sets them from the float schedule's high-water (high_water.ts). The float
   * schedule ignores them: its footprint is what sets that line.
   */
  preferred?: { expandBytes: number; depthwiseBytes: number };
}

/** The chunk buffers of c channels per chunk with elements of `elementBytes` (4: float32, 1: int8). */
export function chunkBuffers(geom: BlockGeometry, chunkChannels: number, elementBytes: number): ChunkBuffers {
  return {
    expandBytes: chunkChannels * geom.He * geom.We * elementBytes,
    depthwiseBytes: chunkChannels * geom.Hd * geom.Wd * elementBytes,
  };
}

/** Rows of E a window of n consecutive output rows spans before clipping: (n − 1)·s + 2·d + 1. */
export function span(n: number, stride: number, dilation: number): number {
  return (n - 1) * stride + 2 * dilation + 1;
}

/** [first, end) of the rows (or columns) of E that the taps of outputs [o0, o1) read, clipped to [0, size). */
export function window(
  o0: number,
  o1: number,
  stride: number,
  dilation: number,
  pad: number,
  size: number,
): [number, number] {
  const first = Math.max(0, o0 * stride - pad);
  const end = Math.min(size, (o1 - 1) * stride - pad + 2 * dilation + 1);
  return [first, Math.max(first, end)];
}

/** Number of rows (or columns) in window(...). */
export function reach(o0: number, o1: number, stride: number, dilation: number, pad: number, size: number): number {
  const [a, b] = window(o0, o1, stride, dilation, pad, size);
  return b - a;
}

/** Rows of E that output rows [r0, r1) read. */
export const rowWindow = (g: BlockGeometry, r0: number, r1: number): [number, number] =>
  window(r0, r1, g.sh, g.dh, g.pt, g.He);

/** Columns of E that output columns [q0, q1) read. */
export const colWindow = (g: BlockGeometry, q0: number, q1: number): [number, number] =>
  window(q0, q1, g.sw, g.dw, g.pl, g.We);

/** Pixels of E (rows × columns) that the output tile [r0, r1) × [q0, q1) reads. */
export function windowPixels(g: BlockGeometry, r0: number, r1: number, q0: number, q1: number): number {
  return reach(r0, r1, g.sh, g.dh, g.pt, g.He) * reach(q0, q1, g.sw, g.dw, g.pl, g.We);
}

/** Op ids of a block: a plan's BlockStep and a detected InvertedResidualBlock both have them. */
export interface BlockOpIds {
  expand: number;
  depthwise: number;
  project: number;
  /** The residual ADD, or -1. */
  add: number;
}

/** The geometry of a block of `graph` (shapes from its tensors, NHWC). */
export function blockGeometry(graph: Graph, ids: BlockOpIds): BlockGeometry {
  const expand = graph.ops[ids.expand] as Conv2DOp;
  const dw = graph.ops[ids.depthwise] as DepthwiseConv2DOp;
  const project = graph.ops[ids.project]!;
  const yId = ids.add >= 0 ? graph.ops[ids.add]!.outputs[0]! : project.outputs[0]!;
  const x = graph.tensors[expand.inputs[0]!]!.shape;
  const e = graph.tensors[dw.inputs[0]!]!.shape;
  const d = graph.tensors[dw.outputs[0]!]!.shape;
  const y = graph.tensors[yId]!.shape;
  return {
    He: e[1]!,
    We: e[2]!,
    Cexp: e[3]!,
    Hd: d[1]!,
    Wd: d[2]!,
    Cout: y[3]!,
    sh: dw.stride[0],
    sw: dw.stride[1],
    dh: dw.dilation[0],
    dw: dw.dilation[1],
    pt: dw.pad.top,
    pl: dw.pad.left,
    expandK: expand.kernel[0] * expand.kernel[1] * x[3]!,
    stem: expand.kernel[0] !== 1 || expand.kernel[1] !== 1,
  };
}
