/**
 * Estimated time of a fused inverted residual block run with chunks of c channels.
 *
 * The executor runs a block as one call of the fused kernel (assembly/fused.ts), whose
 * schedule follows from the chunk size (block_schedule/float.ts): the expanded channels in G
 * groups of g, each group streaming a ring of expanded rows and bands of depthwise rows.
 * The model counts the work of that schedule, simulating the kernel's loops:
 *
 *   time = nsPerMultiplyAdd          · GEMM multiply-adds computed
 *        + nsPerDepthwiseMultiplyAdd · depthwise multiply-adds computed
 *        + nsPerCall                 · inner calls (a GEMM over a run of rows, a depthwise row)
 *        + nsPerAccumulatedByte      · (G − 1) · 2·|y|
 *
 * "Computed" counts padding the way the kernels do: GEMM output channels in panels of 8
 * (a group of 3 channels costs 8), GEMM rows in blocks of 4 (a 7-pixel row costs 8; tails
 * of 1–2 rows cost their rows), depthwise channels in SIMD groups of 4. The last term is the
 * read-modify-write of y by every group after the first. Chunk counts whose schedules are
 * the same cost the same: small chunks are cheap whenever a few rows of all expanded
 * channels fit in their buffers.
 *
 * DEFAULT_BLOCK_COST_MODEL was fitted by bench/block_cost_fit.ts (least squares on
 * relative error over every block of MobileNetV2 1.0/224 and 0.35/96 at ~12 chunk counts
 * each, the minimum of many interleaved runs per point); run it on another machine and
 * pass its constants as `PlanOptions.costModel`.
 */
import type { Conv2DOp, DepthwiseConv2DOp, Graph } from './ir.js';
import { tensorBytes } from './ir.js';
import { opMultiplyAdds } from './cost.js';
import type { InvertedResidualBlock } from './blocks.js';
import {
  blockGeometry,
  chunkBuffers,
  FLOAT_ELEMENT_BYTES,
  floatSchedule,
  WORKING_SET_TARGET,
  type FloatSchedule,
} from './block_schedule/index.js';

export interface BlockCostModel {
  /** ns per multiply-add of the expansion and projection GEMMs (and the stem conv), padding included. */
  nsPerMultiplyAdd: number;
  /** ns per depthwise multiply-add, channels padded to 4. */
  nsPerDepthwiseMultiplyAdd: number;
  /** ns per inner call: one GEMM over a run of rows, or one depthwise output row. */
  nsPerCall: number;
  /** ns per byte of y read and rewritten by each group after the first. */
  nsPerAccumulatedByte: number;
}

/**
 * Fitted by bench/block_cost_fit.ts on the project's benchmark machine (2 vCPUs, Intel Xeon
 * (Sapphire Rapids, KVM), Node 20; 419 block × chunk-count points, minimum of five runs):
 * median relative error 3.4%, 90th percentile 8%; 1142 of 1166 pairs of chunk counts of one
 * block whose times differ by more than 10% are ordered as measured (the rest are chunk
 * counts with the same schedule, whose differences are noise). GEMM multiply-adds at
 * 0.077 ns are ~26 GFLOP/s, the 4x8 WebAssembly SIMD micro-kernel's peak here.
 */
export const DEFAULT_BLOCK_COST_MODEL: Readonly<BlockCostModel> = Object.freeze({
  nsPerMultiplyAdd: 0.077,
  nsPerDepthwiseMultiplyAdd: 0.16,
  nsPerCall: 56,
  nsPerAccumulatedByte: 0.045,
});

/** Work of one block under the fused kernel's schedule (what the cost model weighs). */
export interface BlockWork {
  schedule: FloatSchedule;
  gemmMultiplyAdds: number;
  depthwiseMultiplyAdds: number;
  calls: number;
  accumulatedBytes: number;
}

export function blockMultiplyAdds(graph: Graph, b: InvertedResidualBlock): number {
  return (
    opMultiplyAdds(graph, graph.ops[b.expand]!) +
    opMultiplyAdds(graph, graph.ops[b.depthwise]!) +
    opMultiplyAdds(graph, graph.ops[b.project]!)
  );
}

const round = (n: number, m: number) => Math.ceil(n / m) * m;

