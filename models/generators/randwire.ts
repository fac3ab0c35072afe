/**
 * RandWire networks (Xie, Kirillov, Girshick, He 2019, "Exploring Randomly Wired
 * Neural Networks for Image Recognition"), as irregular planner benchmarks.
 *
 * Graph (paper Section 3.2–3.3, the WS generator of Section 3.4):
 * - Each stage is a Watts–Strogatz graph WS(n, k, p): n nodes on a ring, each
 *   joined to its k/2 neighbours on either side; then, for i = 1..k/2 and for
 *   every node v in ring order, the edge from v to its i-th clockwise neighbour is
 *   rewired with probability p to a node chosen uniformly among those that are not
 *   v and not already joined to v. Rewiring moves one end, so the graph keeps
 *   n·k/2 edges (mean degree k) and every node keeps at least k/2 edges.
 * - Edges point from the lower node index to the higher (a DAG). Nodes with no
 *   inputs read the stage input; nodes with no outputs are summed into the stage
 *   output.
 * - A node sums its inputs (pairwise `add` ops), then applies ReLU, a separable
 *   conv (3x3 depthwise, then 1x1 conv, no non-linearity between), and BN.
 * - Like the paper's networks: a 3x3/2 conv stem of C/2 channels, then `stages`
 *   random stages; stage s has C·2^s channels and its input nodes run at stride 2.
 *
 * Approximations (our IR has activations fused into the producing op, BN folded into biases):
 * - The ReLU sits at the end of each node (its 1x1 conv has act 'relu') instead of
 *   on the node's aggregated input. So a node sums ReLU'd inputs rather than
 *   ReLU-ing the sum; for a single-input node the two are the same. Tensor shapes
 *   and the wiring are exactly the paper's.
 * - Aggregation is a plain sum, not the paper's weighted sum with learned positive
 *   weights; the stage output is the sum of the output nodes rather than their
 *   mean (a scalar that folds into the next layer's weights).
 * - No classifier: the graph output is the last stage's output.
 *
 * Sizes, so that the execution order matters for peak memory: besides the stages
 * (each halves the resolution and doubles the channels), every node draws its
 * depthwise multiplier from `depthMultipliers` (default 1, 2, 4; TF's
 * separable_conv2d `depth_multiplier`). The depthwise output of a node is then 1, 2
 * or 4 times its inputs' width, a temporary that exists only between the node's two
 * convs, so a good order runs the wide nodes while few other tensors are alive.
 * Pass `depthMultipliers: [1]` for the paper's uniform nodes.
 */
import { GraphBuilder } from '../../planner/builder.js';
import type { DType, Graph } from '../../planner/ir.js';
import { Layers } from '../layers.js';
import { checkSeed, hashSeed, mulberry32, pick, randInt, type Rng } from './rng.js';

export interface RandWireOptions {
  /** Total random nodes over all stages (30–100 for the planner benchmarks). */
  nodes: number;
  /** Each node's ring neighbours before rewiring (even; default 4). */
  k?: number;
  /** Rewiring probability (default 0.75, the paper's best WS setting with k = 4). */
  p?: number;
  seed: number;
  /** Channels of the first stage (C in the paper's Table 1); the stem has C/2. */
  channels: number;
  /** Input height and width. */
  resolution: number;
  /** Random stages; the nodes are split evenly, earlier stages taking the remainder (default 1). */
  stages?: number;
  /** Depthwise multipliers a node draws from (default [1, 2, 4]). */
  depthMultipliers?: number[];
  dtype?: DType;
}

/** One stage's random DAG: `edges[v]` lists the inputs of node v (all lower indices). */
export interface RandWireStage {
  nodes: number;
  /** Undirected WS edges [a, b] with a < b, sorted. */
  undirected: Array<[number, number]>;
  /** Inputs of each node, ascending. */
  inputs: number[][];
  /** Depthwise multiplier of each node. */
  depthMultipliers: number[];
}

/**
 * Watts–Strogatz graph WS(n, k, p) as the RandWire paper describes it (Section 3.4).
 * Returns the undirected edges [a, b], a < b, sorted.
 */
