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

/**
 * Open-addressing hash set of bitsets (one layer's states): far faster than
 * string keys in a Map when a layer holds millions of states.
 */
class StateTable {
  masks: Uint32Array;
  count = 0;
  private slots: Int32Array;
  private mask: number;

  constructor(
    readonly words: number,
    capacity: number,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    this.masks = new Uint32Array(Math.max(16, capacity) * words);
  }

  private hash(a: Uint32Array, off: number): number {
    let h = 0x811c9dc5;
    for (let w = 0; w < this.words; w++) h = Math.imul(h ^ a[off + w]!, 0x01000193) ^ (h >>> 15);
    return h >>> 0;
  }

  /** Index of the state equal to `key`, inserting it (as index `count`) when new; `inserted` tells which. */
  inserted = false;
  findOrInsert(key: Uint32Array): number {
    const W = this.words;
    let i = this.hash(key, 0) & this.mask;
    for (;;) {
      const j = this.slots[i]!;
      if (j < 0) break;
      let same = true;
      for (let w = 0; w < W; w++) {
        if (this.masks[j * W + w] !== key[w]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.inserted = false;
        return j;
      }
      i = (i + 1) & this.mask;
    }
    const j = this.count++;
    if (this.count * W > this.masks.length) {
      const grown = new Uint32Array(this.masks.length * 2);
      grown.set(this.masks);
      this.masks = grown;
    }
    this.masks.set(key, j * W);
    this.slots[i] = j;
    if (this.count * 2 > this.slots.length) this.rehash();
    this.inserted = true;
    return j;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let j = 0; j < this.count; j++) {
      let i = this.hash(this.masks, j * this.words) & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = j;
    }
  }
}

/** Growable typed arrays of per-state values for one layer. */
class LayerValues {
  mem = new Float64Array(16);
  peak = new Float64Array(16);
  parent = new Int32Array(16);
  node = new Int32Array(16);

  ensure(n: number): void {
    if (n <= this.mem.length) return;
    let size = this.mem.length;
    while (size < n) size *= 2;
    const grow = <T extends Float64Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.mem = grow(this.mem);
    this.peak = grow(this.peak);
    this.parent = grow(this.parent);
    this.node = grow(this.node);
  }
}

