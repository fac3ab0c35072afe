/**
 * Graph facts the order searches use: ancestor/descendant sets, a static lower
 * bound on the peak of any order, and single-node cuts for divide and conquer.
 */
import { initialBytes, type MemoryProblem } from '../memory.js';

export class Reach {
  readonly n: number;
  readonly words: number;
  /** anc[u*W..]: bitset of u's ancestors; desc likewise. */
  readonly anc: Uint32Array;
  readonly desc: Uint32Array;
  readonly topo: number[];

  constructor(p: MemoryProblem) {
    const n = p.nodes.length;
    const W = Math.max(1, Math.ceil(n / 32));
    this.n = n;
    this.words = W;
    this.topo = topologicalOrder(p);
    this.anc = new Uint32Array(n * W);
    this.desc = new Uint32Array(n * W);
    const succs: number[][] = p.nodes.map(() => []);
    p.nodes.forEach((node, u) => node.preds.forEach((v) => succs[v]!.push(u)));
    for (const u of this.topo) {
      for (const v of p.nodes[u]!.preds) {
        for (let w = 0; w < W; w++) this.anc[u * W + w]! |= this.anc[v * W + w]!;
        this.anc[u * W + (v >>> 5)]! |= 1 << (v & 31);
      }
    }
    for (let i = this.topo.length - 1; i >= 0; i--) {
      const u = this.topo[i]!;
      for (const v of succs[u]!) {
        for (let w = 0; w < W; w++) this.desc[u * W + w]! |= this.desc[v * W + w]!;
        this.desc[u * W + (v >>> 5)]! |= 1 << (v & 31);
      }
    }
  }

  isAnc(v: number, u: number): boolean {
    return (this.anc[u * this.words + (v >>> 5)]! & (1 << (v & 31))) !== 0;
  }

  isDesc(v: number, u: number): boolean {
    return (this.desc[u * this.words + (v >>> 5)]! & (1 << (v & 31))) !== 0;
  }

