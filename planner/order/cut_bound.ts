/**
 * Cut lower bounds: in every order, the nodes run before node a form a
 * downward-closed set I that contains a's ancestors (and, from a search
 * state S, all of S) and none of a, a's descendants. The bytes live at a's
 * step are mem(I) + created(a) + scratch(a) − credit(a), where mem(I) counts
 * every storage written inside I (or a graph input) that is kept or still has
 * a reader outside I. So
 *
 *   step(a) ≥ min { mem(I) : I ideal, S ∪ anc(a) ⊆ I, I ∩ ({a} ∪ desc(a)) = ∅ }
 *             + created(a) + scratch(a) − (largest possible in-place credit)
 *
 * and the minimum is a minimum s–t cut (a closure problem): nodes on the
 * source side are I; a precedence v → u costs ∞ when v ∈ I and u ∉ I; storage
 * g gets an auxiliary node h_g that may join I only with all readers of g
 * (∞ edges h_g → reader), and the edge writer(g) → h_g of capacity bytes(g)
 * is cut exactly when g is written in I but not read to the end inside it;
 * a kept storage is the edge writer(g) → t. Forced nodes are merged into s
 * or t. The largest such bound over a is a lower bound of the peak of every
 * order (from S): at the bottleneck of a random graph it is far above the
 * per-node bound of analysis.ts, because the cut sees every order at once.
 *
 * Max-flow is Dinic's algorithm on a fixed network whose residual capacities
 * are reset per query; `limit` stops it as soon as the bound exceeds it.
 */
import type { Reach } from './analysis.js';
import type { SearchSpace } from './space.js';

const INF = Number.MAX_VALUE / 4;

export class CutBound {
  private readonly n: number;
  private readonly nodes: number;
  private readonly src: number;
  private readonly snk: number;
  /** CSR: outgoing edge range of each node; edges come in pairs (e, e ^ 1). */
  private readonly first: Int32Array;
  private readonly to: Int32Array;
  /** The reverse of every edge. */
  private readonly pair: Int32Array;
  private readonly base: Float64Array;
  private readonly cap: Float64Array;
  private readonly level: Int32Array;
  private readonly iter: Int32Array;
  private readonly queue: Int32Array;
  private readonly mark: Uint8Array;
  private readonly stackNode: Int32Array;
  private readonly stackEdge: Int32Array;
  /** Per node: created + scratch − largest in-place credit (bytes its step adds to mem). */
  private readonly own: Float64Array;

  constructor(
    private readonly space: SearchSpace,
    private readonly reach: Reach,
    baseBytes: number,
  ) {
    const n = space.n;
    const ns = space.storageBytes.length;
    this.n = n;
    this.src = n + ns;
    this.snk = n + ns + 1;
    this.nodes = n + ns + 2;
    const edges: [number, number, number][] = [];
    for (let v = 0; v < n; v++) for (const u of space.preds[v]!) edges.push([v, u, INF]);
    let constant = baseBytes;
    for (let g = 0; g < ns; g++) {
      const writer = space.problem.storages[g]!.producer;
      const bytes = space.storageBytes[g]!;
      if (space.persistent[g]) {
        if (writer < 0) constant += bytes;
        else edges.push([writer, this.snk, bytes]);
        continue;
      }
      const rd = space.readers[g]!;
      if (rd.length === 0) continue;
      const h = n + g;
      for (const c of rd) edges.push([h, c, INF]);
      edges.push([writer < 0 ? this.src : writer, h, bytes]);
    }
    this.own = new Float64Array(n);
    for (let a = 0; a < n; a++)
      this.own[a] =
        constant + space.created[a]! + space.scratch[a]! - (space.inPlaceFrom[a]!.length > 0 ? space.created[a]! : 0);
    const degree = new Int32Array(this.nodes + 1);
    for (const [u, v] of edges) {
      degree[u]!++;
      degree[v]!++;
    }
    this.first = new Int32Array(this.nodes + 1);
    for (let i = 0; i < this.nodes; i++) this.first[i + 1] = this.first[i]! + degree[i]!;
    const fill = this.first.slice(0, this.nodes);
    const E = edges.length * 2;
    this.to = new Int32Array(E);
    this.base = new Float64Array(E);
    const pairOf = new Int32Array(E);
    for (const [u, v, c] of edges) {
      const e = fill[u]!++;
      const r = fill[v]!++;
      this.to[e] = v;
      this.base[e] = c;
      this.to[r] = u;
      this.base[r] = 0;
      pairOf[e] = r;
      pairOf[r] = e;
    }
    this.pair = pairOf;
    this.cap = new Float64Array(E);
    this.level = new Int32Array(this.nodes);
    this.iter = new Int32Array(this.nodes);
    this.queue = new Int32Array(this.nodes);
    this.mark = new Uint8Array(this.nodes);
    this.stackNode = new Int32Array(this.nodes);
    this.stackEdge = new Int32Array(this.nodes);
  }

