/**
 * Test utility: small seeded random MemoryProblems (the order search's input)
 * with every feature the memory model has: graph inputs (live from the
 * start), nodes creating zero, one or two storages, storages read by several
 * nodes, kept (persistent) storages, scratch bytes and in-place candidates.
 * Sizes are small integers so that equal sizes (in-place writes) and ties
 * are common. Plus brute force over every topological order and a plain
 * dynamic program over node sets with no pruning rule, as references.
 */
import { evaluateOrder, type MemoryProblem } from '../../planner/memory.js';
import { makeRng } from '../../planner/rng.js';

export function randomProblem(seed: number, nodes: number): MemoryProblem {
  const rng = makeRng(seed);
  const storages: MemoryProblem['storages'] = [];
  const list: MemoryProblem['nodes'] = [];
  const inputs = rng.int(0, 2);
  for (let i = 0; i < inputs; i++)
    storages.push({ name: `in${i}`, bytes: rng.int(1, 4), producer: -1, consumers: [], persistent: rng.next() < 0.1 });
  for (let u = 0; u < nodes; u++) {
    const reads: number[] = [];
    const wanted = Math.min(storages.length, rng.int(storages.length === 0 ? 0 : 1, 3));
    for (let r = 0; r < wanted; r++) {
      const g = rng.int(0, storages.length - 1);
      if (!reads.includes(g)) reads.push(g);
    }
    const creates: number[] = [];
    const count = rng.next() < 0.08 ? 0 : rng.next() < 0.1 ? 2 : 1;
    for (let c = 0; c < count; c++) {
      creates.push(storages.length);
      storages.push({
        name: `s${storages.length}`,
        bytes: rng.int(1, 4),
        producer: u,
        consumers: [],
        persistent: false,
      });
    }
    for (const g of reads) storages[g]!.consumers.push(u);
    const inPlaceFrom =
      creates.length === 1 && rng.next() < 0.5
        ? reads.filter((g) => storages[g]!.bytes === storages[creates[0]!]!.bytes)
        : [];
    const preds = [...new Set(reads.map((g) => storages[g]!.producer).filter((p) => p >= 0))].sort((a, b) => a - b);
    list.push({
      name: `n${u}`,
      preds,
      reads,
      creates,
      scratchBytes: rng.next() < 0.2 ? rng.int(1, 3) : 0,
      inPlaceFrom,
    });
  }
  for (const s of storages) {
    if (s.producer >= 0 && s.consumers.length === 0 && rng.next() < 0.5) s.persistent = true;
    else if (rng.next() < 0.05) s.persistent = true;
  }
  return { nodes: list, storages, baseBytes: 0 };
}

/** Calls `visit` with every topological order of p (the same array, refilled: copy it to keep it). */
export function forEachOrder(p: MemoryProblem, visit: (order: readonly number[]) => void): void {
  const n = p.nodes.length;
  const order: number[] = [];
  const used = new Uint8Array(n);
  const extend = () => {
    if (order.length === n) return void visit(order);
    for (let u = 0; u < n; u++) {
      if (used[u] || !p.nodes[u]!.preds.every((v) => used[v])) continue;
      used[u] = 1;
      order.push(u);
      extend();
      order.pop();
      used[u] = 0;
    }
  };
  extend();
}

/** Smallest peak over every topological order (evaluated by memory.ts). */
export function bruteForceMinPeak(p: MemoryProblem): number {
  let best = Infinity;
  forEachOrder(p, (order) => {
    best = Math.min(best, evaluateOrder(p, order).peakBytes);
  });
  return best;
}

/**
 * The optimum by the plain Serenity DP (no pruning, no rules): for every set
 * of nodes run, the smallest peak of a prefix reaching it. Exact by
 * construction; slower than the planner's search but independent of it.
 */
export function plainDpMinPeak(p: MemoryProblem): number {
  const n = p.nodes.length;
  const key = (s: boolean[]) => s.map((b) => (b ? '1' : '0')).join('');
  let layer = new Map<string, { set: boolean[]; order: number[]; peak: number }>([
    [key(new Array(n).fill(false)), { set: new Array(n).fill(false), order: [], peak: 0 }],
  ]);
  for (let k = 0; k < n; k++) {
    const next = new Map<string, { set: boolean[]; order: number[]; peak: number }>();
    for (const st of layer.values()) {
      for (let u = 0; u < n; u++) {
        if (st.set[u] || !p.nodes[u]!.preds.every((v) => st.set[v])) continue;
        const order = [...st.order, u];
        // Peak of the prefix: evaluate it as a whole order's first steps.
        const peak = Math.max(st.peak, prefixStep(p, order));
        const set = st.set.slice();
        set[u] = true;
        const kk = key(set);
        const old = next.get(kk);
        if (!old || peak < old.peak) next.set(kk, { set, order, peak });
      }
    }
    layer = next;
  }
  return [...layer.values()][0]!.peak;
}

/** Live bytes at the last step of a prefix (memory.ts's arithmetic, written out again). */
function prefixStep(p: MemoryProblem, prefix: number[]): number {
  const done = new Set(prefix.slice(0, -1));
  const u = prefix[prefix.length - 1]!;
  const node = p.nodes[u]!;
  const pending = (g: number, after: Set<number>) =>
    p.storages[g]!.persistent || p.storages[g]!.consumers.some((c) => !after.has(c));
  let live = p.baseBytes;
  p.storages.forEach((s, g) => {
    if (node.creates.includes(g)) return;
    const made = s.producer < 0 || done.has(s.producer);
    if (!made) return;
    // Live before u: still pending after the prefix before u; an orphan input is live at the first step only.
    const orphan = s.producer < 0 && s.consumers.length === 0 && !s.persistent;
    if (orphan ? done.size === 0 : pending(g, done)) live += s.bytes;
  });
  let created = 0;
  for (const o of node.creates) created += p.storages[o]!.bytes;
  const withU = new Set(prefix);
  const credit = node.inPlaceFrom.some((g) => !pending(g, withU)) ? created : 0;
  return live + created + node.scratchBytes - credit;
}