export function wattsStrogatz(n: number, k: number, p: number, rng: Rng): Array<[number, number]> {
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0)
    throw new Error(`Watts–Strogatz: k = ${k} must be an even integer ≥ 2`);
  if (!Number.isInteger(n) || n <= k) throw new Error(`Watts–Strogatz: n = ${n} nodes must be more than k = ${k}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`Watts–Strogatz: rewiring probability ${p} is outside [0, 1]`);
  const adj: Array<Set<number>> = Array.from({ length: n }, () => new Set<number>());
  const link = (a: number, b: number) => (adj[a]!.add(b), adj[b]!.add(a));
  const unlink = (a: number, b: number) => (adj[a]!.delete(b), adj[b]!.delete(a));
  for (let v = 0; v < n; v++) for (let i = 1; i <= k / 2; i++) link(v, (v + i) % n);
  for (let i = 1; i <= k / 2; i++) {
    for (let v = 0; v < n; v++) {
      if (rng() >= p) continue;
      // The lattice edge (v, v+i) is still present here: only its own turn removes it,
      // and a rewired edge never lands on an edge that exists.
      if (adj[v]!.size >= n - 1) continue; // v is joined to everyone: nowhere to go
      let w: number;
      do w = randInt(rng, n);
      while (w === v || adj[v]!.has(w));
      unlink(v, (v + i) % n);
      link(v, w);
    }
  }
  const edges: Array<[number, number]> = [];
  for (let a = 0; a < n; a++) for (const b of adj[a]!) if (a < b) edges.push([a, b]);
  return edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

function checkOptions(o: RandWireOptions): Required<Omit<RandWireOptions, 'dtype'>> {
  const k = o.k ?? 4;
  const p = o.p ?? 0.75;
  const stages = o.stages ?? 1;
  const depthMultipliers = o.depthMultipliers ?? [1, 2, 4];
  checkSeed('RandWire', o.seed);
  if (!Number.isInteger(stages) || stages < 1)
    throw new Error(`RandWire: stages = ${stages} must be a positive integer`);
  if (!Number.isInteger(o.nodes) || o.nodes < stages * (k + 1))
    throw new Error(
      `RandWire: ${o.nodes} nodes are too few for ${stages} stage(s) of WS graphs with k = ${k} (need more than k per stage)`,
    );
  if (!Number.isInteger(o.channels) || o.channels < 2 || o.channels % 2 !== 0)
    throw new Error(`RandWire: channels ${o.channels} must be an even integer ≥ 2 (the stem has half)`);
  if (!Number.isInteger(o.resolution) || o.resolution < 2 ** (stages + 1))
    throw new Error(
      `RandWire: resolution ${o.resolution} is too small for ${stages} stage(s) (each halves it after a stride-2 stem)`,
    );
  if (depthMultipliers.length === 0 || depthMultipliers.some((m) => !Number.isInteger(m) || m < 1))
    throw new Error(`RandWire: depth multipliers [${depthMultipliers.join(',')}] must be positive integers`);
  return {
    nodes: o.nodes,
    k,
    p,
    seed: o.seed,
    channels: o.channels,
    resolution: o.resolution,
    stages,
    depthMultipliers,
  };
}

/** The random structure of a RandWire network: one DAG per stage. Deterministic from the seed. */
export function randWireTopology(options: RandWireOptions): RandWireStage[] {
  const o = checkOptions(options);
  const out: RandWireStage[] = [];
  for (let s = 0; s < o.stages; s++) {
    const n = Math.floor(o.nodes / o.stages) + (s < o.nodes % o.stages ? 1 : 0);
    // Separate streams for wiring and multipliers, so changing p leaves the multipliers alone.
    const undirected = wattsStrogatz(n, o.k, o.p, mulberry32(hashSeed(o.seed, `randwire/stage${s}/ws`)));
    const inputs: number[][] = Array.from({ length: n }, () => []);
    for (const [a, b] of undirected) inputs[b]!.push(a);
    for (const list of inputs) list.sort((x, y) => x - y);
    const mrng = mulberry32(hashSeed(o.seed, `randwire/stage${s}/multipliers`));
    const depthMultipliers = Array.from({ length: n }, () => pick(mrng, o.depthMultipliers));
    out.push({ nodes: n, undirected, inputs, depthMultipliers });
  }
  return out;
}

/** Builds a RandWire network graph; ops are in node-index order (a valid topological order). */
export function buildRandWire(options: RandWireOptions): Graph {
  const o = checkOptions(options);
  const topology = randWireTopology(options);
  const L = new Layers(new GraphBuilder(`randwire_n${o.nodes}_k${o.k}_p${o.p}_s${o.seed}`), options.dtype ?? 'f32');
  const input = L.input('input', [1, o.resolution, o.resolution, 3]);
  let x = L.conv('stem', input, o.channels / 2, { kernel: 3, stride: 2, act: 'relu' });
  topology.forEach((stage, s) => {
    const width = o.channels * 2 ** s;
    const outs: number[] = [];
    const consumed = new Array<boolean>(stage.nodes).fill(false);
    for (let v = 0; v < stage.nodes; v++) {
      const name = `stage${s}/node${v}`;
      const preds = stage.inputs[v]!;
      for (const u of preds) consumed[u] = true;
      const agg =
        preds.length > 0
          ? L.sum(
              `${name}/sum`,
              preds.map((u) => outs[u]!),
            )
          : x;
      const h = L.depthwise(`${name}/depthwise`, agg, {
        stride: preds.length > 0 ? 1 : 2,
        multiplier: stage.depthMultipliers[v]!,
      });
      outs.push(L.conv(`${name}/pointwise`, h, width, { act: 'relu' }));
    }
    x = L.sum(
      `stage${s}/output`,
      outs.filter((_, v) => !consumed[v]),
    );
  });
  L.g.output(x);
  return L.g.finish();
}
