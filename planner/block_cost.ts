/**
 * Estimated time of a fused inverted residual block run with chunks of c channels, on
 * either numeric path.
 *
 * The executor runs a block as one call of the path's fused kernel, whose schedule follows
 * from the chunk size (block_schedule/): the float kernel (assembly/fused.ts) runs the
 * expanded channels in G groups of g, each streaming a ring of expanded rows and bands of
 * depthwise rows; the integer kernel (assembly/q8_block.ts) runs tiles of output rows ×
 * columns × channels, each in groups of inner channels, expanding its whole window of E
 * (halo rows recomputed per tile) and summing the projection in an int32 accumulator. The
 * model counts the work of that schedule, simulating the kernel's loops, with the same
 * counts on both paths and one set of constants per path:
 *
 *   time = nsPerMultiplyAdd          · 1x1 GEMM multiply-adds computed (expansion, projection)
 *        + nsPerConvMultiplyAdd      · multiply-adds of the 3x3/2 stem conv (a direct convolution)
 *        + nsPerDepthwiseMultiplyAdd · depthwise multiply-adds computed
 *        + nsPerCall                 · inner calls (a GEMM over a run of rows, a depthwise row, …)
 *        + nsPerAccumulatedByte      · bytes of partial sums re-read and re-written
 *        + nsPerRequantizedValue     · values requantized to 8 bits (integer path only)
 *
 * "Computed" counts padding the way the kernels do: GEMM output channels in panels of 8,
 * GEMM rows in blocks of 4 (tails of 1–2 rows cost their rows); float depthwise channels in
 * SIMD groups of 4, integer depthwise channels in groups of 16 (fewer than 16 cost 16);
 * the integer GEMMs' inputs in pairs. Integer expansions count every tile's whole window,
 * halo rows and columns included. Partial sums are, on the float path, y read and rewritten
 * by every group after the first ((G − 1)·2·|y|); on the integer path, a tile's int32
 * accumulator written by its first group, read and rewritten by the others, and read by the
 * requantization (2·4·pixels·channels per group). The integer kernels also requantize every
 * value they produce (each expanded value of every tile's window, each depthwise value, each
 * output), a fixed-point multiply, shift and clamp per value that costs about ten GEMM
 * multiply-adds (as fitted): it is what makes small expansions (16 or 24 input channels)
 * slower per multiply-add. Chunk counts whose schedules are the same cost the same.
 *
 * DEFAULT_BLOCK_COST_MODEL was fitted by bench/block_cost_fit.ts (least squares on relative
 * error, the minimum of many interleaved runs per point); run it on another machine and pass
 * its constants as `PlanOptions.costModel`.
 */
import type { Graph } from './ir.js';
import { opMultiplyAdds } from './cost.js';
import type { InvertedResidualBlock } from './blocks.js';
import {
  ACC_NONE,
  blockGeometry,
  colWindow,
  pathForElementBytes,
  rowWindow,
  scheduleForChunks,
  TilingError,
  type BlockGeometry,
  type BlockSchedule,
  type FloatSchedule,
  type IntegerSchedule,
  type NumericPath,
} from './block_schedule/index.js';

/** Constants of one kernel, in ns per unit of each count of BlockWork. */
export interface KernelCostModel {
  /** ns per multiply-add of the 1x1 expansion and projection GEMMs, padding included. */
  nsPerMultiplyAdd: number;
  /** ns per multiply-add of the 3x3/2 stem conv (the first block's expansion), padding included. */
  nsPerConvMultiplyAdd: number;
  /** ns per depthwise multiply-add, channels padded to the kernel's SIMD width. */
  nsPerDepthwiseMultiplyAdd: number;
  /** ns per inner call: one GEMM over a run of rows, one depthwise output row, one requantization. */
  nsPerCall: number;
  /** ns per byte of partial sums re-read and re-written (y on the float path, int32 accumulators on the integer). */
  nsPerAccumulatedByte: number;
  /** ns per value requantized to 8 bits (0 on the float path, which has no requantization). */
  nsPerRequantizedValue: number;
}

/** One kernel cost model per numeric path: a block is estimated with its own path's constants. */
export interface BlockCostModel {
  float: KernelCostModel;
  integer: KernelCostModel;
}

