/**
 * 'exact': branch and bound over placement orders under first fit. Some order
 * reaches the optimal arena (first_fit.ts), so a completed search is optimal.
 * The incumbent starts from hill-climb; a branch stops when its arena so far
 * reaches the incumbent; the search stops at the lower bound. Two buffers not
 * live at the same time are placed in index order only (swapping them cannot
 * change either offset). Beyond `maxNodes` search nodes it returns the best
 * found and says so. Meant for small graphs (tens of buffers).
 */
import { FirstFit } from './first_fit.js';
import { hillClimb } from './hill_climb.js';
import { liveLowerBound, type PlacementAlgorithm } from './types.js';

export const exactPlacement: PlacementAlgorithm = (items, options) => {
  const start = hillClimb(items, options);
  const lb = liveLowerBound(items);
  let best = start.arenaBytes;
  let bestOffsets = start.offsets;
  if (best === lb) return { offsets: bestOffsets, arenaBytes: best, algorithm: 'exact', optimal: true };
  const ff = new FirstFit(items, options.alignment);
  const n = items.length;
  const offsets = new Array<number>(n).fill(0);
  const placed = new Uint8Array(n);
  let nodes = 0;
  let complete = true;
  const dfs = (depth: number, last: number, arena: number): void => {
    if (depth === n) {
      if (arena < best) {
        best = arena;
        bestOffsets = offsets.slice();
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      if (placed[i]) continue;
      if (last >= 0 && i < last && !ff.conflict(i, last)) continue;
      if (++nodes > options.maxNodes) {
        complete = false;
        return;
      }
      const o = ff.lowest(i, offsets, placed);
      const top = Math.max(arena, o + items[i]!.bytes);
      if (top >= best) continue;
      offsets[i] = o;
      placed[i] = 1;
      dfs(depth + 1, i, top);
      placed[i] = 0;
      if (!complete || best === lb) return;
    }
  };
  dfs(0, -1, 0);
  const optimal = complete || best === lb;
  return {
    offsets: bestOffsets,
    arenaBytes: best,
    algorithm: optimal ? 'exact' : 'exact (node limit; best found)',
    optimal,
  };
};
