/**
 * The order algorithms by name. 'exact' is the default; the others are the
 * baselines it is compared with and its fallbacks.
 */
import { beamOrder } from './beam.js';
import { exactOrder } from './exact.js';
import { givenOrder } from './given.js';
import { greedyOrder } from './greedy.js';
import type { OrderAlgorithm } from './types.js';

export const ORDER_ALGORITHMS: Readonly<Record<string, OrderAlgorithm>> = Object.freeze({
  exact: exactOrder,
  greedy: greedyOrder,
  beam: beamOrder(256),
  given: givenOrder,
});

export function orderAlgorithm(name: string): OrderAlgorithm {
  const a = ORDER_ALGORITHMS[name];
  if (!a) throw new Error(`unknown order algorithm '${name}' (known: ${Object.keys(ORDER_ALGORITHMS).join(', ')})`);
  return a;
}

export type { OrderAlgorithm, OrderOptions, OrderResult } from './types.js';
export { DEFAULT_ORDER_OPTIONS } from './types.js';
