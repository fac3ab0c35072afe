/**
 * One budgeted run of the order DP (Serenity's dynamic programming over
 * partial schedules, with the exchange rules of rules.ts):
 *
 * - A state is the set S of nodes run; of all prefixes reaching S only the one
 *   with the smallest peak is kept (memory after S depends on S alone). States
 *   live in one table per |S| and are expanded in increasing |S|.
 * - Prefixes whose peak exceeds the budget τ are dropped; the smallest dropped
 *   peak is remembered. A run that dies out proves that every order peaks
 *   above τ, and that smallest dropped peak is a lower bound of the optimum.
 * - After every move the forced moves (rules.ts, 1) are applied at once, so
 *   only states with no forced move are stored; lazy nodes (rules.ts, 2) only
 *   move inside whole runs closed by the node they feed or are freed by.
 *
 * With `keep` the run keeps only the best `keep` states of each size (lowest
 * memory, then lowest peak): a beam search over the same moves. It finds good
 * orders fast but proves nothing when it dies out.
 */
import type { CutBound } from './cut_bound.js';
import type { ScheduleRules } from './rules.js';
import type { SearchSpace } from './space.js';

export interface DpOptions {
  /** Budget: prefixes with a larger peak are dropped. */
  tau: number;
  /** Threshold of forced moves; ≤ max(optimum, tau) keeps the run exact (tau itself is fine). */
  theta: number;
  /** Date.now() past which the run stops. */
  deadline: number;
  /** Most states kept in memory at once. */
  maxStates: number;
  /** Beam width per state size (heuristic run); unlimited when absent. */
  keep?: number;
  /** Cut bounds (cut_bound.ts): a new state is dropped when a node still to run must peak above tau. */
  cut?: CutBound;
  /** Cut bounds tried per new state (default 8). */
  cutTries?: number;
}

export type DpResult =
  | { kind: 'found'; order: number[]; peak: number; states: number }
  /** No order with peak ≤ tau among those explored; `minPruned` is a lower bound of the optimum when the run kept every state. */
  | { kind: 'none'; minPruned: number; states: number }
  | { kind: 'aborted'; reason: string; states: number };

/** States of one size: the frontier of the search while open, parent links once expanded. */
class Layer {
  count = 0;
  keys: Uint32Array;
  ready: Uint32Array;
  mem: Float64Array;
  peak: Float64Array;
  parent: Int32Array;
  parentLayer: Int32Array;
  move: Int32Array;
  /** Node whose cut bound was highest when the state was stored (-1: none); -2 marks a state dropped by its cut bound. */
  critical: Int32Array;
  private slots: Int32Array;
  private mask: number;
  private cap: number;
  /** Set by `find`: whether the key was new. */
  inserted = false;