/** One budgeted DP run over a piece. */
function dpRun(space: SearchSpace, tau: number, deadline: number, maxStates: number): DpOutcome {
  const W = space.words;
  let states = new StateTable(W, 1);
  let vals = new LayerValues();
  states.findOrInsert(new Uint32Array(W));
  vals.mem[0] = space.mem0;
  vals.peak[0] = 0;
  const parents: Int32Array[] = [];
  const nodes: Int32Array[] = [];
  const ready: number[] = [];
  const tmp = new Uint32Array(W);
  let minPruned = Infinity;
  let work = 0;
  for (let k = 0; k < space.n; k++) {
    const next = new StateTable(W, states.count * 2);
    const nv = new LayerValues();
    const masks = states.masks;
    for (let i = 0; i < states.count; i++) {
      if ((++work & 255) === 0 && Date.now() > deadline) return { kind: 'aborted', reason: 'time limit' };
      const off = i * W;
      space.ready(masks, off, ready);
      for (const u of ready) {
        space.transition(masks, off, vals.mem[i]!, u, k === 0);
        const peak = Math.max(vals.peak[i]!, space.stepBytes);
        if (peak > tau) {
          if (peak < minPruned) minPruned = peak;
          continue;
        }
        for (let w = 0; w < W; w++) tmp[w] = masks[off + w]!;
        tmp[u >>> 5]! |= 1 << (u & 31);
        const j = next.findOrInsert(tmp);
        if (next.inserted) {
          nv.ensure(next.count);
          nv.mem[j] = space.memAfter;
          nv.peak[j] = peak;
          nv.parent[j] = i;
          nv.node[j] = u;
          if (next.count > maxStates) return { kind: 'aborted', reason: `more than ${maxStates} states in one layer` };
        } else if (peak < nv.peak[j]!) {
          nv.peak[j] = peak;
          nv.parent[j] = i;
          nv.node[j] = u;
        }
      }
    }
    if (next.count === 0) return { kind: 'none', minPruned };
    parents.push(nv.parent.slice(0, next.count));
    nodes.push(nv.node.slice(0, next.count));
    states = next;
    vals = nv;
  }
  const order: number[] = [];
  let i = 0;
  for (let k = space.n - 1; k >= 0; k--) {
    order.push(nodes[k]![i]!);
    i = parents[k]![i]!;
  }
  order.reverse();
  return { kind: 'found', order, peak: vals.peak[0]! };
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

interface Candidate {
  order: number[];
  peak: number;
  name: string;
}

/** Cheap upper bound of a piece: the best of its given order, greedy and a narrow beam (ties: the earlier). */
function cheapSchedule(p: MemoryProblem, space: SearchSpace, deadline: number): Candidate {
  const identity = p.nodes.map((_, i) => i);
  let best: Candidate = { order: identity, peak: evaluateOrder(p, identity).peakBytes, name: 'given' };
  if (space.n === 1) return best;
  const greedy = greedySchedule(space);
  if (greedy.peak < best.peak) best = { ...greedy, name: 'greedy' };
  const beam = beamSchedule(space, 16, deadline);
  if (beam && beam.peak < best.peak) best = { ...beam, name: 'beam-16' };
  return best;
}

/**
 * Improves a piece's schedule until its peak is at most `floor` (a proven
 * lower bound of the whole problem, so nothing below it matters) or proven
 * minimal, or time runs out.
 */
function solvePiece(p: MemoryProblem, space: SearchSpace, start: Candidate, pieceLb: number, floor: number, exactDeadline: number, fallbackDeadline: number, maxStates: number): PieceResult {
  let best = start;
  let lb = pieceLb;
  const done = () => best.peak <= Math.max(lb, floor);
  const result = (note?: string): PieceResult => ({
    order: best.order,
    peak: best.peak,
    lb: Math.min(lb, best.peak),
    exact: done(),
    algorithm: done() ? 'exact-dp' : best.name,
    ...(note && !done() ? { note } : {}),
  });
  if (done()) return result();
  // A wider beam often reaches the bound, which proves it optimal without the DP.
  if (space.n >= 12) {
    const wide = beamSchedule(space, 256, exactDeadline);
    if (wide && wide.peak < best.peak) best = { ...wide, name: 'beam-256' };
    if (done()) return result();
  }
  let aborted = '';
  for (const f of BUDGET_STEPS) {
    const from = Math.max(lb, floor);
    const tau = Math.max(from, from + Math.floor((best.peak - 1 - from) * f));
    const r = dpRun(space, tau, exactDeadline, maxStates);
    if (r.kind === 'found') {
      best = { order: r.order, peak: r.peak, name: 'exact-dp' };
      // The run kept every prefix with peak ≤ τ, so r.peak is the piece's minimum.
      lb = r.peak;
      return result();
    }
    if (r.kind === 'aborted') {
      aborted = r.reason;
      break;
    }
    lb = Math.max(lb, r.minPruned);
    if (done()) return result();
  }
  // Fallback: widen the beam while time remains; keep the best (ties: the earlier one).
  let widest = space.n >= 12 ? 256 : 16;
  for (let width = widest * 4; width <= 1 << 16; width *= 4) {
    const r = beamSchedule(space, width, fallbackDeadline);
    if (!r) break;
    widest = width;
    if (r.peak < best.peak) best = { ...r, name: `beam-${width}` };
    if (done()) break;
  }
  return result(`exact search stopped (${aborted}) on a piece of ${space.n} nodes; best of the given order, greedy and beams up to width ${widest}`);
}

export function exactOrder(p: MemoryProblem, options: OrderOptions): OrderResult {
  const deadline = Date.now() + options.timeLimitMs;
  const reach = new Reach(p);
  const pieces = splitAtCuts(p, reach);
  // Cheap schedules and static bounds for every piece first: the largest
  // bound is a bound of the whole problem, and a piece already under it needs
  // no search at all (the peak is the largest piece peak).
  const subs = pieces.map((_, k) => subProblem(p, pieces, k));
  const spaces = subs.map((s) => new SearchSpace(s.problem));
  const results: PieceResult[] = subs.map((s, k) => {
    const c = cheapSchedule(s.problem, spaces[k]!, deadline);
    const lb = Math.min(c.peak, staticLowerBound(s.problem));
    return { order: c.order, peak: c.peak, lb, exact: c.peak <= lb, algorithm: c.name };
  });
  let floor = Math.max(0, ...results.map((r) => r.lb));
  // Hardest first (largest upper bound; ties by position), so later pieces can stop at a higher floor.
  const todo = results.map((_, k) => k).filter((k) => results[k]!.peak > floor).sort((a, b) => results[b]!.peak - results[a]!.peak || a - b);
  let remainingNodes = todo.reduce((s, k) => s + pieces[k]!.length, 0);
  for (const k of todo) {
    const r = results[k]!;
    if (r.peak <= floor) continue;
    const now = Date.now();
    const share = Math.max(0, deadline - now) * (pieces[k]!.length / Math.max(1, remainingNodes));
    remainingNodes -= pieces[k]!.length;
    const start: Candidate = { order: r.order, peak: r.peak, name: r.algorithm };
    results[k] = solvePiece(subs[k]!.problem, spaces[k]!, start, r.lb, floor, now + 0.8 * share, now + share, options.maxStates);
    floor = Math.max(floor, results[k]!.lb);
  }
  const order: number[] = [];
  results.forEach((r, k) => {
    for (const u of r.order) order.push(subs[k]!.nodes[u]!);
  });
  const peak = Math.max(0, ...results.map((r) => r.peak));
  const check = evaluateOrder(p, order).peakBytes;
  if (check !== peak) throw new Error(`internal: exact order search pieces give peak ${peak} but the whole order has ${check}`);
  const exact = peak <= floor;
  const worst = results.find((r) => r.peak === peak && !r.exact);
  const notes = results.filter((r) => r.note && r.peak > floor).map((r) => r.note!);
  return {
    order,
    peakBytes: peak,
    lowerBoundBytes: exact ? peak : floor,
    exact,
    algorithm: exact ? 'exact-dp' : `heuristic:${worst?.algorithm ?? 'beam'}`,
    ...(notes.length > 0 ? { note: `${notes.join('; ')}; ${pieces.length} pieces after single-node cuts` } : {}),
  };
}
