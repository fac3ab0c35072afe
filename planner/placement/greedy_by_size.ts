/**
 * 'greedy-by-size', as TFLite Micro's GreedyMemoryPlanner: largest buffer
 * first, each at the first gap among the buffers live at the same time. Ties:
 * earlier first step, then buffer index. Fast; not guaranteed minimal.
 */
import { FirstFit } from './first_fit.js';
import { liveLowerBound, type PlacementAlgorithm } from './types.js';

export function bySizeOrder(ff: FirstFit): number[] {
  return ff.items
    .map((_, i) => i)
    .sort((a, b) => ff.size[b]! - ff.size[a]! || ff.items[a]!.firstStep - ff.items[b]!.firstStep || a - b);
}

export const greedyBySize: PlacementAlgorithm = (items, options) => {
  const ff = new FirstFit(items, options.alignment);
  const { offsets, arena } = ff.place(bySizeOrder(ff));
  return { offsets, arenaBytes: arena, algorithm: 'greedy-by-size', optimal: arena === liveLowerBound(items) };
};
