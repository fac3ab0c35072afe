/**
 * 'exact': the minimum-peak topological order, after Serenity (Ahn et al.,
 * "Ordering Chaos", MLSys 2020), written from the paper's ideas:
 *
 * 1. Divide and conquer at single-node cuts (analysis.ts splitAtCuts): the live
 *    set at a cut is the same for every order, so each piece between cuts is
 *    solved alone and the peak is the largest piece peak.
 * 2. Dynamic programming over partial schedules, one layer per step. A state
 *    is the set S of nodes run (equivalently its zero-indegree frontier); the
 *    bytes live after S depend on S alone, so of all prefixes reaching S only
 *    the one with the smallest peak so far is kept.
 * 3. Branch and bound with a budget τ: states whose peak exceeds τ are
 *    dropped. A run that completes returns the optimum whenever it is ≤ τ; a
 *    run that empties proves the optimum exceeds τ, and the smallest dropped
 *    peak is a new lower bound. τ starts at the static lower bound and rises
 *    toward the best heuristic peak (the upper bound), so tight budgets prune
 *    most states first (Serenity's "adaptive soft budgeting").
 *
 * When a piece exceeds the time limit or the state limit, that piece falls
 * back to beam search (beam.ts) widened while time remains; the result then
 * says 'heuristic' and carries the best lower bound proven so far.
 */
import { evaluateOrder, type MemoryProblem } from '../memory.js';
import { Reach, splitAtCuts, staticLowerBound, subProblem } from './analysis.js';
import { beamSchedule } from './beam.js';
import { greedySchedule } from './greedy.js';
import { SearchSpace } from './space.js';
import type { OrderOptions, OrderResult } from './types.js';

type DpOutcome = { kind: 'found'; order: number[]; peak: number } | { kind: 'none'; minPruned: number } | { kind: 'aborted'; reason: string };

/** One budgeted DP run over a piece. */
function dpRun(space: SearchSpace, tau: number, deadline: number, maxStates: number): DpOutcome {
  const W = space.words;
  let count = 1;
  let masks = new Uint32Array(W);
  let mems = new Float64Array([space.mem0]);
  let peaks = new Float64Array([0]);
  const parents: Int32Array[] = [];
  const nodes: Int32Array[] = [];
  const ready: number[] = [];
  const tmp = new Uint32Array(W);
  let minPruned = Infinity;
  let work = 0;
  for (let k = 0; k < space.n; k++) {
    const index = new Map<string, number>();
    let cap = Math.max(16, count * 2);
    let nMasks = new Uint32Array(cap * W);
    let nMems = new Float64Array(cap);
    let nPeaks = new Float64Array(cap);
    let nPar = new Int32Array(cap);
    let nNode = new Int32Array(cap);
    let nCount = 0;
    for (let i = 0; i < count; i++) {
      if ((++work & 255) === 0 && Date.now() > deadline) return { kind: 'aborted', reason: 'time limit' };
      const off = i * W;
      space.ready(masks, off, ready);
      for (const u of ready) {
        space.transition(masks, off, mems[i]!, u, k === 0);
        const peak = Math.max(peaks[i]!, space.stepBytes);
        if (peak > tau) {
          if (peak < minPruned) minPruned = peak;
          continue;
        }
        for (let w = 0; w < W; w++) tmp[w] = masks[off + w]!;
        tmp[u >>> 5]! |= 1 << (u & 31);
        const key = space.key(tmp, 0);
        const j = index.get(key);
        if (j !== undefined) {
          if (peak < nPeaks[j]!) {
            nPeaks[j] = peak;
            nPar[j] = i;
            nNode[j] = u;
          }
          continue;
        }
        if (nCount === cap) {
          cap *= 2;
          const grow = <T extends Uint32Array | Float64Array | Int32Array>(a: T, size: number): T => {
            const b = new (a.constructor as new (n: number) => T)(size);
            b.set(a);
            return b;
          };
          nMasks = grow(nMasks, cap * W);
          nMems = grow(nMems, cap);
          nPeaks = grow(nPeaks, cap);
          nPar = grow(nPar, cap);
          nNode = grow(nNode, cap);
        }
        nMasks.set(tmp, nCount * W);
        nMems[nCount] = space.memAfter;
        nPeaks[nCount] = peak;
        nPar[nCount] = i;
        nNode[nCount] = u;
        index.set(key, nCount);
        nCount++;
        if (nCount > maxStates) return { kind: 'aborted', reason: `more than ${maxStates} states in one layer` };
      }
    }
    if (nCount === 0) return { kind: 'none', minPruned };
    parents.push(nPar.slice(0, nCount));
    nodes.push(nNode.slice(0, nCount));
    masks = nMasks;
    mems = nMems;
    peaks = nPeaks;
    count = nCount;
  }
  const order: number[] = [];
  let i = 0;
  for (let k = space.n - 1; k >= 0; k--) {
    order.push(nodes[k]![i]!);
    i = parents[k]![i]!;
  }
  order.reverse();
  return { kind: 'found', order, peak: peaks[0]! };
}

