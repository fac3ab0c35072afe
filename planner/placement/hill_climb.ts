/**
 * 'hill-climb': start from the best of several greedy orders (by size, by
 * size × lifetime, by first step, by bytes in conflict), then improve the
 * placement order by local moves under first fit, with a fixed seed: move a
 * buffer that touches the arena's top to an earlier position, or swap two
 * buffers; keep a move when the arena does not grow. Stops at the lower bound
 * or after `maxIterations` moves. Never worse than greedy-by-size.
 */
import { makeRng } from '../rng.js';
import { FirstFit } from './first_fit.js';
import { bySizeOrder } from './greedy_by_size.js';
import { liveLowerBound, type PlacementAlgorithm } from './types.js';

export const hillClimb: PlacementAlgorithm = (items, options) => {
  const ff = new FirstFit(items, options.alignment);
  const n = items.length;
  const lb = liveLowerBound(items);
  const idx = items.map((_, i) => i);
  const span = (i: number) => items[i]!.lastStep - items[i]!.firstStep + 1;
  const conflictBytes = idx.map((i) => Array.from(ff.conflicts[i]!).reduce((s, j) => s + ff.size[j]!, ff.size[i]!));
  const starts = [
    bySizeOrder(ff),
    idx.slice().sort((a, b) => ff.size[b]! * span(b) - ff.size[a]! * span(a) || a - b),
    idx.slice().sort((a, b) => items[a]!.firstStep - items[b]!.firstStep || ff.size[b]! - ff.size[a]! || a - b),
    idx.slice().sort((a, b) => conflictBytes[b]! - conflictBytes[a]! || ff.size[b]! - ff.size[a]! || a - b),
  ];
  let order = starts[0]!;
  let cur = ff.place(order);
  for (const s of starts.slice(1)) {
    const r = ff.place(s);
    if (r.arena < cur.arena) {
      order = s;
      cur = r;
    }
  }
  const rng = makeRng(options.seed);
  for (let it = 0; it < options.maxIterations && cur.arena > lb && n > 1; it++) {
    const cand = order.slice();
    if (rng.next() < 0.5) {
      // Move a buffer ending at the arena's top earlier in the order.
      const top = cand.filter((i) => cur.offsets[i]! + items[i]!.bytes === cur.arena);
      const i = top[rng.int(0, top.length - 1)]!;
      const from = cand.indexOf(i);
      const to = rng.int(0, Math.max(0, from - 1));
      cand.splice(from, 1);
      cand.splice(to, 0, i);
    } else {
      const a = rng.int(0, n - 1);
      const b = rng.int(0, n - 1);
      [cand[a], cand[b]] = [cand[b]!, cand[a]!];
    }
    const r = ff.place(cand);
    if (r.arena <= cur.arena) {
      order = cand;
      cur = r;
    }
  }
  return { offsets: cur.offsets, arenaBytes: cur.arena, algorithm: 'hill-climb', optimal: cur.arena === lb };
};
