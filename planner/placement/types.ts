/**
 * Arena placement: one interface, several algorithms (placement/index.ts holds
 * the name-keyed table). Given buffers with byte sizes and lifetimes (steps,
 * inclusive), choose offsets so that buffers live at the same step never share
 * a byte, and the arena (largest offset + size) is small. Finding the smallest
 * arena is NP-complete (dynamic storage allocation); the lower bound is the
 * largest sum of sizes live at one step.
 */

export interface PlacementItem {
  bytes: number;
  firstStep: number;
  lastStep: number;
}

export interface PlacementOptions {
  /** Every offset is a multiple of this (16 keeps f32 views and v128 loads aligned). */
  alignment: number;
  /** Seed of any randomized search. */
  seed: number;
  /** Improvement steps of local search. */
  maxIterations: number;
  /** Search nodes of branch and bound. */
  maxNodes: number;
}

export const DEFAULT_PLACEMENT_OPTIONS: Readonly<PlacementOptions> = Object.freeze({
  alignment: 16,
  seed: 1,
  maxIterations: 2000,
  maxNodes: 200_000,
});

export interface PlacementResult {
  offsets: number[];
  arenaBytes: number;
  /** What ran, e.g. 'greedy-by-size', 'hill-climb', 'exact', 'exact (node limit; best found)'. */
  algorithm: string;
  /** True when the arena is proven minimal (it equals the lower bound, or the search completed). */
  optimal: boolean;
}

export type PlacementAlgorithm = (items: readonly PlacementItem[], options: PlacementOptions) => PlacementResult;

/** Largest total of bytes live at one step: no placement can use a smaller arena. */
export function liveLowerBound(items: readonly PlacementItem[]): number {
  const events: [number, number][] = [];
  for (const it of items) {
    events.push([it.firstStep, it.bytes]);
    events.push([it.lastStep + 1, -it.bytes]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let live = 0;
  let best = 0;
  for (const [, d] of events) {
    live += d;
    best = Math.max(best, live);
  }
  return best;
}
