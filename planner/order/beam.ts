/**
 * 'beam': the exact search's layer-by-layer expansion (order/exact.ts) keeping
 * only the `width` best partial schedules per layer, ranked by peak so far,
 * then bytes live now, then discovery order. Width 1 is close to greedy; an
 * unbounded width is the exact search. The fallback of 'exact' when time runs
 * out, widened while time remains.
 */
import type { MemoryProblem } from '../memory.js';
import { staticLowerBound } from './analysis.js';
import { SearchSpace } from './space.js';
import type { OrderOptions, OrderResult } from './types.js';

export function beamSchedule(
  space: SearchSpace,
  width: number,
  deadline = Infinity,
): { order: number[]; peak: number } | undefined {
  const W = space.words;
  let masks = new Uint32Array(W);
  let mems = [space.mem0];
  let peaks = [0];
  const parents: Int32Array[] = [];
  const nodes: Int32Array[] = [];
  const ready: number[] = [];
  for (let k = 0; k < space.n; k++) {
    if (k % 4 === 0 && Date.now() > deadline) return undefined;
    const index = new Map<string, number>();
    const cand: { mask: Uint32Array; mem: number; peak: number; parent: number; node: number }[] = [];
    for (let i = 0; i < mems.length; i++) {
      space.ready(masks, i * W, ready);
      for (const u of ready) {
        space.transition(masks, i * W, mems[i]!, u, k === 0);
        const peak = Math.max(peaks[i]!, space.stepBytes);
        const m = masks.slice(i * W, i * W + W);
        m[u >>> 5]! |= 1 << (u & 31);
        const key = space.key(m, 0);
        const j = index.get(key);
        if (j === undefined) {
          index.set(key, cand.length);
          cand.push({ mask: m, mem: space.memAfter, peak, parent: i, node: u });
        } else if (peak < cand[j]!.peak) {
          cand[j] = { mask: m, mem: space.memAfter, peak, parent: i, node: u };
        }
      }
    }
    const order = cand
      .map((_, i) => i)
      .sort((a, b) => cand[a]!.peak - cand[b]!.peak || cand[a]!.mem - cand[b]!.mem || a - b);
    const keep = order.slice(0, width);
    masks = new Uint32Array(keep.length * W);
    mems = [];
    peaks = [];
    const par = new Int32Array(keep.length);
    const nod = new Int32Array(keep.length);
    keep.forEach((c, i) => {
      masks.set(cand[c]!.mask, i * W);
      mems.push(cand[c]!.mem);
      peaks.push(cand[c]!.peak);
      par[i] = cand[c]!.parent;
      nod[i] = cand[c]!.node;
    });
    parents.push(par);
    nodes.push(nod);
  }
  const order: number[] = [];
  let i = 0;
  for (let k = space.n - 1; k >= 0; k--) {
    order.push(nodes[k]![i]!);
    i = parents[k]![i]!;
  }
  order.reverse();
  return { order, peak: space.n === 0 ? space.mem0 : peaks[0]! };
}

export function beamOrder(width: number) {
  return (p: MemoryProblem, options: OrderOptions): OrderResult => {
    const res = beamSchedule(new SearchSpace(p), width, Date.now() + options.timeLimitMs);
    if (!res) throw new Error(`beam-${width}: no schedule within ${options.timeLimitMs} ms`);
    const lb = Math.min(res.peak, staticLowerBound(p));
    return {
      order: res.order,
      peakBytes: res.peak,
      lowerBoundBytes: lb,
      exact: lb === res.peak,
      algorithm: `beam-${width}`,
    };
  };
}
