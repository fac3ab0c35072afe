/**
 * Estimated time of a fused inverted residual block run in t chunks.
 *
 * Chunking does not change the arithmetic: every expanded channel is still
 * computed once, so the multiply-adds are those of the unfused block. What
 * grows with the chunk count is per-chunk work outside the arithmetic: kernel
 * calls and loop set-up, and the projection's read-modify-write of y (the first
 * chunk writes y, every later chunk reads and rewrites it).
 *
 *   time(t) = MAdds · nsPerMultiplyAdd + t · nsPerChunk + (t − 1) · 2·|y| · nsPerAccumulatedByte
 *
 * The constants are placeholders until calibrated from the executor's
 * benchmark over t ∈ {1, 2, 4, 6, 8, 16} (issue 4); pass your own model to
 * planGraph's callers through `PlanOptions.costModel`.
 */
import type { Graph } from './ir.js';
import { tensorBytes } from './ir.js';
import { opMultiplyAdds } from './cost.js';
import type { InvertedResidualBlock } from './blocks.js';

export interface BlockCostModel {
  nsPerMultiplyAdd: number;
  nsPerChunk: number;
  nsPerAccumulatedByte: number;
}

/** ~10 GMAC/s of WASM SIMD f32, ~2 µs per chunk, ~20 GB/s for the y read-modify-write. */
export const DEFAULT_BLOCK_COST_MODEL: Readonly<BlockCostModel> = Object.freeze({
  nsPerMultiplyAdd: 0.1,
  nsPerChunk: 2000,
  nsPerAccumulatedByte: 0.05,
});

export function blockMultiplyAdds(graph: Graph, b: InvertedResidualBlock): number {
  return opMultiplyAdds(graph, graph.ops[b.expand]!) + opMultiplyAdds(graph, graph.ops[b.depthwise]!) + opMultiplyAdds(graph, graph.ops[b.project]!);
}

/** Estimated nanoseconds of the block run as `chunks` chunks. */
export function estimateBlockNs(graph: Graph, b: InvertedResidualBlock, chunks: number, model: BlockCostModel = DEFAULT_BLOCK_COST_MODEL): number {
  const y = tensorBytes(graph.tensors[b.output]!);
  return blockMultiplyAdds(graph, b) * model.nsPerMultiplyAdd + chunks * model.nsPerChunk + (chunks - 1) * 2 * y * model.nsPerAccumulatedByte;
}