  constructor(
    readonly W: number,
    capacity: number,
  ) {
    this.cap = Math.max(16, capacity);
    this.keys = new Uint32Array(this.cap * W);
    this.ready = new Uint32Array(this.cap * W);
    this.mem = new Float64Array(this.cap);
    this.peak = new Float64Array(this.cap);
    this.parent = new Int32Array(this.cap);
    this.parentLayer = new Int32Array(this.cap);
    this.move = new Int32Array(this.cap);
    this.critical = new Int32Array(this.cap);
    let size = 32;
    while (size < this.cap * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  private hash(a: Uint32Array, off: number): number {
    let h = 0x811c9dc5;
    for (let w = 0; w < this.W; w++) h = Math.imul(h ^ a[off + w]!, 0x01000193) ^ (h >>> 15);
    return h >>> 0;
  }

  /** Index of `key` (W words), inserting it when new. */
  find(key: Uint32Array): number {
    const W = this.W;
    let i = this.hash(key, 0) & this.mask;
    for (;;) {
      const j = this.slots[i]!;
      if (j < 0) break;
      const o = j * W;
      let same = true;
      for (let w = 0; w < W; w++) {
        if (this.keys[o + w] !== key[w]) {
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
    if (this.count === this.cap) this.grow();
    const j = this.count++;
    this.keys.set(key, j * W);
    this.slots[i] = j;
    this.inserted = true;
    if (this.count * 2 > this.slots.length) this.rehash();
    return j;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const W = this.W;
    const u32 = (a: Uint32Array) => {
      const b = new Uint32Array(cap * W);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.keys = u32(this.keys);
    this.ready = u32(this.ready);
    this.mem = f64(this.mem);
    this.peak = f64(this.peak);
    this.parent = i32(this.parent);
    this.parentLayer = i32(this.parentLayer);
    this.move = i32(this.move);
    this.critical = i32(this.critical);
    this.cap = cap;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let j = 0; j < this.count; j++) {
      let i = this.hash(this.keys, j * this.W) & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = j;
    }
  }

  /** Keeps the `keep` best states (lowest memory, then peak, then insertion order). */
  prune(keep: number): Layer {
    if (this.count <= keep) return this;
    const idx = Array.from({ length: this.count }, (_, j) => j).sort(
      (a, b) => this.mem[a]! - this.mem[b]! || this.peak[a]! - this.peak[b]! || a - b,
    );
    idx.length = keep;
    idx.sort((a, b) => a - b);
    const out = new Layer(this.W, keep);
    const W = this.W;
    for (const j of idx) {
      const q = out.find(this.keys.subarray(j * W, j * W + W));
      out.ready.set(this.ready.subarray(j * W, j * W + W), q * W);
      out.mem[q] = this.mem[j]!;
      out.peak[q] = this.peak[j]!;
      out.parent[q] = this.parent[j]!;
      out.parentLayer[q] = this.parentLayer[j]!;
      out.move[q] = this.move[j]!;
      out.critical[q] = this.critical[j]!;
    }
    return out;
  }

  /** Drops the frontier data of an expanded layer, keeping the parent links. */
  close(): void {
    this.keys = new Uint32Array(0);
    this.ready = new Uint32Array(0);
    this.mem = new Float64Array(0);
    this.peak = new Float64Array(0);
    this.critical = new Int32Array(0);
    this.slots = new Int32Array(0);
    this.parent = this.parent.slice(0, this.count);
    this.parentLayer = this.parentLayer.slice(0, this.count);
    this.move = this.move.slice(0, this.count);
  }
}

/** The search state being built while one stored state is expanded. */
class Cursor {
  readonly S: Uint32Array;
  readonly R: Uint32Array;
  mem = 0;
  peak = 0;
  k = 0;
  /** Nodes applied since the stored state was loaded. */
  readonly seq: Int32Array;
  seqLen = 0;

  constructor(
    readonly space: SearchSpace,
    W: number,
  ) {
    this.S = new Uint32Array(W);
    this.R = new Uint32Array(W);
    this.seq = new Int32Array(space.n);
  }

  apply(u: number): void {
    const sp = this.space;
    const W = sp.words;
    sp.transition(this.S, 0, this.mem, u, this.k === 0);
    if (sp.stepBytes > this.peak) this.peak = sp.stepBytes;
    this.mem = sp.memAfter;
    this.k++;
    this.S[u >>> 5]! |= 1 << (u & 31);
    this.R[u >>> 5]! &= ~(1 << (u & 31));
    const sc = sp.succs[u]!;
    for (let i = 0; i < sc.length; i++) {
      const v = sc[i]!;
      if (sp.predsIn(this.S, 0, v)) this.R[v >>> 5]! |= 1 << (v & 31);
    }
    this.seq[this.seqLen++] = u;
  }

  has(u: number): boolean {
    return (this.S[u >>> 5]! & (1 << (u & 31))) !== 0;
  }
}

export function dpRun(space: SearchSpace, rules: ScheduleRules, o: DpOptions): DpResult {
  return new DpSearch(space, rules, o).run();
}

class DpSearch {
  private readonly W: number;
  private readonly n: number;
  private readonly layers: (Layer | undefined)[];
  private moveLog = new Int32Array(1024);
  private moveLen = 0;
  private readonly c: Cursor;
  private readonly saveS: Uint32Array;
  private readonly saveR: Uint32Array;
  private saveMem = 0;
  private savePeak = 0;
  private saveK = 0;
  private saveCritical = -1;
  private fromLayer = 0;
  private fromIndex = 0;
  private minPruned = Infinity;
  private stored = 0;
  private live = 0;
  private forcedNext = -1;
  // Scratch for lazy runs.
  private readonly inRun: Uint8Array;
  private readonly stamp: Int32Array;
  private stampId = 0;
  private readonly runList: Int32Array;
  private runLen = 0;
  private runOk = true;
  private runAlloc = 0;
  private readonly lazyReady: Int32Array;
  private readonly closerList: Int32Array;
  private readonly inputs: Int32Array;
  private readonly stack: Int32Array;
  /** Runs tried from the state being expanded: member sets (bitsets) and their peaks, to skip repeats. */
  private readonly zobrist: Int32Array;
  private seenHash = new Int32Array(64);
  private seenPeak = new Float64Array(64);
  private seenSet = new Uint32Array(64);
  private seenCount = 0;
  private readonly runSet: Uint32Array;
  private readonly touched: Uint32Array;

  constructor(
    private readonly sp: SearchSpace,
    private readonly rules: ScheduleRules,
    private readonly o: DpOptions,
  ) {
    this.W = sp.words;
    this.n = sp.n;
    this.layers = new Array(this.n + 1);
    this.c = new Cursor(sp, this.W);
    this.saveS = new Uint32Array(this.W);
    this.saveR = new Uint32Array(this.W);
    this.inRun = new Uint8Array(this.n);
    this.stamp = new Int32Array(this.n);
    this.runList = new Int32Array(this.n);
    this.lazyReady = new Int32Array(this.n);
    this.closerList = new Int32Array(this.n);
    this.stack = new Int32Array(this.n);
    let maxReads = 0;
    for (const r of sp.reads) maxReads = Math.max(maxReads, r.length);
    this.inputs = new Int32Array(maxReads);
    this.zobrist = new Int32Array(this.n);
    let h = 0x2545f491;
    for (let u = 0; u < this.n; u++) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + 0x6b43a9b5;
      this.zobrist[u] = h ^ (h >>> 13);
    }
    this.runSet = new Uint32Array(this.W);
    this.touched = new Uint32Array(this.W);
  }

  run(): DpResult {
    const { sp, W, n } = this;
    const root = new Layer(W, 1);
    this.layers[0] = root;
    root.find(new Uint32Array(W));
    for (let u = 0; u < n; u++) if (sp.preds[u]!.length === 0) root.ready[u >>> 5]! |= 1 << (u & 31);
    root.mem[0] = sp.mem0;
    root.peak[0] = 0;
    root.parent[0] = -1;
    root.parentLayer[0] = -1;
    root.move[0] = -1;
    root.critical[0] = -1;
    this.live = 1;
    let work = 0;
    for (let k = 0; k < n; k++) {
      let layer = this.layers[k];
      if (!layer) continue;
      if (this.o.keep !== undefined && layer.count > this.o.keep) {
        this.live -= layer.count - this.o.keep;
        layer = this.layers[k] = layer.prune(this.o.keep);
      }
      this.fromLayer = k;
      for (let i = 0; i < layer.count; i++) {
        if ((++work & 127) === 0 && Date.now() > this.o.deadline)
          return { kind: 'aborted', reason: 'time limit', states: this.stored };
        if (layer.critical[i] === -2) continue;
        this.fromIndex = i;
        this.expand(layer, i, k);
        if (this.live > this.o.maxStates)
          return { kind: 'aborted', reason: `more than ${this.o.maxStates} states kept`, states: this.stored };
      }
      this.live -= layer.count;
      layer.close();
    }
    const last = this.layers[n];
    if (!last || last.count === 0) return { kind: 'none', minPruned: this.minPruned, states: this.stored };
    const moves: number[] = [];
    let L = n;
    let I = 0;
    while (L > 0) {
      const layer = this.layers[L]!;
      moves.push(layer.move[I]!);
      const pl = layer.parentLayer[I]!;
      I = layer.parent[I]!;
      L = pl;
    }
    const order: number[] = [];
    for (let m = moves.length - 1; m >= 0; m--) {
      const at = moves[m]!;
      const len = this.moveLog[at]!;
      for (let q = 1; q <= len; q++) order.push(this.moveLog[at + q]!);
    }
    return { kind: 'found', order, peak: last.peak[0]!, states: this.stored };
  }

  private load(): void {
    const c = this.c;
    c.S.set(this.saveS);
    c.R.set(this.saveR);
    c.mem = this.saveMem;
    c.peak = this.savePeak;
    c.k = this.saveK;
    c.seqLen = 0;
  }

  private expand(layer: Layer, i: number, k: number): void {
    const { W, c, rules } = this;
    for (let q = 0; q < W; q++) {
      this.saveS[q] = layer.keys[i * W + q]!;
      this.saveR[q] = layer.ready[i * W + q]!;
    }
    this.saveMem = layer.mem[i]!;
    this.savePeak = layer.peak[i]!;
    this.saveK = k;
    this.saveCritical = layer.critical[i]!;
    this.load();
    let lazyCount = 0;
    for (let w = 0; w < W; w++) {
      let x = this.saveR[w]!;
      while (x !== 0) {
        const b = 31 - Math.clz32(x & -x);
        x &= x - 1;
        const u = w * 32 + b;
        if (k > 0 && rules.lazyCapable[u] && this.isLazy(u)) {
          this.lazyReady[lazyCount++] = u;
          continue;
        }
        c.apply(u);
        this.close();
        this.load();
      }
    }
    if (lazyCount > 0) this.lazyRuns(lazyCount);
  }

  /** No input of u dies at u after the cursor's S. */
  private isLazy(u: number): boolean {
    const sp = this.sp;
    const r = sp.reads[u]!;
    for (let i = 0; i < r.length; i++) if (sp.dies(r[i]!, this.c.S, 0, u)) return false;
    return true;
  }

  /** Forced move after the cursor's state (rules.ts, 1): a node, or a node whose `forcedNext` follows. */
  private forced(only?: Uint32Array): number {
    const { sp, rules, c, W } = this;
    this.forcedNext = -1;
    if (c.k === 0) return -1;
    const theta = this.o.theta;
    const mem = c.mem;
    for (let w = 0; w < W; w++) {
      let x = only ? c.R[w]! & only[w]! : c.R[w]!;
      while (x !== 0) {
        const b = 31 - Math.clz32(x & -x);
        x &= x - 1;
        const u = w * 32 + b;
        const next = rules.pairNext[u]!;
        if (!rules.canFree[u] && next.length === 0) continue;
        if (mem + rules.minStepExtra[u]! > theta) continue;
        sp.transition(c.S, 0, mem, u, false);
        if (sp.stepBytes > theta) continue;
        if (sp.memAfter <= mem && rules.canFree[u]) return u;
        if (next.length === 0) continue;
        const m1 = sp.memAfter;
        const bit = 1 << (u & 31);
        c.S[u >>> 5]! |= bit;
        let found = -1;
        for (let q = 0; q < next.length; q++) {
          const v = next[q]!;
          sp.transition(c.S, 0, m1, v, false);
          if (sp.stepBytes <= theta && sp.memAfter <= m1 && sp.memAfter <= mem) {
            found = v;
            break;
          }
        }
        c.S[u >>> 5]! &= ~bit;
        if (found >= 0) {
          this.forcedNext = found;
          return u;
        }
      }
    }
    return -1;
  }

  /** Applies forced moves to the cursor, then stores the state (or records the pruned peak). */
  private close(): void {
    const c = this.c;
    const tau = this.o.tau;
    // The saved state had no forced move. If this move did not lower memory,
    // only nodes it touched (successors, readers of what it read) can have become forced.
    let only: Uint32Array | undefined;
    if (this.saveK > 0 && c.mem >= this.saveMem) {
      only = this.touched;
      only.fill(0);
      const W = this.W;
      for (let i = 0; i < c.seqLen; i++) {
        const base = c.seq[i]! * W;
        for (let w = 0; w < W; w++) only[w]! |= this.rules.touch[base + w]!;
      }
    }
    while (c.peak <= tau) {
      const f = this.forced(only);
      only = undefined;
      if (f < 0) break;
      const g = this.forcedNext;
      c.apply(f);
      if (g >= 0) c.apply(g);
    }
    if (c.peak > tau) {
      if (c.peak < this.minPruned) this.minPruned = c.peak;
      return;
    }
    let layer = this.layers[c.k];
    if (!layer) layer = this.layers[c.k] = new Layer(this.W, 256);
    const j = layer.find(c.S);
    if (layer.inserted) {
      layer.ready.set(c.R, j * this.W);
      layer.mem[j] = c.mem;
      this.stored++;
      this.live++;
      layer.critical[j] = this.o.cut ? this.cutCheck() : -1;
      if (layer.critical[j] === -2) {
        layer.peak[j] = c.peak;
        return;
      }
    } else if (layer.critical[j] === -2 || c.peak >= layer.peak[j]!) {
      return;
    }
    layer.peak[j] = c.peak;
    layer.parent[j] = this.fromIndex;
    layer.parentLayer[j] = this.fromLayer;
    layer.move[j] = this.logMove(c.seq, c.seqLen);
  }

  /**
   * Cut bounds of a few nodes still to run after the cursor's state: first
   * the node that was critical for the state expanded, then the ready nodes.
   * Returns -2 when one exceeds tau (the state is dropped; the bound joins the
   * pruned peaks), else the node with the highest bound seen.
   */
  private cutCheck(): number {
    const cut = this.o.cut!;
    const c = this.c;
    const tau = this.o.tau;
    let tries = this.o.cutTries ?? 8;
    let best = -1;
    let bestValue = -1;
    const test = (a: number): boolean => {
      tries--;
      const v = cut.at(c.S, a, tau);
      if (v > tau) {
        if (v < this.minPruned) this.minPruned = v;
        return true;
      }
      if (v > bestValue) {
        bestValue = v;
        best = a;
      }
      return false;
    };
    const inherited = this.saveCritical;
    if (inherited >= 0 && !c.has(inherited) && test(inherited)) return -2;
    for (let w = 0; w < this.W && tries > 0; w++) {
      let x = c.R[w]!;
      while (x !== 0 && tries > 0) {
        const b = 31 - Math.clz32(x & -x);
        x &= x - 1;
        const a = w * 32 + b;
        if (a !== inherited && test(a)) return -2;
      }
    }
    return best;
  }

  private logMove(seq: Int32Array, len: number): number {
    const need = this.moveLen + len + 1;
    if (need > this.moveLog.length) {
      let size = this.moveLog.length * 2;
      while (size < need) size *= 2;
      const grown = new Int32Array(size);
      grown.set(this.moveLog.subarray(0, this.moveLen));
      this.moveLog = grown;
    }
    const at = this.moveLen;
    this.moveLog[at] = len;
    for (let i = 0; i < len; i++) this.moveLog[at + 1 + i] = seq[i]!;
    this.moveLen = need;
    return at;
  }

  /**
   * Every lazy run (R, z) from the saved state (rules.ts, 2): z a node that
   * is not lazy after R; R its lazy-capable ancestors not yet run, plus all
   * remaining readers of each input of z chosen to die at z.
   */
  private lazyRuns(lazyCount: number): void {
    const { sp, rules, c } = this;
    const id = ++this.stampId;
    this.seenCount = 0;
    let nClosers = 0;
    for (let i = 0; i < lazyCount; i++) {
      const cl = rules.closers[this.lazyReady[i]!]!;
      for (let q = 0; q < cl.length; q++) {
        const z = cl[q]!;
        if (this.stamp[z] === id) continue;
        this.stamp[z] = id;
        if (!c.has(z)) this.closerList[nClosers++] = z;
      }
    }
    const inputs = this.inputs;
    for (let ci = 0; ci < nClosers; ci++) {
      const z = this.closerList[ci]!;
      const pz = sp.preds[z]!;
      let possible = true;
      let needsPreds = false;
      for (let q = 0; q < pz.length; q++) {
        if (c.has(pz[q]!)) continue;
        needsPreds = true;
        if (!rules.lazyCapable[pz[q]!]) {
          possible = false;
          break;
        }
      }
      if (!possible) continue;
      // Inputs of z that still have another reader: z frees each only if the run takes all of them.
      let nIn = 0;
      const rz = sp.reads[z]!;
      for (let q = 0; q < rz.length; q++) {
        // Only inputs whose other pending readers can all join a run.
        const rd = sp.readers[rz[q]!]!;
        let pending = false;
        let joinable = true;
        for (let t = 0; t < rd.length; t++) {
          const y = rd[t]!;
          if (y === z || c.has(y)) continue;
          pending = true;
          if (!rules.lazyCapable[y]) {
            joinable = false;
            break;
          }
        }
        if (pending && joinable) inputs[nIn++] = rz[q]!;
      }
      // With no predecessor to run and no input to free, the run would be empty.
      for (let mask = needsPreds ? 0 : 1; mask < 1 << nIn; mask++) this.tryRun(z, nIn, mask);
    }
  }

  /** Adds x and its predecessors not yet run to the run; fails on a node that cannot be lazy. */
  private addToRun(x0: number, z: number): void {
    const { sp, c, rules } = this;
    const room = this.o.tau - c.mem;
    let top = 0;
    this.stack[top++] = x0;
    while (top > 0 && this.runOk) {
      const x = this.stack[--top]!;
      if (this.inRun[x] || c.has(x)) continue;
      if (x === z || !rules.lazyCapable[x]) {
        this.runOk = false;
        return;
      }
      this.inRun[x] = 1;
      this.runList[this.runLen++] = x;
      this.runAlloc += sp.created[x]!;
      if (this.runAlloc > room) {
        // Its lazy steps alone exceed the budget.
        const top = c.mem + this.runAlloc;
        if (top < this.minPruned) this.minPruned = Math.max(top, c.peak);
        this.runOk = false;
        return;
      }
      const p = sp.preds[x]!;
      for (let i = 0; i < p.length; i++) if (!this.inRun[p[i]!] && !c.has(p[i]!)) this.stack[top++] = p[i]!;
    }
  }

  private tryRun(z: number, nIn: number, mask: number): void {
    const { sp, c } = this;
    const run = this.runList;
    this.runLen = 0;
    this.runAlloc = 0;
    this.runOk = true;
    const pz = sp.preds[z]!;
    for (let q = 0; q < pz.length && this.runOk; q++) this.addToRun(pz[q]!, z);
    for (let b = 0; b < nIn && this.runOk; b++) {
      if ((mask & (1 << b)) === 0) continue;
      const rd = sp.readers[this.inputs[b]!]!;
      for (let t = 0; t < rd.length && this.runOk; t++) if (rd[t] !== z) this.addToRun(rd[t]!, z);
    }
    const len = this.runLen;
    let ok = this.runOk && len > 0;
    // Every member stays lazy in any order: each input keeps a reader outside S ∪ R (z counts).
    let allocated = 0;
    for (let i = 0; i < len && ok; i++) {
      const x = run[i]!;
      allocated += sp.created[x]!;
      const rx = sp.reads[x]!;
      for (let q = 0; q < rx.length && ok; q++) {
        const g = rx[q]!;
        if (sp.persistent[g]) continue;
        const rd = sp.readers[g]!;
        let kept = false;
        for (let t = 0; t < rd.length; t++) {
          const y = rd[t]!;
          if (y !== x && !c.has(y) && !this.inRun[y]) {
            kept = true;
            break;
          }
        }
        if (!kept) ok = false;
      }
    }
    if (ok) this.applyRun(z, len, allocated);
    for (let i = 0; i < len; i++) this.inRun[run[i]!] = 0;
  }

  /** Peak of the run from the saved state, without applying it; then applies it unless pruned or already tried with no larger peak. */
  private applyRun(z: number, len: number, allocated: number): void {
    const { sp, c, W } = this;
    const run = this.runList;
    let top = Math.max(c.peak, c.mem + allocated);
    if (top > this.o.tau) {
      if (top < this.minPruned) this.minPruned = top;
      return;
    }
    // Closing node's step after the run: set the members' bits for a moment.
    let hash = this.zobrist[z]!;
    for (let i = 0; i < len; i++) {
      const x = run[i]!;
      c.S[x >>> 5]! |= 1 << (x & 31);
      hash = (hash + this.zobrist[x]!) | 0;
    }
    const lazyClose = this.rules.lazyCapable[z] && this.isLazy(z);
    if (!lazyClose) {
      sp.transition(c.S, 0, c.mem + allocated, z, false);
      if (sp.stepBytes > top) top = sp.stepBytes;
    }
    this.runSet.set(c.S);
    this.runSet[z >>> 5]! |= 1 << (z & 31);
    for (let i = 0; i < len; i++) {
      const x = run[i]!;
      c.S[x >>> 5]! &= ~(1 << (x & 31));
    }
    if (lazyClose) return;
    if (top > this.o.tau) {
      if (top < this.minPruned) this.minPruned = top;
      return;
    }
    let known = false;
    for (let s = 0; s < this.seenCount; s++) {
      if (this.seenHash[s] !== hash) continue;
      let same = true;
      for (let w = 0; w < W; w++) {
        if (this.seenSet[s * W + w] !== this.runSet[w]) {
          same = false;
          break;
        }
      }
      if (!same) continue;
      if (this.seenPeak[s]! <= top) return;
      this.seenPeak[s] = top;
      known = true;
      break;
    }
    if (!known) this.remember(hash, top);
    if (len > 1) {
      const members = Array.from(run.subarray(0, len)).sort((a, b) => sp.rank[a]! - sp.rank[b]!);
      for (const x of members) c.apply(x);
    } else {
      c.apply(run[0]!);
    }
    c.apply(z);
    this.close();
    this.load();
  }

  private remember(hash: number, peak: number): void {
    const W = this.W;
    if (this.seenCount === this.seenHash.length) {
      const size = this.seenHash.length * 2;
      const h = new Int32Array(size);
      h.set(this.seenHash);
      const p = new Float64Array(size);
      p.set(this.seenPeak);
      const s = new Uint32Array(size * W);
      s.set(this.seenSet);
      this.seenHash = h;
      this.seenPeak = p;
      this.seenSet = s;
    }
    if (this.seenSet.length < (this.seenCount + 1) * W) {
      const s = new Uint32Array(this.seenHash.length * W);
      s.set(this.seenSet.subarray(0, this.seenCount * W));
      this.seenSet = s;
    }
    this.seenHash[this.seenCount] = hash;
    this.seenPeak[this.seenCount] = peak;
    this.seenSet.set(this.runSet, this.seenCount * W);
    this.seenCount++;
  }
}