/**
 * float: fitted by bench/block_cost_fit.ts on the project's benchmark machine (2 vCPUs, Intel
 * Xeon (Sapphire Rapids, KVM), Node 20; 419 block × chunk-count points of MobileNetV2 1.0/224
 * and 0.35/96, minimum of five runs): median relative error 3.4%, 90th percentile 8%; 1142 of
 * 1166 pairs of chunk counts of one block whose times differ by more than 10% are ordered as
 * measured (the rest are chunk counts with the same schedule, whose differences are noise).
 * GEMM multiply-adds at 0.077 ns are ~26 GFLOP/s, the 4x8 WebAssembly SIMD micro-kernel's
 * peak here. The stem conv is fitted with the GEMMs (one constant); the float kernels
 * requantize nothing.
 *
 * integer: fitted by bench/block_cost_fit.ts --path integer on the same machine (216 block ×
 * chunk-count points: every block of the quantized MobileNetV2 1.0/224 file at 13 chunk
 * counts, each the minimum of 220 whole-network runs in three series, chunk counts interleaved):
 * median relative error 2.2%, 90th percentile 5%; all 965 pairs of chunk counts of one block
 * whose times differ by more than 10% are ordered as measured. The points' work is counted from
 * the tiles lowering chose (float high-water included); estimated as planning does, from the
 * whole chunk buffers, 964 of 965 and a median error of 2.3%. GEMM multiply-adds at 0.032 ns
 * are ~31 G/s (the int8 "c2s4" micro-kernel); the stem's direct conv runs at half that rate.
 * The float model on the same points errs by 56% (median) though it orders 959 of the 965
 * pairs: the float schedule's work follows the integer kernel's only within a block, and it
 * sees no gain in larger chunks where the integer kernel recomputes fewer halo rows.
 */
export const DEFAULT_BLOCK_COST_MODEL: Readonly<BlockCostModel> = Object.freeze({
  float: Object.freeze({
    nsPerMultiplyAdd: 0.077,
    nsPerConvMultiplyAdd: 0.077,
    nsPerDepthwiseMultiplyAdd: 0.16,
    nsPerCall: 56,
    nsPerAccumulatedByte: 0.045,
    nsPerRequantizedValue: 0,
  }),
  integer: Object.freeze({
    nsPerMultiplyAdd: 0.032,
    nsPerConvMultiplyAdd: 0.069,
    nsPerDepthwiseMultiplyAdd: 0.062,
    nsPerCall: 36,
    nsPerAccumulatedByte: 0.02,
    nsPerRequantizedValue: 0.32,
  }),
});

/** Work of one block under its path's schedule (what the cost model weighs). */
export interface BlockWork {
  schedule: BlockSchedule;
  gemmMultiplyAdds: number;
  convMultiplyAdds: number;
  depthwiseMultiplyAdds: number;
  calls: number;
  accumulatedBytes: number;
  requantizedValues: number;
}

export function blockMultiplyAdds(graph: Graph, b: InvertedResidualBlock): number {
  return (
    opMultiplyAdds(graph, graph.ops[b.expand]!) +
    opMultiplyAdds(graph, graph.ops[b.depthwise]!) +
    opMultiplyAdds(graph, graph.ops[b.project]!)
  );
}

const round = (n: number, m: number) => Math.ceil(n / m) * m;

/** Rows the 4-row GEMMs compute for M rows: blocks of 4, a tail of 3 as a block, tails of 1–2 row by row. */
export function gemmRowsComputed(m: number): number {
  const tail = m % 4;
  return m - tail + (tail === 3 ? 4 : tail);
}

/** The path a detected block runs on: its expanded tensor's element size (1 byte: the integer kernel). */
export function blockPath(b: InvertedResidualBlock): NumericPath {
  return pathForElementBytes(b.expandedElementBytes);
}

