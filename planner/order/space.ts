/**
 * Bitset view of a MemoryProblem for fast search: a partial schedule is the
 * set S of nodes already run (W 32-bit words); the frontier of S (nodes whose
 * predecessors are all in S) determines S for a downward-closed set, so states
 * keyed by S are exactly Serenity's states keyed by the zero-indegree set.
 * The transition arithmetic is memory.ts's, on bitsets.
 */
import { initialBytes, orphanBytes, type MemoryProblem } from '../memory.js';

export class SearchSpace {
  readonly n: number;
  readonly words: number;
  readonly predWords: Uint32Array;
  readonly consWords: Uint32Array;
  readonly storageBytes: Float64Array;
  readonly persistent: Uint8Array;
  readonly created: Float64Array;
  readonly createdLive: Float64Array;
  readonly scratch: Float64Array;
  readonly reads: Int32Array[];
  readonly inPlaceFrom: Int32Array[];
  /** Successors and predecessors of every node, ascending. */
  readonly succs: Int32Array[];
  readonly preds: Int32Array[];
  /** Nodes reading each storage, ascending. */
  readonly readers: Int32Array[];
  /** Position of every node in the smallest-index-first topological order. */
  readonly rank: Int32Array;
  readonly mem0: number;
  readonly orphan: number;
  /** Results of the last `transition` call. */
  stepBytes = 0;
  memAfter = 0;

  constructor(readonly problem: MemoryProblem) {
    const n = problem.nodes.length;
    const W = Math.max(1, Math.ceil(n / 32));
    this.n = n;
    this.words = W;
    this.predWords = new Uint32Array(n * W);
    const succs: number[][] = problem.nodes.map(() => []);
    problem.nodes.forEach((node, u) => {
      for (const v of node.preds) {
        this.predWords[u * W + (v >>> 5)]! |= 1 << (v & 31);
        succs[v]!.push(u);
      }
    });
    this.succs = succs.map((s) => Int32Array.from(s).sort());
    this.preds = problem.nodes.map((node) => Int32Array.from(node.preds).sort());
    const ns = problem.storages.length;
    this.consWords = new Uint32Array(ns * W);
    this.storageBytes = new Float64Array(ns);
    this.persistent = new Uint8Array(ns);
    problem.storages.forEach((s, g) => {
      for (const c of s.consumers) this.consWords[g * W + (c >>> 5)]! |= 1 << (c & 31);
      this.storageBytes[g] = s.bytes;
      this.persistent[g] = s.persistent ? 1 : 0;
    });
    const readers: number[][] = problem.storages.map(() => []);
    problem.nodes.forEach((node, u) => {
      for (const g of node.reads) readers[g]!.push(u);
    });
    this.readers = readers.map((r) => Int32Array.from(r));
    this.created = new Float64Array(n);
    this.createdLive = new Float64Array(n);
    this.scratch = new Float64Array(n);
    problem.nodes.forEach((node, u) => {
      for (const o of node.creates) {
        const s = problem.storages[o]!;
        this.created[u] += s.bytes;
        if (s.persistent || s.consumers.length > 0) this.createdLive[u] += s.bytes;
      }
      this.scratch[u] = node.scratchBytes;
    });
    this.reads = problem.nodes.map((node) => Int32Array.from(node.reads));
    this.inPlaceFrom = problem.nodes.map((node) => Int32Array.from(node.inPlaceFrom));
    this.rank = new Int32Array(n);
    {
      const indeg = problem.nodes.map((node) => node.preds.length);
      const ready: number[] = [];
      for (let u = 0; u < n; u++) if (indeg[u] === 0) ready.push(u);
      let r = 0;
      while (ready.length > 0) {
        ready.sort((a, b) => a - b);
        const u = ready.shift()!;
        this.rank[u] = r++;
        for (const v of this.succs[u]!) if (--indeg[v]! === 0) ready.push(v);
      }
      if (r !== n) throw new Error('the graph has a cycle');
    }
    this.mem0 = initialBytes(problem);
    this.orphan = orphanBytes(problem);
  }

  has(S: Uint32Array, off: number, u: number): boolean {
    return (S[off + (u >>> 5)]! & (1 << (u & 31))) !== 0;
  }

  /** Frontier of S (nodes not in S whose predecessors are all in S), ascending, into `out`. */
  ready(S: Uint32Array, off: number, out: number[]): number[] {
    out.length = 0;
    const W = this.words;
    for (let u = 0; u < this.n; u++) {
      if (this.has(S, off, u)) continue;
      let ok = true;
      const base = u * W;
      for (let w = 0; w < W; w++) {
        if ((this.predWords[base + w]! & ~S[off + w]!) !== 0) {
          ok = false;
          break;
        }
      }
      if (ok) out.push(u);
    }
    return out;
  }

  /** True when every predecessor of u is in S. */
  predsIn(S: Uint32Array, off: number, u: number): boolean {
    const W = this.words;
    const base = u * W;
    for (let w = 0; w < W; w++) if ((this.predWords[base + w]! & ~S[off + w]!) !== 0) return false;
    return true;
  }

  /** True when storage g has no reader outside S ∪ {u} and is not persistent. */
  dies(g: number, S: Uint32Array, off: number, u: number): boolean {
    if (this.persistent[g]) return false;
    const W = this.words;
    const uw = u >>> 5;
    const ub = 1 << (u & 31);
    const base = g * W;
    for (let w = 0; w < W; w++) {
      const done = S[off + w]! | (w === uw ? ub : 0);
      if ((this.consWords[base + w]! & ~done) !== 0) return false;
    }
    return true;
  }

  /** Runs u after S with mem(S) = mem; sets stepBytes and memAfter. */
  transition(S: Uint32Array, off: number, mem: number, u: number, first: boolean): void {
    let credit = 0;
    const cand = this.inPlaceFrom[u]!;
    for (let i = 0; i < cand.length; i++) {
      if (this.dies(cand[i]!, S, off, u)) {
        credit = this.created[u]!;
        break;
      }
    }
    let freed = first ? this.orphan : 0;
    const r = this.reads[u]!;
    for (let i = 0; i < r.length; i++) if (this.dies(r[i]!, S, off, u)) freed += this.storageBytes[r[i]!]!;
    this.stepBytes = mem + this.created[u]! + this.scratch[u]! - credit;
    this.memAfter = mem + this.createdLive[u]! - freed;
  }

  /** Key of a bitset for Map lookups (16 bits per char). */
  key(S: Uint32Array, off: number): string {
    let k = '';
    for (let w = 0; w < this.words; w++) {
      const x = S[off + w]!;
      k += String.fromCharCode(x & 0xffff, x >>> 16);
    }
    return k;
  }
}