/** Rows the 4-row GEMM computes for M rows: blocks of 4, a tail of 3 as a block, tails of 1–2 row by row. */
export function gemmRowsComputed(m: number): number {
  const tail = m % 4;
  return m - tail + (tail === 3 ? 4 : tail);
}

/** Simulates the fused kernel's loops (assembly/fused.ts) for a block with chunks of `chunkChannels`. */
export function fusedBlockWork(graph: Graph, b: InvertedResidualBlock, chunkChannels: number): BlockWork {
  const dw = graph.ops[b.depthwise] as DepthwiseConv2DOp;
  const expand = graph.ops[b.expand] as Conv2DOp;
  const cIn = graph.tensors[b.input]!.shape[3]!;
  const cOut = graph.tensors[b.output]!.shape[3]!;
  const kExp = expand.kernel[0] * expand.kernel[1] * cIn;
  const [he, we] = b.expandedSize;
  const [oh, ow] = b.depthwiseSize;
  const sh = dw.stride[0],
    dh = dw.dilation[0],
    padTop = dw.pad.top;
  if (!(Number.isInteger(chunkChannels) && chunkChannels >= 1 && chunkChannels <= b.expandedChannels))
    throw new Error(`fused block schedule: chunk channels ${chunkChannels} not in 1..${b.expandedChannels}`);
  const geom = blockGeometry(graph, b);
  // The float schedule of the block's own element size: its working set counted in those bytes.
  const schedule = floatSchedule(
    geom,
    chunkBuffers(geom, chunkChannels, FLOAT_ELEMENT_BYTES),
    (WORKING_SET_TARGET * FLOAT_ELEMENT_BYTES) / b.expandedElementBytes,
  );
  const key = `${schedule.groupChannels},${schedule.ringRows},${schedule.bandRows}`;
  let byKey = workCache.get(b);
  if (!byKey) workCache.set(b, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;
  const { groupChannels: g, groups, ringRows: ring, bandRows: band } = schedule;
  // Every full group does the same work; only the last may be narrower.
  const group = (gn: number) => {
    let gemm = 0,
      calls = 0,
      done = -1;
    for (let o0 = 0; o0 < oh; o0 += band) {
      const nb = Math.min(band, oh - o0);
      const top = Math.max(0, o0 * sh - padTop);
      const need = Math.min(he - 1, (o0 + nb - 1) * sh - padTop + 2 * dh);
      for (let r = Math.max(done + 1, top); r <= need;) {
        const n = Math.min(need - r + 1, ring - (r % ring));
        gemm += gemmRowsComputed(n * we) * kExp * round(gn, 8);
        calls++;
        r += n;
      }
      done = Math.max(done, need);
      calls += nb + 1;
      gemm += gemmRowsComputed(nb * ow) * gn * round(cOut, 8);
    }
    return { gemm, depthwise: oh * ow * 9 * round(gn, 4), calls };
  };
  const full = group(g);
  const lastChannels = b.expandedChannels - (groups - 1) * g;
  const last = lastChannels === g ? full : group(lastChannels);
  const work: BlockWork = {
    schedule,
    gemmMultiplyAdds: full.gemm * (groups - 1) + last.gemm,
    depthwiseMultiplyAdds: full.depthwise * (groups - 1) + last.depthwise,
    calls: full.calls * (groups - 1) + last.calls,
    accumulatedBytes: (groups - 1) * 2 * tensorBytes(graph.tensors[b.output]!),
  };
  byKey.set(key, work);
  return work;
}

/** Work by schedule, per block: many chunk sizes share a schedule, and planning asks for each. */
const workCache = new WeakMap<InvertedResidualBlock, Map<string, BlockWork>>();

export function workNs(w: BlockWork, model: BlockCostModel): number {
  return (
    w.gemmMultiplyAdds * model.nsPerMultiplyAdd +
    w.depthwiseMultiplyAdds * model.nsPerDepthwiseMultiplyAdd +
    w.calls * model.nsPerCall +
    w.accumulatedBytes * model.nsPerAccumulatedByte
  );
}

/** Estimated nanoseconds of the block run as `chunks` chunks (of ceil(C_exp / chunks) channels). */
export function estimateBlockNs(
  graph: Graph,
  b: InvertedResidualBlock,
  chunks: number,
  model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL,
): number {
  const c = Math.ceil(b.expandedChannels / Math.min(Math.max(1, chunks), b.expandedChannels));
  return workNs(fusedBlockWork(graph, b, c), model);
}