interface PieceResult {
  order: number[];
  peak: number;
  lb: number;
  exact: boolean;
  algorithm: string;
  note?: string;
}

const BUDGET_STEPS = [0, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1];

function solvePiece(p: MemoryProblem, exactDeadline: number, fallbackDeadline: number, maxStates: number): PieceResult {
  const space = new SearchSpace(p);
  if (space.n === 1) {
    const peak = evaluateOrder(p, [0]).peakBytes;
    return { order: [0], peak, lb: peak, exact: true, algorithm: 'exact-dp' };
  }
  // Upper bound: the better of greedy and a narrow beam (ties: greedy).
  let best = greedySchedule(space);
  let bestName = 'greedy';
  const beam = beamSchedule(space, 16, fallbackDeadline);
  if (beam && beam.peak < best.peak) {
    best = beam;
    bestName = 'beam-16';
  }
  let lb = staticLowerBound(p);
  if (lb >= best.peak) return { order: best.order, peak: best.peak, lb: best.peak, exact: true, algorithm: 'exact-dp' };
  let aborted = '';
  for (const f of BUDGET_STEPS) {
    const tau = Math.max(lb, lb + Math.floor((best.peak - 1 - lb) * f));
    const r = dpRun(space, tau, exactDeadline, maxStates);
    if (r.kind === 'found') return { order: r.order, peak: r.peak, lb: r.peak, exact: true, algorithm: 'exact-dp' };
    if (r.kind === 'aborted') {
      aborted = r.reason;
      break;
    }
    lb = Math.max(lb, r.minPruned);
    if (lb >= best.peak) return { order: best.order, peak: best.peak, lb: best.peak, exact: true, algorithm: 'exact-dp' };
  }
  // Fallback: widen the beam while time remains; keep the best (ties: the earlier one).
  let widest = 16;
  for (let width = 64; width <= 1 << 16; width *= 4) {
    const r = beamSchedule(space, width, fallbackDeadline);
    if (!r) break;
    widest = width;
    if (r.peak < best.peak) {
      best = r;
      bestName = `beam-${width}`;
    }
    if (best.peak <= lb) break;
  }
  const exact = best.peak <= lb;
  return {
    order: best.order,
    peak: best.peak,
    lb: exact ? best.peak : lb,
    exact,
    algorithm: exact ? 'exact-dp' : bestName,
    note: `exact search stopped (${aborted}) on a piece of ${space.n} nodes; best of greedy and beams up to width ${widest}`,
  };
}

export function exactOrder(p: MemoryProblem, options: OrderOptions): OrderResult {
  const start = Date.now();
  const deadline = start + options.timeLimitMs;
  const reach = new Reach(p);
  const pieces = splitAtCuts(p, reach);
  const order: number[] = [];
  let peak = 0;
  let lb = 0;
  let exact = true;
  let fallback = '';
  const notes: string[] = [];
  let remainingNodes = p.nodes.length;
  pieces.forEach((piece, k) => {
    const now = Date.now();
    const share = (deadline - now) * (piece.length / Math.max(1, remainingNodes));
    const sub = subProblem(p, pieces, k);
    const r = solvePiece(sub.problem, now + 0.8 * share, now + share, options.maxStates);
    remainingNodes -= piece.length;
    for (const u of r.order) order.push(sub.nodes[u]!);
    peak = Math.max(peak, r.peak);
    lb = Math.max(lb, r.lb);
    if (!r.exact) {
      exact = false;
      fallback = r.algorithm;
      if (r.note) notes.push(r.note);
    }
  });
  const check = evaluateOrder(p, order).peakBytes;
  if (check !== peak) throw new Error(`internal: exact order search pieces give peak ${peak} but the whole order has ${check}`);
  if (exact) lb = peak;
  return {
    order,
    peakBytes: peak,
    lowerBoundBytes: lb,
    exact,
    algorithm: exact ? 'exact-dp' : `heuristic:${fallback}`,
    ...(notes.length > 0 ? { note: `${notes.join('; ')}; ${pieces.length} pieces after single-node cuts` } : {}),
  };
}