  /**
   * Lower bound on step(a) in every order that runs the set S (a bitset of
   * `space.words` words, downward closed, without a) first. Stops early once
   * the bound exceeds `limit` (then the value returned is > limit but maybe
   * not the full bound).
   */
  at(S: Uint32Array, a: number, limit = Infinity): number {
    const { reach, mark } = this;
    const W = this.space.words;
    mark.fill(0);
    const anc = reach.anc;
    const desc = reach.desc;
    for (let w = 0; w < W; w++) {
      let inSrc = S[w]! | anc[a * W + w]!;
      while (inSrc !== 0) {
        const b = 31 - Math.clz32(inSrc & -inSrc);
        inSrc &= inSrc - 1;
        mark[w * 32 + b] = 1;
      }
      let inSnk = desc[a * W + w]!;
      while (inSnk !== 0) {
        const b = 31 - Math.clz32(inSnk & -inSnk);
        inSnk &= inSnk - 1;
        mark[w * 32 + b] = 2;
      }
    }
    mark[a] = 2;
    mark[this.src] = 1;
    mark[this.snk] = 2;
    const own = this.own[a]!;
    return own + this.maxFlow(limit - own);
  }

  /** Largest bound over all nodes with nothing run yet (a lower bound of the optimum). */
  global(): number {
    const S = new Uint32Array(this.space.words);
    let best = 0;
    for (let a = 0; a < this.n; a++) best = Math.max(best, this.at(S, a));
    return best;
  }

  /** Dinic from every source-marked node to every sink-marked node; stops past `limit`. */
  private maxFlow(limit: number): number {
    const { cap, base, level, iter, queue, mark, first, to } = this;
    cap.set(base);
    let flow = 0;
    const N = this.nodes;
    for (;;) {
      // BFS levels from the source side.
      level.fill(-1);
      let head = 0;
      let tail = 0;
      for (let v = 0; v < N; v++) {
        if (mark[v] === 1) {
          level[v] = 0;
          queue[tail++] = v;
        }
      }
      let reached = false;
      while (head < tail) {
        const u = queue[head++]!;
        for (let e = first[u]!; e < first[u + 1]!; e++) {
          if (cap[e]! <= 0) continue;
          const v = to[e]!;
          if (level[v]! >= 0) continue;
          level[v] = level[u]! + 1;
          if (mark[v] === 2) {
            reached = true;
            continue;
          }
          queue[tail++] = v;
        }
      }
      if (!reached) return flow;
      for (let v = 0; v < N; v++) iter[v] = first[v]!;
      // Blocking flow: iterative DFS from each source node.
      for (let s = 0; s < N; s++) {
        if (mark[s] !== 1) continue;
        for (;;) {
          const f = this.augment(s);
          if (f <= 0) break;
          flow += f;
          if (flow > limit) return flow;
        }
      }
    }
  }

  /** One augmenting path in the level graph from s; returns its bottleneck (0 if none). */
  private augment(s: number): number {
    const { cap, level, iter, mark, first, to, pair, stackNode, stackEdge } = this;
    let depth = 0;
    stackNode[0] = s;
    for (;;) {
      const u = stackNode[depth]!;
      if (mark[u] === 2 && depth > 0) {
        let f = INF;
        for (let i = 0; i < depth; i++) f = Math.min(f, cap[stackEdge[i]!]!);
        for (let i = 0; i < depth; i++) {
          const e = stackEdge[i]!;
          cap[e] -= f;
          cap[pair[e]!] += f;
        }
        return f;
      }
      let advanced = false;
      for (; iter[u]! < first[u + 1]!; iter[u]!++) {
        const e = iter[u]!;
        const v = to[e]!;
        if (cap[e]! > 0 && level[v] === level[u]! + 1 && mark[v] !== 1) {
          stackEdge[depth] = e;
          stackNode[++depth] = v;
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
      // Dead end: retreat.
      level[u] = -1;
      if (depth === 0) return 0;
      depth--;
      iter[stackNode[depth]!]!++;
    }
  }
}
