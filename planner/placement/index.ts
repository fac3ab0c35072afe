/** The placement algorithms by name. 'hill-climb' is planGraph's default. */
import { exactPlacement } from './exact.js';
import { greedyBySize } from './greedy_by_size.js';
import { hillClimb } from './hill_climb.js';
import type { PlacementAlgorithm } from './types.js';

export const PLACEMENT_ALGORITHMS: Readonly<Record<string, PlacementAlgorithm>> = Object.freeze({
  'greedy-by-size': greedyBySize,
  'hill-climb': hillClimb,
  exact: exactPlacement,
});

export function placementAlgorithm(name: string): PlacementAlgorithm {
  const a = PLACEMENT_ALGORITHMS[name];
  if (!a)
    throw new Error(`unknown placement algorithm '${name}' (known: ${Object.keys(PLACEMENT_ALGORITHMS).join(', ')})`);
  return a;
}

export type { PlacementAlgorithm, PlacementItem, PlacementOptions, PlacementResult } from './types.js';
export { DEFAULT_PLACEMENT_OPTIONS, liveLowerBound } from './types.js';
