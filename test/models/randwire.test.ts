import t from 'tap';
import { validateGraph } from '../../planner/builder.js';
import type { Graph } from '../../planner/ir.js';
import { buildRandWire, randWireTopology, wattsStrogatz } from '../../models/generators/randwire.js';
import { mulberry32 } from '../../models/generators/rng.js';
import { peakLiveBytes, randomTopologicalOrder } from './graph_helpers.js';

const degrees = (n: number, edges: Array<[number, number]>) => {
  const d = new Array<number>(n).fill(0);
  for (const [a, b] of edges) (d[a]!++, d[b]!++);
  return d;
};
const isLattice = (n: number, k: number, [a, b]: [number, number]) => b - a <= k / 2 || n - (b - a) <= k / 2;

t.test('Watts–Strogatz: n·k/2 simple edges, every node keeps k/2 of its own, p = 0 is the ring lattice', async (t) => {
  for (const n of [30, 61, 100]) {
    for (const k of [2, 4, 6]) {
      for (const p of [0, 0.25, 0.75, 1]) {
        for (let seed = 0; seed < 20; seed++) {
          const e = wattsStrogatz(n, k, p, mulberry32(seed));
          const key = new Set(e.map(([a, b]) => a * n + b));
          const bad =
            e.length !== (n * k) / 2 ||
            key.size !== e.length ||
            e.some(([a, b]) => !(a < b) || a < 0 || b >= n) ||
            degrees(n, e).some((d) => d < k / 2) ||
            (p === 0 && e.some((x) => !isLattice(n, k, x)));
          if (bad)
            t.fail(`WS(${n}, ${k}, ${p}) seed ${seed}: ${e.length} edges, min degree ${Math.min(...degrees(n, e))}`);
        }
      }
    }
  }
  t.same(
    degrees(30, wattsStrogatz(30, 4, 0, mulberry32(1))),
    new Array(30).fill(4),
    'p = 0: every degree is exactly k',
  );
});

t.test('Watts–Strogatz: the share of rewired (non-lattice) edges follows p', async (t) => {
  // A rewired edge lands on a free lattice position now and then, so the share of
  // non-lattice edges is a little under p, never over it.
  for (const [n, k] of [
    [30, 4],
    [100, 4],
    [60, 6],
  ] as const) {
    for (const p of [0.25, 0.5, 0.75, 1]) {
      let sum = 0;
      for (let seed = 0; seed < 200; seed++) {
        const e = wattsStrogatz(n, k, p, mulberry32(seed));
        sum += e.filter((x) => !isLattice(n, k, x)).length / e.length;
      }
      const mean = sum / 200;
      t.ok(
        mean <= p + 0.02 && mean >= p * (1 - (2 * k) / n),
        `WS(${n}, ${k}, ${p}): mean rewired share ${mean.toFixed(3)}`,
      );
    }
  }
});

t.test('Watts–Strogatz rejects bad parameters', async (t) => {
  t.throws(() => wattsStrogatz(30, 3, 0.5, mulberry32(1)), /k = 3 must be an even integer/);
  t.throws(() => wattsStrogatz(4, 4, 0.5, mulberry32(1)), /more than k/);
  t.throws(() => wattsStrogatz(30, 4, 1.5, mulberry32(1)), /outside \[0, 1\]/);
});

/** Reads the node-level DAG back out of a RandWire IR graph: inputs of each node, per stage. */
function nodeDag(g: Graph): Map<number, number[][]> {
  const stages = new Map<number, number[][]>();
  const nodeOf = (tensor: number): [number, number] | null => {
    const op = g.ops[g.tensors[tensor]!.producer];
    const m = op && /^stage(\d+)\/node(\d+)\/pointwise$/.exec(op.name);
    return m ? [Number(m[1]), Number(m[2])] : null;
  };
  for (const op of g.ops) {
    const m = /^stage(\d+)\/node(\d+)\/depthwise$/.exec(op.name);
    if (!m) continue;
    const [s, v] = [Number(m[1]), Number(m[2])];
    const leaves: number[] = [];
    const walk = (x: number) => {
      const p = g.ops[g.tensors[x]!.producer];
      if (p && p.kind === 'add' && p.name.startsWith(`stage${s}/node${v}/sum`)) p.inputs.forEach(walk);
      else leaves.push(x);
    };
    walk(op.inputs[0]!);
    const preds = leaves
      .map(nodeOf)
      .filter((x): x is [number, number] => x !== null && x[0] === s)
      .map((x) => x[1]);
    if (!stages.has(s)) stages.set(s, []);
    stages.get(s)![v] = preds.sort((a, b) => a - b);
  }
  return stages;
}