/** Simulates the float kernel's loops (assembly/fused.ts) for schedule `s`. */
export function floatBlockWork(geom: BlockGeometry, s: FloatSchedule): BlockWork {
  const { He: he, We: we, Hd: oh, Wd: ow, sh, dh, pt: padTop, expandK: kExp, Cout: cOut, stem } = geom;
  const { groupChannels: g, groups, ringRows: ring, bandRows: band } = s;
  // Every full group does the same work; only the last may be narrower.
  const group = (gn: number) => {
    let gemm = 0,
      conv = 0,
      calls = 0,
      done = -1;
    for (let o0 = 0; o0 < oh; o0 += band) {
      const nb = Math.min(band, oh - o0);
      const top = Math.max(0, o0 * sh - padTop);
      const need = Math.min(he - 1, (o0 + nb - 1) * sh - padTop + 2 * dh);
      for (let r = Math.max(done + 1, top); r <= need;) {
        const n = Math.min(need - r + 1, ring - (r % ring));
        const macs = gemmRowsComputed(n * we) * kExp * round(gn, 8);
        if (stem) conv += macs;
        else gemm += macs;
        calls++;
        r += n;
      }
      done = Math.max(done, need);
      calls += nb + 1;
      gemm += gemmRowsComputed(nb * ow) * gn * round(cOut, 8);
    }
    return { gemm, conv, depthwise: oh * ow * 9 * round(gn, 4), calls };
  };
  const full = group(g);
  const lastChannels = geom.Cexp - (groups - 1) * g;
  const last = lastChannels === g ? full : group(lastChannels);
  return {
    schedule: s,
    gemmMultiplyAdds: full.gemm * (groups - 1) + last.gemm,
    convMultiplyAdds: full.conv * (groups - 1) + last.conv,
    depthwiseMultiplyAdds: full.depthwise * (groups - 1) + last.depthwise,
    calls: full.calls * (groups - 1) + last.calls,
    accumulatedBytes: (groups - 1) * 2 * oh * ow * cOut * 4,
    requantizedValues: 0,
  };
}

/** Depthwise channels the integer kernel computes for C channels: groups of 16 (fewer than 16 as 16). */
const q8DepthwiseChannels = (c: number) => round(Math.max(c, 16), 16);

/** Simulates the integer kernel's loops (assembly/q8_block.ts) for schedule `s`. */
export function integerBlockWork(geom: BlockGeometry, s: IntegerSchedule): BlockWork {
  const { Cexp, Wd, We, expandK: K, stem } = geom;
  const u = s.unit;
  let gemm = 0,
    conv = 0,
    depthwise = 0,
    calls = 0,
    accumulated = 0,
    requantized = 0;
  let prevEnd = -1;
  for (const t of s.tiles) {
    const R = t.r1 - t.r0,
      Wt = t.q1 - t.q0,
      M = R * Wt,
      N = t.n1 - t.n0;
    const [er0, er1] = rowWindow(geom, t.r0, t.r1);
    const [ec0, ec1] = s.rolling ? [0, We] : colWindow(geom, t.q0, t.q1);
    // A rolling window expands only the rows below the previous band's and copies the shared ones.
    const kept = s.rolling ? Math.max(0, Math.min(er1, prevEnd) - er0) : 0;
    accumulated += kept * We * Cexp;
    if (s.rolling) prevEnd = er1;
    const rows = er1 - er0 - kept,
      cols = ec1 - ec0;
    const fullWidth = ec0 === 0 && ec1 === We;
    const direct = t.acc === ACC_NONE;
    // Requantization, once per tile: straight into y from the projection, or from the accumulator.
    const outRows = Wt === Wd ? 1 : R;
    requantized += M * round(N, 8);
    if (!direct) calls += outRows;
    for (let g0 = 0; g0 < Cexp; g0 += t.G) {
      const gc = Math.min(t.G, Cexp - g0);
      // Expansion of the whole window (halo included): one call per group (unit 8) or per
      // channel (unit 1) of n output channels in panels of 8; a 1x1 GEMM runs over the whole
      // window when it spans every column, else one per row; the stem conv goes row by row.
      const expandCalls = u === 8 ? 1 : gc;
      const n = round(u === 8 ? gc : 1, 8);
      if (stem) {
        conv += expandCalls * rows * cols * K * n;
        calls += expandCalls * rows;
      } else if (fullWidth) {
        gemm += expandCalls * gemmRowsComputed(rows * We) * K * n;
        calls += expandCalls;
      } else {
        gemm += expandCalls * rows * gemmRowsComputed(cols) * K * n;
        calls += expandCalls * rows;
      }
      requantized += expandCalls * rows * cols * n;
      // Depthwise of the tile's pixels: one output row at a time.
      depthwise += M * 9 * q8DepthwiseChannels(gc);
      requantized += M * q8DepthwiseChannels(gc);
      calls += R;
      // Projection of the group's channels (inputs in pairs, outputs in panels of 8): straight
      // into y (one GEMM, or one per row of a narrow tile), or added to the accumulator (one
      // GEMM, or one per channel with unit 1; the scalar path of a channel range that does not
      // start on a panel does one product where the GEMM does 8).
      if (direct) {
        gemm += outRows * gemmRowsComputed(M / outRows) * round(gc, 2) * round(N, 8);
        calls += outRows;
      } else {
        if (t.n0 % 8) {
          gemm += M * N * gc * 8;
          calls += 1;
        } else {
          const projCalls = u === 8 ? 1 : gc;
          gemm += projCalls * gemmRowsComputed(M) * round(u === 8 ? gc : 1, 2) * round(N, 8);
          calls += projCalls;
        }
        accumulated += 2 * 4 * M * N;
      }
    }
  }
  return {
    schedule: s,
    gemmMultiplyAdds: gemm,
    convMultiplyAdds: conv,
    depthwiseMultiplyAdds: depthwise,
    calls,
    accumulatedBytes: accumulated,
    requantizedValues: requantized,
  };
}

