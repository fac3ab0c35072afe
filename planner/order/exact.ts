/**
 * 'exact': the minimum-peak topological order, after Serenity (Ahn et al.,
 * "Ordering Chaos", MLSys 2020), written from the paper's ideas:
 *
 * 1. Divide and conquer at single-node cuts (analysis.ts splitAtCuts): the live
 *    set at a cut is the same for every order, so each piece between cuts is
 *    solved alone and the peak is the largest piece peak. Pieces already
 *    under the largest piece lower bound are not searched.
 * 2. Upper bounds first: the given order, greedy, a narrow beam, then the DP
 *    itself as a beam (dp.ts with `keep`), widened while it keeps improving.
 * 3. Dynamic programming over partial schedules with a budget τ (dp.ts): of
 *    all prefixes reaching the same set of nodes only the one with the
 *    smallest peak is kept; prefixes above τ are dropped; forced moves and
 *    lazy runs (rules.ts) skip states no optimal order needs. A run at τ that
 *    dies out proves the optimum exceeds τ and yields the smallest dropped
 *    peak as the new lower bound; a run that finishes found an order with
 *    peak ≤ τ. τ starts at the best lower bound and rises (iterative
 *    deepening on the budget, Serenity's "adaptive soft budgeting"): the
 *    first run that finishes at τ = lower bound is optimal.
 *
 * 4. Cut lower bounds (cut_bound.ts): for each node, the fewest bytes any
 *    order can have live at its step, by a minimum cut over the sets of nodes
 *    that may run before it. Their maximum is the piece's starting lower
 *    bound; inside the budgeted runs they drop states whose remaining nodes
 *    must peak above the budget.
 *
 * When time or the state limit runs out, the piece keeps its best order and
 * the result says 'heuristic', with the best lower bound proven so far
 * (static bound, or the last budget that died out) so its gap is known.
 */
import { evaluateOrder, type MemoryProblem } from '../memory.js';
import { Reach, splitAtCuts, staticLowerBound, subProblem } from './analysis.js';
import { beamSchedule } from './beam.js';
import { CutBound } from './cut_bound.js';
import { dpRun } from './dp.js';
import { greedySchedule } from './greedy.js';
import { ScheduleRules } from './rules.js';
import { SearchSpace } from './space.js';
import type { OrderOptions, OrderResult } from './types.js';

interface Candidate {
  order: number[];
  peak: number;
  name: string;
}

interface PieceResult extends Candidate {
  lb: number;
  exact: boolean;
  note?: string;
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

/** Widths of the DP beam tried for an upper bound, narrowest first. */
const DP_BEAM_WIDTHS = [64, 512, 4096];

/**
 * Improves a piece's order until its peak is at most `floor` (a proven lower
 * bound of the whole problem, so nothing below it matters) or proven minimal,
 * or time runs out.
 */
function solvePiece(
  space: SearchSpace,
  cut: CutBound,
  start: Candidate,
  pieceLb: number,
  floor: number,
  deadline: number,
  maxStates: number,
): PieceResult {
  const rules = new ScheduleRules(space);
  let best = start;
  let lb = pieceLb;
  const done = () => best.peak <= Math.max(lb, floor);
  let stopped = '';
  let proof = 'the static and cut bounds';
  const result = (): PieceResult => {
    const exact = done();
    const r: PieceResult = {
      order: best.order,
      peak: best.peak,
      lb: Math.min(lb, best.peak),
      exact,
      name: exact ? 'exact-dp' : best.name,
    };
    if (!exact)
      r.note = `exact search stopped (${stopped || 'time limit'}) on a piece of ${space.n} nodes; best order from ${best.name}; lower bound ${lb} bytes from ${proof}`;
    return r;
  };
  if (done()) return result();
  const t0 = Date.now();
  const total = Math.max(1, deadline - t0);
  // Upper bounds: the DP as a beam, at most 30% of the time.
  const beamDeadline = t0 + total * 0.3;
  let lastBeamMs = 0;
  for (const keep of DP_BEAM_WIDTHS) {
    // A beam eight times wider takes about eight times longer: skip it when that cannot finish.
    if (done() || Date.now() + lastBeamMs * 8 > beamDeadline) break;
    const tau = best.peak - 1;
    const started = Date.now();
    const r = dpRun(space, rules, { tau, theta: tau, deadline: beamDeadline, maxStates, keep });
    lastBeamMs = Date.now() - started;
    if (r.kind === 'found' && r.peak < best.peak) best = { order: r.order, peak: r.peak, name: `dp-beam-${keep}` };
    else if (r.kind === 'aborted') break;
  }
  // Lower bounds, and the proof: budgets from the lower bound up.
  const growth = new BudgetGrowth();
  while (!done()) {
    const from = Math.max(lb, floor);
    const tau = Math.min(best.peak - 1, Math.max(from, growth.next(from, best.peak, deadline - Date.now())));
    const started = Date.now();
    const r = dpRun(space, rules, { tau, theta: tau, deadline, maxStates, cut });
    if (r.kind === 'aborted') {
      stopped = r.reason;
      break;
    }
    if (r.kind === 'found') {
      if (r.peak < best.peak) best = { order: r.order, peak: r.peak, name: 'dp-budget' };
      // Every budget below `from` died out, so a schedule at τ = from is optimal.
      if (tau === from) lb = Math.max(lb, best.peak);
      growth.found();
      continue;
    }
    if (r.minPruned > lb) {
      lb = r.minPruned;
      proof = `a DP run at budget ${tau} bytes that died out after ${r.states} states`;
    }
    growth.record(tau, r.states, Date.now() - started);
  }
  return result();
}

/**
 * Chooses the next budget of the lower-bound runs. A run costs about
 * exp(rate · τ) states (measured from the runs so far; the rate falls as τ
 * grows, so the prediction errs high); the next budget is the largest whose
 * predicted time is half the time left, so most of the
 * time goes to one run that proves a high bound instead of many small steps.
 * Until two runs are measured it creeps up from the lower bound.
 */
class BudgetGrowth {
  private runs: { tau: number; states: number; ms: number }[] = [];
  private careful = false;