  count(bits: Uint32Array, u: number): number {
    let c = 0;
    for (let w = 0; w < this.words; w++) c += popcount(bits[u * this.words + w]!);
    return c;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Kahn's algorithm, smallest index first; throws on a cycle. */
export function topologicalOrder(p: MemoryProblem): number[] {
  const n = p.nodes.length;
  const indeg = p.nodes.map((node) => node.preds.length);
  const succs: number[][] = p.nodes.map(() => []);
  p.nodes.forEach((node, u) => node.preds.forEach((v) => succs[v]!.push(u)));
  const ready: number[] = [];
  for (let u = 0; u < n; u++) if (indeg[u] === 0) ready.push(u);
  const out: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const u = ready.shift()!;
    out.push(u);
    for (const v of succs[u]!) if (--indeg[v]! === 0) ready.push(v);
  }
  if (out.length !== n) throw new Error('the graph has a cycle');
  return out;
}

/**
 * A lower bound on the peak of every topological order: at each node's step,
 * its inputs, outputs and scratch are live, and so is every storage written by
 * one of its ancestors (or before the first step) and read by one of its
 * descendants (or persistent). An in-place credit is assumed whenever possible.
 */
export function staticLowerBound(p: MemoryProblem, reach: Reach = new Reach(p)): number {
  let lb = initialBytes(p);
  let end = p.baseBytes;
  for (const s of p.storages) if (s.persistent) end += s.bytes;
  lb = Math.max(lb, end);
  p.nodes.forEach((node, u) => {
    const own = new Set([...node.reads, ...node.creates]);
    let created = 0;
    for (const o of node.creates) created += p.storages[o]!.bytes;
    let live = p.baseBytes + node.scratchBytes - (node.inPlaceFrom.length > 0 ? created : 0);
    p.storages.forEach((s, g) => {
      if (own.has(g)) {
        live += s.bytes;
        return;
      }
      const before = s.producer < 0 || reach.isAnc(s.producer, u);
      if (!before) return;
      if (s.persistent || s.consumers.some((c) => reach.isDesc(c, u))) live += s.bytes;
    });
    lb = Math.max(lb, live);
  });
  return lb;
}

/**
 * Single-node cuts: nodes comparable with every other node (each other node
 * is an ancestor or a descendant). Every order runs all of a cut's ancestors
 * before it and all its descendants after, so the live set at a cut does not
 * depend on the order and the pieces between cuts can be ordered separately.
 * Returns the pieces in execution order (cuts as one-node pieces).
 */
export function splitAtCuts(p: MemoryProblem, reach: Reach = new Reach(p)): number[][] {
  const n = p.nodes.length;
  const cuts: number[] = [];
  for (let u = 0; u < n; u++) if (reach.count(reach.anc, u) + reach.count(reach.desc, u) === n - 1) cuts.push(u);
  cuts.sort((a, b) => reach.count(reach.anc, a) - reach.count(reach.anc, b));
  const isCut = new Uint8Array(n);
  for (const c of cuts) isCut[c] = 1;
  const between: number[][] = cuts.map(() => []);
  between.push([]);
  for (const u of reach.topo) {
    if (isCut[u]) continue;
    let k = 0;
    while (k < cuts.length && reach.isAnc(cuts[k]!, u)) k++;
    between[k]!.push(u);
  }
  const pieces: number[][] = [];
  for (let k = 0; k <= cuts.length; k++) {
    if (between[k]!.length > 0) pieces.push(between[k]!);
    if (k < cuts.length) pieces.push([cuts[k]!]);
  }
  return pieces;
}

/**
 * The sub-problem of one piece: storages written before it and read inside it
 * are live at its start; storages needed after it are persistent within it;
 * storages written before and needed only after are constant base bytes.
 * `pieceIndex` 0 keeps the storages no one reads (graph inputs nobody uses).
 */
export function subProblem(
  p: MemoryProblem,
  pieces: number[][],
  pieceIndex: number,
): { problem: MemoryProblem; nodes: number[] } {
  const piece = pieces[pieceIndex]!;
  const where = new Int32Array(p.nodes.length);
  pieces.forEach((nodes, k) => nodes.forEach((u) => (where[u] = k)));
  const local = new Map<number, number>();
  piece.forEach((u, i) => local.set(u, i));
  const storageMap = new Map<number, number>();
  const storages: MemoryProblem['storages'] = [];
  let baseBytes = p.baseBytes;
  p.storages.forEach((s, g) => {
    const at = s.producer < 0 ? -1 : where[s.producer]!;
    if (at > pieceIndex) return;
    const inside = s.consumers.filter((c) => where[c] === pieceIndex);
    const later = s.persistent || s.consumers.some((c) => where[c]! > pieceIndex);
    if (at < pieceIndex) {
      if (inside.length > 0) {
        storageMap.set(g, storages.length);
        storages.push({
          name: s.name,
          bytes: s.bytes,
          producer: -1,
          consumers: inside.map((c) => local.get(c)!),
          persistent: later,
        });
      } else if (later) {
        baseBytes += s.bytes;
      } else if (pieceIndex === 0 && s.producer < 0 && s.consumers.length === 0) {
        storageMap.set(g, storages.length);
        storages.push({ name: s.name, bytes: s.bytes, producer: -1, consumers: [], persistent: false });
      }
      return;
    }
    storageMap.set(g, storages.length);
    storages.push({
      name: s.name,
      bytes: s.bytes,
      producer: local.get(s.producer)!,
      consumers: inside.map((c) => local.get(c)!),
      persistent: later,
    });
  });
  const mapS = (list: number[]) => list.filter((g) => storageMap.has(g)).map((g) => storageMap.get(g)!);
  const nodes = piece.map((u) => {
    const node = p.nodes[u]!;
    return {
      name: node.name,
      preds: node.preds.filter((v) => local.has(v)).map((v) => local.get(v)!),
      reads: mapS(node.reads),
      creates: mapS(node.creates),
      scratchBytes: node.scratchBytes,
      inPlaceFrom: mapS(node.inPlaceFrom),
    };
  });
  return { problem: { nodes, storages, baseBytes }, nodes: piece };
}
