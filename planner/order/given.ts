/**
 * 'given': the order the graph arrived in (the file's order for imported
 * models; a fused block sits where its last op was). The baseline every other
 * order is compared with.
 */
import { evaluateOrder, type MemoryProblem } from '../memory.js';
import { staticLowerBound } from './analysis.js';
import type { OrderOptions, OrderResult } from './types.js';

export function givenOrder(p: MemoryProblem, _options: OrderOptions): OrderResult {
  const order = p.nodes.map((_, i) => i);
  const peak = evaluateOrder(p, order).peakBytes;
  const lb = Math.min(peak, staticLowerBound(p));
  return { order, peakBytes: peak, lowerBoundBytes: lb, exact: lb === peak, algorithm: 'given' };
}