/** The work of schedule `s` of a block with geometry `geom`, on the schedule's path. */
export function blockWork(geom: BlockGeometry, s: BlockSchedule): BlockWork {
  return s.path === 'float' ? floatBlockWork(geom, s) : integerBlockWork(geom, s);
}

/** Work that cannot run: the integer schedule does not fit the buffers (the estimate is Infinity). */
const UNSCHEDULABLE: Omit<BlockWork, 'schedule'> = {
  gemmMultiplyAdds: Infinity,
  convMultiplyAdds: Infinity,
  depthwiseMultiplyAdds: Infinity,
  calls: Infinity,
  accumulatedBytes: Infinity,
  requantizedValues: Infinity,
};

/**
 * The work of a detected block with chunks of `chunkChannels`, on `path` (by default the
 * block's own: blockPath), in the buffers a plan gives that chunk size.
 */
export function blockWorkForChunks(
  graph: Graph,
  b: InvertedResidualBlock,
  chunkChannels: number,
  path: NumericPath = blockPath(b),
): BlockWork {
  const C = b.expandedChannels;
  if (!(Number.isInteger(chunkChannels) && chunkChannels >= 1 && chunkChannels <= C))
    throw new Error(`block ${b.name}: chunk channels ${chunkChannels} not in 1..${C}`);
  let byKey = workCache.get(b);
  if (!byKey) workCache.set(b, (byKey = new Map()));
  const key = `${path}:${chunkChannels}`;
  const hit = byKey.get(key);
  if (hit) return hit;
  const geom = blockGeometry(graph, b);
  let work: BlockWork;
  try {
    work = blockWork(geom, scheduleForChunks(geom, path, chunkChannels));
  } catch (e) {
    if (!(e instanceof TilingError)) throw e;
    work = { schedule: { path: 'integer', unit: 1, tiles: [] }, ...UNSCHEDULABLE };
  }
  byKey.set(key, work);
  return work;
}

/** Work by path and chunk size, per block: planning asks for each candidate many times. */
const workCache = new WeakMap<InvertedResidualBlock, Map<string, BlockWork>>();

export function workNs(w: BlockWork, model: KernelCostModel): number {
  return (
    w.gemmMultiplyAdds * model.nsPerMultiplyAdd +
    w.convMultiplyAdds * model.nsPerConvMultiplyAdd +
    w.depthwiseMultiplyAdds * model.nsPerDepthwiseMultiplyAdd +
    w.calls * model.nsPerCall +
    w.accumulatedBytes * model.nsPerAccumulatedByte +
    // 0 · Infinity is NaN: the float path requantizes nothing.
    (w.requantizedValues ? w.requantizedValues * model.nsPerRequantizedValue : 0)
  );
}

/**
 * Estimated nanoseconds of the block run as `chunks` chunks (of ceil(C_exp / chunks)
 * channels) on `path` (by default the block's own), with that path's constants.
 */
export function estimateBlockNs(
  graph: Graph,
  b: InvertedResidualBlock,
  chunks: number,
  model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL,
  path: NumericPath = blockPath(b),
): number {
  const c = Math.ceil(b.expandedChannels / Math.min(Math.max(1, chunks), b.expandedChannels));
  return workNs(blockWorkForChunks(graph, b, c, path), model[path]);
}
