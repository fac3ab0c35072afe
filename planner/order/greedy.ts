/**
 * 'greedy': list scheduling that, at every step, runs the ready node whose step
 * needs the fewest live bytes; ties go to the node leaving the fewest bytes
 * live after it, then to the lowest index. Linear in steps × ready nodes; no
 * guarantee (a node that frees much memory may need a large step first).
 */
import type { MemoryProblem } from '../memory.js';
import { staticLowerBound } from './analysis.js';
import { SearchSpace } from './space.js';
import type { OrderOptions, OrderResult } from './types.js';

export function greedySchedule(space: SearchSpace): { order: number[]; peak: number } {
  const S = new Uint32Array(space.words);
  let mem = space.mem0;
  let peak = 0;
  const order: number[] = [];
  const ready: number[] = [];
  for (let k = 0; k < space.n; k++) {
    space.ready(S, 0, ready);
    let best = -1;
    let bestStep = Infinity;
    let bestMem = Infinity;
    for (const u of ready) {
      space.transition(S, 0, mem, u, k === 0);
      if (space.stepBytes < bestStep || (space.stepBytes === bestStep && space.memAfter < bestMem)) {
        best = u;
        bestStep = space.stepBytes;
        bestMem = space.memAfter;
      }
    }
    order.push(best);
    peak = Math.max(peak, bestStep);
    mem = bestMem;
    S[best >>> 5]! |= 1 << (best & 31);
  }
  return { order, peak };
}

export function greedyOrder(p: MemoryProblem, _options: OrderOptions): OrderResult {
  const { order, peak } = greedySchedule(new SearchSpace(p));
  const lb = Math.min(peak, staticLowerBound(p));
  return { order, peakBytes: peak, lowerBoundBytes: lb, exact: lb === peak, algorithm: 'greedy' };
}
