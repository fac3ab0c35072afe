/**
 * Small graph utilities for the model tests: op-level predecessors, random
 * topological orders and a brute live-bytes peak (each activation lives from its
 * producer's step to its last consumer's step; inputs from the start, outputs to
 * the end). Kept independent of the planner so the tests check the graphs alone.
 */
import { tensorBytes, type Graph } from '../../planner/ir.js';
import type { Rng } from '../../models/generators/rng.js';

export function opPredecessors(g: Graph): number[][] {
  return g.ops.map((op) => [...new Set(op.inputs.map((i) => g.tensors[i]!.producer).filter((p) => p >= 0))]);
}

/** A uniformly chosen ready op at each step: a random topological order. */
export function randomTopologicalOrder(g: Graph, rng: Rng): number[] {
  const preds = opPredecessors(g);
  const indegree = preds.map((p) => p.length);
  const succs: number[][] = g.ops.map(() => []);
  preds.forEach((ps, i) => ps.forEach((p) => succs[p]!.push(i)));
  const ready = indegree.flatMap((d, i) => (d === 0 ? [i] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    const k = Math.floor(rng() * ready.length);
    const op = ready.splice(k, 1)[0]!;
    order.push(op);
    for (const s of succs[op]!) if (--indegree[s]! === 0) ready.push(s);
  }
  if (order.length !== g.ops.length) throw new Error('graph has a cycle');
  return order;
}

/** Largest total bytes of activations alive at one step of `order`. */
export function peakLiveBytes(g: Graph, order: number[]): number {
  const step = new Map<number, number>();
  order.forEach((op, s) => step.set(op, s));
  const last = order.length - 1;
  const delta = new Array<number>(order.length + 1).fill(0);
  for (const t of g.tensors) {
    if (t.constant) continue;
    const start = t.producer < 0 ? 0 : step.get(t.producer)!;
    let end = g.outputs.includes(t.id) ? last : start;
    for (const c of t.consumers) end = Math.max(end, step.get(c)!);
    delta[start]! += tensorBytes(t);
    delta[end + 1]! -= tensorBytes(t);
  }
  let live = 0;
  let peak = 0;
  for (let s = 0; s <= last; s++) {
    live += delta[s]!;
    peak = Math.max(peak, live);
  }
  return peak;
}

export const within = (got: number, want: number, rel: number): boolean => Math.abs(got - want) <= rel * Math.abs(want);
