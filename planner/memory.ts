/**
 * The memory model every order search, report and the lifetime builder share.
 *
 * A MemoryProblem is a DAG of nodes (IR ops, or fused blocks) over storages
 * (pieces of memory: one per materialized tensor, except that a reshape's
 * output shares its input's storage). A storage is live from the step of its
 * producer (step 0 for a graph input) to the step of its last consumer, or to
 * the last step when `persistent` (graph outputs). At a node's step the live
 * bytes are every live storage (inputs still needed later, the inputs read
 * now, the outputs written now) plus the node's scratch, minus the output of a
 * node that writes in place over an input dying at that step (see aliasing.ts).
 *
 * Incrementally, with S the set of nodes already run and mem(S) the bytes of
 * storages live after S:
 *   step(u | S)      = mem(S) + created(u) + scratch(u) − inPlace(u, S)
 *   mem(S ∪ {u})     = mem(S) + createdLive(u) − freed(u, S)
 * which is what the exact search (order/exact.ts) evaluates per transition.
 */

export interface MemNode {
  name: string;
  /** Nodes that must run before this one (deduplicated). */
  preds: number[];
  /** Storages read (deduplicated). */
  reads: number[];
  /** Storages first written here. */
  creates: number[];
  scratchBytes: number;
  /**
   * Storages among `reads` this node may write its single created storage over
   * when they die at this node (same byte size), in order of preference.
   */
  inPlaceFrom: number[];
}

export interface Storage {
  name: string;
  bytes: number;
  /** Node writing it, or -1 when it is live before the first step (graph inputs). */
  producer: number;
  /** Nodes reading it (deduplicated). */
  consumers: number[];
  /** Live until the last step (graph outputs, or needed after a sub-problem). */
  persistent: boolean;
}

export interface MemoryProblem {
  nodes: MemNode[];
  storages: Storage[];
  /** Bytes live during every step regardless of order (used by sub-problems). */
  baseBytes: number;
}

export interface OrderEvaluation {
  /** Live bytes at each step of the order. */
  stepBytes: number[];
  peakBytes: number;
  /** Per node: the storage it overwrites in place, or -1. */
  inPlace: Int32Array;
}

/** Throws unless `order` runs every node once, after its predecessors. */
export function checkOrder(p: MemoryProblem, order: readonly number[]): void {
  const n = p.nodes.length;
  if (order.length !== n) throw new Error(`order has ${order.length} steps for ${n} nodes`);
  const pos = new Int32Array(n).fill(-1);
  order.forEach((u, i) => {
    if (!(u >= 0 && u < n) || pos[u] !== -1) throw new Error(`order repeats or misses node ${u}`);
    pos[u] = i;
  });
  p.nodes.forEach((node, u) => {
    for (const v of node.preds)
      if (pos[v]! > pos[u]!) throw new Error(`order runs '${node.name}' before its predecessor '${p.nodes[v]!.name}'`);
  });
}

/** Bytes live before the first step: base plus every storage with no producer. */
export function initialBytes(p: MemoryProblem): number {
  let m = p.baseBytes;
  for (const s of p.storages) if (s.producer < 0) m += s.bytes;
  return m;
}

/** Storages with no producer, no consumer and not persistent: live at step 0 only. */
export function orphanBytes(p: MemoryProblem): number {
  let m = 0;
  for (const s of p.storages) if (s.producer < 0 && s.consumers.length === 0 && !s.persistent) m += s.bytes;
  return m;
}

/** Live bytes at every step of `order` (a valid topological order). */
export function evaluateOrder(p: MemoryProblem, order: readonly number[]): OrderEvaluation {
  checkOrder(p, order);
  const remaining = p.storages.map((s) => s.consumers.length);
  const inPlace = new Int32Array(p.nodes.length).fill(-1);
  const stepBytes: number[] = [];
  let mem = initialBytes(p);
  let peak = 0;
  order.forEach((u, i) => {
    const node = p.nodes[u]!;
    for (const g of node.reads) remaining[g]!--;
    const dies = (g: number) => remaining[g] === 0 && !p.storages[g]!.persistent;
    let created = 0;
    let createdLive = 0;
    for (const o of node.creates) {
      const s = p.storages[o]!;
      created += s.bytes;
      if (s.persistent || s.consumers.length > 0) createdLive += s.bytes;
    }
    let credit = 0;
    const target = node.inPlaceFrom.find(dies);
    if (target !== undefined) {
      inPlace[u] = target;
      credit = created;
    }
    const step = mem + created + node.scratchBytes - credit;
    stepBytes.push(step);
    peak = Math.max(peak, step);
    let freed = i === 0 ? orphanBytes(p) : 0;
    for (const g of node.reads) if (dies(g)) freed += p.storages[g]!.bytes;
    mem += createdLive - freed;
  });
  return { stepBytes, peakBytes: peak, inPlace };
}
