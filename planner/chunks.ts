/**
 * Chunk counts per block (Section 5.1): the choices behind `chunks` =
 * 'none' | N | 'auto' and budget mode. With the order fixed, a block's chunk
 * count changes only the scratch of its own step, so each block can be chosen
 * alone: the cheapest count (block_cost.ts, estimated for the kernel of the block's own
 * numeric path) whose step stays under a limit.
 */
import { chunkScratchBytes, chunkChannelsFor, type InvertedResidualBlock } from './blocks.js';
import { estimateBlockNs, type BlockCostModel } from './block_cost.js';
import type { Graph } from './ir.js';
import type { UnitGraph } from './units.js';
import { unitScratchBytes } from './units.js';

export interface ChunkCandidate {
  chunkChannels: number;
  chunks: number;
  scratchBytes: number;
  estimatedNs: number;
}

/**
 * Distinct ways to chunk a block: for each chunk count k that some c achieves
 * (k = ceil(C/c)), the smallest such c. Sorted cheapest first; ties go to the
 * smaller scratch.
 */
export function chunkCandidates(graph: Graph, b: InvertedResidualBlock, model: BlockCostModel): ChunkCandidate[] {
  let byBlock = cache.get(model);
  if (!byBlock) cache.set(model, (byBlock = new WeakMap()));
  const hit = byBlock.get(b);
  if (hit) return hit;
  const list = computeCandidates(graph, b, model);
  byBlock.set(b, list);
  return list;
}

/** Candidates depend only on the block (its shapes) and the cost model; planning asks many times. */
const cache = new WeakMap<BlockCostModel, WeakMap<InvertedResidualBlock, ChunkCandidate[]>>();

function computeCandidates(graph: Graph, b: InvertedResidualBlock, model: BlockCostModel): ChunkCandidate[] {
  const C = b.expandedChannels;
  const byChunks = new Map<number, number>();
  for (let c = C; c >= 1; c--) byChunks.set(Math.ceil(C / c), c); // descending c: the last write per k is the smallest c
  const out: ChunkCandidate[] = [];
  for (const [chunks, c] of byChunks) {
    const s = chunkScratchBytes(b, c);
    out.push({
      chunkChannels: c,
      chunks,
      scratchBytes: s.expand + s.depthwise,
      estimatedNs: estimateBlockNs(graph, b, chunks, model),
    });
  }
  return out.sort((x, y) => x.estimatedNs - y.estimatedNs || x.scratchBytes - y.scratchBytes);
}

/** t = min(N, C_exp) chunks in every block. */
export function fixedChunkChannels(blocks: readonly InvertedResidualBlock[], t: number): number[] {
  return blocks.map((b) => chunkChannelsFor(b, t));
}

/** One channel per chunk everywhere: the smallest scratch, hence the smallest peak for any order. */
export function minimalChunkChannels(blocks: readonly InvertedResidualBlock[]): number[] {
  return blocks.map(() => 1);
}

/**
 * For a fixed order whose live bytes per step are `stepBytes` under chunk
 * channels `current`, the cheapest chunk channels of every block keeping each
 * block's step at or under `limit`; undefined when some block cannot.
 */
export function cheapestUnderLimit(
  ug: UnitGraph,
  order: readonly number[],
  stepBytes: readonly number[],
  current: readonly number[],
  limit: number,
  model: BlockCostModel,
): number[] | undefined {
  const scratch = unitScratchBytes(ug, current);
  const out = current.slice();
  for (let i = 0; i < order.length; i++) {
    const unit = ug.units[order[i]!]!;
    if (unit.kind !== 'block') continue;
    const base = stepBytes[i]! - scratch[order[i]!]!;
    const pick = chunkCandidates(ug.graph, ug.blocks[unit.block]!, model).find((c) => base + c.scratchBytes <= limit);
    if (!pick) return undefined;
    out[unit.block] = pick.chunkChannels;
  }
  return out;
}

/** Estimated nanoseconds of all blocks with these chunk channels. */
export function blocksEstimatedNs(ug: UnitGraph, chunkChannels: readonly number[], model: BlockCostModel): number {
  return ug.blocks.reduce(
    (s, b, i) => s + estimateBlockNs(ug.graph, b, Math.ceil(b.expandedChannels / chunkChannels[i]!), model),
    0,
  );
}
