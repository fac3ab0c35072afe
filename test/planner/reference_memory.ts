/**
 * Test reference for peak memory, written independently of planner/memory.ts:
 * it works on tensor intervals (producer step .. last reader step) and groups
 * of tensors sharing memory, the way a reader of the paper would compute it by
 * hand, instead of the planner's incremental storage bookkeeping. Plus an
 * enumerator of every topological order, for brute force.
 */
import { detectBlocks, chunkScratchBytes, type InvertedResidualBlock } from '../../planner/blocks.js';
import { tensorBytes, type Graph } from '../../planner/ir.js';

export interface RefUnit {
  ops: number[];
  scratch: number;
  isBlock: boolean;
}

export interface RefModel {
  graph: Graph;
  units: RefUnit[];
  internal: Set<number>;
  /** Units that must run before each unit. */
  deps: number[][];
}

/** Units: each detected block (when `chunkChannels` is given, one entry per block) or op on its own. */
export function refModel(graph: Graph, chunkChannels?: (b: InvertedResidualBlock) => number): RefModel {
  const blocks = chunkChannels ? detectBlocks(graph) : [];
  const internal = new Set<number>();
  const unitOf = new Map<number, number>();
  const units: RefUnit[] = [];
  for (const b of blocks) {
    const ops = [b.expand, b.depthwise, b.project, b.add].filter((o) => o >= 0);
    const s = chunkScratchBytes(b, chunkChannels!(b));
    for (const o of ops) unitOf.set(o, units.length);
    units.push({ ops, scratch: s.expand + s.depthwise, isBlock: true });
    for (const t of b.internal) internal.add(t);
  }
  for (const op of graph.ops) {
    if (unitOf.has(op.id)) continue;
    unitOf.set(op.id, units.length);
    units.push({ ops: [op.id], scratch: 0, isBlock: false });
  }
  const deps = units.map((u, i) => {
    const d = new Set<number>();
    for (const o of u.ops)
      for (const x of graph.ops[o]!.inputs) {
        const p = graph.tensors[x]!.producer;
        if (p >= 0 && unitOf.get(p) !== i) d.add(unitOf.get(p)!);
      }
    return [...d];
  });
  return { graph, units, internal, deps };
}

/** Peak live bytes when the units run in `order`. */
export function refPeak(m: RefModel, order: readonly number[]): number {
  return Math.max(...refStepBytes(m, order));
}

export function refStepBytes(m: RefModel, order: readonly number[]): number[] {
  const g = m.graph;
  const S = order.length;
  const stepOfOp = new Map<number, number>();
  order.forEach((u, s) => m.units[u]!.ops.forEach((o) => stepOfOp.set(o, s)));
  const life = new Map<number, [number, number]>();
  for (const t of g.tensors) {
    if (t.constant || m.internal.has(t.id) || (t.producer < 0 && !g.inputs.includes(t.id))) continue;
    const f = t.producer < 0 ? 0 : stepOfOp.get(t.producer)!;
    const l = g.outputs.includes(t.id) ? S - 1 : Math.max(f, ...t.consumers.map((c) => stepOfOp.get(c)!));
    life.set(t.id, [f, l]);
  }
  // Groups of tensors sharing memory.
  const parent = new Map<number, number>();
  const find = (x: number): number => (parent.get(x) === undefined || parent.get(x) === x ? x : find(parent.get(x)!));
  const union = (a: number, b: number) => parent.set(find(a), find(b));
  for (const op of g.ops) if (op.kind === 'reshape') union(op.outputs[0]!, op.inputs[0]!);
  order.forEach((u, s) => {
    const unit = m.units[u]!;
    if (unit.isBlock) return;
    const op = g.ops[unit.ops[0]!]!;
    if (op.kind !== 'add') return;
    const out = op.outputs[0]!;
    for (const x of op.inputs) {
      if (tensorBytes(g.tensors[x]!) !== tensorBytes(g.tensors[out]!)) continue;
      const root = find(x);
      const members = [...life.keys()].filter((t) => find(t) === root);
      if (members.every((t) => life.get(t)![1] <= s && !g.outputs.includes(t))) {
        union(out, x);
        break;
      }
    }
  });
  const groups = new Map<number, { f: number; l: number; bytes: number }>();
  for (const [t, [f, l]] of life) {
    const r = find(t);
    const gr = groups.get(r);
    const b = tensorBytes(g.tensors[t]!);
    groups.set(
      r,
      gr ? { f: Math.min(gr.f, f), l: Math.max(gr.l, l), bytes: Math.max(gr.bytes, b) } : { f, l, bytes: b },
    );
  }
  const live = order.map((u) => m.units[u]!.scratch);
  for (const gr of groups.values()) for (let s = gr.f; s <= gr.l; s++) live[s]! += gr.bytes;
  return live;
}

/** Calls `visit` with every topological order of the units; stops early and returns false past `limit` orders. */
export function forEachOrder(m: RefModel, visit: (order: number[]) => void, limit = Infinity): boolean {
  const n = m.units.length;
  const indeg = m.deps.map((d) => d.length);
  const succ: number[][] = m.units.map(() => []);
  m.deps.forEach((d, u) => d.forEach((v) => succ[v]!.push(u)));
  const order: number[] = [];
  const used = new Uint8Array(n);
  let count = 0;
  const rec = (): boolean => {
    if (order.length === n) {
      if (++count > limit) return false;
      visit(order.slice());
      return true;
    }
    for (let u = 0; u < n; u++) {
      if (used[u] || indeg[u] !== 0) continue;
      used[u] = 1;
      order.push(u);
      for (const v of succ[u]!) indeg[v]!--;
      const ok = rec();
      for (const v of succ[u]!) indeg[v]!++;
      order.pop();
      used[u] = 0;
      if (!ok) return false;
    }
    return true;
  };
  return rec();
}

/** Minimum peak over every topological order (undefined when there are more than `limit`). */
export function bruteForceMinPeak(m: RefModel, limit: number): number | undefined {
  let best = Infinity;
  const ok = forEachOrder(m, (o) => (best = Math.min(best, refPeak(m, o))), limit);
  return ok ? best : undefined;
}