t.test('RandWire graphs: valid, the node counts asked for, and wired exactly as their WS DAGs', async (t) => {
  for (const nodes of [30, 47, 60, 100]) {
    for (const stages of [1, 3]) {
      for (const seed of [1, 2, 3]) {
        const opts = { nodes, seed, stages, channels: 16, resolution: 64 };
        const g = buildRandWire(opts);
        validateGraph(g);
        const topo = randWireTopology(opts);
        const dag = nodeDag(g);
        const label = `n=${nodes} stages=${stages} seed=${seed}`;
        t.equal(g.ops.filter((op) => op.name.endsWith('/pointwise')).length, nodes, `${label}: ${nodes} nodes`);
        t.equal(
          topo.reduce((s, st) => s + st.nodes, 0),
          nodes,
        );
        topo.forEach((st, s) => {
          const inputs = dag.get(s)!;
          t.equal(inputs.length, st.nodes);
          // Edges point from lower to higher index (a DAG), and there are n·k/2 of them (mean degree k = 4).
          const edges = inputs
            .flatMap((ps, v) => ps.map((u) => [u, v] as [number, number]))
            .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
          if (edges.some(([u, v]) => !(u < v))) t.fail(`${label}: an edge points backwards`);
          t.equal(edges.length, (st.nodes * 4) / 2, `${label} stage ${s}: ${edges.length} edges = n·k/2`);
          t.same(edges, st.undirected, `${label} stage ${s}: the graph's wiring is the WS graph's`);
          if (degrees(st.nodes, edges).some((d) => d < 2)) t.fail(`${label}: a node has fewer than k/2 edges`);
        });
      }
    }
  }
});

t.test('RandWire: input nodes downsample, stages halve the resolution and double the channels', async (t) => {
  const g = buildRandWire({ nodes: 60, seed: 5, stages: 3, channels: 16, resolution: 64 });
  for (const op of g.ops) {
    const m = /^stage(\d+)\/node(\d+)\/(depthwise|pointwise)$/.exec(op.name);
    if (!m) continue;
    const s = Number(m[1]);
    const out = g.tensors[op.outputs[0]!]!.shape;
    t.equal(out[1], 64 / 2 ** (s + 2), `${op.name}: resolution`);
    if (m[3] === 'pointwise') t.equal(out[3], 16 * 2 ** s, `${op.name}: channels`);
    if (op.kind === 'dwconv2d') {
      const fromStageInput = !g.ops[g.tensors[op.inputs[0]!]!.producer]!.name.startsWith(`stage${s}/node`);
      t.equal(op.stride[0], fromStageInput ? 2 : 1, `${op.name}: stride`);
      t.ok([1, 2, 4].includes(op.depthMultiplier));
    }
  }
});

t.test('RandWire: deterministic for a seed, different across seeds', async (t) => {
  const a = JSON.stringify(buildRandWire({ nodes: 40, seed: 11, channels: 8, resolution: 32 }));
  t.equal(JSON.stringify(buildRandWire({ nodes: 40, seed: 11, channels: 8, resolution: 32 })), a);
  t.not(JSON.stringify(buildRandWire({ nodes: 40, seed: 12, channels: 8, resolution: 32 })), a);
  // Same seed, other p: same depthwise multipliers (separate streams), other wiring.
  const t1 = randWireTopology({ nodes: 40, seed: 11, channels: 8, resolution: 32 })[0]!;
  const t2 = randWireTopology({ nodes: 40, seed: 11, p: 0.2, channels: 8, resolution: 32 })[0]!;
  t.same(t2.depthMultipliers, t1.depthMultipliers);
  t.notSame(t2.undirected, t1.undirected);
});

t.test('RandWire: tensor sizes vary, so the execution order changes the peak', async (t) => {
  for (const seed of [1, 2, 3]) {
    const g = buildRandWire({ nodes: 30, seed, channels: 16, resolution: 64 });
    const sizes = new Set(g.tensors.filter((x) => !x.constant).map((x) => x.shape.join('x')));
    t.ok(sizes.size >= 4, `seed ${seed}: ${sizes.size} distinct activation shapes`);
    const rng = mulberry32(seed);
    const peaks = new Set<number>([
      peakLiveBytes(
        g,
        g.ops.map((op) => op.id),
      ),
    ]);
    for (let i = 0; i < 30; i++) peaks.add(peakLiveBytes(g, randomTopologicalOrder(g, rng)));
    t.ok(
      peaks.size >= 3,
      `seed ${seed}: ${peaks.size} different peaks over 31 orders (${Math.min(...peaks)}..${Math.max(...peaks)} bytes)`,
    );
  }
});

t.test('RandWire rejects bad options with a message', async (t) => {
  t.throws(() => buildRandWire({ nodes: 8, seed: 1, stages: 2, channels: 8, resolution: 32 }), /too few/);
  t.throws(() => buildRandWire({ nodes: 30, seed: 1, channels: 7, resolution: 32 }), /channels 7/);
  t.throws(() => buildRandWire({ nodes: 30, seed: -1, channels: 8, resolution: 32 }), /seed -1/);
  t.throws(() => buildRandWire({ nodes: 30, seed: 1, stages: 4, channels: 8, resolution: 16 }), /resolution 16/);
});
