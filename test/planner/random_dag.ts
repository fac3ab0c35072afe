/**
 * Test utility: small seeded random graphs in the IR, for checking the order
 * search against brute force. Every node is a real op with real shapes:
 * 1x1 convs with random channel counts (random sizes), adds, concats,
 * reshapes (which share memory), and optionally whole inverted residual
 * blocks (expand → depthwise → project → add) that the planner fuses.
 * Tensors nobody reads become graph outputs; a second graph input sometimes
 * goes unread, and some inner tensors are outputs too.
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { Graph } from '../../planner/ir.js';
import { makeRng } from '../../planner/rng.js';
import { samePadding } from '../../planner/shapes.js';

export interface RandomDagOptions {
  /** Units (an op, or a whole block) to add: 1..maxUnits. */
  maxUnits: number;
  /** Probability that a unit is an inverted residual block (0 = never). */
  blockRate?: number;
  dtype?: 'f32' | 'i8';
  /** Exactly this many units instead of 2..maxUnits. */
  exactUnits?: boolean;
  /** Pick inputs uniformly among all tensors (wide graphs) instead of preferring recent ones (deep graphs). */
  uniform?: boolean;
}

export function randomDag(seed: number, options: RandomDagOptions): Graph {
  const rng = makeRng(seed);
  const dtype = options.dtype ?? 'f32';
  const g = new GraphBuilder(`random_dag_${seed}`);
  const hw = rng.int(1, 3) * 2;
  const pool: { id: number; c: number }[] = [];
  const inputs = rng.next() < 0.2 ? 2 : 1;
  for (let i = 0; i < inputs; i++) pool.push({ id: g.input(`in${i}`, [1, hw, hw, rng.int(1, 8)], dtype), c: 0 });
  for (const p of pool) p.c = g.tensor(p.id).shape[3]!;
  const units = options.exactUnits ? options.maxUnits : rng.int(2, options.maxUnits);
  // Prefer recent tensors so graphs are deep as well as wide (unless uniform).
  const pick = () =>
    options.uniform
      ? pool[rng.int(0, pool.length - 1)]!
      : pool[
          Math.max(
            0,
            pool.length - 1 - (Math.floor(Math.abs(rng.next() * rng.next()) * pool.length * 1.5) % pool.length),
          )
        ]!;
  let k = 0;
  const conv = (x: number, cin: number, cout: number, act: 'none' | 'relu6', kernel = 1): number => {
    const name = `op${k++}`;
    const w = g.constant(`${name}/w`, [cout, kernel, kernel, cin], dtype);
    const pad = samePadding(hw, hw, [kernel, kernel], [1, 1]);
    return g.op({
      kind: 'conv2d',
      name,
      inputs: [x],
      kernel: [kernel, kernel],
      stride: [1, 1],
      dilation: [1, 1],
      pad,
      act,
      weights: w,
      bias: -1,
    });
  };
  for (let u = 0; u < units; u++) {
    const r = rng.next();
    const a = pick();
    if (r < (options.blockRate ?? 0)) {
      const cexp = a.c * rng.int(1, 4);
      const e = conv(a.id, a.c, cexp, 'relu6');
      const name = `op${k++}`;
      const dw = g.constant(`${name}/w`, [1, 3, 3, cexp], dtype);
      const d = g.op({
        kind: 'dwconv2d',
        name,
        inputs: [e],
        kernel: [3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        pad: samePadding(hw, hw, [3, 3], [1, 1]),
        act: 'relu6',
        depthMultiplier: 1,
        weights: dw,
        bias: -1,
      });
      const cout = rng.next() < 0.5 ? a.c : rng.int(1, 12);
      let y = conv(d, cexp, cout, 'none');
      if (cout === a.c && rng.next() < 0.7) y = g.op({ kind: 'add', name: `op${k++}`, inputs: [a.id, y], act: 'none' });
      pool.push({ id: y, c: cout });
    } else if (r < 0.45) {
      const c = rng.int(1, 16);
      pool.push({ id: conv(a.id, a.c, c, rng.next() < 0.5 ? 'none' : 'relu6'), c });
    } else if (r < 0.65) {
      const same = pool.filter((p) => p.c === a.c && p.id !== a.id);
      if (same.length > 0) {
        const b = same[rng.int(0, same.length - 1)]!;
        pool.push({
          id: g.op({
            kind: 'add',
            name: `op${k++}`,
            inputs: rng.next() < 0.5 ? [a.id, b.id] : [b.id, a.id],
            act: 'none',
          }),
          c: a.c,
        });
      } else {
        pool.push({ id: conv(a.id, a.c, a.c, 'none'), c: a.c });
      }
    } else if (r < 0.85) {
      const b = pick();
      const ins = b.id === a.id ? [a] : rng.next() < 0.3 ? [a, b, pick()] : [a, b];
      const uniq = [...new Map(ins.map((p) => [p.id, p])).values()];
      const c = uniq.reduce((s, p) => s + p.c, 0);
      pool.push({
        id: g.op({ kind: 'concat', name: `op${k++}`, inputs: uniq.map((p) => p.id), axis: 3, act: 'none' }),
        c,
      });
    } else {
      pool.push({
        id: g.op({ kind: 'reshape', name: `op${k++}`, inputs: [a.id] }, { shape: [1, hw, hw, a.c] }),
        c: a.c,
      });
    }
  }
  const graph = (() => {
    for (const p of pool) {
      const t = g.tensor(p.id);
      if (t.producer >= 0 && t.consumers.length === 0) g.output(p.id);
      else if (t.producer >= 0 && rng.next() < 0.1) g.output(p.id);
    }
    return g.finish();
  })();
  return graph;
}
