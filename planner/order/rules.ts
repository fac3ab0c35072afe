/**
 * Two exchange rules that let the order DP (dp.ts) skip most partial
 * schedules without losing the optimum. Notation (memory.ts): a state is the
 * set S of nodes run, mem(S) the bytes live after it; running u after S has
 *   e(u|S)   = step(u|S) − mem(S) = created + scratch − inPlaceCredit
 *   net(u|S) = mem(S ∪ {u}) − mem(S) = createdLive − freed.
 * Both only depend on which inputs of u die at u, which is monotone in S: for
 * T ⊇ S, freed(u|T) ⊇ freed(u|S) and the in-place credit can only appear, so
 * net(u|T) ≤ net(u|S) and e(u|T) ≤ e(u|S).
 *
 * 1. Forced moves (a free step). Let θ be a bound with θ ≤ max(optimum, τ)
 *    for the question asked (the budget τ of a run: "is there an order with
 *    peak ≤ τ?"). If at S (S ≠ ∅) a ready node f has step(f|S) ≤ θ and
 *    net(f|S) ≤ 0, some order with peak ≤ max(its own, θ) runs f next.
 *    Proof: take any completion X f Y of S and move f to the front. Y is
 *    unchanged. Every x ∈ X now runs after T ∪ {f} instead of T (T ⊇ S), so
 *    its step changes by net(f|T) ≤ net(f|S) ≤ 0 plus a credit that can only
 *    grow; f's own step is step(f|S) ≤ θ. The same holds for a chain f → g
 *    where g's only predecessor is f: if both steps from S are ≤ θ and both
 *    the pair's net and g's net (after f) are ≤ 0, moving f and g to the front
 *    (keeping their order) changes every step in between by a suffix net of
 *    the pair, ≤ 0.
 *
 * 2. Lazy runs (an allocation waits for its use). Node x is *lazy* at S
 *    (S ≠ ∅) when it is lazy-capable (no scratch; all it creates is read later
 *    or kept; at least one successor) and none of its inputs dies at x: it
 *    only allocates, e(x|S) = net(x|S) = created(x) > 0.
 *    Swap lemma: if x is lazy at S and y is not a successor of x and does not
 *    free an input of x (y is not the last pending reader of a storage x
 *    reads), then running y, x instead of x, y does not raise the peak: y's
 *    step drops by created(x), and x's step becomes
 *    mem(S) + net(y) + created(x) ≤ mem(S) + created(x) + e(y) (old step of
 *    y), since net ≤ e. Neither node changes the other's lazy status.
 *    Take an order of maximal Φ = Σ position(x) over the nodes that are lazy
 *    where they run, among the orders with the smallest peak. A maximal run
 *    of lazy nodes x1..xk is followed by a non-lazy node z (lazy nodes have
 *    successors, so the order cannot end lazily). If some xi were neither a
 *    predecessor of a later xj or of z, nor had an input freed by z, pushing
 *    xi past xi+1..xk and z would be k−i+1 legal swaps raising Φ by one: a
 *    contradiction. So every run of lazy nodes exists only to feed or be
 *    released by the node z closing it: the DP never stops after a lazy node;
 *    it runs whole runs (R, z) where R is the set of lazy ancestors z needs
 *    plus, for each input of z it chooses to free, all of that input's
 *    remaining readers. Both rules combine (the construction fixes the order
 *    left to right: forced moves where the DP forces them, else the prefix of
 *    a Φ-maximal completion up to the next non-lazy node), so a DP that
 *    applies them still finds an order with peak ≤ max(optimum, θ), and one
 *    whose states all exceed τ proves the optimum > τ.
 *
 * Both rules are checked against brute force over every order on random
 * graphs (test/planner/order_rules.test.ts).
 */
import type { SearchSpace } from './space.js';

export class ScheduleRules {
  /** May the node be lazy somewhere: no scratch, nothing created dies at once, has successors, every input has another reader or is kept. */
  readonly lazyCapable: Uint8Array;
  /** May running the node ever leave memory unchanged or lower (a forced-move candidate). */
  readonly canFree: Uint8Array;
  /** Smallest possible step(u|S) − mem(S): created + scratch − the largest in-place credit. */
  readonly minStepExtra: Float64Array;
  /** Successors whose only predecessor is the node (candidates for forced pairs). */
  readonly pairNext: Int32Array[];
  /**
   * Per node (W words each): the nodes whose forced-move test running it can
   * change: its successors, the other readers of its inputs, and the single
   * predecessor of either (a forced pair starts there).
   */
  readonly touch: Uint32Array;
  /** Nodes that may close a lazy run containing the node: successors reached through lazy-capable nodes, and readers of their inputs. */
  readonly closers: Int32Array[];

  constructor(readonly space: SearchSpace) {
    const n = space.n;
    this.lazyCapable = new Uint8Array(n);
    this.canFree = new Uint8Array(n);
    for (let u = 0; u < n; u++) {
      const reads = space.reads[u]!;
      let readBytes = 0;
      let othersRead = true;
      for (let i = 0; i < reads.length; i++) {
        const g = reads[i]!;
        if (!space.persistent[g]) readBytes += space.storageBytes[g]!;
        if (!space.persistent[g] && space.readers[g]!.length < 2) othersRead = false;
      }
      if (space.createdLive[u]! <= readBytes) this.canFree[u] = 1;
      if (
        space.scratch[u] === 0 &&
        space.created[u] === space.createdLive[u] &&
        space.created[u]! > 0 &&
        space.succs[u]!.length > 0 &&
        othersRead
      )
        this.lazyCapable[u] = 1;
    }
    this.minStepExtra = new Float64Array(n);
    for (let u = 0; u < n; u++)
      this.minStepExtra[u] =
        space.created[u]! + space.scratch[u]! - (space.inPlaceFrom[u]!.length > 0 ? space.created[u]! : 0);
    this.pairNext = space.succs.map((s) => Int32Array.from(s.filter((v) => space.preds[v]!.length === 1)));
    const W = space.words;
    this.touch = new Uint32Array(n * W);
    for (let x = 0; x < n; x++) {
      const set = (y: number) => {
        this.touch[x * W + (y >>> 5)]! |= 1 << (y & 31);
        const p = space.preds[y]!;
        if (p.length === 1) this.touch[x * W + (p[0]! >>> 5)]! |= 1 << (p[0]! & 31);
      };
      for (const v of space.succs[x]!) set(v);
      for (const g of space.reads[x]!) for (const y of space.readers[g]!) set(y);
    }
    this.closers = [];
    for (let x = 0; x < n; x++) {
      if (!this.lazyCapable[x]) {
        this.closers.push(new Int32Array(0));
        continue;
      }
      const out = new Set<number>();
      const seen = new Set<number>([x]);
      const stack = [x];
      while (stack.length > 0) {
        const y = stack.pop()!;
        for (const g of space.reads[y]!) for (const z of space.readers[g]!) if (z !== y) out.add(z);
        for (const v of space.succs[y]!) {
          out.add(v);
          if (this.lazyCapable[v] && !seen.has(v)) {
            seen.add(v);
            stack.push(v);
          }
        }
      }
      this.closers.push(Int32Array.from([...out].sort((a, b) => a - b)));
    }
  }
}