  next(from: number, upper: number, msLeft: number): number {
    const gap = upper - from;
    if (this.careful || this.runs.length === 0) return from;
    const b = this.runs[this.runs.length - 1]!;
    const a = this.runs.length > 1 ? this.runs[this.runs.length - 2]! : undefined;
    // Small runs measure nothing reliable: creep up by a sixteenth of the gap.
    if (!a || a.states < 2000 || b.states <= a.states || b.tau <= a.tau) return from + Math.floor(gap / 16);
    const rate = Math.log(b.states / a.states) / (b.tau - a.tau);
    const msPerState = Math.max(b.ms, 1) / b.states;
    // Half the time left, and at most eight times the last run (a wrong guess costs little).
    const affordable = Math.min(msLeft / 2 / msPerState, b.states * 8);
    return Math.floor(b.tau + Math.log(Math.max(1, affordable / b.states)) / rate);
  }

  record(tau: number, states: number, ms: number): void {
    this.runs.push({ tau, states: Math.max(1, states), ms });
  }

  /** After an order was found above the lower bound, close the gap from below in small steps. */
  found(): void {
    this.careful = true;
  }
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
  const cuts = subs.map((s, k) => new CutBound(spaces[k]!, new Reach(s.problem), s.problem.baseBytes));
  const results: PieceResult[] = subs.map((s, k) => {
    const c = cheapSchedule(s.problem, spaces[k]!, deadline);
    const lb = Math.min(c.peak, Math.max(staticLowerBound(s.problem), cuts[k]!.global()));
    return { ...c, lb, exact: c.peak <= lb };
  });
  let floor = Math.max(0, ...results.map((r) => r.lb));
  // Hardest first (largest upper bound; ties by position), so later pieces can stop at a higher floor.
  const todo = results
    .map((_, k) => k)
    .filter((k) => results[k]!.peak > floor)
    .sort((a, b) => results[b]!.peak - results[a]!.peak || a - b);
  let remainingNodes = todo.reduce((s, k) => s + pieces[k]!.length, 0);
  for (const k of todo) {
    const r = results[k]!;
    if (r.peak <= floor) continue;
    const now = Date.now();
    const share = Math.max(0, deadline - now) * (pieces[k]!.length / Math.max(1, remainingNodes));
    remainingNodes -= pieces[k]!.length;
    results[k] = solvePiece(spaces[k]!, cuts[k]!, r, r.lb, floor, now + share, options.maxStates);
    floor = Math.max(floor, results[k]!.lb);
  }
  const order: number[] = [];
  results.forEach((r, k) => {
    for (const u of r.order) order.push(subs[k]!.nodes[u]!);
  });
  const peak = Math.max(0, ...results.map((r) => r.peak));
  const check = evaluateOrder(p, order).peakBytes;
  if (check !== peak)
    throw new Error(`internal: exact order search pieces give peak ${peak} but the whole order has ${check}`);
  const exact = peak <= floor;
  const worst = results.find((r) => r.peak === peak && !r.exact);
  const notes = results.filter((r) => r.note && r.peak > floor).map((r) => r.note!);
  return {
    order,
    peakBytes: peak,
    lowerBoundBytes: exact ? peak : floor,
    exact,
    algorithm: exact ? 'exact-dp' : `heuristic:${worst?.name ?? 'beam'}`,
    ...(notes.length > 0 ? { note: `${notes.join('; ')}; ${pieces.length} pieces after single-node cuts` } : {}),
  };
}
